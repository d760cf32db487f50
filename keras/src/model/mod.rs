//! `Model`: a module with an optimizer, a loss and metrics, trained by `fit` where the
//! module lives (CPU or CUDA), Keras-style.

mod evaluate;
mod fit_data;
mod options;
mod summary;
mod train;
mod training_state;

pub use options::FitOptions;
pub use training_state::TrainingProgress;

use crate::callbacks::TrainingModel;
use crate::losses::LossConfig;
use crate::metrics::Metric;
use lolcore::nn::{trace, Forward, Module};
use lolcore::optim::Optimizer;
use lolcore::safetensors::{load_module, save_module, LoadOptions, LoadReport};
use lolcore::{no_grad, Device, Error, Result, Tensor, TensorId};
use std::collections::HashSet;
use std::path::Path;

pub(crate) struct Compiled {
    pub optimizer: Box<dyn Optimizer>,
    pub loss: LossConfig,
    pub metrics: Vec<Metric>,
    /// `compile` gave the optimizer all of the module's parameters (it had no groups):
    /// parameters the module gains later join them.
    pub auto_bound: bool,
    /// Parameters already reported as in no optimizer group.
    pub unbound_warned: HashSet<TensorId>,
}

/// A trainable model: `Model::new(module)`, `compile`, then `fit`/`evaluate`/`predict`.
pub struct Model<M: Module + Forward> {
    module: M,
    compiled: Option<Compiled>,
    device: Device,
    /// One sample's shape, learned from the data (for `summary`).
    input_shape: Option<Vec<usize>>,
    stop: bool,
}

/// Loss and metric values from `evaluate` / `train_on_batch` / `test_on_batch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    pub loss: f64,
    pub metrics: Vec<(String, f64)>,
}

impl Scores {
    /// A metric by name (`"accuracy"`), or the loss for `"loss"`.
    pub fn get(&self, name: &str) -> Option<f64> {
        if name == "loss" {
            return Some(self.loss);
        }
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

impl<M: Module + Forward> Model<M> {
    pub fn new(module: M) -> Self {
        let device = module.parameters().first().map(|p| p.device()).unwrap_or_default();
        Model { module, compiled: None, device, input_shape: None, stop: false }
    }
    /// Sets the optimizer and loss (no metrics). Parameters are bound to the optimizer
    /// here unless it already has parameter groups of its own.
    pub fn compile(&mut self, optimizer: impl Optimizer + 'static, loss: impl Into<LossConfig>) -> &mut Self {
        self.compile_with_metrics(optimizer, loss, &[])
    }
    /// `compile` with metrics reported by `fit` and `evaluate` (Keras's `metrics=[...]`).
    pub fn compile_with_metrics(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: impl Into<LossConfig>,
        metrics: &[Metric],
    ) -> &mut Self {
        let mut optimizer: Box<dyn Optimizer> = Box::new(optimizer);
        let auto_bound = optimizer.param_groups().is_empty();
        if auto_bound {
            // `parameters()` lists each parameter once, so this cannot fail.
            let _ = optimizer.add_param_group(self.module.parameters(), None);
        }
        self.compiled = Some(Compiled {
            optimizer,
            loss: loss.into(),
            metrics: metrics.to_vec(),
            auto_bound,
            unbound_warned: HashSet::new(),
        });
        self
    }
    pub fn is_compiled(&self) -> bool {
        self.compiled.is_some()
    }
    pub fn module(&self) -> &M {
        &self.module
    }
    pub fn module_mut(&mut self) -> &mut M {
        &mut self.module
    }
    pub fn into_module(self) -> M {
        self.module
    }
    /// Where the model's parameters are (where fit/evaluate/predict compute).
    pub fn device(&self) -> Device {
        let mut dev = None;
        self.module.visit("", &mut |_, t, _| {
            dev.get_or_insert(t.device());
        });
        dev.unwrap_or(self.device)
    }
    /// The compiled optimizer (to read or change learning rates).
    pub fn optimizer_mut(&mut self) -> Option<&mut (dyn Optimizer + 'static)> {
        self.compiled.as_mut().map(|c| c.optimizer.as_mut())
    }
    /// Builds the model for samples of `input_shape` (e.g. `&[784]`, `&[1, 28, 28]`,
    /// no batch dim, as Keras's `model.build`): lazy layers (`Dense::units(64)` ...)
    /// get their parameters from one forward of zeros `[1, ..input_shape]`, run as in
    /// eval mode (dropout draws nothing, batch norm keeps its statistics) and recording
    /// no graph; an optimizer `compile` bound gets the new parameters. `summary` then
    /// shows output shapes. A model with no unbuilt layer only records the shape.
    pub fn build(&mut self, input_shape: &[usize]) -> Result<&mut Self> {
        self.input_shape = Some(input_shape.to_vec());
        if !self.module.is_built() {
            let mut dims = vec![1];
            dims.extend(input_shape);
            let x = Tensor::zeros(&dims, &self.device())?;
            self.build_from(&x)?;
        }
        Ok(self)
    }
    /// Whether every layer has its parameters (false while a lazy layer waits for its
    /// first input: call `build` or `fit`).
    pub fn is_built(&self) -> bool {
        self.module.is_built()
    }
    /// Builds the lazy layers from the first sample of `x` (of the data's own dtype,
    /// so token ids reach an `Embedding` as ids) unless the model is built. What
    /// `fit`, `evaluate`, `predict` and `train_on_batch` call first.
    pub(crate) fn ensure_built(&mut self, x: &Tensor) -> Result<()> {
        if self.module.is_built() || x.rank() == 0 || x.dims()[0] == 0 {
            // An empty `x` is reported by the caller's own checks.
            return Ok(());
        }
        let sample = x.narrow(0, 0, 1)?.to_device(&self.device())?;
        self.build_from(&sample)
    }
    /// One traced forward of `x` (layers act as in eval mode), then the optimizer learns
    /// of the new parameters.
    fn build_from(&mut self, x: &Tensor) -> Result<()> {
        let module = &self.module;
        let (out, _) = trace::trace_layers(|| no_grad(|| module.forward(x)));
        out.map_err(|e| e.context(format!("building the model for input {:?}", x.dims())))?;
        self.sync_parameters()
    }
    /// Moves the weights to `device`; fit/evaluate/predict then run there (data may stay
    /// on the CPU). The optimizer follows its parameters: groups, learning rates and
    /// state (moments, step counts) are kept.
    pub fn to_device(&mut self, device: &Device) -> Result<()> {
        self.module.move_to(device)?;
        self.device = *device;
        self.sync_parameters()
    }

    /// Brings the optimizer up to date with the module after anything replaced its
    /// tensors (`module_mut().move_to(..)`, `cast_to(..)`, a new layer): it rebinds the
    /// parameters it holds (by identity, keeping groups and state), gives parameters the
    /// module gained to an optimizer that `compile` bound, and reports once any other
    /// parameter that no group holds (it would never train). `fit` and
    /// `train_on_batch` call it themselves.
    pub fn sync_parameters(&mut self) -> Result<()> {
        let named = self.module.named_parameters();
        if let Some((_, p)) = named.first() {
            self.device = p.device();
        }
        let Some(c) = &mut self.compiled else { return Ok(()) };
        let params: Vec<Tensor> = named.iter().map(|(_, t)| t.clone()).collect();
        c.optimizer.name_parameters(&named);
        c.optimizer.rebind(&params)?;
        let held: HashSet<TensorId> =
            c.optimizer.param_groups().iter().flat_map(|g| g.params.iter().map(|p| p.id())).collect();
        let unbound: Vec<&(String, Tensor)> = named.iter().filter(|(_, t)| !held.contains(&t.id())).collect();
        if unbound.is_empty() {
            return Ok(());
        }
        if c.auto_bound {
            let lr = c.optimizer.learning_rate();
            c.optimizer.add_param_group(unbound.iter().map(|(_, t)| t.clone()).collect(), Some(lr))?;
            return Ok(());
        }
        let fresh: Vec<&str> =
            unbound.iter().filter(|(_, t)| c.unbound_warned.insert(t.id())).map(|(n, _)| n.as_str()).collect();
        if !fresh.is_empty() {
            eprintln!(
                "warning: {} parameter(s) of the model are in no group of the {} optimizer and will not train: {}",
                fresh.len(),
                c.optimizer.name(),
                fresh.join(", ")
            );
        }
        Ok(())
    }
    /// Saves every parameter and buffer (safetensors, written atomically).
    pub fn save_weights<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        save_module(&self.module, path)
    }
    /// Loads weights saved by `save_weights` or by PyTorch for the same structure.
    /// Strict: every name, shape and dtype must match; all problems come in one error.
    pub fn load_weights<P: AsRef<Path>>(&mut self, path: P) -> Result<()> {
        load_module(&mut self.module, path, &LoadOptions::strict()).map(|_| ())
    }
    /// Loads with options (non-strict, key remapping); returns what matched and what did not.
    pub fn load_weights_with<P: AsRef<Path>>(&mut self, path: P, opts: &LoadOptions) -> Result<LoadReport> {
        load_module(&mut self.module, path, opts)
    }

    fn compiled(&self, op: &'static str) -> Result<&Compiled> {
        self.compiled
            .as_ref()
            .ok_or_else(|| Error::arg(op, "the model is not compiled: call compile(optimizer, loss) first"))
    }
}

impl<M: Module + Forward> TrainingModel for Model<M> {
    fn save_weights_to(&self, path: &Path) -> Result<()> {
        self.save_weights(path)
    }
    fn snapshot_weights(&self) -> Result<Vec<(String, Tensor)>> {
        lolcore::no_grad(|| self.module.state_dict().into_iter().map(|(n, t)| Ok((n, t.deep_copy()?))).collect())
    }
    fn restore_weights(&mut self, snapshot: &[(String, Tensor)]) -> Result<()> {
        let state = self.module.state_dict();
        for ((n, t), (sn, s)) in state.iter().zip(snapshot) {
            if n != sn {
                return Err(Error::msg(format!("restore_weights: snapshot has {sn}, model has {n}")));
            }
            t.copy_from(s)?;
        }
        Ok(())
    }
    fn optimizer(&mut self) -> Option<&mut dyn Optimizer> {
        match &mut self.compiled {
            Some(c) => Some(c.optimizer.as_mut()),
            None => None,
        }
    }
    fn stop_training(&mut self) {
        self.stop = true;
    }
    fn stop_requested(&self) -> bool {
        self.stop
    }
    fn named_weights(&self) -> Vec<(String, Tensor)> {
        self.module.state_dict()
    }
}
