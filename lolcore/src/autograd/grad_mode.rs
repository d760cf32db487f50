//! Grad mode: a per-thread switch, off inside `no_grad` (and while backward runs).

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Restores the previous mode when dropped, also on early return or panic.
struct Restore(bool);
impl Drop for Restore {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.0));
    }
}

/// Runs `f` with grad mode set to `on` (ops record a graph only when it is on).
pub fn with_grad_enabled<R>(on: bool, f: impl FnOnce() -> R) -> R {
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(on)));
    f()
}

/// Runs `f` recording nothing: for inference and in-place parameter updates.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    with_grad_enabled(false, f)
}
