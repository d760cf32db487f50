//! RNN, LSTM and GRU (PyTorch's): multi-layer, optionally bidirectional recurrences
//! over a sequence. Parameters per layer `k` (and `_reverse` for the backward direction):
//! `weight_ih_l{k} [G·hidden, in]`, `weight_hh_l{k} [G·hidden, hidden]`, `bias_ih_l{k}`,
//! `bias_hh_l{k} [G·hidden]`, G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n); `in` is
//! `input_size` for layer 0 and `hidden·directions` above. All start U(−1/√hidden, 1/√hidden).
//!
//! Shapes: input `[seq, batch, input_size]` (`[batch, seq, input_size]` with
//! `batch_first(true)`, or `[seq, input_size]` unbatched) → output with
//! `hidden·directions` features; final states `[num_layers·directions, batch, hidden]`.

use super::sequence::{Kind, Recurrent};
use super::step::Nonlinearity;
use crate::layers::lazy::{file_shape, input_size, Lazy};
use lolcore::nn::{Forward, Module, Visit, VisitMut};
use lolcore::{Result, Tensor};

macro_rules! sequence_layer {
    ($(#[$m:meta])* $name:ident, $kind:expr) => {
        $(#[$m])*
        pub struct $name {
            inner: Recurrent,
        }

        impl $name {
            /// A layer with `units` hidden features whose `input_size` is the last dim
            /// of its first input (Keras's `
            #[doc = concat!(stringify!($name), "(units)`). It becomes `", stringify!($name), "::new(input_size, units)`")]
            /// with the options chained here, when first run (see `Lazy`).
            pub fn units(units: usize) -> Lazy<$name> {
                Lazy::new(
                    move |dims| {
                        let layout = "[seq, batch, input_size] ([batch, seq, input_size] with batch_first), or [seq, input_size]";
                        Ok($name::new(input_size(stringify!($name), dims, &[2, 3], -1, layout)?, units))
                    },
                    |prefix, shapes| {
                        Ok(vec![1, 1, file_shape(stringify!($name), prefix, shapes, &["weight_ih_l0"], 2)?[1]])
                    },
                )
            }
            /// One layer, unidirectional, with biases, time-major input.
            pub fn new(input_size: usize, hidden_size: usize) -> Self {
                $name { inner: Recurrent::new(stringify!($name), $kind, input_size, hidden_size) }
            }
            /// Stacked layers, each fed the previous one's output sequence.
            pub fn num_layers(mut self, n: usize) -> Self {
                self.inner.num_layers = n;
                $name { inner: self.inner.rebuild() }
            }
            /// A second pass runs backwards in time; outputs of both are concatenated.
            pub fn bidirectional(mut self, on: bool) -> Self {
                self.inner.bidirectional = on;
                $name { inner: self.inner.rebuild() }
            }
            /// With (default) or without the bias vectors.
            pub fn bias(mut self, on: bool) -> Self {
                self.inner.bias = on;
                $name { inner: self.inner.rebuild() }
            }
            /// Input and output as `[batch, seq, features]` (states stay layer-major).
            pub fn batch_first(mut self, on: bool) -> Self {
                self.inner.batch_first = on;
                self
            }
            /// Dropout on each layer's output except the last, in training.
            pub fn dropout(mut self, p: f64) -> Self {
                self.inner.dropout = p;
                self
            }
            pub fn input_size(&self) -> usize {
                self.inner.input_size
            }
            pub fn hidden_size(&self) -> usize {
                self.inner.hidden_size
            }
        }

        impl Module for $name {
            fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
                self.inner.visit(prefix, f)
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
                self.inner.visit_mut(prefix, f)
            }
            fn set_training(&mut self, training: bool) {
                self.inner.set_training(training)
            }
            fn is_training(&self) -> Option<bool> {
                self.inner.is_training()
            }
        }

        /// The builders, recorded until the layer is built.
        impl Lazy<$name> {
            /// Stacked layers, each fed the previous one's output sequence.
            pub fn num_layers(self, n: usize) -> Self {
                self.map(move |l| l.num_layers(n))
            }
            /// A second pass runs backwards in time; outputs of both are concatenated.
            pub fn bidirectional(self, on: bool) -> Self {
                self.map(move |l| l.bidirectional(on))
            }
            /// With (default) or without the bias vectors.
            pub fn bias(self, on: bool) -> Self {
                self.map(move |l| l.bias(on))
            }
            /// Input and output as `[batch, seq, features]` (states stay layer-major).
            pub fn batch_first(self, on: bool) -> Self {
                self.map(move |l| l.batch_first(on))
            }
            /// Dropout on each layer's output except the last, in training.
            pub fn dropout(self, p: f64) -> Self {
                self.map(move |l| l.dropout(p))
            }
        }

        /// The output sequence alone (for `sequential!`); `forward_seq` gives the states.
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                Ok(self.inner.run(x, None)?.0)
            }
        }
    };
}

sequence_layer!(
    /// An Elman RNN: `h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)` per layer.
    RNN,
    Kind::Rnn(Nonlinearity::Tanh)
);
sequence_layer!(
    /// A long short-term memory network (see `LSTMCell` for one step's equations).
    LSTM,
    Kind::Lstm
);
sequence_layer!(
    /// A gated recurrent unit network (see `GRUCell` for one step's equations).
    GRU,
    Kind::Gru
);

impl RNN {
    /// `tanh` (default) or `relu`.
    pub fn nonlinearity(mut self, act: Nonlinearity) -> Self {
        self.inner.kind = Kind::Rnn(act);
        self
    }
    /// The output sequence and the final hidden state, from `h0` (zeros when `None`).
    pub fn forward_seq(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (out, fin) = self.inner.run(x, h0.map(|h| (h, None)))?;
        Ok((out, fin.h))
    }
}

impl Lazy<RNN> {
    /// `tanh` (default) or `relu`.
    pub fn nonlinearity(self, act: Nonlinearity) -> Self {
        self.map(move |l| l.nonlinearity(act))
    }
    /// `RNN::forward_seq`, building the layer from `x` first if needed.
    pub fn forward_seq(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        self.build_for(x)?.forward_seq(x, h0)
    }
}

impl Lazy<GRU> {
    /// `GRU::forward_seq`, building the layer from `x` first if needed.
    pub fn forward_seq(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        self.build_for(x)?.forward_seq(x, h0)
    }
}

impl Lazy<LSTM> {
    /// `LSTM::forward_seq`, building the layer from `x` first if needed.
    pub fn forward_seq(&self, x: &Tensor, state: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, (Tensor, Tensor))> {
        self.build_for(x)?.forward_seq(x, state)
    }
}

impl GRU {
    /// The output sequence and the final hidden state, from `h0` (zeros when `None`).
    pub fn forward_seq(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (out, fin) = self.inner.run(x, h0.map(|h| (h, None)))?;
        Ok((out, fin.h))
    }
}

impl LSTM {
    /// The output sequence and the final `(h, c)`, from `(h0, c0)` (zeros when `None`).
    pub fn forward_seq(&self, x: &Tensor, state: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, (Tensor, Tensor))> {
        let (out, fin) = self.inner.run(x, state.map(|(h, c)| (h, Some(c))))?;
        let c = fin.c.ok_or_else(|| lolcore::Error::msg("internal: LSTM returned no cell state"))?;
        Ok((out, (fin.h, c)))
    }
}
