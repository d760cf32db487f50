//! `Lazy<L>`: a layer whose size along the input is inferred, as Keras infers it.
//! `Dense::units(64)`, `Conv2D::filters(32, 3)`, `BatchNorm2D::lazy()` ... make one; the
//! wrapped layer is created at the first forward (or `Model::build`, or a load) by the
//! eager constructor (`Dense::new(in, 64)`) with the options chained on the lazy form
//! replayed in order, so parameters, names, initialisers and dtypes are those of the
//! eager layer, and with the same random seed, so are their values.

use lolcore::nn::{short_type_name, Forward, LazyModule, Module, Visit, VisitLazy, VisitLazyMut, VisitMut};
use lolcore::{DType, Device, Error, Result, Tensor};
use std::sync::{Arc, OnceLock};

/// A checkpoint's tensor shapes by full name.
pub(crate) type Shapes<'a> = dyn Fn(&str) -> Option<Vec<usize>> + 'a;
/// Makes the layer from the input's dims.
type Make<L> = Arc<dyn Fn(&[usize]) -> Result<L> + Send + Sync>;
/// The input dims that would make a layer with the tensor shapes a checkpoint holds
/// (`prefix`, `shapes(full_name)`).
type Infer = Arc<dyn Fn(&str, &Shapes<'_>) -> Result<Vec<usize>> + Send + Sync>;

/// A layer `L` built from the shape of its first input.
///
/// Before the build it has no tensors: `named_parameters()` is empty, and `train()`,
/// `eval()`, `move_to` and `cast_to` are remembered and applied when it is built. The
/// build happens at the first `forward` (on the input's device unless `move_to` said
/// otherwise), at `Model::build(&input_shape)` / the first `fit`, `evaluate`, `predict`
/// or `train_on_batch`, or when weights are loaded (from the file's shapes). After it,
/// `Lazy<L>` is `L`: the same tensor names (`0.weight`, no extra level), the same
/// forward and errors (an input with another feature size fails as `L` would).
///
/// Builders of `L` chain on `Lazy<L>` (`Dense::units(10).activation(Activation::Relu)`,
/// `Conv2D::filters(32, 3).padding(1).stride(2)`). A forward is `&self`; the layer is
/// built once, safely across threads.
pub struct Lazy<L> {
    built: OnceLock<L>,
    make: Make<L>,
    infer: Infer,
    training: Option<bool>,
    device: Option<Device>,
    dtype: Option<DType>,
}

impl<L: Clone> Clone for Lazy<L> {
    fn clone(&self) -> Self {
        Lazy {
            built: self.built.clone(),
            make: self.make.clone(),
            infer: self.infer.clone(),
            training: self.training,
            device: self.device,
            dtype: self.dtype,
        }
    }
}

impl<L: Module + 'static> Lazy<L> {
    /// A lazy layer made by `make(input_dims)`; `infer(prefix, shapes)` gives the input
    /// dims from a checkpoint's tensor shapes.
    pub(crate) fn new(
        make: impl Fn(&[usize]) -> Result<L> + Send + Sync + 'static,
        infer: impl Fn(&str, &Shapes<'_>) -> Result<Vec<usize>> + Send + Sync + 'static,
    ) -> Self {
        Lazy {
            built: OnceLock::new(),
            make: Arc::new(make),
            infer: Arc::new(infer),
            training: None,
            device: None,
            dtype: None,
        }
    }

    /// Chains a builder of `L`: applied after `make` at the build (and now, if built).
    pub(crate) fn map(mut self, f: impl Fn(L) -> L + Send + Sync + 'static) -> Self {
        let f = Arc::new(f);
        if let Some(l) = self.built.take() {
            let _ = self.built.set(f(l));
        }
        let make = self.make.clone();
        self.make = Arc::new(move |dims| make(dims).map(|l| f(l)));
        self
    }

    /// Replaces how the input dims are read from a checkpoint.
    pub(crate) fn with_infer(
        mut self,
        infer: impl Fn(&str, &Shapes<'_>) -> Result<Vec<usize>> + Send + Sync + 'static,
    ) -> Self {
        self.infer = Arc::new(infer);
        self
    }

    /// The built layer, or `None` before the build.
    pub fn get(&self) -> Option<&L> {
        self.built.get()
    }
    /// The built layer, mutably.
    pub fn get_mut(&mut self) -> Option<&mut L> {
        self.built.get_mut()
    }
    /// The built layer, or `None` before the build.
    pub fn into_inner(self) -> Option<L> {
        self.built.into_inner()
    }

    /// Builds the layer for an input of shape `input_dims` (batch included, as a forward
    /// would see it: `[1, 784]` for a Dense, `[1, 3, 32, 32]` for a Conv2D), on the CPU
    /// or where `move_to` said; a no-op once built.
    pub fn build(&self, input_dims: &[usize]) -> Result<&L> {
        self.build_on(input_dims, &Device::Cpu)
    }

    /// The layer built for the input `x`, as a forward builds it.
    pub(crate) fn build_for(&self, x: &Tensor) -> Result<&L> {
        self.build_on(x.dims(), &x.device())
    }

    fn build_on(&self, dims: &[usize], device: &Device) -> Result<&L> {
        if let Some(l) = self.built.get() {
            return Ok(l);
        }
        let mut l = (self.make)(dims)?;
        if let Some(t) = self.training {
            l.set_training(t);
        }
        l.move_to(&self.device.unwrap_or(*device))?;
        if let Some(d) = self.dtype {
            l.cast_to(d)?;
        }
        // Another thread may have built it meanwhile; the first one stays.
        let _ = self.built.set(l);
        self.built.get().ok_or_else(|| Error::msg("internal: a lazy layer is unset after its build"))
    }
}

impl<L: Module + 'static> LazyModule for Lazy<L> {
    fn is_built(&self) -> bool {
        self.built.get().is_some()
    }
    fn layer_type(&self) -> String {
        short_type_name::<L>()
    }
    fn place(&mut self, device: Option<&Device>, dtype: Option<DType>) {
        if let Some(d) = device {
            self.device = Some(*d);
        }
        if let Some(d) = dtype {
            self.dtype = Some(d);
        }
    }
    fn build_from_shapes(&mut self, prefix: &str, shapes: &dyn Fn(&str) -> Option<Vec<usize>>) -> Result<()> {
        if self.built.get().is_some() {
            return Ok(());
        }
        let dims = (self.infer)(prefix, shapes)?;
        self.build_on(&dims, &Device::Cpu).map(|_| ())
    }
}

impl<L: Module + 'static> Module for Lazy<L> {
    fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
        if let Some(l) = self.built.get() {
            l.visit(prefix, f)
        }
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
        match self.built.get_mut() {
            Some(l) => l.visit_mut(prefix, f),
            None => Ok(()),
        }
    }
    fn set_training(&mut self, training: bool) {
        self.training = Some(training);
        if let Some(l) = self.built.get_mut() {
            l.set_training(training)
        }
    }
    fn is_training(&self) -> Option<bool> {
        match self.built.get() {
            Some(l) => l.is_training(),
            None => self.training,
        }
    }
    fn visit_lazy(&self, prefix: &str, f: &mut VisitLazy<'_>) {
        f(prefix, self)
    }
    fn visit_lazy_mut(&mut self, prefix: &str, f: &mut VisitLazyMut<'_>) -> Result<()> {
        f(prefix, self)
    }
}

/// Builds the layer from `x`'s shape if needed (on `x`'s device), then runs it.
impl<L: Module + Forward + 'static> Forward for Lazy<L> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.build_for(x)?.forward(x)
    }
}

/// The size a lazy layer takes from its input: dim `axis` (negative counts from the
/// end) of an input whose rank is one of `ranks` (empty: any rank of at least 1).
pub(crate) fn input_size(
    layer: &'static str,
    dims: &[usize],
    ranks: &[usize],
    axis: isize,
    layout: &str,
) -> Result<usize> {
    let rank_ok = if ranks.is_empty() { !dims.is_empty() } else { ranks.contains(&dims.len()) };
    let at = if axis < 0 { dims.len().checked_sub(axis.unsigned_abs()) } else { Some(axis as usize) };
    match at.and_then(|a| dims.get(a)) {
        Some(&n) if rank_ok => Ok(n),
        _ => Err(Error::shape(
            layer,
            format!("cannot infer its input size from an input of shape {dims:?}: expected {layout}"),
        )),
    }
}

/// The shape of the first of `names` (under `prefix`) a checkpoint holds, checked to be
/// of rank `rank`, or an error that names the layer.
pub(crate) fn file_shape(
    layer: &'static str,
    prefix: &str,
    shapes: &Shapes<'_>,
    names: &[&str],
    rank: usize,
) -> Result<Vec<usize>> {
    let full = |n: &str| lolcore::nn::join_name(prefix, n);
    let at = if prefix.is_empty() { String::new() } else { format!(" `{prefix}`") };
    let advice = "call Model::build(&input_shape) (or run one forward) before loading";
    for n in names {
        if let Some(s) = shapes(&full(n)) {
            if s.len() != rank {
                return Err(Error::shape(
                    layer,
                    format!(
                        "lazy layer{at}: the checkpoint's `{}` has shape {s:?}, not rank {rank}; {advice}",
                        full(n)
                    ),
                ));
            }
            return Ok(s);
        }
    }
    let wanted: Vec<String> = names.iter().map(|n| format!("`{}`", full(n))).collect();
    Err(Error::shape(
        layer,
        format!("lazy layer{at}: the checkpoint has no {} to infer its input size from; {advice}", wanted.join(" or ")),
    ))
}
