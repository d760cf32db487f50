//! `Tensor`: a cheap handle (an `Arc`) to shared storage seen through a strided layout,
//! with its dtype, device, and — when made by a differentiable op under grad mode — the
//! graph node that knows how to send gradients back to its inputs.

mod create;
mod display;
mod logits;
mod readback;

pub use logits::Probabilities;

use crate::autograd::GradState;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::storage::Storage;
use crate::{DType, Device};
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One storage shared by a tensor and all its views, with PyTorch's version counter:
/// every in-place write bumps it, so a backward pass can tell that a tensor it saved
/// was modified after the forward pass used it.
pub(crate) struct StorageCell {
    data: RwLock<Storage>,
    version: AtomicU64,
}

impl StorageCell {
    pub(crate) fn new(s: Storage) -> Arc<StorageCell> {
        Arc::new(StorageCell { data: RwLock::new(s), version: AtomicU64::new(0) })
    }
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}

/// A unique id per tensor handle; gradients are keyed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

pub(crate) struct TensorInner {
    pub(crate) id: TensorId,
    pub(crate) storage: Arc<StorageCell>,
    pub(crate) layout: Layout,
    pub(crate) dtype: DType,
    pub(crate) device: Device,
    pub(crate) grad: GradState,
    /// Forward-mode tangent (a dual number's ε part), when inside `jvp`.
    pub(crate) tangent: Option<Tensor>,
    /// Set on the output of a Softmax/Sigmoid layer: the logits it came from.
    pub(crate) logits: Option<(Probabilities, Tensor)>,
}

/// An n-dimensional array on a device, with autograd.
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorInner>);

impl Tensor {
    /// A fresh tensor owning `storage`, contiguous with `shape`; no graph.
    pub(crate) fn from_storage(storage: Storage, shape: &[usize]) -> Tensor {
        let (dtype, device) = (storage.dtype(), storage.device());
        Tensor(Arc::new(TensorInner {
            id: TensorId::new(),
            storage: StorageCell::new(storage),
            layout: Layout::contiguous(shape),
            dtype,
            device,
            grad: GradState::None,
            tangent: None,
            logits: None,
        }))
    }

    /// A new handle over this tensor's storage with another layout; no graph.
    pub(crate) fn view_with(&self, layout: Layout) -> Tensor {
        Tensor(Arc::new(TensorInner {
            id: TensorId::new(),
            storage: self.0.storage.clone(),
            layout,
            dtype: self.0.dtype,
            device: self.0.device,
            grad: GradState::None,
            tangent: None,
            logits: None,
        }))
    }

    /// Rebuilds this primal result with graph and tangent attached.
    pub(crate) fn with_autograd(&self, grad: GradState, tangent: Option<Tensor>) -> Tensor {
        self.with_autograd_id(TensorId::new(), grad, tangent)
    }

    pub(crate) fn with_autograd_id(&self, id: TensorId, grad: GradState, tangent: Option<Tensor>) -> Tensor {
        Tensor(Arc::new(TensorInner {
            id,
            storage: self.0.storage.clone(),
            layout: self.0.layout.clone(),
            dtype: self.0.dtype,
            device: self.0.device,
            grad,
            tangent,
            logits: None,
        }))
    }

    pub fn id(&self) -> TensorId {
        self.0.id
    }
    pub fn shape(&self) -> &[usize] {
        self.0.layout.shape()
    }
    /// Same as [`Tensor::shape`].
    pub fn dims(&self) -> &[usize] {
        self.shape()
    }
    /// Size of one dim (negative counts from the end).
    pub fn dim<D: crate::layout::Dim>(&self, d: D) -> Result<usize> {
        Ok(self.shape()[d.to_index(self.rank(), "dim")?])
    }
    pub fn rank(&self) -> usize {
        self.0.layout.rank()
    }
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }
    pub fn elem_count(&self) -> usize {
        self.numel()
    }
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }
    pub fn device(&self) -> Device {
        self.0.device
    }
    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }
    pub fn stride(&self) -> &[usize] {
        self.0.layout.strides()
    }
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }
    pub(crate) fn storage(&self) -> RwLockReadGuard<'_, Storage> {
        // Recursive: `x.mul(&x)` reads one storage twice on one thread.
        self.0.storage.data.read_recursive()
    }
    /// The storage for an in-place write; bumps its version (see [`Tensor::version`]).
    pub(crate) fn storage_mut(&self) -> RwLockWriteGuard<'_, Storage> {
        let guard = self.0.storage.data.write();
        self.0.storage.version.fetch_add(1, Ordering::AcqRel);
        guard
    }
    /// Reads `src` and writes this tensor's storage at once, taking the two locks in a
    /// fixed (address) order so that two threads copying in opposite directions cannot
    /// deadlock. The storages must differ.
    pub(crate) fn write_reading<R>(&self, src: &Tensor, f: impl FnOnce(&mut Storage, &Storage) -> R) -> R {
        let (d, s) = (&self.0.storage, &src.0.storage);
        debug_assert!(!Arc::ptr_eq(d, s));
        if Arc::as_ptr(d) < Arc::as_ptr(s) {
            let mut dg = self.storage_mut();
            let sg = src.storage();
            f(&mut dg, &sg)
        } else {
            let sg = src.storage();
            let mut dg = self.storage_mut();
            f(&mut dg, &sg)
        }
    }
    /// Records an in-place write made without `storage_mut` (a CUDA launch through a raw
    /// pointer).
    pub(crate) fn bump_version(&self) {
        self.0.storage.version.fetch_add(1, Ordering::AcqRel);
    }
    /// How many in-place writes this tensor's storage has seen (shared by all views of
    /// it, as PyTorch's `_version`).
    pub fn version(&self) -> u64 {
        self.0.storage.version()
    }
    /// Whether two tensors share storage (one may be a view of the other).
    pub fn same_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// Marks this tensor as a leaf that collects gradients (a parameter), or stops that.
    /// Returns a new handle over the same storage with the same identity (so an
    /// optimizer or a `Gradients` lookup that holds the tensor still finds it), except
    /// for the result of an op, which becomes a new leaf cut from its graph.
    pub fn requires_grad(&self, on: bool) -> Tensor {
        let grad = if on { GradState::Leaf } else { GradState::None };
        let id = if matches!(self.0.grad, GradState::Node(_)) { TensorId::new() } else { self.id() };
        self.with_autograd_id(id, grad, self.0.tangent.clone())
    }
    /// `replacement` with this tensor's identity and role (parameter or not): how a
    /// module moves or casts a parameter without losing track of it.
    pub(crate) fn same_param_as(&self, replacement: Tensor) -> Tensor {
        let grad = if self.is_leaf_param() { GradState::Leaf } else { GradState::None };
        replacement.with_autograd_id(self.id(), grad, None)
    }
    /// Whether gradients flow to or through this tensor.
    pub fn tracks_grad(&self) -> bool {
        !matches!(self.0.grad, GradState::None)
    }
    /// A leaf that collects gradients (made with `requires_grad(true)`).
    pub fn is_leaf_param(&self) -> bool {
        matches!(self.0.grad, GradState::Leaf)
    }
    pub(crate) fn grad_state(&self) -> &GradState {
        &self.0.grad
    }
    /// The same values with no graph and no tangent: gradients stop here.
    pub fn detach(&self) -> Tensor {
        self.with_autograd(GradState::None, None)
    }

    /// Checks that two tensors share a device (the op name goes in the error).
    pub(crate) fn same_device(&self, op: &'static str, other: &Tensor) -> Result<()> {
        if self.device() != other.device() {
            return Err(Error::DeviceMismatch { op, lhs: self.device(), rhs: other.device() });
        }
        Ok(())
    }
    /// Checks that two tensors share a dtype.
    pub(crate) fn same_dtype(&self, op: &'static str, other: &Tensor) -> Result<()> {
        if self.dtype() != other.dtype() {
            return Err(Error::dtype(
                op,
                format!("dtypes {} and {} differ; convert one with to_dtype", self.dtype(), other.dtype()),
            ));
        }
        Ok(())
    }
    /// Errors unless the tensor has `rank` dims; `layout` names them (`"[n, c, l]"`).
    pub(crate) fn require_rank(&self, op: &'static str, rank: usize, layout: &str) -> Result<()> {
        if self.rank() != rank {
            return Err(Error::shape(op, format!("input {:?} must be {layout}", self.shape())));
        }
        Ok(())
    }
    /// Errors unless the dtype is a float type.
    pub(crate) fn require_float(&self, op: &'static str) -> Result<()> {
        if !self.dtype().is_float() {
            return Err(Error::dtype(op, format!("needs a float tensor, got {}", self.dtype())));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor[{:?}, {}, {}", self.shape(), self.dtype(), self.device())?;
        if self.tracks_grad() {
            f.write_str(", grad")?;
        }
        f.write_str("]")
    }
}
