//! Inference loops: `evaluate`, `predict` and `test_on_batch` on tensors, and
//! `evaluate_loader` / `predict_loader` on any dataset.

use super::fit_data::check_xy;
use super::{Model, Scores};
use crate::data::BatchSource;
use crate::metrics::LossMeter;
use lolcore::nn::{Forward, Module};
use lolcore::{no_grad, Device, Error, Result, Tensor};

impl<M: Module + Forward> Model<M> {
    /// Loss and metrics on one batch, in inference mode.
    pub fn test_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<Scores> {
        let n = check_xy("test_on_batch", x, Some(y), 1)?;
        self.evaluate_inner(x, y, n)
    }

    /// Loss and compiled metrics over `(x, y)` in inference mode (no dropout, running
    /// batch-norm statistics, no graph).
    pub fn evaluate(&mut self, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<Scores> {
        check_xy("evaluate", x, Some(y), batch_size)?;
        self.input_shape = Some(x.dims()[1..].to_vec());
        self.evaluate_inner(x, y, batch_size)
    }

    /// `evaluate` over one pass of a loader's batches.
    pub fn evaluate_loader(&mut self, loader: &dyn BatchSource) -> Result<Scores> {
        self.evaluate_source("evaluate_loader", loader)
    }

    pub(super) fn evaluate_inner(&mut self, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<Scores> {
        let n = check_xy("evaluate", x, Some(y), batch_size)?;
        let batches = (0..n).step_by(batch_size).map(|start| {
            let len = batch_size.min(n - start);
            Ok((x.narrow(0, start, len)?, y.narrow(0, start, len)?))
        });
        self.evaluate_batches("evaluate", Some(y), batches)
    }

    pub(super) fn evaluate_source(&mut self, op: &'static str, source: &dyn BatchSource) -> Result<Scores> {
        self.compiled(op)?;
        let batches = source.epoch()?;
        self.evaluate_batches(op, None, batches)
    }

    /// Mean loss and metrics over batches, in inference mode. `all_targets`, when given,
    /// is checked whole before the first batch; else the first batch's targets are.
    fn evaluate_batches(
        &mut self,
        op: &'static str,
        all_targets: Option<&Tensor>,
        batches: impl Iterator<Item = Result<(Tensor, Tensor)>>,
    ) -> Result<Scores> {
        let loss_cfg = self.compiled(op)?.loss;
        let was_training = self.module.is_training();
        self.module.set_training(false);
        let dev = self.device();
        let mut meter = LossMeter::default();
        let mut states = self.metric_states();
        let result = no_grad(|| -> Result<()> {
            let mut checked = false;
            for b in batches {
                let (xb, yb) = b?;
                let len = xb.dims().first().copied().unwrap_or(0);
                if len == 0 || yb.dims().first() != Some(&len) {
                    return Err(Error::shape(op, format!("a batch has x {:?} and y {:?}", xb.dims(), yb.dims())));
                }
                let (xb, yb) = (xb.to_device(&dev)?, yb.to_device(&dev)?);
                if !checked {
                    self.ensure_built(&xb)?;
                }
                let pred = self.module.forward(&xb)?;
                if !checked {
                    loss_cfg.check_targets(all_targets.unwrap_or(&yb), (pred.rank() == 2).then(|| pred.dims()[1]))?;
                    loss_cfg.check_predictions(&pred)?;
                    checked = true;
                }
                meter.add(&loss_cfg.compute(&pred, &yb)?, len)?;
                let probabilities = loss_cfg.predicts_probabilities(&pred);
                for s in states.iter_mut() {
                    s.update_with(&pred, &yb, probabilities)?;
                }
            }
            if !checked {
                return Err(Error::arg(op, "no batches to evaluate (the loader is empty)"));
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
        let n = check_xy("predict", x, None, batch_size)?;
        self.input_shape = Some(x.dims()[1..].to_vec());
        let inputs = (0..n).step_by(batch_size).map(|start| x.narrow(0, start, batch_size.min(n - start)));
        self.predict_batches("predict", inputs)
    }

    /// The model's outputs for every batch of one pass of a loader (its targets are
    /// ignored), concatenated in the loader's order, on the CPU.
    pub fn predict_loader(&mut self, loader: &dyn BatchSource) -> Result<Tensor> {
        let inputs = loader.epoch()?.map(|b| b.map(|(x, _)| x));
        self.predict_batches("predict_loader", inputs)
    }

    fn predict_batches(&mut self, op: &'static str, inputs: impl Iterator<Item = Result<Tensor>>) -> Result<Tensor> {
        let was_training = self.module.is_training();
        self.module.set_training(false);
        let dev = self.device();
        let out = no_grad(|| -> Result<Tensor> {
            let mut parts = Vec::new();
            // A Softmax/Sigmoid output keeps its logits through the concatenation, so a
            // loss computed on `predict`'s result still uses them.
            let mut logits = Vec::new();
            let mut kind = None;
            for x in inputs {
                let x = x?.to_device(&dev)?;
                if parts.is_empty() {
                    self.ensure_built(&x)?;
                }
                let y = self.module.forward(&x)?;
                if let Some((k, l)) = y.logits() {
                    kind = Some(k);
                    logits.push(l.to_device(&Device::Cpu)?);
                }
                parts.push(y.to_device(&Device::Cpu)?);
            }
            if parts.is_empty() {
                return Err(Error::arg(op, "no batches to predict (the loader is empty)"));
            }
            let out = Tensor::cat(&parts, 0)?;
            Ok(match kind {
                Some(k) if logits.len() == parts.len() => out.with_logits(k, &Tensor::cat(&logits, 0)?),
                _ => out,
            })
        });
        self.module.set_training(was_training.unwrap_or(false));
        out
    }
}
