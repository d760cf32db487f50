//! The training loop behind `fit` (tensors) and `fit_loader` (any dataset), and
//! `train_on_batch`.

use super::fit_data::{check_xy, class_weight_table, class_weights_of, Batch, Feed};
use super::{FitOptions, Model, Scores};
use crate::callbacks::{BatchLogs, Callback};
use crate::data::BatchSource;
use crate::logs::{History, Logs};
use crate::metrics::{LossMeter, MetricState};
use crate::progress::{Progress, Verbosity};
use lolcore::dist::{DataParallel, ProcessGroup};
use lolcore::nn::{Forward, Module};
use lolcore::{DType, Error, Result, Tensor};

/// What `fit` validates on after each epoch.
/// Tensors by parameter name (the gradients `train_step` hands to callbacks).
type NamedTensors = Vec<(String, Tensor)>;

/// What `fit` validates on after each epoch.
pub(super) enum Validation<'d> {
    Tensors(Tensor, Tensor),
    Loader(&'d dyn BatchSource),
}

impl<M: Module + Forward> Model<M> {
    /// Trains for `epochs` with mini-batches of `batch_size` (shuffled each epoch), with a
    /// progress bar; returns the per-epoch losses and metrics.
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, epochs: usize, batch_size: usize) -> Result<History> {
        self.fit_with(x, y, FitOptions::new(epochs, batch_size))
    }

    /// `fit` with Keras's options: validation, callbacks, shuffling, verbosity, weights ...
    pub fn fit_with(&mut self, x: &Tensor, y: &Tensor, mut opts: FitOptions<'_>) -> Result<History> {
        let op = "fit";
        self.compiled(op)?;
        let n_all = check_xy(op, x, Some(y), opts.batch_size)?;
        self.ensure_built(x)?;
        if !(0.0..1.0).contains(&opts.validation_split) {
            return Err(Error::arg(op, format!("validation_split must be in [0, 1), got {}", opts.validation_split)));
        }
        // Keras holds out the last samples, before any shuffling; validation_data (or a
        // validation loader) takes precedence over the split, as in Keras.
        let explicit = opts.validation_data.is_some() || opts.validation_loader.is_some();
        let n_val = if explicit { 0 } else { (n_all as f64 * opts.validation_split).floor() as usize };
        let n = n_all - n_val;
        if n == 0 {
            return Err(Error::shape(
                op,
                format!("validation_split {} leaves no training samples of {n_all}", opts.validation_split),
            ));
        }
        if let Some(w) = &opts.sample_weight {
            if w.numel() != n_all || w.dims().first() != Some(&n_all) {
                return Err(Error::shape(
                    "fit (sample_weight)",
                    format!("needs one weight per sample ({n_all}), got {:?}", w.dims()),
                ));
            }
        }
        let validation = match (&opts.validation_data, opts.validation_loader, n_val) {
            (Some((vx, vy)), _, _) => {
                check_xy("fit (validation_data)", vx, Some(vy), 1)?;
                Some(Validation::Tensors(vx.clone(), vy.clone()))
            }
            (None, Some(l), _) => Some(Validation::Loader(l)),
            (None, None, 0) => None,
            (None, None, _) => Some(Validation::Tensors(x.narrow(0, n, n_val)?, y.narrow(0, n, n_val)?)),
        };
        self.input_shape = Some(x.dims()[1..].to_vec());
        let (xt, yt) = (x.narrow(0, 0, n)?, y.narrow(0, 0, n)?);
        let mut w = opts.sample_weight.as_ref().map(|w| w.narrow(0, 0, n)).transpose()?;
        // Class weights become per-sample weights once here, not per batch (each batch
        // would read its labels back to check them).
        if let Some(cw) = opts.class_weight.take() {
            let per_class = class_weights_of(&class_weight_table(&cw)?, &yt)?;
            w = Some(match w {
                Some(w) => w.to_dtype(DType::F32)?.reshape(&[n])?.mul(&per_class)?,
                None => per_class,
            });
        }
        let shard = shard_of(opts.distributed.as_deref());
        let feed = Feed::Tensors {
            x: xt,
            y: yt,
            w,
            n,
            batch_size: per_rank_batch(op, opts.batch_size, shard.1)?,
            shuffle: opts.shuffle,
            device: lolcore::Device::Cpu,
            order: vec![],
            cursor: 0,
            repeat: opts.steps_per_epoch.is_some(),
            shard,
        };
        let callbacks = std::mem::take(&mut opts.callbacks);
        self.run_fit(feed, Some(y), validation, opts, callbacks)
    }

    /// Trains on a loader's batches (any `Dataset`, prefetched by worker threads) for
    /// `epochs` passes; Keras's `model.fit(dataset, epochs=...)`.
    pub fn fit_loader(&mut self, loader: &dyn BatchSource, epochs: usize) -> Result<History> {
        self.fit_loader_with(loader, FitOptions::epochs(epochs))
    }

    /// `fit_loader` with options (`validation_loader`, `steps_per_epoch`, `class_weight`,
    /// callbacks ...). Batch size and shuffling are the loader's (`FitOptions`' are not
    /// used); `validation_split` and `sample_weight` need tensors and are refused here.
    pub fn fit_loader_with(&mut self, loader: &dyn BatchSource, mut opts: FitOptions<'_>) -> Result<History> {
        let op = "fit_loader";
        self.compiled(op)?;
        if opts.validation_split != 0.0 || opts.sample_weight.is_some() {
            return Err(Error::arg(
                op,
                "validation_split and sample_weight need in-memory tensors; give a validation loader \
                 (FitOptions::validation_loader) and put weights into the loss through class_weight",
            ));
        }
        if loader.batches_per_epoch() == 0 && opts.steps_per_epoch.is_none() {
            return Err(Error::arg(
                op,
                "the loader has no batches (an empty dataset, or drop_last with too few samples)",
            ));
        }
        let validation = match (&opts.validation_data, opts.validation_loader) {
            (Some((vx, vy)), _) => {
                check_xy("fit_loader (validation_data)", vx, Some(vy), 1)?;
                Some(Validation::Tensors(vx.clone(), vy.clone()))
            }
            (None, Some(l)) => Some(Validation::Loader(l)),
            (None, None) => None,
        };
        let shard = shard_of(opts.distributed.as_deref());
        let feed = Feed::Loader { source: loader, current: None, repeat: opts.steps_per_epoch.is_some(), shard };
        let callbacks = std::mem::take(&mut opts.callbacks);
        self.run_fit(feed, None, validation, opts, callbacks)
    }

    fn run_fit(
        &mut self,
        mut feed: Feed<'_>,
        all_targets: Option<&Tensor>,
        validation: Option<Validation<'_>>,
        opts: FitOptions<'_>,
        mut callbacks: Vec<&mut dyn Callback>,
    ) -> Result<History> {
        let op = "fit";
        self.sync_parameters()?;
        // Set only for loaders: `fit_with` folds class weights into the sample weights.
        let class_table = opts.class_weight.as_deref().map(class_weight_table).transpose()?;
        let steps = feed.steps(opts.steps_per_epoch);
        if steps == 0 {
            return Err(Error::arg(op, "steps_per_epoch must be at least 1"));
        }
        let pg = opts.distributed.clone();
        let rank = pg.as_ref().map_or(0, |g| g.rank());
        // Rank 0 alone prints and writes files. The others keep those callbacks in the
        // list (a backup's saved states go to callbacks by position) but never call them.
        let on: Vec<bool> = callbacks.iter().map(|c| rank == 0 || !c.rank_zero_only()).collect();
        if let Some(g) = &pg {
            self.check_distributable(g.as_ref())?;
            // Every rank shuffles (and drops out) from rank 0's generator state, so the
            // ranks deal out one order, the order one process would draw.
            sync_generator(g.as_ref(), &lolcore::rng::current_generator())?;
            if let Some(lg) = &loader_generator_of(&feed) {
                sync_generator(g.as_ref(), lg)?;
            }
        }
        let mut progress = Progress::new(if rank == 0 { opts.verbose } else { Verbosity::Silent });
        let mut history = History::default();
        self.stop = false;
        for cb in active(&mut callbacks, &on) {
            cb.on_train_begin(self)?;
        }
        let loader_generator = loader_generator_of(&feed);
        let backup = callbacks.iter_mut().position(|c| c.as_backup().is_some());
        if backup.is_some() {
            // Fail now, not after the first epoch, if the optimizer cannot be saved.
            self.compiled(op)?.optimizer.state_dict()?;
        }
        let mut first_epoch = opts.initial_epoch;
        let mut global_step = 0usize;
        if let Some(b) = backup {
            if let Some(p) = self.restore_backup(&mut callbacks, b, loader_generator.as_ref())? {
                first_epoch = p.epoch;
                global_step = p.global_step;
            }
            if let Some(g) = &pg {
                same_on_every_rank(g.as_ref(), first_epoch)?;
            }
        }
        // Data-parallel state, made once the model is built (rank 0's weights win).
        let mut ddp: Option<DataParallel> = None;
        let mut checked = false;
        for epoch in first_epoch..opts.epochs {
            for cb in active(&mut callbacks, &on) {
                cb.on_epoch_begin(epoch, self)?;
            }
            // A callback may have replaced tensors (moved, cast, swapped a layer); the
            // data follows the model to its device.
            self.sync_parameters()?;
            if let (Some(g), Some(d)) = (&pg, &ddp) {
                if !d.tracks(&self.module.parameters()) {
                    // A callback replaced parameters: follow them.
                    ddp = Some(DataParallel::new(g.clone(), &self.module, opts.ddp.clone())?);
                }
            }
            let dev = self.device();
            self.module.set_training(true);
            feed.begin_epoch(&dev)?;
            let mut meter = LossMeter::default();
            let mut states = self.metric_states();
            progress.begin_epoch(epoch, opts.epochs, steps);
            for step in 0..steps {
                let Some(Batch { x: xb, y: yb, weight, len }) = feed.next_batch(&dev)? else { break };
                if !checked {
                    // Lazy layers are built (and join the optimizer) before the first step.
                    self.ensure_built(&xb)?;
                    if let (Some(g), None) = (&pg, &ddp) {
                        self.sync_parameters()?;
                        ddp = Some(DataParallel::new(g.clone(), &self.module, opts.ddp.clone())?);
                    }
                }
                for cb in active(&mut callbacks, &on) {
                    cb.on_train_batch_begin(step, self)?;
                }
                let pred = self.module.forward(&xb)?;
                if !checked {
                    // A lazy layer that only its first forward could build (inside a
                    // hand-written Module) joins the optimizer before the first step.
                    self.sync_parameters()?;
                    if let Some(d) = &ddp {
                        if !d.tracks(&self.module.parameters()) {
                            return Err(Error::arg(
                                "fit (distributed)",
                                "the first forward built new parameters, after the ranks were synchronised; \
                                 build the model before fit (model.build(&input_shape))",
                            ));
                        }
                    }
                    let classes = (pred.rank() == 2).then(|| pred.dims()[1]);
                    let loss = &self.compiled(op)?.loss;
                    loss.check_targets(all_targets.unwrap_or(&yb), classes)?;
                    loss.check_predictions(&pred)?;
                    checked = true;
                }
                let weight = match &class_table {
                    Some(t) => {
                        let cw = class_weights_of(t, &yb)?;
                        Some(match weight {
                            Some(w) => w.to_dtype(DType::F32)?.reshape(&[len])?.mul(&cw)?,
                            None => cw,
                        })
                    }
                    None => weight,
                };
                let want_grads = callbacks.iter().any(|cb| cb.wants_gradients());
                let (loss, grads) = self.train_step(&pred, &yb, weight.as_ref(), want_grads, ddp.as_ref())?;
                global_step += 1;
                meter.add(&loss, len)?;
                let probabilities = self.compiled(op)?.loss.predicts_probabilities(&pred);
                for s in states.iter_mut() {
                    s.update_with(&pred, &yb, probabilities)?;
                }
                if progress.wants_refresh() || step + 1 == steps {
                    let logs = Self::epoch_logs(&meter, &states, "")?;
                    progress.update(step + 1, Some(&logs));
                } else {
                    progress.update(step + 1, None);
                }
                let bl = BatchLogs { loss: &loss, batch_size: len, global_step, gradients: grads.as_deref() };
                for cb in active(&mut callbacks, &on) {
                    cb.on_train_batch_end(step, &bl, self)?;
                }
                if let Some(g) = &pg {
                    // One rank stopping (TerminateOnNaN on its loss) stops them all, at
                    // the same step, or the others would wait for it forever.
                    self.stop = any_rank(g.as_ref(), self.stop)?;
                }
                if self.stop {
                    break;
                }
            }
            if meter.is_empty() && !self.stop {
                return Err(Error::arg(op, format!("epoch {epoch} had no batches to train on")));
            }
            if let Some(g) = &pg {
                meter.all_reduce(g.as_ref())?;
                for s in states.iter_mut() {
                    s.all_reduce(g.as_ref())?;
                }
            }
            let mut logs = Self::epoch_logs(&meter, &states, "")?;
            if let Some(v) = &validation {
                let s = match v {
                    Validation::Tensors(vx, vy) => self.evaluate_inner(vx, vy, opts.batch_size)?,
                    Validation::Loader(l) => self.evaluate_source("fit (validation_loader)", *l)?,
                };
                logs.set("val_loss", s.loss);
                for (k, v) in s.metrics {
                    logs.set(&format!("val_{k}"), v);
                }
            }
            if let Some(c) = &self.compiled {
                logs.set("lr", c.optimizer.learning_rate());
            }
            if let Some(g) = &pg {
                // Every rank decides (EarlyStopping, schedules) on rank 0's logs.
                logs = rank_zero_logs(g.as_ref(), &logs)?;
            }
            progress.end_epoch(&logs);
            history.push(epoch, &logs);
            for cb in active(&mut callbacks, &on) {
                cb.on_epoch_end(epoch, &logs, self)?;
            }
            if let Some(g) = &pg {
                self.stop = any_rank(g.as_ref(), self.stop)?;
            }
            if let (Some(b), 0) = (backup, rank) {
                self.write_backup(&mut callbacks, b, epoch + 1, global_step, loader_generator.as_ref())?;
            }
            if self.stop {
                break;
            }
        }
        for cb in active(&mut callbacks, &on) {
            cb.on_train_end(self)?;
        }
        if let Some(b) = backup {
            if let Some(g) = &pg {
                // Nobody may still be reading the backup when rank 0 deletes it.
                g.barrier()?;
            }
            if let (Some(br), 0) = (callbacks[b].as_backup(), rank) {
                br.training_finished()?;
            }
        }
        self.module.set_training(false);
        Ok(history)
    }

    /// What distributed training cannot average like one process would: a summed loss
    /// (each rank sums half the samples, so the averaged gradient would be halved).
    fn check_distributable(&self, _pg: &dyn ProcessGroup) -> Result<()> {
        let c = self.compiled("fit")?;
        if c.loss.reduction == crate::losses::Reduction::Sum {
            return Err(Error::arg(
                "fit (distributed)",
                "a loss with Reduction::Sum: averaging the ranks' gradients would divide it by the number of \
                 ranks; use Reduction::Mean (the default)",
            ));
        }
        Ok(())
    }

    pub(super) fn metric_states(&self) -> Vec<MetricState> {
        self.compiled.as_ref().map(|c| c.metrics.iter().map(|&m| MetricState::new(m)).collect()).unwrap_or_default()
    }

    pub(super) fn epoch_logs(meter: &LossMeter, states: &[MetricState], prefix: &str) -> Result<Logs> {
        let mut logs = Logs::new();
        logs.set(&format!("{prefix}loss"), meter.mean()?);
        for s in states {
            logs.set(&format!("{prefix}{}", s.metric.name()), s.result()?);
        }
        Ok(logs)
    }

    /// Loss (weighted per sample when asked), backward and one optimizer step; returns the
    /// (detached) loss and, when asked, the gradients by parameter name.
    fn train_step(
        &mut self,
        pred: &Tensor,
        target: &Tensor,
        weight: Option<&Tensor>,
        want_grads: bool,
        ddp: Option<&DataParallel>,
    ) -> Result<(Tensor, Option<NamedTensors>)> {
        let c = self.compiled.as_mut().ok_or_else(|| Error::arg("fit", "the model is not compiled"))?;
        let loss = c.loss.compute_weighted(pred, target, weight)?;
        if loss.numel() != 1 {
            return Err(Error::arg("fit", "the loss must reduce to one value (Reduction::None cannot train)"));
        }
        let grads = match ddp {
            Some(d) => d.backward(&loss)?,
            None => loss.backward()?,
        };
        c.optimizer.step(&grads)?;
        let named = want_grads.then(|| {
            self.module
                .named_parameters()
                .into_iter()
                .filter_map(|(n, p)| grads.get(&p).map(|g| (n, g.clone())))
                .collect()
        });
        Ok((loss.detach(), named))
    }

    /// One optimizer step on one batch (training mode); returns its loss and metrics.
    pub fn train_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<Scores> {
        let op = "train_on_batch";
        self.compiled(op)?;
        self.sync_parameters()?;
        check_xy(op, x, Some(y), 1)?;
        self.ensure_built(x)?;
        let dev = self.device();
        let (xb, yb) = (x.to_device(&dev)?, y.to_device(&dev)?);
        self.module.set_training(true);
        let pred = self.module.forward(&xb)?;
        self.sync_parameters()?;
        let classes = (pred.rank() == 2).then(|| pred.dims()[1]);
        self.compiled(op)?.loss.check_targets(&yb, classes)?;
        let (loss, _) = self.train_step(&pred, &yb, None, false, None)?;
        let probabilities = self.compiled(op)?.loss.predicts_probabilities(&pred);
        let mut states = self.metric_states();
        for s in states.iter_mut() {
            s.update_with(&pred, &yb, probabilities)?;
        }
        Ok(Scores {
            loss: loss.to_dtype(DType::F64)?.to_scalar()?,
            metrics: states.iter().map(|s| Ok((s.metric.name(), s.result()?))).collect::<Result<_>>()?,
        })
    }
}

/// The callbacks to call on this rank.
fn active<'c, 'a>(
    callbacks: &'c mut [&'a mut dyn Callback],
    on: &'c [bool],
) -> impl Iterator<Item = &'c mut &'a mut dyn Callback> {
    callbacks.iter_mut().zip(on).filter(|(_, on)| **on).map(|(c, _)| c)
}

fn loader_generator_of(feed: &Feed<'_>) -> Option<lolcore::Generator> {
    match feed {
        Feed::Loader { source, .. } => source.generator().cloned(),
        Feed::Tensors { .. } => None,
    }
}

/// Whether `flag` is set on any rank (every rank gets the same answer).
fn any_rank(pg: &dyn ProcessGroup, flag: bool) -> Result<bool> {
    let mut v = [if flag { 1.0 } else { 0.0 }];
    pg.all_reduce_f64(&mut v, lolcore::dist::ReduceOp::Sum)?;
    Ok(v[0] > 0.0)
}

/// Gives `g` rank 0's state on every rank.
fn sync_generator(pg: &dyn ProcessGroup, g: &lolcore::Generator) -> Result<()> {
    let mut bytes: Vec<u8> = g.state().iter().flat_map(|w| w.to_le_bytes()).collect();
    pg.broadcast_bytes(&mut bytes, 0)?;
    let words: Vec<u64> = bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect();
    let state: [u64; 4] =
        words.try_into().map_err(|_| Error::msg("fit (distributed): rank 0 sent a malformed generator state"))?;
    g.set_state(state);
    Ok(())
}

/// `(rank, world)` of a distributed fit; `(0, 1)` alone.
fn shard_of(pg: Option<&dyn ProcessGroup>) -> (usize, usize) {
    pg.map_or((0, 1), |g| (g.rank(), g.world_size()))
}

/// Each rank's share of the global batch.
fn per_rank_batch(op: &'static str, batch_size: usize, world: usize) -> Result<usize> {
    if world > 1 && !batch_size.is_multiple_of(world) {
        return Err(Error::arg(
            op,
            format!("batch_size {batch_size} is the global batch of {world} ranks and must be a multiple of {world}"),
        ));
    }
    Ok(batch_size / world)
}

/// Fails on every rank unless every rank has the same `value` (resuming from a backup).
fn same_on_every_rank(pg: &dyn ProcessGroup, value: usize) -> Result<()> {
    let all = pg.all_gather_bytes(&(value as u64).to_le_bytes())?;
    let epochs: Vec<u64> =
        all.iter().map(|b| b.get(..8).and_then(|b| b.try_into().ok()).map_or(u64::MAX, u64::from_le_bytes)).collect();
    if epochs.iter().any(|&e| e != epochs[0]) {
        return Err(Error::arg(
            "BackupAndRestore",
            format!(
                "the ranks would resume at different epochs {epochs:?}: the backup_dir must be on a file system every rank sees"
            ),
        ));
    }
    Ok(())
}

/// Rank 0's logs on every rank (names and values, exactly).
fn rank_zero_logs(pg: &dyn ProcessGroup, logs: &Logs) -> Result<Logs> {
    let mut bytes = Vec::new();
    if pg.rank() == 0 {
        for (k, v) in logs.iter() {
            bytes.extend((k.len() as u32).to_le_bytes());
            bytes.extend(k.as_bytes());
            bytes.extend(v.to_le_bytes());
        }
    }
    pg.broadcast_bytes(&mut bytes, 0)?;
    let mut out = Logs::new();
    let mut rest = &bytes[..];
    let bad = || Error::msg("fit (distributed): rank 0 sent malformed logs");
    while !rest.is_empty() {
        let n = u32::from_le_bytes(rest.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
        let name = std::str::from_utf8(rest.get(4..4 + n).ok_or_else(bad)?).map_err(|_| bad())?;
        let v = f64::from_le_bytes(rest.get(4 + n..12 + n).ok_or_else(bad)?.try_into().map_err(|_| bad())?);
        out.set(name, v);
        rest = &rest[12 + n..];
    }
    Ok(out)
}
