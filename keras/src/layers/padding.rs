//! Padding layers (PyTorch's `ZeroPad1d/2d`, `ConstantPad1d/2d`, `ReflectionPad1d/2d`,
//! `ReplicationPad1d/2d`, `CircularPad1d/2d`): pad the last one or two dims.

use super::stateless_module;
use lolcore::nn::Forward;
use lolcore::{PadMode, Result, Tensor};

/// Pad amounts: one `p` for every side, `(left, right)`, or `(left, right, top, bottom)`
/// (`F.pad`'s order: the last dim first).
pub trait IntoPads {
    fn into_pads(self, dims: usize) -> Vec<usize>;
}
impl IntoPads for usize {
    fn into_pads(self, dims: usize) -> Vec<usize> {
        vec![self; 2 * dims]
    }
}
impl IntoPads for (usize, usize) {
    fn into_pads(self, _dims: usize) -> Vec<usize> {
        vec![self.0, self.1]
    }
}
impl IntoPads for (usize, usize, usize, usize) {
    fn into_pads(self, _dims: usize) -> Vec<usize> {
        vec![self.0, self.1, self.2, self.3]
    }
}

macro_rules! pad_layer {
    ($(#[$m:meta])* $name:ident, $dims:expr, $mode:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            pub padding: Vec<usize>,
        }
        impl $name {
            pub fn new(padding: impl IntoPads) -> Self {
                $name { padding: padding.into_pads($dims) }
            }
        }
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                x.pad(&self.padding, $mode).map_err(|e| e.context(stringify!($name)))
            }
        }
        stateless_module!($name);
    };
}

pad_layer!(
    /// Zeros around the last dim.
    ZeroPad1D,
    1,
    PadMode::Constant(0.0)
);
pad_layer!(
    /// Zeros around the last two dims.
    ZeroPad2D,
    2,
    PadMode::Constant(0.0)
);
pad_layer!(
    /// The last dim mirrored at its ends (without repeating the edge).
    ReflectionPad1D,
    1,
    PadMode::Reflect
);
pad_layer!(
    /// The last two dims mirrored at their edges.
    ReflectionPad2D,
    2,
    PadMode::Reflect
);
pad_layer!(
    /// The last dim's edge values repeated.
    ReplicationPad1D,
    1,
    PadMode::Replicate
);
pad_layer!(
    /// The last two dims' edge values repeated.
    ReplicationPad2D,
    2,
    PadMode::Replicate
);
pad_layer!(
    /// The last dim wrapped around.
    CircularPad1D,
    1,
    PadMode::Circular
);
pad_layer!(
    /// The last two dims wrapped around.
    CircularPad2D,
    2,
    PadMode::Circular
);

macro_rules! constant_pad_layer {
    ($(#[$m:meta])* $name:ident, $dims:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            pub padding: Vec<usize>,
            pub value: f64,
        }
        impl $name {
            pub fn new(padding: impl IntoPads, value: f64) -> Self {
                $name { padding: padding.into_pads($dims), value }
            }
        }
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                x.pad(&self.padding, PadMode::Constant(self.value)).map_err(|e| e.context(stringify!($name)))
            }
        }
        stateless_module!($name);
    };
}

constant_pad_layer!(
    /// `value` around the last dim.
    ConstantPad1D,
    1
);
constant_pad_layer!(
    /// `value` around the last two dims.
    ConstantPad2D,
    2
);
