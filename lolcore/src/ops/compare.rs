//! Comparisons (u8 masks, no gradient) and `where_cond`.

use super::kinds::CmpOp;
use crate::autograd::{sum_to, BackwardFn, Saved};
use crate::error::{Error, Result};
use crate::layout::broadcast_shape;
use crate::tensor::Tensor;
use crate::DType;

impl Tensor {
    fn compare(&self, op: CmpOp, rhs: &Tensor) -> Result<Tensor> {
        let name = op.name();
        self.same_device(name, rhs)?;
        self.same_dtype(name, rhs)?;
        let shape = broadcast_shape(name, self.shape(), rhs.shape())?;
        let la = self.layout().broadcast_as(&shape).ok_or_else(|| Error::msg("internal: broadcast"))?;
        let lb = rhs.layout().broadcast_as(&shape).ok_or_else(|| Error::msg("internal: broadcast"))?;
        let s = self.storage().compare(op, &la, &rhs.storage(), &lb)?;
        Ok(Tensor::from_storage(s, &shape))
    }
    /// A 0-d tensor of this tensor's dtype and device holding `v`.
    pub(crate) fn scalar_like(&self, v: f64) -> Result<Tensor> {
        Tensor::full_dtype(v, &[], self.dtype(), &self.device())
    }

    /// `self == rhs` elementwise (u8 mask, broadcasting).
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(CmpOp::Eq, rhs)
    }
    pub fn ne(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(CmpOp::Ne, rhs)
    }
    pub fn lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(CmpOp::Lt, rhs)
    }
    pub fn le(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(CmpOp::Le, rhs)
    }
    pub fn gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(CmpOp::Gt, rhs)
    }
    pub fn ge(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(CmpOp::Ge, rhs)
    }
    pub fn eq_scalar(&self, v: f64) -> Result<Tensor> {
        self.compare(CmpOp::Eq, &self.scalar_like(v)?)
    }
    pub fn ne_scalar(&self, v: f64) -> Result<Tensor> {
        self.compare(CmpOp::Ne, &self.scalar_like(v)?)
    }
    pub fn lt_scalar(&self, v: f64) -> Result<Tensor> {
        self.compare(CmpOp::Lt, &self.scalar_like(v)?)
    }
    pub fn le_scalar(&self, v: f64) -> Result<Tensor> {
        self.compare(CmpOp::Le, &self.scalar_like(v)?)
    }
    pub fn gt_scalar(&self, v: f64) -> Result<Tensor> {
        self.compare(CmpOp::Gt, &self.scalar_like(v)?)
    }
    pub fn ge_scalar(&self, v: f64) -> Result<Tensor> {
        self.compare(CmpOp::Ge, &self.scalar_like(v)?)
    }

    /// `self ? on_true : on_false` elementwise, where `self` is a mask (any dtype;
    /// non-zero is true); all three broadcast together.
    pub fn where_cond(&self, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        let op = "where_cond";
        self.same_device(op, on_true)?;
        on_true.same_device(op, on_false)?;
        on_true.same_dtype(op, on_false)?;
        let cond = if self.dtype() == DType::U8 { self.clone() } else { self.ne_scalar(0.0)? };
        let shape = broadcast_shape(op, &broadcast_shape(op, cond.shape(), on_true.shape())?, on_false.shape())?;
        let bc = |t: &Tensor| t.layout().broadcast_as(&shape).ok_or_else(|| Error::msg("internal: broadcast"));
        let (lc, la, lb) = (bc(&cond)?, bc(on_true)?, bc(on_false)?);
        let s = cond.storage().where_cond(&lc, &on_true.storage(), &la, &on_false.storage(), &lb)?;
        let y = Tensor::from_storage(s, &shape);
        let (sa, sb) = (on_true.shape().to_vec(), on_false.shape().to_vec());
        let jc = cond.detach();
        let c = Saved::new(op, "condition", &jc);
        y.record(
            op,
            &[on_true, on_false],
            move || -> BackwardFn {
                Box::new(move |g| {
                    let c = c.get()?;
                    let z = g.zeros_like()?;
                    Ok(vec![Some(sum_to(&c.where_cond(g, &z)?, &sa)?), Some(sum_to(&c.where_cond(&z, g)?, &sb)?)])
                })
            },
            move |t, _| jc.where_cond(&t[0], &t[1]),
        )
    }
}
