//! Pooling to a fixed output size (PyTorch's `AdaptiveAvgPool1d/2d`,
//! `AdaptiveMaxPool1d/2d`) and over the whole signal (`GlobalAvgPool1D/2D`,
//! `GlobalMaxPool1D/2D`, Keras's names; these drop the pooled dims).

use super::stateless_module;
use lolcore::nn::{functional, Forward};
use lolcore::{IntoPair, Result, Tensor};

macro_rules! adaptive_layer {
    ($(#[$m:meta])* $name:ident, $size:ty, $arg:ty, $op:ident, |$v:ident| $conv:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            pub output_size: $size,
        }
        impl $name {
            pub fn new($v: $arg) -> Self {
                $name { output_size: $conv }
            }
        }
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                x.$op(self.output_size).map_err(|e| e.context(stringify!($name)))
            }
        }
        stateless_module!($name);
    };
}

adaptive_layer!(
    /// Mean over `output_size` bins of `[n, c, l]` → `[n, c, output_size]`; bin `i` covers
    /// `[⌊i·l/o⌋, ⌈(i+1)·l/o⌉)`.
    AdaptiveAvgPool1D,
    usize,
    usize,
    adaptive_avg_pool1d,
    |size| size
);
adaptive_layer!(
    /// Mean over bins of `[n, c, h, w]` → `[n, c, oh, ow]` (`7` or `(7, 5)`).
    AdaptiveAvgPool2D,
    (usize, usize),
    impl IntoPair,
    adaptive_avg_pool2d,
    |size| size.into_pair()
);
adaptive_layer!(
    /// Max over `output_size` bins of `[n, c, l]`.
    AdaptiveMaxPool1D,
    usize,
    usize,
    adaptive_max_pool1d,
    |size| size
);
adaptive_layer!(
    /// Max over bins of `[n, c, h, w]` → `[n, c, oh, ow]`.
    AdaptiveMaxPool2D,
    (usize, usize),
    impl IntoPair,
    adaptive_max_pool2d,
    |size| size.into_pair()
);

macro_rules! global_layer {
    ($(#[$m:meta])* $name:ident, $rank:expr, $f:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct $name;
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                if x.rank() != $rank {
                    let layout = if $rank == 3 { "[n, c, l]" } else { "[n, c, h, w]" };
                    return Err(lolcore::Error::shape(
                        stringify!($name),
                        format!("input {:?} must be {layout}", x.shape()),
                    ));
                }
                let f: fn(&Tensor) -> Result<Tensor> = $f;
                f(x)
            }
        }
        stateless_module!($name);
    };
}

global_layer!(
    /// Mean over the whole image: `[n, c, h, w] → [n, c]`.
    GlobalAvgPool2D,
    4,
    functional::global_avg_pool2d
);
global_layer!(
    /// Mean over time: `[n, c, l] → [n, c]`.
    GlobalAvgPool1D,
    3,
    |x| x.mean(2)
);
global_layer!(
    /// Max over the whole image: `[n, c, h, w] → [n, c]`.
    GlobalMaxPool2D,
    4,
    |x| x.flatten(2, 3)?.max(2)
);
global_layer!(
    /// Max over time: `[n, c, l] → [n, c]`.
    GlobalMaxPool1D,
    3,
    |x| x.max(2)
);
