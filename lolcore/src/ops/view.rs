//! Views: new layouts over the same storage (reshape of contiguous data, transpose,
//! permute, narrow, squeeze/unsqueeze, broadcast, diagonal). Rule: a view never copies,
//! except `reshape` of a layout no strides can express, which copies first.

use crate::autograd::{sum_to, BackwardFn};
use crate::error::{bail, Error, Result};
use crate::layout::{checked_numel, numel, Dim, Layout};
use crate::tensor::Tensor;

/// Zeros of `full` with `g` written into the view `view(contiguous layout of full)`:
/// the adjoint of an injective view (narrow, diagonal).
fn zeros_with_view(g: &Tensor, full: &[usize], view: impl Fn(&Layout) -> Layout) -> Result<Tensor> {
    let z = g.zeros_like_shape(full)?;
    let dst = view(&Layout::contiguous(full));
    z.storage_mut().copy_into_view(&dst, &g.storage(), g.layout())?;
    Ok(z)
}

impl Tensor {
    pub(crate) fn zeros_like_shape(&self, shape: &[usize]) -> Result<Tensor> {
        Tensor::zeros_dtype(shape, self.dtype(), &self.device())
    }

    /// Attaches autograd to a view: backward maps the gradient back with `back`,
    /// forward mode applies the same view to the tangent with `fwd`.
    fn view_op(
        &self,
        name: &'static str,
        y: Tensor,
        back: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
        fwd: impl FnOnce(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        y.record(
            name,
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(back(g)?)])) },
            |t, _| fwd(&t[0]),
        )
    }

    /// The same elements in a new shape (a view when the strides allow, else a copy).
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if checked_numel("reshape", shape)? != self.numel() {
            bail!(Error::shape(
                "reshape",
                format!(
                    "cannot reshape {:?} ({} elements) into {shape:?} ({} elements)",
                    self.shape(),
                    self.numel(),
                    numel(shape)
                )
            ));
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let y = match self.layout().reshape(shape) {
            Some(l) => self.view_with(l),
            None => self.contiguous_raw()?.view_with(Layout::contiguous(shape)),
        };
        let orig = self.shape().to_vec();
        let new = shape.to_vec();
        self.view_op("reshape", y, move |g| g.reshape(&orig), |t| t.reshape(&new))
    }

    /// Merges dims `start..=end` into one.
    pub fn flatten<D1: Dim, D2: Dim>(&self, start: D1, end: D2) -> Result<Tensor> {
        if self.rank() == 0 {
            return self.reshape(&[1]);
        }
        let s = start.to_index(self.rank(), "flatten")?;
        let e = end.to_index(self.rank(), "flatten")?;
        if s > e {
            bail!(Error::index("flatten", format!("start dim {s} is after end dim {e}")));
        }
        let mut shape = self.shape()[..s].to_vec();
        shape.push(checked_numel("flatten", &self.shape()[s..=e])?);
        shape.extend_from_slice(&self.shape()[e + 1..]);
        self.reshape(&shape)
    }
    /// All dims into one.
    pub fn flatten_all(&self) -> Result<Tensor> {
        self.reshape(&[self.numel()])
    }

    /// A contiguous tensor with the same values (this one, if already contiguous).
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        let y = self.contiguous_raw()?;
        self.view_op("contiguous", y, |g| Ok(g.clone()), |t| t.contiguous())
    }
    /// Whether the storage holds exactly this tensor's elements in row-major order.
    pub(crate) fn is_compact(&self) -> bool {
        self.is_contiguous() && self.layout().offset() == 0 && self.storage().len() == self.numel()
    }
    /// A copy with its own storage (contiguous, detached): PyTorch's `clone().detach()`.
    pub fn deep_copy(&self) -> Result<Tensor> {
        let s = self.storage().contiguous(self.layout())?;
        Ok(Tensor::from_storage(s, self.shape()))
    }
    /// A detached tensor whose storage holds exactly its elements, row-major from the
    /// start (this one's storage when it already does). Kernels that take a storage
    /// without a layout (a bias, an optimizer buffer) need this form: a contiguous view
    /// may still start at an offset or sit inside a longer buffer.
    pub(crate) fn contiguous_raw(&self) -> Result<Tensor> {
        if self.is_compact() {
            return Ok(self.detach());
        }
        let s = self.storage().contiguous(self.layout())?;
        Ok(Tensor::from_storage(s, self.shape()))
    }

    /// Swaps two dims.
    pub fn transpose<D1: Dim, D2: Dim>(&self, d1: D1, d2: D2) -> Result<Tensor> {
        let a = d1.to_index(self.rank(), "transpose")?;
        let b = d2.to_index(self.rank(), "transpose")?;
        let y = self.view_with(self.layout().transpose(a, b));
        self.view_op("transpose", y, move |g| g.transpose(a, b), |t| t.transpose(a, b))
    }
    /// The transpose of a matrix (the last two dims of a batch).
    pub fn t(&self) -> Result<Tensor> {
        if self.rank() < 2 {
            bail!(Error::shape("t", format!("needs at least 2 dims, got shape {:?}", self.shape())));
        }
        self.transpose(self.rank() - 2, self.rank() - 1)
    }
    /// Reorders dims: output dim i is input dim `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        let r = self.rank();
        let mut seen = vec![false; r];
        if perm.len() != r || perm.iter().any(|&p| p >= r || std::mem::replace(&mut seen[p], true)) {
            bail!(Error::index(
                "permute",
                format!("{perm:?} is not a permutation of the {r} dims of {:?}", self.shape())
            ));
        }
        let mut inv = vec![0; r];
        for (i, &p) in perm.iter().enumerate() {
            inv[p] = i;
        }
        let y = self.view_with(self.layout().permute(perm));
        let p = perm.to_vec();
        self.view_op("permute", y, move |g| g.permute(&inv), |t| t.permute(&p))
    }

    /// Elements `start..start+len` along `dim`.
    pub fn narrow<D: Dim>(&self, dim: D, start: usize, len: usize) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "narrow")?;
        let size = self.shape()[d];
        if start.checked_add(len).is_none_or(|end| end > size) {
            bail!(Error::index(
                "narrow",
                format!(
                    "start {start} and length {len} are out of bounds for dim {d} of size {size} (shape {:?})",
                    self.shape()
                )
            ));
        }
        if start == 0 && len == size {
            return Ok(self.clone());
        }
        let y = self.view_with(self.layout().narrow(d, start, len));
        let full = self.shape().to_vec();
        self.view_op(
            "narrow",
            y,
            move |g| zeros_with_view(g, &full, |l| l.narrow(d, start, len)),
            |t| t.narrow(d, start, len),
        )
    }

    /// Removes a dim of size 1.
    pub fn squeeze<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "squeeze")?;
        if self.shape()[d] != 1 {
            bail!(Error::shape(
                "squeeze",
                format!("dim {d} of shape {:?} has size {}, not 1", self.shape(), self.shape()[d])
            ));
        }
        let y = self.view_with(self.layout().squeeze(d));
        let orig = self.shape().to_vec();
        self.view_op("squeeze", y, move |g| g.reshape(&orig), |t| t.squeeze(d))
    }
    /// Inserts a dim of size 1 at `dim` (0..=rank; -1 appends).
    pub fn unsqueeze<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index_plus_one(self.rank(), "unsqueeze")?;
        let y = self.view_with(self.layout().unsqueeze(d));
        let orig = self.shape().to_vec();
        self.view_op("unsqueeze", y, move |g| g.reshape(&orig), |t| t.unsqueeze(d))
    }

    /// A broadcast view of `shape` (NumPy rules; repeated dims have stride 0).
    pub fn broadcast_as(&self, shape: &[usize]) -> Result<Tensor> {
        if shape == self.shape() {
            return Ok(self.clone());
        }
        checked_numel("broadcast_as", shape)?;
        let Some(l) = self.layout().broadcast_as(shape) else {
            bail!(Error::shape("broadcast_as", format!("cannot broadcast {:?} to {shape:?}", self.shape())))
        };
        let y = self.view_with(l);
        let orig = self.shape().to_vec();
        let new = shape.to_vec();
        self.view_op("broadcast_as", y, move |g| sum_to(g, &orig), |t| t.broadcast_as(&new))
    }
    /// Same as `broadcast_as` (PyTorch's name).
    pub fn expand(&self, shape: &[usize]) -> Result<Tensor> {
        self.broadcast_as(shape)
    }

    /// For a matrix (or batch of matrices): its main diagonal as a view. For a vector:
    /// the square matrix with it on the diagonal.
    pub fn diag(&self) -> Result<Tensor> {
        match self.rank() {
            1 => {
                let n = self.shape()[0];
                let eye = Tensor::eye(n, &self.device())?.to_dtype(self.dtype())?;
                eye.mul(&self.unsqueeze(0)?)
            }
            r if r >= 2 => {
                let y = self.view_with(self.layout().diagonal());
                let full = self.shape().to_vec();
                self.view_op("diag", y, move |g| zeros_with_view(g, &full, |l| l.diagonal()), |t| t.diag())
            }
            _ => bail!(Error::shape("diag", format!("needs a vector or a matrix, got shape {:?}", self.shape()))),
        }
    }
}
