//! BatchNorm1D / BatchNorm2D (PyTorch's BatchNorm1d/2d): running statistics are
//! buffers (`running_mean`, `running_var`, `num_batches_tracked` as i64), updated in
//! training mode with `momentum` (PyTorch's convention; `keras_momentum` takes Keras's),
//! used in eval mode.

use super::lazy::{file_shape, input_size, Lazy};
use super::param_init::InitErrors;
use crate::Module;
use lolcore::nn::{functional, trace, Forward, Init};
use lolcore::{no_grad, DType, Error, Result, Tensor};

/// Warns once per process about a momentum that looks like Keras's convention.
fn momentum_warning(layer: &str, m: f64) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "warning: {layer}.momentum({m}) uses PyTorch's convention (the weight of the new batch); for Keras's \
             momentum={m} write .keras_momentum({m}), which is .momentum({})",
            1.0 - m
        )
    });
}

macro_rules! batch_norm_layer {
    ($(#[$m:meta])* $name:ident, $op:literal, $ranks:expr, $layout:literal) => {
        $(#[$m])*
        #[derive(Module)]
        pub struct $name {
            pub weight: Option<Tensor>,
            pub bias: Option<Tensor>,
            #[module(buffer)]
            pub running_mean: Tensor,
            #[module(buffer)]
            pub running_var: Tensor,
            #[module(buffer)]
            pub num_batches_tracked: Tensor,
            #[module(skip)]
            momentum: f64,
            #[module(skip)]
            eps: f64,
            #[module(training)]
            training: bool,
            #[module(skip)]
            init_errors: InitErrors,
        }

        impl $name {
            /// Batch normalisation whose channel count is dim 1 of its first input
            /// (Keras's `BatchNormalization()`, PyTorch's `LazyBatchNorm`). It becomes
            #[doc = concat!("`", stringify!($name), "::new(channels)`")]
            /// with the options chained here, when first run (see `Lazy`).
            pub fn lazy() -> Lazy<$name> {
                Lazy::new(
                    |dims| Ok($name::new(input_size($op, dims, &$ranks, 1, $layout)?)),
                    |prefix, shapes| {
                        let c = file_shape($op, prefix, shapes, &["weight", "running_mean"], 1)?[0];
                        let mut dims = vec![1; $ranks[$ranks.len() - 1]];
                        dims[1] = c;
                        Ok(dims)
                    },
                )
            }
            /// Momentum 0.1, eps 1e-5, learnable scale and shift (PyTorch's defaults).
            pub fn new(channels: usize) -> Self {
                let c = channels;
                let mut errs = InitErrors::default();
                $name {
                    weight: Some(errs.param("weight", Init::Ones, &[c], c, c)),
                    bias: Some(errs.param("bias", Init::Zeros, &[c], c, c)),
                    running_mean: errs.buffer("running_mean", 0.0, &[c], DType::F32),
                    running_var: errs.buffer("running_var", 1.0, &[c], DType::F32),
                    num_batches_tracked: errs.buffer("num_batches_tracked", 0.0, &[], DType::I64),
                    momentum: 0.1,
                    eps: 1e-5,
                    training: true,
                    init_errors: errs,
                }
            }
            /// PyTorch's convention: the weight of the *new* batch in the running
            /// statistics, `running = (1 − momentum)·running + momentum·batch` (default
            /// 0.1). Keras's `momentum=0.99` (the weight of the *old* value) is
            /// [`keras_momentum`](Self::keras_momentum)`(0.99)`, the same as
            /// `momentum(0.01)`. A value above 0.5 here is almost always a Keras value:
            /// it is used as given, with a one-time warning.
            pub fn momentum(mut self, m: f64) -> Self {
                if m > 0.5 {
                    momentum_warning($op, m);
                }
                self.momentum = m;
                self
            }
            /// Keras's convention: `running = momentum·running + (1 − momentum)·batch`
            /// (Keras's default 0.99). Stored as PyTorch's `1 − momentum`.
            pub fn keras_momentum(mut self, m: f64) -> Self {
                self.momentum = 1.0 - m;
                self
            }
            pub fn eps(mut self, e: f64) -> Self {
                self.eps = e;
                self
            }
            /// Without the learnable scale and shift (`affine=False`).
            pub fn affine(mut self, on: bool) -> Self {
                if !on {
                    self.weight = None;
                    self.bias = None;
                    self.init_errors.forget("weight");
                    self.init_errors.forget("bias");
                }
                self
            }
        }

        /// The builders, recorded until the layer is built.
        impl Lazy<$name> {
            pub fn momentum(self, m: f64) -> Self {
                self.map(move |l| l.momentum(m))
            }
            /// Keras's convention (see the eager layer's `keras_momentum`).
            pub fn keras_momentum(self, m: f64) -> Self {
                self.map(move |l| l.keras_momentum(m))
            }
            pub fn eps(self, e: f64) -> Self {
                self.map(move |l| l.eps(e))
            }
            /// Without the learnable scale and shift (`affine=False`).
            pub fn affine(self, on: bool) -> Self {
                self.map(move |l| l.affine(on))
            }
        }

        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                self.init_errors.check($op)?;
                if !$ranks.contains(&x.rank()) {
                    return Err(Error::shape($op, format!("input {:?} must have rank {:?} (channels in dim 1)", x.shape(), $ranks)));
                }
                // While `summary()` traces the model, act as in eval mode: it must not
                // move the running statistics.
                let training = trace::effective_training(self.training);
                let y = functional::batch_norm(
                    x,
                    &self.running_mean,
                    &self.running_var,
                    self.weight.as_ref(),
                    self.bias.as_ref(),
                    training,
                    self.momentum,
                    self.eps,
                )?;
                if training {
                    let t = &self.num_batches_tracked;
                    no_grad(|| t.copy_from(&t.add(&Tensor::full_dtype(1.0, &[], t.dtype(), &t.device())?)?))?;
                }
                Ok(y)
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalisation of `[n, c]` or `[n, c, l]` inputs.
    BatchNorm1D,
    "batch_norm1d",
    [2usize, 3],
    "[n, channels] or [n, channels, l]"
);
batch_norm_layer!(
    /// Batch normalisation of `[n, c, h, w]` inputs, per channel.
    BatchNorm2D,
    "batch_norm2d",
    [4usize],
    "[n, channels, h, w]"
);
