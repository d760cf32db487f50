//! Losses. The cross-entropies take logits by default and are computed stably
//! (log-softmax, softplus); `.from_logits(false)` declares probabilities, and a model that
//! ends in a Softmax/Sigmoid layer is always computed from that layer's logits (see
//! `losses/cross_entropy.rs`). Label smoothing, per-sample weights and a reduction apply to all.

mod cross_entropy;

use lolcore::{DType, Error, Result, Tensor};

/// Which loss (Keras's names). Options go on through [`LossConfig`]:
/// `Loss::CategoricalCrossentropy.label_smoothing(0.1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    MeanSquaredError,
    MeanAbsoluteError,
    /// Quadratic below `delta` (default 1.0), linear above.
    Huber,
    /// Scores `[n, classes]` (logits, or probabilities: see `from_logits`), integer labels
    /// `[n]` (u8, u32 or i64).
    SparseCategoricalCrossentropy,
    /// Scores `[n, classes]` (logits, or probabilities: see `from_logits`), target
    /// distributions `[n, classes]`.
    CategoricalCrossentropy,
    /// Scores (logits, or probabilities: see `from_logits`) and 0/1 targets of the same
    /// shape (`[n]` or `[n, 1]`).
    BinaryCrossentropy,
}

/// How per-sample losses become one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    /// Mean over the batch (Keras's `sum_over_batch_size`, PyTorch's `mean`).
    #[default]
    Mean,
    Sum,
    /// One loss per sample.
    None,
}

/// A loss with its options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossConfig {
    pub kind: Loss,
    pub reduction: Reduction,
    pub label_smoothing: f64,
    pub delta: f64,
    /// For the cross-entropies: `Some(true)` the predictions are logits, `Some(false)`
    /// probabilities, `None` (the default) logits unless a Softmax/Sigmoid layer made them.
    pub from_logits: Option<bool>,
}

impl From<Loss> for LossConfig {
    fn from(kind: Loss) -> Self {
        LossConfig { kind, reduction: Reduction::Mean, label_smoothing: 0.0, delta: 1.0, from_logits: None }
    }
}

impl Loss {
    pub fn reduction(self, r: Reduction) -> LossConfig {
        LossConfig::from(self).reduction(r)
    }
    pub fn label_smoothing(self, eps: f64) -> LossConfig {
        LossConfig::from(self).label_smoothing(eps)
    }
    pub fn delta(self, d: f64) -> LossConfig {
        LossConfig::from(self).delta(d)
    }
    /// Keras's `from_logits`: whether a cross-entropy's predictions are logits (`true`)
    /// or probabilities (`false`). Without it, predictions are logits unless the model's
    /// last layer is `Softmax`/`Sigmoid` (or `activation(Activation::Softmax)`), whose
    /// logits are then used. Declared probabilities are clipped to [1e-7, 1 − 1e-7]
    /// before the log, as Keras does; values outside [0, 1] are an error.
    pub fn from_logits(self, on: bool) -> LossConfig {
        LossConfig::from(self).from_logits(on)
    }
    /// The loss of predictions (logits for the cross-entropies) against targets.
    pub fn compute(self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        LossConfig::from(self).compute(pred, target)
    }
    /// Keras's name (`sparse_categorical_crossentropy`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Huber => "huber",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::BinaryCrossentropy => "binary_crossentropy",
        }
    }
}

impl LossConfig {
    pub fn reduction(mut self, r: Reduction) -> Self {
        self.reduction = r;
        self
    }
    pub fn label_smoothing(mut self, eps: f64) -> Self {
        self.label_smoothing = eps;
        self
    }
    pub fn delta(mut self, d: f64) -> Self {
        self.delta = d;
        self
    }
    /// See [`Loss::from_logits`].
    pub fn from_logits(mut self, on: bool) -> Self {
        self.from_logits = Some(on);
        self
    }
    /// Whether the metrics should read `pred` as probabilities (binary thresholds at 0.5
    /// rather than 0): a Softmax/Sigmoid layer made it, or the loss declares them.
    pub fn predicts_probabilities(&self, pred: &Tensor) -> bool {
        pred.logits().is_some() || self.from_logits == Some(false)
    }

    /// Checks a whole target tensor once (before training) so that bad labels are an
    /// error up front rather than a failure mid-epoch: integer labels in range for
    /// `classes`, and the right dtype for the loss.
    pub fn check_targets(&self, target: &Tensor, classes: Option<usize>) -> Result<()> {
        let name = self.kind.name();
        match self.kind {
            Loss::SparseCategoricalCrossentropy => {
                if target.dtype().is_float() {
                    return Err(Error::dtype(
                        name,
                        format!("labels must be integers (u8, u32, i64), got {}", target.dtype()),
                    ));
                }
                if let (Some(c), true) = (classes, target.numel() > 0) {
                    let lo = target.to_dtype(DType::I64)?.min_all()?.to_scalar::<i64>()?;
                    let hi = target.to_dtype(DType::I64)?.max_all()?.to_scalar::<i64>()?;
                    if lo < 0 || hi >= c as i64 {
                        let bad = if lo < 0 { lo } else { hi };
                        return Err(Error::index(name, format!("label {bad} is out of range for {c} classes")));
                    }
                }
            }
            _ if !target.dtype().is_float() && self.kind != Loss::SparseCategoricalCrossentropy => {
                return Err(Error::dtype(name, format!("targets must be float, got {} (one-hot encode integer labels, or use SparseCategoricalCrossentropy)", target.dtype())));
            }
            _ => {}
        }
        Ok(())
    }

    /// Per-sample losses reduced as configured.
    pub fn compute(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        self.compute_weighted(pred, target, None)
    }

    /// Per-sample losses times `sample_weight` (`[n]`), reduced as configured. As Keras,
    /// the mean divides the weighted sum by the number of samples, not by the weights'
    /// sum, so a weight of 2 counts a sample twice.
    pub fn compute_weighted(&self, pred: &Tensor, target: &Tensor, sample_weight: Option<&Tensor>) -> Result<Tensor> {
        let mut per_sample = self.per_sample(pred, target)?;
        if let Some(w) = sample_weight {
            let n = per_sample.dims().first().copied().unwrap_or(1);
            if w.numel() != n {
                return Err(Error::shape(
                    self.kind.name(),
                    format!("sample_weight {:?} must have one weight per sample ({n})", w.dims()),
                ));
            }
            per_sample = per_sample.mul(&w.reshape(per_sample.dims())?.to_dtype(per_sample.dtype())?)?;
        }
        match self.reduction {
            Reduction::Mean => per_sample.mean_all(),
            Reduction::Sum => per_sample.sum_all(),
            Reduction::None => Ok(per_sample),
        }
    }

    fn same_shape(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        let name = self.kind.name();
        if pred.dims() == target.dims() {
            return target.to_dtype(pred.dtype());
        }
        // [n] targets against [n, 1] predictions (and back) are the common mix-up: allow it.
        if pred.numel() == target.numel() && pred.dims().first() == target.dims().first() {
            return target.reshape(pred.dims())?.to_dtype(pred.dtype());
        }
        Err(Error::shape(name, format!("predictions {:?} and targets {:?} differ", pred.dims(), target.dims())))
    }

    /// Mean over all but the batch dim: one value per sample.
    fn per_sample_mean(x: &Tensor) -> Result<Tensor> {
        if x.rank() <= 1 {
            return Ok(x.clone());
        }
        x.flatten(1, -1)?.mean(1)
    }

    fn per_sample(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        let name = self.kind.name();
        let eps = self.label_smoothing;
        if !(0.0..1.0).contains(&eps) {
            return Err(Error::arg(name, format!("label smoothing must be in [0, 1), got {eps}")));
        }
        match self.kind {
            Loss::MeanSquaredError => Self::per_sample_mean(&pred.sub(&self.same_shape(pred, target)?)?.sqr()?),
            Loss::MeanAbsoluteError => Self::per_sample_mean(&pred.sub(&self.same_shape(pred, target)?)?.abs()?),
            Loss::Huber => {
                let d = self.delta;
                let err = pred.sub(&self.same_shape(pred, target)?)?.abs()?;
                let quad = err.clamp(0.0, d)?;
                let lin = err.sub(&quad)?;
                Self::per_sample_mean(&quad.sqr()?.affine(0.5, 0.0)?.add(&lin.affine(d, 0.0)?)?)
            }
            Loss::SparseCategoricalCrossentropy => {
                if pred.rank() != 2 {
                    return Err(Error::shape(name, format!("scores must be [n, classes], got {:?}", pred.dims())));
                }
                let n = pred.dims()[0];
                if target.dims() != [n] && target.dims() != [n, 1] {
                    return Err(Error::shape(
                        name,
                        format!("labels must be [{n}] for scores {:?}, got {:?}", pred.dims(), target.dims()),
                    ));
                }
                if target.dtype().is_float() {
                    return Err(Error::dtype(
                        name,
                        format!("labels must be integers (u8, u32, i64), got {}", target.dtype()),
                    ));
                }
                let logp = self.ce_input(pred).log_probs()?;
                let nll = logp.gather(&target.reshape(&[n, 1])?, 1)?.reshape(&[n])?.neg()?;
                if eps == 0.0 {
                    return Ok(nll);
                }
                let uniform = logp.mean(1)?.neg()?;
                nll.affine(1.0 - eps, 0.0)?.add(&uniform.affine(eps, 0.0)?)
            }
            Loss::CategoricalCrossentropy => {
                if pred.rank() != 2 || pred.dims() != target.dims() {
                    return Err(Error::shape(
                        name,
                        format!(
                            "scores {:?} and target distributions {:?} must both be [n, classes]",
                            pred.dims(),
                            target.dims()
                        ),
                    ));
                }
                let c = pred.dims()[1] as f64;
                let t = target.to_dtype(pred.dtype())?;
                let t = if eps > 0.0 { t.affine(1.0 - eps, eps / c)? } else { t };
                self.ce_input(pred).log_probs()?.mul(&t)?.sum(1)?.neg()
            }
            Loss::BinaryCrossentropy => {
                let t = self.same_shape(pred, target)?;
                let t = if eps > 0.0 { t.affine(1.0 - eps, 0.5 * eps)? } else { t };
                Self::per_sample_mean(&self.ce_input(pred).binary(&t)?)
            }
        }
    }
}
