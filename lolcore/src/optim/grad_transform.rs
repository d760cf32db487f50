//! What an optimizer does to gradients before its update, as Keras's optimizer arguments:
//! `gradient_accumulation_steps` (average k steps' gradients, update every k-th step),
//! then `clipvalue` (element-wise), `clipnorm` (each tensor's L2 norm) and
//! `global_clipnorm` (the joint norm of all of them), in that order.

use crate::autograd::Gradients;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorId};
use std::collections::HashMap;

/// Gradient clipping and accumulation settings (all off by default).
#[derive(Clone, Debug, Default)]
pub(crate) struct GradTransform {
    pub clipvalue: Option<f64>,
    pub clipnorm: Option<f64>,
    pub global_clipnorm: Option<f64>,
    /// Update every k-th step with the mean of the k gradients (k ≥ 2 when set).
    pub accumulate: Option<usize>,
    /// Sums of the gradients since the last update, and how many steps they hold.
    pub sums: HashMap<TensorId, Tensor>,
    pub pending: usize,
    /// A bad setting, reported by the next step (builders cannot return errors).
    pub invalid: Option<(&'static str, String)>,
}

impl GradTransform {
    pub fn set(&mut self, what: &'static str, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            self.invalid = Some((what, format!("must be a positive number, got {v}")));
            return;
        }
        match what {
            "clipvalue" => self.clipvalue = Some(v),
            "clipnorm" => self.clipnorm = Some(v),
            _ => self.global_clipnorm = Some(v),
        }
    }
    pub fn set_accumulation(&mut self, k: usize) {
        if k == 0 {
            self.invalid = Some(("gradient_accumulation_steps", "must be at least 1, got 0".into()));
        }
        self.accumulate = (k > 1).then_some(k);
    }
    fn is_identity(&self) -> bool {
        self.clipvalue.is_none()
            && self.clipnorm.is_none()
            && self.global_clipnorm.is_none()
            && self.accumulate.is_none()
    }

    /// The gradients to apply now, or `None` while accumulating.
    pub fn apply(&mut self, grads: &Gradients, params: &[Tensor]) -> Result<Option<Gradients>> {
        if let Some((op, msg)) = &self.invalid {
            return Err(Error::arg(op, msg.clone()));
        }
        if self.is_identity() {
            return Ok(Some(grads.clone()));
        }
        let mut out = grads.clone();
        if let Some(k) = self.accumulate {
            for p in params {
                if let Some(g) = grads.get(p) {
                    let sum = match self.sums.remove(&p.id()) {
                        Some(s) => s.add(g)?,
                        None => g.deep_copy()?,
                    };
                    self.sums.insert(p.id(), sum);
                }
            }
            self.pending += 1;
            if self.pending < k {
                return Ok(None);
            }
            out = Gradients::new();
            for p in params {
                if let Some(s) = self.sums.remove(&p.id()) {
                    out.insert(p, s.affine(1.0 / k as f64, 0.0)?);
                }
            }
            self.pending = 0;
        }
        if let Some(c) = self.clipvalue {
            super::clip_grad_value(&mut out, params, c)?;
        }
        if let Some(c) = self.clipnorm {
            for p in params {
                if let Some(g) = out.get(p) {
                    // g · c / max(‖g‖, c), on the device: no read-back per tensor.
                    let norm = g.to_dtype(crate::DType::F32)?.sqr()?.sum_all()?.sqrt()?;
                    let factor = Tensor::full(c, &[], &g.device())?.div(&norm.clamp(c, f64::INFINITY)?)?;
                    let scaled = g.mul(&factor.to_dtype(g.dtype())?)?;
                    out.insert(p, scaled);
                }
            }
        }
        if let Some(c) = self.global_clipnorm {
            super::clip_grad_norm(&mut out, params, c)?;
        }
        Ok(Some(out))
    }
}

/// Builders every lol optimizer has (Keras's optimizer arguments).
macro_rules! grad_transform_builders {
    () => {
        /// Clamps every gradient element to `[-v, v]` before the update (Keras's `clipvalue`).
        pub fn clipvalue(mut self, v: f64) -> Self {
            self.state.transform.set("clipvalue", v);
            self
        }
        /// Rescales each gradient tensor whose L2 norm exceeds `v` to norm `v` (Keras's
        /// `clipnorm`: per tensor, unlike `global_clipnorm`).
        pub fn clipnorm(mut self, v: f64) -> Self {
            self.state.transform.set("clipnorm", v);
            self
        }
        /// Rescales all gradients together when their joint L2 norm exceeds `v` (Keras's
        /// `global_clipnorm`, PyTorch's `clip_grad_norm_`).
        pub fn global_clipnorm(mut self, v: f64) -> Self {
            self.state.transform.set("global_clipnorm", v);
            self
        }
        /// Updates the weights every `k`-th `step` only, with the mean of the `k` gradients
        /// (Keras 3's `gradient_accumulation_steps`): batches of `b` then train like
        /// batches of `k·b` in memory of `b`.
        pub fn gradient_accumulation_steps(mut self, k: usize) -> Self {
            self.state.transform.set_accumulation(k);
            self
        }
    };
}
pub(crate) use grad_transform_builders;
