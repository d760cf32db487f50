//! Applying update rules to parameters on their device.

use super::UpdateRule;
use crate::error::{bail, Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// One parameter's update: the parameter, its gradient, the rule and its state buffers.
pub(crate) type Item<'a> = (&'a Tensor, &'a Tensor, UpdateRule, Vec<Tensor>);

/// The checks every update makes: a gradient of the parameter's shape, device, dtype.
fn check(p: &Tensor, g: &Tensor) -> Result<()> {
    if p.shape() != g.shape() {
        bail!(Error::shape(
            "optimizer",
            format!("gradient shape {:?} differs from parameter shape {:?}", g.shape(), p.shape())
        ));
    }
    p.same_device("optimizer", g)?;
    p.same_dtype("optimizer", g)
}

/// Applies every item's rule in place. On CUDA, all parameters of a group go through one
/// multi-tensor launch; on the CPU each tensor is one parallel pass.
pub(crate) fn apply_all(items: &[Item<'_>]) -> Result<()> {
    let Some((first, ..)) = items.first() else { return Ok(()) };
    if first.device().is_cuda() {
        return apply_cuda(items);
    }
    for (p, g, rule, states) in items {
        check(p, g)?;
        if !p.is_contiguous() {
            // Update a dense copy, then write it back through the view.
            let dense = p.contiguous_raw()?;
            apply_all(&[(&dense, *g, *rule, states.clone())])?;
            p.copy_from(&dense)?;
            continue;
        }
        let g = g.contiguous_raw()?;
        let gs = g.storage();
        let mut ps = p.storage_mut();
        let mut guards: Vec<_> = states.iter().map(|s| s.storage_mut()).collect();
        let mut refs: Vec<&mut Storage> = guards.iter_mut().map(|g| &mut **g).collect();
        ps.optim_update(p.layout(), rule, &gs, &mut refs)?;
    }
    Ok(())
}

/// CUDA: checks every item, then one fused multi-tensor launch per group of rules.
fn apply_cuda(items: &[Item<'_>]) -> Result<()> {
    let device = items[0].0.device();
    let mut ready = Vec::with_capacity(items.len());
    for (p, g, rule, states) in items {
        check(p, g)?;
        if p.device() != device {
            bail!(Error::DeviceMismatch { op: "optimizer", lhs: device, rhs: p.device() });
        }
        if !p.is_contiguous() {
            bail!(Error::arg(
                "optimizer",
                format!("a CUDA parameter of shape {:?} is a strided view; parameters must be contiguous", p.shape())
            ));
        }
        ready.push((*p, g.contiguous_raw()?, *rule, states.clone()));
    }
    crate::cuda::optim_apply_multi(&device, &ready)
}
