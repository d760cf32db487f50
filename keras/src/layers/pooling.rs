//! Pooling layers: MaxPool2D, AvgPool2D, GlobalAvgPool2D (NCHW).

use super::stateless_module;
use lolcore::nn::{functional, Forward};
use lolcore::{Pool2dParams, Result, Tensor};

/// Max over `k × k` windows (stride `k` unless set).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaxPool2D {
    pub params: Pool2dParams,
}

impl MaxPool2D {
    pub fn new(kernel: usize) -> Self {
        MaxPool2D { params: Pool2dParams::new(kernel) }
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

impl Forward for MaxPool2D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        functional::max_pool2d(x, self.params)
    }
}
stateless_module!(MaxPool2D);

/// Mean over `k × k` windows (stride `k` unless set).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AvgPool2D {
    pub params: Pool2dParams,
}

impl AvgPool2D {
    pub fn new(kernel: usize) -> Self {
        AvgPool2D { params: Pool2dParams::new(kernel) }
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

impl Forward for AvgPool2D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        functional::avg_pool2d(x, self.params)
    }
}
stateless_module!(AvgPool2D);

/// Mean over the whole image: `[n, c, h, w] → [n, c]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GlobalAvgPool2D;

impl Forward for GlobalAvgPool2D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        functional::global_avg_pool2d(x)
    }
}
stateless_module!(GlobalAvgPool2D);
