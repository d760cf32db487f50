//! The training and inference loops behind `fit`, `evaluate`, `predict`,
//! `train_on_batch` and `test_on_batch`.

use super::{FitOptions, Model, Scores};
use crate::callbacks::BatchLogs;
use crate::logs::{History, Logs};
use crate::metrics::{LossMeter, MetricState};
use crate::progress::Progress;
use lolcore::nn::{Forward, Module};
use lolcore::{no_grad, rng, DType, Device, Error, Result, Tensor};

/// Above this many bytes a dataset is moved to the GPU batch by batch, not at once.
const WHOLE_UPLOAD_LIMIT: usize = 1 << 30;

fn check_xy(op: &'static str, x: &Tensor, y: Option<&Tensor>, batch_size: usize) -> Result<usize> {
    if x.rank() == 0 {
        return Err(Error::shape(op, "x needs a leading sample dim, got a 0-d tensor"));
    }
    let n = x.dims()[0];
    if let Some(y) = y {
        if y.rank() == 0 || y.dims()[0] != n {
            return Err(Error::shape(
                op,
                format!(
                    "x has {n} samples ({:?}) but y has {} ({:?})",
                    x.dims(),
                    y.dims().first().copied().unwrap_or(0),
                    y.dims()
                ),
            ));
        }
    }
    if n == 0 {
        return Err(Error::shape(op, "no samples: x is empty"));
    }
    if n > u32::MAX as usize {
        return Err(Error::shape(op, format!("x has {n} samples; at most {} are supported", u32::MAX)));
    }
    if batch_size == 0 {
        return Err(Error::arg(op, "batch_size must be at least 1"));
    }
    Ok(n)
}

/// Rows `idx` of `t` (on the host), moved to `device`.
fn rows(t: &Tensor, idx: &[u32], device: &Device) -> Result<Tensor> {
    let ids = Tensor::from_vec(idx.to_vec(), &[idx.len()], &t.device())?;
    t.index_select(&ids, 0)?.to_device(device)
}

/// The data on the model's device, whole when it is small enough.
fn staged(t: &Tensor, device: &Device) -> Result<Tensor> {
    if t.device() == *device || t.numel() * t.dtype().size_in_bytes() > WHOLE_UPLOAD_LIMIT {
        Ok(t.clone())
    } else {
        t.to_device(device)
    }
}

impl<M: Module + Forward> Model<M> {
    /// Trains for `epochs` with mini-batches of `batch_size` (shuffled each epoch), with a
    /// progress bar; returns the per-epoch losses and metrics.
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, epochs: usize, batch_size: usize) -> Result<crate::logs::History> {
        self.fit_with(x, y, FitOptions::new(epochs, batch_size))
    }

    /// `fit` with Keras's options: validation, callbacks, shuffling, verbosity, ...
    pub fn fit_with(&mut self, x: &Tensor, y: &Tensor, mut opts: FitOptions<'_>) -> Result<History> {
        self.ensure_built(x)?;
        let op = "fit";
        self.compiled(op)?;
        self.sync_parameters()?;
        let n_all = check_xy(op, x, Some(y), opts.batch_size)?;
        if !(0.0..1.0).contains(&opts.validation_split) {
            return Err(Error::arg(op, format!("validation_split must be in [0, 1), got {}", opts.validation_split)));
        }
        // Keras holds out the last samples, before any shuffling.
        let n_val = (n_all as f64 * opts.validation_split).floor() as usize;
        let n = n_all - n_val;
        if n == 0 {
            return Err(Error::shape(
                op,
                format!("validation_split {} leaves no training samples of {n_all}", opts.validation_split),
            ));
        }
        let validation = match (&opts.validation_data, n_val) {
            (Some((vx, vy)), _) => {
                check_xy("fit (validation_data)", vx, Some(vy), 1)?;
                Some((vx.clone(), vy.clone()))
            }
            (None, 0) => None,
            (None, _) => Some((x.narrow(0, n, n_val)?, y.narrow(0, n, n_val)?)),
        };
        self.input_shape = Some(x.dims()[1..].to_vec());
        let mut dev = self.device();
        let (mut xd, mut yd) = (staged(x, &dev)?, staged(y, &dev)?);
        let bs = opts.batch_size;
        let steps = n.div_ceil(bs);
        let mut progress = Progress::new(opts.verbose);
        let mut history = History::default();
        let mut callbacks = std::mem::take(&mut opts.callbacks);
        self.stop = false;
        for cb in callbacks.iter_mut() {
            cb.on_train_begin(self)?;
        }
        let mut targets_checked = false;
        let mut global_step = 0usize;
        for epoch in opts.initial_epoch..opts.epochs {
            for cb in callbacks.iter_mut() {
                cb.on_epoch_begin(epoch, self)?;
            }
            // A callback may have replaced tensors (moved, cast, swapped a layer); the
            // data follows the model to its device.
            self.sync_parameters()?;
            if self.device() != dev {
                dev = self.device();
                (xd, yd) = (staged(x, &dev)?, staged(y, &dev)?);
            }
            self.module.set_training(true);
            let mut order: Vec<u32> = (0..n as u32).collect();
            if opts.shuffle {
                rng::with_rng(|r| r.shuffle(&mut order));
            }
            let mut meter = LossMeter::default();
            let mut states = self.metric_states();
            progress.begin_epoch(epoch, opts.epochs, steps);
            for step in 0..steps {
                let idx = &order[step * bs..((step + 1) * bs).min(n)];
                let (xb, yb) = (rows(&xd, idx, &dev)?, rows(&yd, idx, &dev)?);
                for cb in callbacks.iter_mut() {
                    cb.on_train_batch_begin(step, self)?;
                }
                let pred = self.module.forward(&xb)?;
                if !targets_checked {
                    let classes = (pred.rank() == 2).then(|| pred.dims()[1]);
                    self.compiled(op)?.loss.check_targets(y, classes)?;
                    targets_checked = true;
                }
                let want_grads = callbacks.iter().any(|cb| cb.wants_gradients());
                let (loss, grads) = self.train_step(&pred, &yb, want_grads)?;
                global_step += 1;
                meter.add(&loss, idx.len())?;
                for s in states.iter_mut() {
                    s.update(&pred, &yb)?;
                }
                if progress.wants_refresh() || step + 1 == steps {
                    let logs = Self::epoch_logs(&meter, &states, "")?;
                    progress.update(step + 1, Some(&logs));
                } else {
                    progress.update(step + 1, None);
                }
                let bl = BatchLogs { loss: &loss, batch_size: idx.len(), global_step, gradients: grads.as_deref() };
                for cb in callbacks.iter_mut() {
                    cb.on_train_batch_end(step, &bl, self)?;
                }
                if self.stop {
                    break;
                }
            }
            let mut logs = Self::epoch_logs(&meter, &states, "")?;
            if let Some((vx, vy)) = &validation {
                let s = self.evaluate_inner(vx, vy, bs)?;
                logs.set("val_loss", s.loss);
                for (k, v) in s.metrics {
                    logs.set(&format!("val_{k}"), v);
                }
            }
            if let Some(c) = &self.compiled {
                logs.set("lr", c.optimizer.learning_rate());
            }
            progress.end_epoch(&logs);
            history.push(epoch, &logs);
            for cb in callbacks.iter_mut() {
                cb.on_epoch_end(epoch, &logs, self)?;
            }
            if self.stop {
                break;
            }
        }
        for cb in callbacks.iter_mut() {
            cb.on_train_end(self)?;
        }
        self.module.set_training(false);
        Ok(history)
    }

    fn metric_states(&self) -> Vec<MetricState> {
        self.compiled.as_ref().map(|c| c.metrics.iter().map(|&m| MetricState::new(m)).collect()).unwrap_or_default()
    }

    fn epoch_logs(meter: &LossMeter, states: &[MetricState], prefix: &str) -> Result<Logs> {
        let mut logs = Logs::new();
        logs.set(&format!("{prefix}loss"), meter.mean()?);
        for s in states {
            logs.set(&format!("{prefix}{}", s.metric.name()), s.result()?);
        }
        Ok(logs)
    }

    /// Loss, backward and one optimizer step; returns the (detached) loss and, when asked,
    /// the gradients by parameter name.
    fn train_step(
        &mut self,
        pred: &Tensor,
        target: &Tensor,
        want_grads: bool,
    ) -> Result<(Tensor, Option<Vec<(String, Tensor)>>)> {
        let c = self.compiled.as_mut().ok_or_else(|| Error::arg("fit", "the model is not compiled"))?;
        let loss = c.loss.compute(pred, target)?;
        if loss.numel() != 1 {
            return Err(Error::arg("fit", "the loss must reduce to one value (Reduction::None cannot train)"));
        }
        let grads = loss.backward()?;
        c.optimizer.step(&grads)?;
        let named = want_grads.then(|| {
            self.module.named_parameters().into_iter().filter_map(|(n, p)| grads.get(&p).map(|g| (n, g.clone()))).collect()
        });
        Ok((loss.detach(), named))
    }

    /// One optimizer step on one batch (training mode); returns its loss and metrics.
    pub fn train_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<Scores> {
        self.ensure_built(x)?;
        let op = "train_on_batch";
        self.compiled(op)?;
        self.sync_parameters()?;
        check_xy(op, x, Some(y), 1)?;
        let dev = self.device();
        let (xb, yb) = (x.to_device(&dev)?, y.to_device(&dev)?);
        self.module.set_training(true);
        let pred = self.module.forward(&xb)?;
        let classes = (pred.rank() == 2).then(|| pred.dims()[1]);
        self.compiled(op)?.loss.check_targets(&yb, classes)?;
        let (loss, _) = self.train_step(&pred, &yb, false)?;
        let mut states = self.metric_states();
        for s in states.iter_mut() {
            s.update(&pred, &yb)?;
        }
        Ok(Scores {
            loss: loss.to_dtype(DType::F64)?.to_scalar()?,
            metrics: states.iter().map(|s| Ok((s.metric.name(), s.result()?))).collect::<Result<_>>()?,
        })
    }

    /// Loss and metrics on one batch, in inference mode.
    pub fn test_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<Scores> {
        let n = check_xy("test_on_batch", x, Some(y), 1)?;
        self.evaluate_inner(x, y, n)
    }

    /// Loss and compiled metrics over `(x, y)` in inference mode (no dropout, running
    /// batch-norm statistics, no graph).
    pub fn evaluate(&mut self, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<Scores> {
        self.ensure_built(x)?;
        check_xy("evaluate", x, Some(y), batch_size)?;
        self.input_shape = Some(x.dims()[1..].to_vec());
        self.evaluate_inner(x, y, batch_size)
    }

    fn evaluate_inner(&mut self, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<Scores> {
        let n = check_xy("evaluate", x, Some(y), batch_size)?;
        let loss_cfg = self.compiled("evaluate")?.loss;
        let was_training = self.module.is_training();
        self.module.set_training(false);
        let dev = self.device();
        let mut meter = LossMeter::default();
        let mut states = self.metric_states();
        let result = no_grad(|| -> Result<()> {
            let mut checked = false;
            for start in (0..n).step_by(batch_size) {
                let len = batch_size.min(n - start);
                let xb = x.narrow(0, start, len)?.to_device(&dev)?;
                let yb = y.narrow(0, start, len)?.to_device(&dev)?;
                let pred = self.module.forward(&xb)?;
                if !checked {
                    loss_cfg.check_targets(y, (pred.rank() == 2).then(|| pred.dims()[1]))?;
                    checked = true;
                }
                meter.add(&loss_cfg.compute(&pred, &yb)?, len)?;
                for s in states.iter_mut() {
                    s.update(&pred, &yb)?;
                }
            }
            Ok(())
        });
        self.module.set_training(was_training.unwrap_or(false));
        result?;
        let metrics = states.iter().map(|s| Ok((s.metric.name(), s.result()?))).collect::<Result<Vec<_>>>()?;
        Ok(Scores { loss: meter.mean()?, metrics })
    }

    /// The model's outputs for `x`, computed in batches in inference mode, on the CPU.
    pub fn predict(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        self.ensure_built(x)?;
        let n = check_xy("predict", x, None, batch_size)?;
        self.input_shape = Some(x.dims()[1..].to_vec());
        let was_training = self.module.is_training();
        self.module.set_training(false);
        let dev = self.device();
        let out = no_grad(|| -> Result<Tensor> {
            let mut parts = Vec::with_capacity(n.div_ceil(batch_size));
            for start in (0..n).step_by(batch_size) {
                let len = batch_size.min(n - start);
                parts.push(self.module.forward(&x.narrow(0, start, len)?.to_device(&dev)?)?);
            }
            Tensor::cat(&parts, 0)?.to_device(&Device::Cpu)
        });
        self.module.set_training(was_training.unwrap_or(false));
        out
    }
}
