//! The `Module` and `Forward` traits. A module reports its tensors by dotted name
//! (`linear1.weight`, `blocks.3.conv.bias`), exactly as PyTorch's `state_dict` would name
//! the same structure; everything else (device moves, train/eval, counting, saving) is
//! built on that one visit.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::{DType, Device};

/// Whether a named tensor is trained (a parameter) or only carried (a buffer, like
/// BatchNorm's running statistics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    Parameter,
    Buffer,
}

/// `prefix.name`, or `name` at the root.
pub fn join_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A layer whose tensors are created later, from the shape of its first input
/// (`keras::layers::Lazy`, made by `Dense::units(64)` and the like). Containers reach
/// their lazy children through `Module::visit_lazy` / `visit_lazy_mut`.
pub trait LazyModule {
    /// Whether the tensors exist yet.
    fn is_built(&self) -> bool;
    /// The wrapped layer's type (`Dense`), for messages and summaries.
    fn layer_type(&self) -> String;
    /// Where (and in which float dtype) the tensors go once built: what `move_to` and
    /// `cast_to` asked for before the layer had tensors.
    fn place(&mut self, device: Option<&Device>, dtype: Option<DType>);
    /// Builds the layer from the shapes of a checkpoint's tensors (`shapes(full_name)`,
    /// names as this module's state dict has them, under `prefix`), or says why it
    /// cannot. A built layer is left as it is.
    fn build_from_shapes(&mut self, prefix: &str, shapes: &dyn Fn(&str) -> Option<Vec<usize>>) -> Result<()>;
}

/// A visitor over a module's lazy layers.
pub type VisitLazy<'a> = dyn FnMut(&str, &dyn LazyModule) + 'a;
/// A visitor that may build or place a module's lazy layers.
pub type VisitLazyMut<'a> = dyn FnMut(&str, &mut dyn LazyModule) -> Result<()> + 'a;

/// A visitor over a module's named tensors.
pub type Visit<'a> = dyn FnMut(&str, &Tensor, TensorKind) + 'a;
/// A visitor that may replace a module's named tensors.
pub type VisitMut<'a> = dyn FnMut(&str, &mut Tensor, TensorKind) -> Result<()> + 'a;

/// A piece of a model that owns tensors (or none): layers, blocks, whole networks.
/// `#[derive(Module)]` writes it for structs; `sequential!` for layer chains.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Module",
    label = "this field or layer is not a Module",
    note = "fields of a #[derive(Module)] struct must be modules, tensors, or marked #[module(skip)] for plain data"
)]
pub trait Module {
    /// Calls `f` with the full dotted name of every parameter and buffer, in order.
    fn visit(&self, prefix: &str, f: &mut Visit<'_>);
    /// Calls `f` with each tensor by mutable reference, so it may be replaced.
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()>;
    /// Switches training behaviour (dropout, batch statistics) here and in every child.
    fn set_training(&mut self, _training: bool) {}
    /// Whether this module is in training mode (for modules that track it).
    fn is_training(&self) -> Option<bool> {
        None
    }
    /// Calls `f` with every lazy layer (built or not) by dotted name. Containers forward
    /// it to their children (`#[derive(Module)]` and `sequential!` do); a module with no
    /// lazy parts keeps the default, which visits nothing.
    fn visit_lazy(&self, _prefix: &str, _f: &mut VisitLazy<'_>) {}
    /// `visit_lazy` with mutable access, to build or place the lazy layers.
    fn visit_lazy_mut(&mut self, _prefix: &str, _f: &mut VisitLazyMut<'_>) -> Result<()> {
        Ok(())
    }
    /// Whether every lazy layer inside has its tensors (true for a module with none).
    fn is_built(&self) -> bool {
        let mut built = true;
        self.visit_lazy("", &mut |_, l| built &= l.is_built());
        built
    }
    /// Builds every unbuilt lazy layer from the shapes a file gives its tensors (by full
    /// dotted name); a layer whose shapes `shapes` does not give is an error naming it.
    fn build_lazy_from_shapes(&mut self, shapes: &dyn Fn(&str) -> Option<Vec<usize>>) -> Result<()> {
        self.visit_lazy_mut("", &mut |prefix, l| {
            if l.is_built() {
                Ok(())
            } else {
                l.build_from_shapes(prefix, shapes)
            }
        })
    }

    /// Every trainable parameter with its dotted name. A parameter shared by several
    /// layers (tied weights) is listed once, under its first name, as in PyTorch.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        named_of(self, Some(TensorKind::Parameter))
    }
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters().into_iter().map(|(_, t)| t).collect()
    }
    /// Every buffer (running statistics ...) with its dotted name.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        named_of(self, Some(TensorKind::Buffer))
    }
    /// Parameters and buffers, in declaration order (what `save` writes).
    fn state_dict(&self) -> Vec<(String, Tensor)> {
        named_of(self, None)
    }
    /// Number of trainable scalars (a parameter shared by two layers counts once).
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|t| t.numel()).sum()
    }
    /// Moves every parameter and buffer to `device` (parameters stay trainable).
    /// (Named apart from `Tensor::to_device`, which returns a moved copy.) Each tensor
    /// keeps its identity, so an optimizer built before the move finds its parameters
    /// again with `Optimizer::rebind` (`Model` does that by itself).
    fn move_to(&mut self, device: &Device) -> Result<()> {
        replace_tensors(self, |t| t.device() != *device, |t| Tensor::to_device(t, device))?;
        self.visit_lazy_mut("", &mut |_, l| {
            l.place(Some(device), None);
            Ok(())
        })
    }
    /// Converts every float parameter and buffer to `dtype`, keeping identities as
    /// `move_to` does.
    fn cast_to(&mut self, dtype: DType) -> Result<()> {
        replace_tensors(self, |t| t.dtype().is_float() && t.dtype() != dtype, |t| Tensor::to_dtype(t, dtype))?;
        self.visit_lazy_mut("", &mut |_, l| {
            l.place(None, Some(dtype));
            Ok(())
        })
    }
    /// Training mode (PyTorch's `model.train()`).
    fn train(&mut self) {
        self.set_training(true)
    }
    /// Inference mode (PyTorch's `model.eval()`).
    fn eval(&mut self) {
        self.set_training(false)
    }
}

/// Replaces every tensor of `m` that `wanted` picks by `convert` of it, keeping each
/// handle's identity and role. Tensors sharing one storage (tied weights, a frozen copy
/// of a parameter) are converted once and keep sharing it.
fn replace_tensors<M: Module + ?Sized>(
    m: &mut M,
    wanted: impl Fn(&Tensor) -> bool,
    convert: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<()> {
    let mut done: Vec<(Tensor, Tensor)> = Vec::new();
    m.visit_mut("", &mut |_, t, _| {
        if !wanted(t) {
            return Ok(());
        }
        // Same storage and layout: the same data, converted once.
        let hit = done.iter().find(|(old, _)| old.same_storage(t) && old.layout() == t.layout());
        let new = match hit {
            Some((_, new)) => new.clone(),
            None => {
                let new = convert(t)?.detach();
                done.push((t.clone(), new.clone()));
                new
            }
        };
        *t = t.same_param_as(new);
        Ok(())
    })
}

/// The named tensors of `m` of one kind (or all of them, for the state dict). Of one
/// kind, a tensor reached under two names is listed once.
fn named_of<M: Module + ?Sized>(m: &M, kind: Option<TensorKind>) -> Vec<(String, Tensor)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    m.visit("", &mut |n, t, k| {
        if kind.is_none_or(|want| want == k) && (kind.is_none() || seen.insert(t.id())) {
            out.push((n.to_string(), t.clone()))
        }
    });
    out
}

/// Something that maps a batch to a batch.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a layer: it does not implement Forward",
    label = "not a layer",
    note = "a layer implements `fn forward(&self, x: &Tensor) -> Result<Tensor>`; closures `|x: &Tensor| ...` and such functions work too"
)]
pub trait Forward {
    fn forward(&self, x: &Tensor) -> Result<Tensor>;
}

/// A tensor field is a parameter, named by its field path.
impl Module for Tensor {
    fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
        f(prefix, self, TensorKind::Parameter)
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
        f(prefix, self, TensorKind::Parameter)
    }
}

/// Absent submodules (an optional bias, a missing downsample) have no tensors.
impl<M: Module> Module for Option<M> {
    fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
        if let Some(m) = self {
            m.visit(prefix, f)
        }
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
        match self {
            Some(m) => m.visit_mut(prefix, f),
            None => Ok(()),
        }
    }
    fn set_training(&mut self, training: bool) {
        if let Some(m) = self {
            m.set_training(training)
        }
    }
    fn visit_lazy(&self, prefix: &str, f: &mut VisitLazy<'_>) {
        if let Some(m) = self {
            m.visit_lazy(prefix, f)
        }
    }
    fn visit_lazy_mut(&mut self, prefix: &str, f: &mut VisitLazyMut<'_>) -> Result<()> {
        match self {
            Some(m) => m.visit_lazy_mut(prefix, f),
            None => Ok(()),
        }
    }
}

/// Children of a list, named `0`, `1`, ... (PyTorch's `ModuleList`).
fn visit_list<M: Module>(items: &[M], prefix: &str, f: &mut Visit<'_>) {
    for (i, m) in items.iter().enumerate() {
        m.visit(&join_name(prefix, &i.to_string()), f)
    }
}

fn visit_list_mut<M: Module>(items: &mut [M], prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
    for (i, m) in items.iter_mut().enumerate() {
        m.visit_mut(&join_name(prefix, &i.to_string()), f)?
    }
    Ok(())
}

fn visit_list_lazy<M: Module>(items: &[M], prefix: &str, f: &mut VisitLazy<'_>) {
    for (i, m) in items.iter().enumerate() {
        m.visit_lazy(&join_name(prefix, &i.to_string()), f)
    }
}

fn visit_list_lazy_mut<M: Module>(items: &mut [M], prefix: &str, f: &mut VisitLazyMut<'_>) -> Result<()> {
    for (i, m) in items.iter_mut().enumerate() {
        m.visit_lazy_mut(&join_name(prefix, &i.to_string()), f)?
    }
    Ok(())
}

/// A list of modules, children named `0`, `1`, ... (PyTorch's `ModuleList`).
impl<M: Module> Module for Vec<M> {
    fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
        visit_list(self, prefix, f)
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
        visit_list_mut(self, prefix, f)
    }
    fn set_training(&mut self, training: bool) {
        self.iter_mut().for_each(|m| m.set_training(training))
    }
    fn visit_lazy(&self, prefix: &str, f: &mut VisitLazy<'_>) {
        visit_list_lazy(self, prefix, f)
    }
    fn visit_lazy_mut(&mut self, prefix: &str, f: &mut VisitLazyMut<'_>) -> Result<()> {
        visit_list_lazy_mut(self, prefix, f)
    }
}

impl<M: Module, const N: usize> Module for [M; N] {
    fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
        visit_list(self, prefix, f)
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
        visit_list_mut(self, prefix, f)
    }
    fn set_training(&mut self, training: bool) {
        self.iter_mut().for_each(|m| m.set_training(training))
    }
    fn visit_lazy(&self, prefix: &str, f: &mut VisitLazy<'_>) {
        visit_list_lazy(self, prefix, f)
    }
    fn visit_lazy_mut(&mut self, prefix: &str, f: &mut VisitLazyMut<'_>) -> Result<()> {
        visit_list_lazy_mut(self, prefix, f)
    }
}

/// A plain function `fn(&Tensor) -> Result<Tensor>` is a parameter-free layer.
impl<F: Fn(&Tensor) -> Result<Tensor>> Forward for F {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self(x)
    }
}

impl<F: Fn(&Tensor) -> Result<Tensor>> Module for F {
    fn visit(&self, _prefix: &str, _f: &mut Visit<'_>) {}
    fn visit_mut(&mut self, _prefix: &str, _f: &mut VisitMut<'_>) -> Result<()> {
        Ok(())
    }
}

/// A closure used as a parameter-free layer (what `sequential!` wraps closures in, so
/// `|x| x.relu()` needs no type annotation).
pub struct Lambda<F>(pub F);

/// Gives a closure the layer signature.
pub fn lambda<F: Fn(&Tensor) -> Result<Tensor>>(f: F) -> Lambda<F> {
    Lambda(f)
}

impl<F: Fn(&Tensor) -> Result<Tensor>> Forward for Lambda<F> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        (self.0)(x)
    }
}

impl<F> Module for Lambda<F> {
    fn visit(&self, _prefix: &str, _f: &mut Visit<'_>) {}
    fn visit_mut(&mut self, _prefix: &str, _f: &mut VisitMut<'_>) -> Result<()> {
        Ok(())
    }
}

/// Wraps a layer's error with where it happened: `layer 2 (Dense): matmul: ...`.
pub fn layer_error(name: &str, type_name: &str, e: Error) -> Error {
    Error::Context { context: format!("layer {name} ({type_name})"), source: Box::new(e) }
}

/// The readable name of a layer type: `keras::layers::Dense` → `Dense`, closures →
/// `Lambda`; a lazy layer (`Lazy<Dense>`) is named after the layer it builds.
pub fn short_type_name<T: ?Sized>() -> String {
    short_name(std::any::type_name::<T>())
}

fn short_name(full: &str) -> String {
    let base = full.split('<').next().unwrap_or(full);
    match base.rsplit("::").next().unwrap_or(base) {
        // A closure (a type defined inside one is named by its own last segment).
        "{{closure}}" => "Lambda".into(),
        "Lazy" if full.ends_with('>') => match full.split_once('<') {
            Some((_, inner)) => short_name(&inner[..inner.len() - 1]),
            None => "Lazy".into(),
        },
        name => name.to_string(),
    }
}

/// Passes a layer through unchanged; `sequential!` wraps each layer in it so a value
/// that is not a layer is reported at that layer.
pub fn check_layer<L: Forward + Module>(layer: L) -> L {
    layer
}

/// Visits `m`'s tensors as buffers (for `#[module(buffer)]` fields).
pub fn visit_as_buffer<M: Module + ?Sized>(m: &M, prefix: &str, f: &mut Visit<'_>) {
    m.visit(prefix, &mut |n, t, _| f(n, t, TensorKind::Buffer))
}

/// Mutable visit of `m`'s tensors as buffers.
pub fn visit_mut_as_buffer<M: Module + ?Sized>(m: &mut M, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
    m.visit_mut(prefix, &mut |n, t, _| f(n, t, TensorKind::Buffer))
}
