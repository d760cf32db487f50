//! Applying update rules to parameters on their device.

use super::UpdateRule;
use crate::error::{bail, Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// One parameter's update: the parameter, its gradient, the rule and its state buffers.
pub(crate) type Item<'a> = (&'a Tensor, &'a Tensor, UpdateRule, Vec<Tensor>);
/// An update ready to apply: the parameter, its compact gradient, the rule, the state.
type Ready<'a> = (&'a Tensor, Tensor, UpdateRule, Vec<Tensor>);

/// The checks every update makes: a gradient of the parameter's shape, device, dtype.
pub(crate) fn check(p: &Tensor, g: &Tensor) -> Result<()> {
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
/// multi-tensor launch; on the CPU each tensor is one parallel pass. A parameter that is
/// a strided view (a slice of a larger buffer, a transposed weight) is updated through a
/// dense copy written back through the view, the same way on both devices.
pub(crate) fn apply_all(items: &[Item<'_>]) -> Result<()> {
    let Some((first, ..)) = items.first() else { return Ok(()) };
    let device = first.device();
    let mut direct = Vec::with_capacity(items.len());
    let mut via_copy = Vec::new();
    for (p, g, rule, states) in items {
        check(p, g)?;
        if p.device() != device {
            bail!(Error::DeviceMismatch { op: "optimizer", lhs: device, rhs: p.device() });
        }
        // The update writes the parameter while it reads the gradient: a gradient that
        // is (a view of) the parameter itself is read from a copy.
        let g = if g.same_storage(p) { g.deep_copy()? } else { g.contiguous_raw()? };
        if p.is_contiguous() {
            direct.push((*p, g, *rule, states.clone()));
        } else {
            via_copy.push((*p, p.contiguous_raw()?, g, *rule, states.clone()));
        }
    }
    if device.is_cuda() {
        let mut all: Vec<Ready<'_>> = direct;
        all.extend(via_copy.iter().map(|(_, dense, g, r, s)| (dense, g.clone(), *r, s.clone())));
        // Parameters that share storage (two views of one buffer) go to separate
        // launches: one launch updates its tensors concurrently.
        let mut launches: Vec<Vec<Ready<'_>>> = Vec::new();
        for item in all {
            match launches.iter_mut().find(|l| l.iter().all(|(q, ..)| !q.same_storage(item.0))) {
                Some(l) => l.push(item),
                None => launches.push(vec![item]),
            }
        }
        for l in &launches {
            crate::cuda::optim_apply_multi(&device, l)?;
            for (p, ..) in l {
                p.bump_version();
            }
        }
    } else {
        for (p, g, rule, states) in &direct {
            update_cpu(p, g, rule, states)?;
        }
        for (_, dense, g, rule, states) in &via_copy {
            update_cpu(dense, g, rule, states)?;
        }
    }
    for (p, dense, ..) in &via_copy {
        p.copy_from(dense)?;
    }
    Ok(())
}

/// One CPU parameter (contiguous, possibly at an offset) with a compact gradient in a
/// storage of its own. The parameter and gradient locks are taken in address order
/// (`write_reading`); the state buffers belong to the optimizer alone.
fn update_cpu(p: &Tensor, g: &Tensor, rule: &UpdateRule, states: &[Tensor]) -> Result<()> {
    p.write_reading(g, |ps, gs| {
        let mut guards: Vec<_> = states.iter().map(|s| s.storage_mut()).collect();
        let mut refs: Vec<&mut Storage> = guards.iter_mut().map(|g| &mut **g).collect();
        ps.optim_update(p.layout(), rule, gs, &mut refs)
    })
}
