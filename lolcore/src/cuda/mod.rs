//! CUDA backend (placeholder until the CUDA step lands): no storage can be made, and
//! `Device::cuda` reports that this build has no CUDA backend.

use crate::cpu::CpuStorage;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::conv_params::{ConvGeom, PoolGeom};
use crate::ops::kinds::{ArgReduceOp, BinaryOp, CmpOp, ReduceOp, UnaryOp};
use crate::{DType, Device};

pub fn init_device(ordinal: usize) -> Result<()> {
    Err(Error::Cuda(format!("cuda:{ordinal}: this build of lolcore has no CUDA backend yet")))
}

pub enum CudaStorage {}

#[allow(unused_variables)]
impl CudaStorage {
    pub fn device(&self) -> Device {
        match *self {}
    }
    pub fn dtype(&self) -> DType {
        match *self {}
    }
    pub fn len(&self) -> usize {
        match *self {}
    }
    pub fn filled(dtype: DType, len: usize, v: f64, device: &Device) -> Result<Self> {
        init_device(0).map(|_| unreachable!())
    }
    pub fn from_cpu(s: &CpuStorage, device: &Device) -> Result<Self> {
        init_device(0).map(|_| unreachable!())
    }
    pub fn to_cpu(&self, l: &Layout) -> Result<CpuStorage> {
        match *self {}
    }
    pub fn unary(&self, op: UnaryOp, l: &Layout) -> Result<Self> {
        match *self {}
    }
    pub fn binary(&self, op: BinaryOp, la: &Layout, b: &Self, lb: &Layout) -> Result<Self> {
        match *self {}
    }
    pub fn compare(&self, op: CmpOp, la: &Layout, b: &Self, lb: &Layout) -> Result<Self> {
        match *self {}
    }
    pub fn where_cond(&self, lc: &Layout, a: &Self, la: &Layout, b: &Self, lb: &Layout) -> Result<Self> {
        match *self {}
    }
    pub fn reduce(&self, op: ReduceOp, l: &Layout, dims: &[usize]) -> Result<Self> {
        match *self {}
    }
    pub fn arg_reduce(&self, op: ArgReduceOp, l: &Layout, dim: usize) -> Result<Self> {
        match *self {}
    }
    pub fn matmul(&self, la: &Layout, b: &Self, lb: &Layout, mnk: (usize, usize, usize)) -> Result<Self> {
        match *self {}
    }
    pub fn to_dtype(&self, l: &Layout, dtype: DType) -> Result<Self> {
        match *self {}
    }
    pub fn contiguous(&self, l: &Layout) -> Result<Self> {
        match *self {}
    }
    pub fn copy_into_view(&mut self, ld: &Layout, src: &Self, ls: &Layout) -> Result<()> {
        match *self {}
    }
    pub fn axpy(&mut self, ld: &Layout, alpha: f64, src: &Self, ls: &Layout) -> Result<()> {
        match *self {}
    }
    pub fn optim_update(
        &mut self,
        rule: &crate::optim::UpdateRule,
        grad: &Self,
        states: &mut [&mut crate::storage::Storage],
    ) -> Result<()> {
        match *self {}
    }
    pub fn index_select(&self, l: &Layout, ids: &Self, li: &Layout, dim: usize) -> Result<Self> {
        match *self {}
    }
    pub fn gather(&self, l: &Layout, ids: &Self, li: &Layout, dim: usize) -> Result<Self> {
        match *self {}
    }
    pub fn scatter_add(&self, l: &Layout, ids: &Self, li: &Layout, dim: usize, out_shape: &[usize]) -> Result<Self> {
        match *self {}
    }
    pub fn conv2d(&self, l: &Layout, w: &Self, lw: &Layout, bias: Option<&Self>, g: &ConvGeom) -> Result<Self> {
        match *self {}
    }
    pub fn conv2d_backward_input(&self, l: &Layout, w: &Self, lw: &Layout, g: &ConvGeom) -> Result<Self> {
        match *self {}
    }
    pub fn conv2d_backward_weight(&self, l: &Layout, gy: &Self, lg: &Layout, g: &ConvGeom) -> Result<Self> {
        match *self {}
    }
    pub fn max_pool2d(&self, l: &Layout, g: &PoolGeom) -> Result<(Self, Self)> {
        match *self {}
    }
    pub fn avg_pool2d(&self, l: &Layout, g: &PoolGeom) -> Result<Self> {
        match *self {}
    }
    pub fn avg_pool2d_backward(&self, l: &Layout, g: &PoolGeom) -> Result<Self> {
        match *self {}
    }
    pub fn softmax_last(&self, l: &Layout, log: bool) -> Result<Self> {
        match *self {}
    }
}
