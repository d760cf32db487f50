//! Probabilities that remember their logits. A Softmax or Sigmoid *layer* tags its output
//! with its input, so a cross-entropy can be computed from the logits (stable: no log of a
//! rounded probability) however the user declared the model's outputs, as Keras does with
//! `_keras_logits`. Only the direct output carries the tag; any op on it drops it.

use super::{Tensor, TensorInner};
use crate::autograd::GradState;
use std::sync::Arc;

/// The activation that turned logits into probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probabilities {
    /// Softmax over the last dim: each row sums to 1.
    Softmax,
    /// Element-wise sigmoid: independent probabilities.
    Sigmoid,
}

impl Tensor {
    /// This tensor (same values, graph and id), tagged as `kind(logits)`.
    pub fn with_logits(&self, kind: Probabilities, logits: &Tensor) -> Tensor {
        let grad = match &self.0.grad {
            GradState::None => GradState::None,
            GradState::Leaf => GradState::Leaf,
            GradState::Node(n) => GradState::Node(n.clone()),
        };
        Tensor(Arc::new(TensorInner {
            id: self.0.id,
            storage: self.0.storage.clone(),
            layout: self.0.layout.clone(),
            dtype: self.0.dtype,
            device: self.0.device,
            grad,
            tangent: self.0.tangent.clone(),
            logits: Some((kind, logits.clone())),
        }))
    }
    /// The logits this tensor was computed from, when a Softmax/Sigmoid layer made it.
    pub fn logits(&self) -> Option<(Probabilities, &Tensor)> {
        self.0.logits.as_ref().map(|(k, t)| (*k, t))
    }
}
