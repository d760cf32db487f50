//! Named values of one epoch or batch (`loss`, `accuracy`, `val_loss`, `lr`, ...), and the
//! `History` of them that `fit` returns.

use std::collections::BTreeMap;
use std::fmt;

/// Values by name, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    values: Vec<(String, f64)>,
}

impl Logs {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&mut self, name: &str, v: f64) {
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = v,
            None => self.values.push((name.to_string(), v)),
        }
    }
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.values.iter().map(|(n, v)| (n.as_str(), *v))
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Display for Logs {
    /// `loss: 0.2134 - accuracy: 0.9312 - val_loss: ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.values.iter().map(|(n, v)| format!("{n}: {v:.4}")).collect();
        f.write_str(&parts.join(" - "))
    }
}

/// Per-epoch values from `fit`, like Keras's `History.history`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The epochs that ran (0-based).
    pub epochs: Vec<usize>,
    pub history: BTreeMap<String, Vec<f64>>,
}

impl History {
    pub(crate) fn push(&mut self, epoch: usize, logs: &Logs) {
        self.epochs.push(epoch);
        for (n, v) in logs.iter() {
            self.history.entry(n.to_string()).or_default().push(v);
        }
    }
    /// The values of one key per epoch (`"loss"`, `"val_accuracy"`, ...).
    pub fn get(&self, key: &str) -> Option<&[f64]> {
        self.history.get(key).map(|v| v.as_slice())
    }
    /// Training loss per epoch.
    pub fn loss(&self) -> &[f64] {
        self.get("loss").unwrap_or(&[])
    }
    pub fn len(&self) -> usize {
        self.epochs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }
}
