//! The multi-layer, optionally bidirectional recurrence behind RNN, LSTM and GRU. Each
//! layer and direction projects the whole input sequence with one GEMM
//! (`[T·B, input] × [input, G·hidden]`, as cuDNN and PyTorch do), then runs the time loop
//! with one small `h·W_hhᵀ` product per step.

use super::cells::{cell_params, project};
use super::gru_rnn_sequence::{GruSequence, RnnSequence};
use super::lstm_sequence::LstmSequence;
use super::step::{gru_step, lstm_step, rnn_step, Nonlinearity};
use crate::layers::param_init::InitErrors;
use lolcore::nn::{trace, Module, TensorKind, Visit, VisitMut};
use lolcore::rng::current_generator;
use lolcore::{Error, Function, Result, Tensor};

/// Which recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Rnn(Nonlinearity),
    Lstm,
    Gru,
}

impl Kind {
    fn gates(self) -> usize {
        match self {
            Kind::Rnn(_) => 1,
            Kind::Lstm => 4,
            Kind::Gru => 3,
        }
    }
}

/// The weights of one layer in one direction.
pub(crate) struct DirWeights {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Option<Tensor>,
    b_hh: Option<Tensor>,
}

/// Options and weights of a sequence layer.
pub(crate) struct Recurrent {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) input_size: usize,
    pub(crate) hidden_size: usize,
    pub(crate) num_layers: usize,
    pub(crate) bias: bool,
    pub(crate) batch_first: bool,
    pub(crate) dropout: f64,
    pub(crate) bidirectional: bool,
    pub(crate) training: bool,
    weights: Vec<DirWeights>,
    init_errors: InitErrors,
}

/// Final states: `h` for RNN and GRU, `(h, c)` for LSTM, each `[layers·dirs, batch, hidden]`.
pub(crate) struct Final {
    pub(crate) h: Tensor,
    pub(crate) c: Option<Tensor>,
}

impl Recurrent {
    pub(crate) fn new(name: &'static str, kind: Kind, input_size: usize, hidden_size: usize) -> Self {
        Recurrent {
            name,
            kind,
            input_size,
            hidden_size,
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            training: true,
            weights: Vec::new(),
            init_errors: InitErrors::default(),
        }
        .rebuild()
    }

    fn dirs(&self) -> usize {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    /// (Re)creates every layer's weights for the current options.
    pub(crate) fn rebuild(mut self) -> Self {
        let mut errs = InitErrors::default();
        self.weights.clear();
        for layer in 0..self.num_layers {
            let input = if layer == 0 { self.input_size } else { self.hidden_size * self.dirs() };
            for _ in 0..self.dirs() {
                let (w_ih, w_hh, b_ih, b_hh) =
                    cell_params(&mut errs, self.kind.gates(), input, self.hidden_size, self.bias);
                self.weights.push(DirWeights { w_ih, w_hh, b_ih, b_hh });
            }
        }
        self.init_errors = errs;
        self
    }

    /// Runs the sequence `x` (`[T, B, input]`, `[B, T, input]` when batch_first, or
    /// `[T, input]` unbatched) from `init` (zeros when `None`).
    pub(crate) fn run(&self, x: &Tensor, init: Option<(&Tensor, Option<&Tensor>)>) -> Result<(Tensor, Final)> {
        let name = self.name;
        self.init_errors.check(name)?;
        self.validate()?;
        let unbatched = x.rank() == 2;
        if !(x.rank() == 3 || unbatched) || x.shape()[x.rank() - 1] != self.input_size {
            let layout = if self.batch_first { "[batch, seq, input_size]" } else { "[seq, batch, input_size]" };
            return Err(Error::shape(
                name,
                format!(
                    "input {:?} must be {layout} (or [seq, input_size]) with input_size {}",
                    x.shape(),
                    self.input_size
                ),
            ));
        }
        // Time-major inside: [T, B, I].
        let x = if unbatched {
            x.unsqueeze(1)?
        } else if self.batch_first {
            x.transpose(0, 1)?
        } else {
            x.clone()
        };
        let (steps, batch) = (x.shape()[0], x.shape()[1]);
        if steps == 0 {
            return Err(Error::shape(name, "the input sequence is empty (0 time steps)"));
        }
        let states = self.num_layers * self.dirs();
        let state_shape = [states, batch, self.hidden_size];
        let read_state = |what: &str, s: &Tensor| -> Result<Tensor> {
            let s = if unbatched { s.unsqueeze(1)? } else { s.clone() };
            if s.shape() != state_shape {
                let want: Vec<usize> = if unbatched { vec![states, self.hidden_size] } else { state_shape.to_vec() };
                return Err(Error::shape(
                    name,
                    format!("initial {what} {:?} must be [num_layers·directions, batch, hidden] = {want:?}", s.shape()),
                ));
            }
            Ok(s)
        };
        let zeros = || Tensor::full_dtype(0.0, &state_shape, x.dtype(), &x.device());
        let (h0, c0) = match init {
            Some((h, c)) => (read_state("h", h)?, c.map(|c| read_state("c", c)).transpose()?),
            None => (zeros()?, None),
        };
        let c0 = match (self.kind, c0) {
            (Kind::Lstm, Some(c)) => Some(c),
            (Kind::Lstm, None) => Some(zeros()?),
            _ => None,
        };
        let training = trace::effective_training(self.training);
        let mut layer_in = x;
        let (mut hs, mut cs) = (Vec::new(), Vec::new());
        for layer in 0..self.num_layers {
            let mut outs = Vec::new();
            for dir in 0..self.dirs() {
                let k = layer * self.dirs() + dir;
                let h = h0.narrow(0, k, 1)?.squeeze(0)?;
                let c = c0.as_ref().map(|c| c.narrow(0, k, 1)?.squeeze(0)).transpose()?;
                let (out, h, c) = self.run_direction(&self.weights[k], &layer_in, h, c, dir == 1)?;
                outs.push(out);
                hs.push(h);
                cs.extend(c);
            }
            layer_in = if outs.len() == 1 { outs.remove(0) } else { Tensor::cat(&outs, 2)? };
            if training && self.dropout > 0.0 && layer + 1 < self.num_layers {
                layer_in = layer_in.dropout_with(self.dropout, true, &current_generator())?;
            }
        }
        let mut h = Tensor::stack(&hs, 0)?;
        let mut c = if cs.is_empty() { None } else { Some(Tensor::stack(&cs, 0)?) };
        let out = if unbatched {
            h = h.squeeze(1)?;
            c = c.map(|c| c.squeeze(1)).transpose()?;
            layer_in.squeeze(1)?
        } else if self.batch_first {
            layer_in.transpose(0, 1)?
        } else {
            layer_in
        };
        Ok((out, Final { h, c }))
    }

    /// One layer in one direction over `x` `[T, B, in]`: the outputs `[T, B, hidden]` in
    /// time order and the final state.
    fn run_direction(
        &self,
        w: &DirWeights,
        x: &Tensor,
        mut h: Tensor,
        mut c: Option<Tensor>,
        reverse: bool,
    ) -> Result<(Tensor, Tensor, Option<Tensor>)> {
        let steps = x.shape()[0];
        let b_hh_in_projection = if self.kind == Kind::Gru { None } else { w.b_hh.as_ref() };
        let xp = project(self.name, x, &w.w_ih, w.b_ih.as_ref(), b_hh_in_projection)?;
        // The time loop runs as one op with a hand-written backward (lstm_sequence.rs,
        // gru_rnn_sequence.rs), unless forward-mode tangents are flowing (those ops have
        // no jvp): then step by step with recorded ops.
        let tangents = [x, &w.w_ih, &w.w_hh, &h].iter().any(|t| t.tangent().is_some())
            || c.as_ref().is_some_and(|c| c.tangent().is_some())
            || xp.tangent().is_some();
        if !tangents {
            let n = self.hidden_size;
            let last = if reverse { 0 } else { steps - 1 };
            let y = match (self.kind, &c) {
                (Kind::Lstm, Some(c0)) => LstmSequence { reverse }.apply(&[&xp, &w.w_hh, &h, c0])?,
                (Kind::Gru, _) => {
                    let b_hh = match &w.b_hh {
                        Some(b) => b.clone(),
                        None => Tensor::full_dtype(0.0, &[3 * n], xp.dtype(), &xp.device())?,
                    };
                    GruSequence { reverse }.apply(&[&xp, &w.w_hh, &b_hh, &h])?
                }
                (Kind::Rnn(act), _) => RnnSequence { reverse, act }.apply(&[&xp, &w.w_hh, &h])?,
                (Kind::Lstm, None) => return Err(Error::msg("internal: LSTM without a cell state")),
            };
            let out = y.narrow(2, 0, n)?;
            let fin = y.narrow(0, last, 1)?.squeeze(0)?;
            let c_fin = if self.kind == Kind::Lstm { Some(fin.narrow(1, n, n)?) } else { None };
            return Ok((out, fin.narrow(1, 0, n)?, c_fin));
        }
        let w_hh_t = w.w_hh.t()?;
        let mut outs = vec![None; steps];
        for i in 0..steps {
            let t = if reverse { steps - 1 - i } else { i };
            let xt = xp.narrow(0, t, 1)?.squeeze(0)?;
            h = match self.kind {
                Kind::Rnn(act) => rnn_step(&xt, &h, &w_hh_t, act)?,
                Kind::Gru => gru_step(&xt, &h, &w_hh_t, w.b_hh.as_ref())?.h,
                Kind::Lstm => {
                    let prev = c.as_ref().ok_or_else(|| Error::msg("internal: LSTM without a cell state"))?;
                    let s = lstm_step(&xt, &h, prev, &w_hh_t)?;
                    c = Some(s.c);
                    s.h
                }
            };
            outs[t] = Some(h.clone());
        }
        let outs: Vec<Tensor> = outs.into_iter().flatten().collect();
        Ok((Tensor::stack(&outs, 0)?, h, c))
    }

    fn validate(&self) -> Result<()> {
        let name = self.name;
        if self.num_layers == 0 || self.hidden_size == 0 {
            return Err(Error::arg(
                name,
                format!("num_layers {} and hidden_size {} must be positive", self.num_layers, self.hidden_size),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::arg(name, format!("dropout {} must be in [0, 1)", self.dropout)));
        }
        Ok(())
    }

    fn param_names(&self, k: usize) -> [String; 4] {
        let (layer, dir) = (k / self.dirs(), k % self.dirs());
        let sfx = if dir == 1 { "_reverse" } else { "" };
        ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map(|n| format!("{n}_l{layer}{sfx}"))
    }
}

impl Module for Recurrent {
    fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
        for (k, w) in self.weights.iter().enumerate() {
            let names = self.param_names(k);
            let tensors = [Some(&w.w_ih), Some(&w.w_hh), w.b_ih.as_ref(), w.b_hh.as_ref()];
            for (n, t) in names.iter().zip(tensors) {
                if let Some(t) = t {
                    f(&lolcore::nn::join_name(prefix, n), t, TensorKind::Parameter);
                }
            }
        }
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
        for k in 0..self.weights.len() {
            let names = self.param_names(k);
            let w = &mut self.weights[k];
            let tensors = [Some(&mut w.w_ih), Some(&mut w.w_hh), w.b_ih.as_mut(), w.b_hh.as_mut()];
            for (n, t) in names.iter().zip(tensors) {
                if let Some(t) = t {
                    f(&lolcore::nn::join_name(prefix, n), t, TensorKind::Parameter)?;
                }
            }
        }
        Ok(())
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn is_training(&self) -> Option<bool> {
        Some(self.training)
    }
}
