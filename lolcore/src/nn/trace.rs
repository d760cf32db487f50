//! Recording each top-level layer's output while a forward runs, for `summary()`.
//! Off by default: `record` then costs one thread-local read.

use super::module::Module;
use crate::tensor::Tensor;
use std::cell::{Cell, RefCell};

/// One row of a model summary.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerRecord {
    pub name: String,
    pub type_name: String,
    pub output_shape: Vec<usize>,
    pub params: usize,
}

thread_local! {
    static RECORDS: RefCell<Option<Vec<LayerRecord>>> = const { RefCell::new(None) };
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

/// The training flag a layer should act on: its own, except while `trace_layers` runs,
/// which must change nothing (a summary draws no dropout mask and moves no running
/// statistics), so every layer acts as in eval mode then.
pub fn effective_training(training: bool) -> bool {
    training && !TRACING.with(|t| t.get())
}

/// Marks entry into a layer container; records are kept for its direct children only
/// when it is the outermost one.
pub struct Enter(());

pub fn enter() -> Enter {
    DEPTH.with(|d| d.set(d.get() + 1));
    Enter(())
}

impl Drop for Enter {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Records `layer`'s output (only inside `trace_layers`, only at the top level).
pub fn record<M: Module + ?Sized>(name: &str, type_name: &str, out: &Tensor, layer: &M) {
    if DEPTH.with(|d| d.get()) != 1 {
        return;
    }
    RECORDS.with(|r| {
        if let Some(v) = r.borrow_mut().as_mut() {
            v.push(LayerRecord {
                name: name.to_string(),
                type_name: type_name.to_string(),
                output_shape: out.shape().to_vec(),
                params: layer.num_parameters(),
            });
        }
    });
}

/// Runs `f`, collecting a record per top-level layer that ran. Layers act as in eval
/// mode meanwhile (see [`effective_training`]).
pub fn trace_layers<R>(f: impl FnOnce() -> R) -> (R, Vec<LayerRecord>) {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            TRACING.with(|t| t.set(self.0));
            RECORDS.with(|r| r.borrow_mut().take());
        }
    }
    RECORDS.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let _restore = Restore(TRACING.with(|t| t.replace(true)));
    let out = f();
    let recs = RECORDS.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (out, recs)
}
