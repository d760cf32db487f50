//! What a cross-entropy reads its predictions as. Keras's losses take probabilities by
//! default and PyTorch's take logits; lol's take logits (API.md), and a Softmax/Sigmoid
//! layer tags its output with its logits (`Tensor::logits`) so that a model written the
//! Keras way (`Dense(10).activation(Softmax)` with a cross-entropy) trains on exactly the
//! same stable log-softmax as one that ends in logits. Only declared probabilities of an
//! untagged tensor are logged directly, clipped as Keras clips them.

use super::{Loss, LossConfig};
use lolcore::{no_grad, DType, Error, Probabilities, Result, Tensor};
use std::collections::HashSet;
use std::sync::Mutex;

/// Keras's `epsilon()`: probabilities are clipped to [EPS, 1 − EPS] before the log.
const EPS: f64 = 1e-7;

/// A cross-entropy's input: scores to normalise stably, or probabilities.
pub(super) enum CeInput {
    Logits(Tensor),
    Probabilities(Tensor),
}

impl CeInput {
    /// Log-probabilities over dim 1 of `[n, classes]` scores.
    pub(super) fn log_probs(&self) -> Result<Tensor> {
        match self {
            CeInput::Logits(x) => x.log_softmax(1),
            // Keras renormalises the rows before clipping.
            CeInput::Probabilities(p) => p.div(&p.sum_keepdim(1)?)?.clamp(EPS, 1.0 - EPS)?.log(),
        }
    }
    /// Element-wise binary cross-entropy against targets `t` of the same shape.
    pub(super) fn binary(&self, t: &Tensor) -> Result<Tensor> {
        match self {
            // max(x, 0) − x·t + log(1 + e^−|x|): no overflow for any logit.
            CeInput::Logits(x) => x.relu()?.sub(&x.mul(t)?)?.add(&x.abs()?.neg()?.exp()?.add_scalar(1.0)?.log()?),
            CeInput::Probabilities(p) => {
                let p = p.clamp(EPS, 1.0 - EPS)?;
                let pos = t.mul(&p.log()?)?;
                let neg = t.affine(-1.0, 1.0)?.mul(&p.affine(-1.0, 1.0)?.log()?)?;
                pos.add(&neg)?.neg()
            }
        }
    }
}

impl LossConfig {
    /// The activation whose logits this loss can use.
    fn wanted(&self) -> Probabilities {
        if self.kind == Loss::BinaryCrossentropy {
            Probabilities::Sigmoid
        } else {
            Probabilities::Softmax
        }
    }

    pub(super) fn ce_input(&self, pred: &Tensor) -> CeInput {
        match (pred.logits(), self.from_logits) {
            (Some((kind, logits)), _) if kind == self.wanted() => CeInput::Logits(logits.clone()),
            (Some(_), Some(true)) | (None, None | Some(true)) => CeInput::Logits(pred.clone()),
            (Some(_), _) | (None, Some(false)) => CeInput::Probabilities(pred.clone()),
        }
    }

    /// Checks the first batch of predictions against what the loss was told they are
    /// (one host read per `fit`/`evaluate`, not per batch): declared probabilities out of
    /// [0, 1] are an error; probabilities read as logits get a one-time warning.
    pub fn check_predictions(&self, pred: &Tensor) -> Result<()> {
        let name = self.kind.name();
        if !matches!(
            self.kind,
            Loss::BinaryCrossentropy | Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy
        ) || pred.numel() == 0
        {
            return Ok(());
        }
        let tagged = pred.logits().map(|(k, _)| k);
        if tagged == Some(self.wanted()) {
            if self.from_logits == Some(true) {
                warn_once(
                    name,
                    format!(
                        "{name} was given from_logits(true), but the predictions come from a {:?} layer and are \
                         probabilities; its logits are used instead",
                        self.wanted()
                    ),
                );
            }
            return Ok(());
        }
        let (lo, hi, rows_sum_to_one) = no_grad(|| -> Result<(f64, f64, bool)> {
            let p = pred.detach().to_dtype(DType::F64)?;
            let lo = p.min_all()?.to_scalar::<f64>()?;
            let hi = p.max_all()?.to_scalar::<f64>()?;
            let rows = if p.rank() == 2 && p.dims()[1] > 1 {
                let s = p.sum(1)?.affine(1.0, -1.0)?.abs()?.max_all()?.to_scalar::<f64>()?;
                s < 1e-3
            } else {
                false
            };
            Ok((lo, hi, rows))
        })?;
        match self.from_logits {
            Some(false) if tagged.is_none() && (lo < 0.0 || hi > 1.0) => Err(Error::arg(
                name,
                format!(
                    "from_logits(false) declares probabilities, but the predictions range over [{lo:.4}, {hi:.4}]: \
                     they look like logits (drop from_logits(false), or end the model with a Softmax/Sigmoid layer)"
                ),
            )),
            None | Some(true) if tagged.is_none() && rows_sum_to_one && lo >= 0.0 && hi <= 1.0 => {
                warn_once(
                    name,
                    format!(
                        "{name} reads predictions as logits, but every row is in [0, 1] and sums to 1: they look like \
                         probabilities, and softmax would be applied twice. End the model with the Softmax layer (or \
                         .activation(Activation::Softmax)) instead of calling softmax in forward, or use \
                         .from_logits(false)"
                    ),
                );
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Prints `msg` once per process for each loss name.
fn warn_once(loss: &'static str, msg: String) {
    static WARNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut w = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if w.get_or_insert_with(HashSet::new).insert(loss) {
        eprintln!("warning: {msg}");
    }
}
