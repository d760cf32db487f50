//! Window pooling layers (PyTorch's `MaxPool1d/2d`, `AvgPool1d/2d`): NCL and NCHW.

use super::stateless_module;
use lolcore::nn::Forward;
use lolcore::{IntoPair, Pool1dParams, Pool2dParams, Result, Tensor};

macro_rules! pool2d_layer {
    ($(#[$m:meta])* $name:ident, $op:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            pub params: Pool2dParams,
        }

        impl $name {
            /// A window of `k` or `(kh, kw)`, with stride equal to the window and no
            /// padding (PyTorch's defaults).
            pub fn new(kernel: impl IntoPair) -> Self {
                $name { params: Pool2dParams::new(kernel) }
            }
            pub fn stride(mut self, s: impl IntoPair) -> Self {
                self.params = self.params.stride(s);
                self
            }
            /// Implicit padding on both sides, at most half the window.
            pub fn padding(mut self, p: impl IntoPair) -> Self {
                self.params = self.params.padding(p);
                self
            }
            /// Round the output size up: a last partial window counts if it starts
            /// inside the input or its left padding.
            pub fn ceil_mode(mut self, on: bool) -> Self {
                self.params = self.params.ceil_mode(on);
                self
            }
        }

        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                x.$op(self.params).map_err(|e| e.context(stringify!($name)))
            }
        }
        stateless_module!($name);
    };
}

macro_rules! pool1d_layer {
    ($(#[$m:meta])* $name:ident, $op:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            pub params: Pool1dParams,
        }

        impl $name {
            /// A window of `k`, with stride `k` and no padding.
            pub fn new(kernel: usize) -> Self {
                $name { params: Pool1dParams::new(kernel) }
            }
            pub fn stride(mut self, s: usize) -> Self {
                self.params = self.params.stride(s);
                self
            }
            /// Implicit padding on both ends, at most half the window.
            pub fn padding(mut self, p: usize) -> Self {
                self.params = self.params.padding(p);
                self
            }
            /// Round the output length up (see `MaxPool2D::ceil_mode`).
            pub fn ceil_mode(mut self, on: bool) -> Self {
                self.params = self.params.ceil_mode(on);
                self
            }
        }

        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                x.$op(self.params).map_err(|e| e.context(stringify!($name)))
            }
        }
        stateless_module!($name);
    };
}

pool2d_layer!(
    /// Max over each window of `[n, c, h, w]` → `[n, c, ho, wo]`, with
    /// `ho = ⌊(h + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1` (⌈⌉ with `ceil_mode`).
    MaxPool2D,
    max_pool2d
);
pool2d_layer!(
    /// Mean over each window of `[n, c, h, w]`; zero padding counts in the divisor
    /// (PyTorch's `count_include_pad=True`).
    AvgPool2D,
    avg_pool2d
);
pool1d_layer!(
    /// Max over each window of `[n, c, l]` → `[n, c, lo]`.
    MaxPool1D,
    max_pool1d
);
pool1d_layer!(
    /// Mean over each window of `[n, c, l]` (padding counts in the divisor).
    AvgPool1D,
    avg_pool1d
);

impl MaxPool2D {
    /// Spacing between the window's elements.
    pub fn dilation(mut self, d: impl IntoPair) -> Self {
        self.params = self.params.dilation(d);
        self
    }
}

impl MaxPool1D {
    /// Spacing between the window's elements.
    pub fn dilation(mut self, d: usize) -> Self {
        self.params = self.params.dilation(d);
        self
    }
}
