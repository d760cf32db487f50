//! An optimizer's state as named tensors, for training checkpoints (PyTorch's
//! `optimizer.state_dict()`): parameters are numbered in group order, so the state
//! follows a model rebuilt with the same structure.
//!
//! Names: `group.{g}.lr`, `param.{i}.step`, `param.{i}.state.{j}` (moments, ...),
//! `accum.{i}` and `accum.pending` (gradients summed towards the next accumulated step).

use super::State;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::{DType, Device};
use std::collections::HashMap;

impl State {
    pub fn state_dict(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            out.push((format!("group.{g}.lr"), Tensor::from_vec(vec![group.lr], &[], &Device::Cpu)?));
        }
        for (i, p) in self.groups.iter().flat_map(|g| &g.params).enumerate() {
            if let Some((bufs, step)) = self.per_param.get(&p.id()) {
                out.push((format!("param.{i}.step"), Tensor::from_vec(vec![*step as i64], &[], &Device::Cpu)?));
                for (j, b) in bufs.iter().enumerate() {
                    out.push((format!("param.{i}.state.{j}"), b.clone()));
                }
            }
            if let Some(s) = self.transform.sums.get(&p.id()) {
                out.push((format!("accum.{i}"), s.clone()));
            }
        }
        if self.transform.pending > 0 {
            let pending = Tensor::from_vec(vec![self.transform.pending as i64], &[], &Device::Cpu)?;
            out.push(("accum.pending".into(), pending));
        }
        Ok(out)
    }

    /// Replaces the state by `state` (from `state_dict` of an optimizer over parameters
    /// of the same shapes, in the same order). Checks everything before changing anything.
    pub fn load_state_dict(&mut self, op: &'static str, state: &[(String, Tensor)]) -> Result<()> {
        let params: Vec<Tensor> = self.groups.iter().flat_map(|g| g.params.iter().cloned()).collect();
        let by_name: HashMap<&str, &Tensor> = state.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let scalar = |name: &str| -> Result<Option<f64>> {
            by_name.get(name).map(|t| t.to_dtype(DType::F64)?.reshape(&[])?.to_scalar::<f64>()).transpose()
        };
        let mut lrs = Vec::with_capacity(self.groups.len());
        for g in 0..self.groups.len() {
            lrs.push(scalar(&format!("group.{g}.lr"))?);
        }
        let mut per_param = HashMap::new();
        let mut sums = HashMap::new();
        for (i, p) in params.iter().enumerate() {
            let mut bufs = Vec::new();
            while let Some(b) = by_name.get(format!("param.{i}.state.{}", bufs.len()).as_str()) {
                if b.shape() != p.shape() {
                    return Err(Error::shape(
                        op,
                        format!(
                            "optimizer state param.{i}.state.{} has shape {:?}, but parameter {i} has {:?}: the \
                             checkpoint is of another model",
                            bufs.len(),
                            b.shape(),
                            p.shape()
                        ),
                    ));
                }
                bufs.push(b.to_device(&p.device())?.to_dtype(p.dtype())?.deep_copy()?);
            }
            if let Some(step) = scalar(&format!("param.{i}.step"))? {
                per_param.insert(p.id(), (bufs, step as u64));
            }
            if let Some(s) = by_name.get(format!("accum.{i}").as_str()) {
                if s.shape() != p.shape() {
                    return Err(Error::shape(op, format!("accum.{i} {:?} vs parameter {:?}", s.shape(), p.shape())));
                }
                sums.insert(p.id(), s.to_device(&p.device())?.to_dtype(p.dtype())?.deep_copy()?);
            }
        }
        let known = |n: &str| -> bool {
            let idx = |rest: &str| rest.split('.').next().and_then(|k| k.parse::<usize>().ok());
            if let Some(r) = n.strip_prefix("param.") {
                return idx(r).is_some_and(|i| i < params.len());
            }
            if let Some(r) = n.strip_prefix("group.") {
                return idx(r).is_some_and(|g| g < self.groups.len());
            }
            if let Some(r) = n.strip_prefix("accum.") {
                return r == "pending" || idx(r).is_some_and(|i| i < params.len());
            }
            false
        };
        if let Some((n, _)) = state.iter().find(|(n, _)| !known(n)) {
            return Err(Error::arg(
                op,
                format!(
                    "optimizer state has {n:?}, which this optimizer ({} parameters in {} groups) does not have: the \
                     checkpoint is of another model or optimizer",
                    params.len(),
                    self.groups.len()
                ),
            ));
        }
        for (g, lr) in self.groups.iter_mut().zip(lrs) {
            if let Some(lr) = lr {
                g.lr = lr;
            }
        }
        self.per_param = per_param;
        self.transform.sums = sums;
        self.transform.pending = scalar("accum.pending")?.unwrap_or(0.0) as usize;
        Ok(())
    }
}
