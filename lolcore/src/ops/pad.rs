//! Padding (PyTorch's `F.pad`): pad amounts come last dim first, `[left, right, top,
//! bottom, ...]`, and the new elements are a constant or repeat the input reflected,
//! replicated or wrapped around. Built from `cat` (constant) and `index_select` (the
//! other modes), so it runs on every device and its gradients and tangents follow from
//! theirs (reflected positions add up in the backward, as in PyTorch).

use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

/// What fills the padding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    /// A constant (`F.pad(..., mode="constant", value=v)`).
    Constant(f64),
    /// The input mirrored without repeating its edge: `[c b | a b c d | c b]`. Each pad
    /// must be smaller than the dim it pads.
    Reflect,
    /// The edge repeated: `[a a | a b c d | d d]`.
    Replicate,
    /// Wrapped around: `[c d | a b c d | a b]`. Each pad may be at most the dim's size.
    Circular,
}

impl Tensor {
    /// Pads the last `pads.len() / 2` dims: `pads = [left, right]` for the last dim,
    /// then `[top, bottom]` for the one before, and so on (`F.pad`'s order).
    pub fn pad(&self, pads: &[usize], mode: PadMode) -> Result<Tensor> {
        let op = "pad";
        if !pads.len().is_multiple_of(2) || pads.len() / 2 > self.rank() {
            bail!(Error::arg(
                op,
                format!(
                    "{} pad amounts for a tensor of shape {:?}: give a (left, right) pair per padded dim, last dim first",
                    pads.len(),
                    self.shape()
                )
            ));
        }
        let mut y = self.clone();
        for (i, pair) in pads.chunks(2).enumerate() {
            let (d, (left, right)) = (self.rank() - 1 - i, (pair[0], pair[1]));
            if left == 0 && right == 0 {
                continue;
            }
            let n = self.shape()[d];
            y = match mode {
                PadMode::Constant(v) => {
                    let side = |len: usize| -> Result<Tensor> {
                        let mut s = y.shape().to_vec();
                        s[d] = len;
                        Tensor::full_dtype(v, &s, y.dtype(), &y.device())
                    };
                    Tensor::cat(&[side(left)?, y.clone(), side(right)?], d)?
                }
                _ => {
                    let ids = Self::pad_indices(mode, d, n, left, right, self.shape())?;
                    let ids =
                        Tensor::from_vec(ids, &[left + n + right], &crate::Device::Cpu)?.to_device(&y.device())?;
                    y.index_select(&ids, d)?
                }
            };
        }
        Ok(y)
    }

    /// The input position each output position of a padded dim copies.
    fn pad_indices(mode: PadMode, d: usize, n: usize, left: usize, right: usize, shape: &[usize]) -> Result<Vec<u32>> {
        let op = "pad";
        let too_wide = |limit: &str| {
            Error::arg(
                op,
                format!(
                    "{mode:?} padding ({left}, {right}) of dim {d} of shape {shape:?} must be {limit} its size {n}"
                ),
            )
        };
        let check = |ok: bool, limit: &str| if ok { Ok(()) } else { Err(too_wide(limit)) };
        let total = left
            .checked_add(right)
            .and_then(|t| t.checked_add(n))
            .filter(|&t| t <= u32::MAX as usize)
            .ok_or_else(|| Error::arg(op, format!("padding ({left}, {right}) is too large")))?;
        let at = |i: isize| -> u32 {
            match mode {
                PadMode::Reflect => {
                    let i = i.abs();
                    let n = n as isize;
                    (if i >= n { 2 * (n - 1) - i } else { i }) as u32
                }
                PadMode::Replicate => i.clamp(0, n as isize - 1) as u32,
                _ => i.rem_euclid(n as isize) as u32,
            }
        };
        match mode {
            PadMode::Reflect => check(left < n && right < n, "smaller than")?,
            PadMode::Replicate => check(n > 0, "padding a dim of at least 1, not")?,
            _ => check(left <= n && right <= n && n > 0, "at most")?,
        }
        Ok((0..total).map(|k| at(k as isize - left as isize)).collect())
    }
}
