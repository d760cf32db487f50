//! Pooling layers: MaxPool2D, AvgPool2D, GlobalAvgPool2D (NCHW).

use super::stateless_module;
use lolcore::nn::{functional, Forward};
use lolcore::{Pool2dParams, Result, Tensor};

macro_rules! pool_layer {
    ($(#[$m:meta])* $name:ident, $f:path) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            pub params: Pool2dParams,
        }

        impl $name {
            /// A `kernel × kernel` window with stride `kernel` and no padding.
            pub fn new(kernel: usize) -> Self {
                $name { params: Pool2dParams::new(kernel) }
            }
            pub fn stride(mut self, s: usize) -> Self {
                self.params.stride = (s, s);
                self
            }
            pub fn padding(mut self, p: usize) -> Self {
                self.params.padding = (p, p);
                self
            }
        }

        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                $f(x, self.params)
            }
        }
        stateless_module!($name);
    };
}

pool_layer!(
    /// Max over `k × k` windows (stride `k` unless set).
    MaxPool2D,
    functional::max_pool2d
);
pool_layer!(
    /// Mean over `k × k` windows (stride `k` unless set; padding counts in the divisor).
    AvgPool2D,
    functional::avg_pool2d
);

/// Mean over the whole image: `[n, c, h, w] → [n, c]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GlobalAvgPool2D;

impl Forward for GlobalAvgPool2D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        functional::global_avg_pool2d(x)
    }
}
stateless_module!(GlobalAvgPool2D);
