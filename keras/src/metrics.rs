//! Metrics, accumulated over an epoch like Keras's stateful metrics. Counts stay on
//! the model's device as a small tensor; they are read back only when displayed.

use lolcore::dist::{ProcessGroup, ReduceOp};
use lolcore::{no_grad, DType, Device, Error, Result, Tensor};

/// A metric to report during `fit`/`evaluate`. Binary metrics read the predictions as
/// probabilities when a Sigmoid/Softmax layer made them or the loss declares
/// `from_logits(false)` (threshold 0.5), else as logits (threshold 0, the same decision).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// Sparse, categorical or binary accuracy, chosen from the shapes (as Keras does).
    Accuracy,
    SparseCategoricalAccuracy,
    CategoricalAccuracy,
    /// Probability > 0.5 (logit > 0) counts as class 1.
    BinaryAccuracy,
    /// The label is among the k largest logits (integer labels).
    TopKAccuracy(usize),
    MeanAbsoluteError,
    MeanSquaredError,
    /// Binary precision at probability > 0.5 (logit > 0).
    Precision,
    /// Binary recall at probability > 0.5 (logit > 0).
    Recall,
    /// Binary ROC AUC over 200 thresholds on the probabilities (sigmoid of logits).
    Auc,
}

const AUC_THRESHOLDS: usize = 200;

/// Whether a larger value of the logged quantity `name` (`"val_accuracy"`, `"auc"`,
/// `"loss"`) is better: accuracies, AUC, precision and recall; everything else (losses,
/// errors) is better smaller. Callbacks in `Mode::Auto` go by it, as Keras does.
pub fn higher_is_better(name: &str) -> bool {
    ["acc", "auc", "precision", "recall"].iter().any(|k| name.contains(k))
}

impl Metric {
    /// The key in logs and `History` (`accuracy`, `top_5_accuracy`, `mae`, ...).
    pub fn name(&self) -> String {
        match self {
            Metric::Accuracy => "accuracy".into(),
            Metric::SparseCategoricalAccuracy => "sparse_categorical_accuracy".into(),
            Metric::CategoricalAccuracy => "categorical_accuracy".into(),
            Metric::BinaryAccuracy => "binary_accuracy".into(),
            Metric::TopKAccuracy(k) => format!("top_{k}_accuracy"),
            Metric::MeanAbsoluteError => "mae".into(),
            Metric::MeanSquaredError => "mse".into(),
            Metric::Precision => "precision".into(),
            Metric::Recall => "recall".into(),
            Metric::Auc => "auc".into(),
        }
    }
}

/// Which accuracy `Metric::Accuracy` means for these shapes.
fn resolve(metric: Metric, pred: &Tensor, target: &Tensor) -> Metric {
    if metric != Metric::Accuracy {
        return metric;
    }
    let classes = if pred.rank() == 2 { pred.dims()[1] } else { 1 };
    if classes == 1 {
        Metric::BinaryAccuracy
    } else if target.dtype().is_float() && target.dims() == pred.dims() {
        Metric::CategoricalAccuracy
    } else {
        Metric::SparseCategoricalAccuracy
    }
}

/// Labels as `[n]` u32 for comparison with argmax.
fn labels_u32(pred: &Tensor, target: &Tensor, name: &str) -> Result<Tensor> {
    let n = pred.dims()[0];
    if target.numel() != n || target.dtype().is_float() {
        return Err(Error::shape(
            "metric",
            format!("{name} needs {n} integer labels, got {:?} {}", target.dims(), target.dtype()),
        ));
    }
    target.reshape(&[n])?.to_dtype(DType::U32)
}

/// Predicted and true 0/1 values; predictions threshold at 0.5 for probabilities and at 0
/// for logits (the same decision).
fn binary_parts(pred: &Tensor, target: &Tensor, probabilities: bool) -> Result<(Tensor, Tensor)> {
    if pred.numel() != target.numel() {
        return Err(Error::shape(
            "metric",
            format!("binary metrics need predictions {:?} and targets {:?} of one size", pred.dims(), target.dims()),
        ));
    }
    let n = pred.numel();
    let p = pred.reshape(&[n])?.gt_scalar(if probabilities { 0.5 } else { 0.0 })?.to_dtype(DType::F32)?;
    let t = target.reshape(&[n])?.to_dtype(DType::F32)?.gt_scalar(0.5)?.to_dtype(DType::F32)?;
    Ok((p, t))
}

/// Per-batch counts for one metric, as an f32 vector on the predictions' device.
fn batch_counts(metric: Metric, pred: &Tensor, target: &Tensor, probabilities: bool) -> Result<Tensor> {
    let n = pred.dims().first().copied().unwrap_or(1) as f64;
    let count = |t: &Tensor| -> Result<Tensor> { t.to_dtype(DType::F32)?.sum_all()?.reshape(&[1]) };
    let total = Tensor::full(n, &[1], &pred.device())?;
    match resolve(metric, pred, target) {
        Metric::SparseCategoricalAccuracy => {
            let hit = pred.argmax(1)?.eq(&labels_u32(pred, target, "sparse_categorical_accuracy")?)?;
            Tensor::cat(&[count(&hit)?, total], 0)
        }
        Metric::CategoricalAccuracy => {
            let hit = pred.argmax(1)?.eq(&target.argmax(1)?)?;
            Tensor::cat(&[count(&hit)?, total], 0)
        }
        Metric::BinaryAccuracy => {
            let (p, t) = binary_parts(pred, target, probabilities)?;
            Tensor::cat(&[count(&p.eq(&t)?)?, total], 0)
        }
        Metric::TopKAccuracy(k) => {
            let labels = labels_u32(pred, target, "top_k_accuracy")?;
            let nn = pred.dims()[0];
            let label_logit = pred.gather(&labels.reshape(&[nn, 1])?, 1)?;
            // The label is in the top k when fewer than k logits beat it.
            let better = pred.gt(&label_logit)?.to_dtype(DType::F32)?.sum(1)?;
            Tensor::cat(&[count(&better.lt_scalar(k as f64)?)?, total], 0)
        }
        Metric::MeanAbsoluteError | Metric::MeanSquaredError => {
            let t = if target.dims() == pred.dims() {
                target.to_dtype(pred.dtype())?
            } else {
                target.reshape(pred.dims())?.to_dtype(pred.dtype())?
            };
            let d = pred.sub(&t)?;
            let e = if metric == Metric::MeanAbsoluteError { d.abs()? } else { d.sqr()? };
            Tensor::cat(
                &[
                    e.to_dtype(DType::F32)?.sum_all()?.reshape(&[1])?,
                    Tensor::full(pred.numel() as f64, &[1], &pred.device())?,
                ],
                0,
            )
        }
        Metric::Precision | Metric::Recall => {
            let (p, t) = binary_parts(pred, target, probabilities)?;
            let tp = p.mul(&t)?.sum_all()?.reshape(&[1])?;
            let denom = if metric == Metric::Precision { p.sum_all()? } else { t.sum_all()? };
            Tensor::cat(&[tp, denom.reshape(&[1])?], 0)
        }
        Metric::Auc => {
            let nn = pred.numel();
            let scores = pred.reshape(&[nn, 1])?.to_dtype(DType::F32)?;
            let prob = if probabilities { scores } else { scores.sigmoid()? };
            let thr = Tensor::arange_step(
                0.0,
                1.0 + 0.5 / (AUC_THRESHOLDS - 1) as f64,
                1.0 / (AUC_THRESHOLDS - 1) as f64,
                DType::F32,
                &pred.device(),
            )?
            .narrow(0, 0, AUC_THRESHOLDS)?
            .reshape(&[1, AUC_THRESHOLDS])?;
            let above = prob.gt(&thr)?.to_dtype(DType::F32)?;
            let pos = target.reshape(&[nn, 1])?.to_dtype(DType::F32)?.gt_scalar(0.5)?.to_dtype(DType::F32)?;
            let neg = pos.affine(-1.0, 1.0)?;
            let tp = above.mul(&pos)?.sum(0)?;
            let fp = above.mul(&neg)?.sum(0)?;
            Tensor::cat(&[tp, fp, pos.sum_all()?.reshape(&[1])?, neg.sum_all()?.reshape(&[1])?], 0)
        }
        Metric::Accuracy => unreachable!("resolved above"),
    }
}

/// The metric's value from accumulated counts.
fn value(metric: Metric, c: &[f32]) -> f64 {
    let ratio = |a: f32, b: f32| if b > 0.0 { a as f64 / b as f64 } else { 0.0 };
    match metric {
        Metric::Auc => {
            let t = AUC_THRESHOLDS;
            let (tp, fp) = (&c[..t], &c[t..2 * t]);
            let (pos, neg) = (c[2 * t], c[2 * t + 1]);
            if pos == 0.0 || neg == 0.0 {
                return 0.0;
            }
            // Trapezoids over (FPR, TPR), thresholds rising = points moving left.
            let mut auc = 0.0;
            for i in 0..t - 1 {
                let (x0, y0) = (fp[i] / neg, tp[i] / pos);
                let (x1, y1) = (fp[i + 1] / neg, tp[i + 1] / pos);
                auc += ((x0 - x1) * (y0 + y1) / 2.0) as f64;
            }
            // From the last threshold down to (0, 0).
            auc += (fp[t - 1] / neg * tp[t - 1] / pos / 2.0) as f64;
            auc
        }
        _ => ratio(c[0], c[1]),
    }
}

/// One metric's running counts over an epoch.
pub struct MetricState {
    pub metric: Metric,
    counts: Option<Tensor>,
}

impl MetricState {
    pub fn new(metric: Metric) -> Self {
        MetricState { metric, counts: None }
    }
    pub fn reset(&mut self) {
        self.counts = None;
    }
    /// Adds one batch (on the device: no host sync).
    pub fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        self.update_with(pred, target, pred.logits().is_some())
    }
    /// `update` with `pred` read as probabilities (binary metrics threshold at 0.5, AUC
    /// uses them as they are) or as logits (threshold 0, AUC applies a sigmoid).
    pub fn update_with(&mut self, pred: &Tensor, target: &Tensor, probabilities: bool) -> Result<()> {
        no_grad(|| {
            let c = batch_counts(self.metric, &pred.detach(), target, probabilities)?;
            self.counts = Some(match self.counts.take() {
                Some(acc) => acc.add(&c)?,
                None => c,
            });
            Ok(())
        })
    }
    /// The current value (reads the counts back).
    pub fn result(&self) -> Result<f64> {
        match &self.counts {
            Some(c) => Ok(value(self.metric, &c.to_vec::<f32>()?)),
            None => Ok(0.0),
        }
    }
    /// Sums the counts over the ranks of data-parallel training, so `result` is the
    /// metric of every rank's samples (every metric here is a ratio of counts, AUC's
    /// histograms included, so the sum is exact).
    pub fn all_reduce(&mut self, pg: &dyn ProcessGroup) -> Result<()> {
        let Some(c) = &self.counts else {
            return Err(Error::arg("fit (distributed)", "a rank had no batch to compute metrics on"));
        };
        let mut v = c.to_vec::<f64>()?;
        pg.all_reduce_f64(&mut v, ReduceOp::Sum)?;
        self.counts = Some(Tensor::from_vec(v, c.dims(), &c.device())?.to_dtype(c.dtype())?);
        Ok(())
    }
}

/// A running mean of per-batch losses, weighted by batch size, kept on the device.
pub struct LossMeter {
    sum: Option<Tensor>,
    count: f64,
}

impl Default for LossMeter {
    fn default() -> Self {
        LossMeter { sum: None, count: 0.0 }
    }
}

impl LossMeter {
    /// No batch was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0.0
    }
    pub fn add(&mut self, loss: &Tensor, batch: usize) -> Result<()> {
        no_grad(|| {
            let l = loss.detach().to_dtype(DType::F32)?.affine(batch as f64, 0.0)?;
            self.sum = Some(match self.sum.take() {
                Some(s) => s.add(&l)?,
                None => l,
            });
            self.count += batch as f64;
            Ok(())
        })
    }
    pub fn mean(&self) -> Result<f64> {
        match &self.sum {
            Some(s) if self.count > 0.0 => Ok(s.to_scalar::<f32>()? as f64 / self.count),
            _ => Ok(0.0),
        }
    }
    pub fn device(&self) -> Device {
        self.sum.as_ref().map(|s| s.device()).unwrap_or_default()
    }
    /// Sums the losses and sample counts over the ranks of data-parallel training, so
    /// `mean` is the mean over every rank's samples.
    pub fn all_reduce(&mut self, pg: &dyn ProcessGroup) -> Result<()> {
        let sum = match &self.sum {
            Some(s) => s.to_dtype(DType::F64)?.to_scalar::<f64>()?,
            None => 0.0,
        };
        let mut v = [sum, self.count];
        pg.all_reduce_f64(&mut v, ReduceOp::Sum)?;
        let dev = self.device();
        self.sum = Some(Tensor::from_vec(vec![v[0] as f32], &[], &dev)?);
        self.count = v[1];
        Ok(())
    }
}
