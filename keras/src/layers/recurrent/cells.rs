//! RNNCell, LSTMCell and GRUCell (PyTorch's): one time step, for loops the user writes.
//! Parameters `weight_ih [G·hidden, input]`, `weight_hh [G·hidden, hidden]`, `bias_ih`,
//! `bias_hh [G·hidden]` (G = 1, 4, 3), all drawn from U(−1/√hidden, 1/√hidden).

use super::step::{gru_step, lstm_step, rnn_step, Nonlinearity};
use crate::layers::param_init::InitErrors;
use crate::Module;
use lolcore::nn::Init;
use lolcore::{Error, Result, Tensor};

/// The four tensors of a cell (or of one layer and direction of a sequence layer).
pub(crate) fn cell_params(
    errs: &mut InitErrors,
    gates: usize,
    input: usize,
    hidden: usize,
    bias: bool,
) -> (Tensor, Tensor, Option<Tensor>, Option<Tensor>) {
    let g = gates.saturating_mul(hidden);
    let p = |errs: &mut InitErrors, name, shape: &[usize]| errs.param(name, Init::TorchDefault, shape, hidden, hidden);
    let w_ih = p(errs, "weight_ih", &[g, input]);
    let w_hh = p(errs, "weight_hh", &[g, hidden]);
    let (b_ih, b_hh) =
        if bias { (Some(p(errs, "bias_ih", &[g])), Some(p(errs, "bias_hh", &[g]))) } else { (None, None) };
    (w_ih, w_hh, b_ih, b_hh)
}

/// `x·W_ihᵀ + b_ih (+ b_hh)` for an input `[.., input]`, checked against the weight.
pub(crate) fn project(
    layer: &'static str,
    x: &Tensor,
    w_ih: &Tensor,
    b_ih: Option<&Tensor>,
    b_hh: Option<&Tensor>,
) -> Result<Tensor> {
    let input = w_ih.shape()[1];
    if x.rank() == 0 || x.shape()[x.rank() - 1] != input {
        return Err(Error::shape(layer, format!("input {:?} must end in input_size {input}", x.shape())));
    }
    let mut xp = x.matmul(&w_ih.t()?)?;
    for b in [b_ih, b_hh].into_iter().flatten() {
        xp = xp.add(b)?;
    }
    Ok(xp)
}

/// A state given by the user must be `[batch, hidden]` (or `[hidden]` for one sample).
fn check_state(layer: &'static str, what: &str, s: &Tensor, x: &Tensor, hidden: usize) -> Result<()> {
    let mut want = x.shape()[..x.rank() - 1].to_vec();
    want.push(hidden);
    if s.shape() != want.as_slice() {
        return Err(Error::shape(layer, format!("{what} {:?} must be {want:?} for input {:?}", s.shape(), x.shape())));
    }
    Ok(())
}

fn zeros_state(x: &Tensor, hidden: usize) -> Result<Tensor> {
    let mut s = x.shape()[..x.rank() - 1].to_vec();
    s.push(hidden);
    Tensor::full_dtype(0.0, &s, x.dtype(), &x.device())
}

macro_rules! cell_struct {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Module)]
        pub struct $name {
            pub weight_ih: Tensor,
            pub weight_hh: Tensor,
            pub bias_ih: Option<Tensor>,
            pub bias_hh: Option<Tensor>,
            #[module(skip)]
            init_errors: InitErrors,
        }
        impl $name {
            fn hidden(&self) -> usize {
                self.weight_hh.shape().get(1).copied().unwrap_or(0)
            }
            fn build(input: usize, hidden: usize, bias: bool) -> Self {
                let mut errs = InitErrors::default();
                let (weight_ih, weight_hh, bias_ih, bias_hh) = cell_params(&mut errs, Self::GATES, input, hidden, bias);
                $name { weight_ih, weight_hh, bias_ih, bias_hh, init_errors: errs }
            }
            /// With (default) or without `bias_ih` and `bias_hh`.
            pub fn bias(self, on: bool) -> Self {
                Self::build(self.weight_ih.shape().get(1).copied().unwrap_or(0), self.hidden(), on)
            }
        }
    };
}

cell_struct!(
    /// An Elman RNN cell: `h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)` (or relu).
    ///
    /// - `step(x [batch, input], h [batch, hidden])` → `h'`; `x [input]` for one sample
    RNNCell
);
cell_struct!(
    /// A long short-term memory cell: gates `i, f, g, o` from `x·W_ihᵀ + b_ih + h·W_hhᵀ +
    /// b_hh`; `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`.
    ///
    /// - `step(x [batch, input], (h, c) [batch, hidden])` → `(h', c')`
    LSTMCell
);
cell_struct!(
    /// A gated recurrent unit cell: `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`,
    /// `n = tanh(x_n + r·h_n)`, `h' = (1 − z)·n + z·h`, where `x_* = x·W_iᵀ + b_i*` and
    /// `h_* = h·W_hᵀ + b_h*`.
    ///
    /// - `step(x [batch, input], h [batch, hidden])` → `h'`
    GRUCell
);

impl RNNCell {
    const GATES: usize = 1;
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::build(input_size, hidden_size, true)
    }
    /// One step with `tanh`; `h` `None` starts from zeros.
    pub fn step(&self, x: &Tensor, h: Option<&Tensor>) -> Result<Tensor> {
        self.step_with(x, h, Nonlinearity::Tanh)
    }
    /// One step with the given nonlinearity.
    pub fn step_with(&self, x: &Tensor, h: Option<&Tensor>, act: Nonlinearity) -> Result<Tensor> {
        self.init_errors.check("RNNCell")?;
        let xp = project("RNNCell", x, &self.weight_ih, self.bias_ih.as_ref(), self.bias_hh.as_ref())?;
        let h = match h {
            Some(h) => {
                check_state("RNNCell", "h", h, x, self.hidden())?;
                h.clone()
            }
            None => zeros_state(x, self.hidden())?,
        };
        rnn_step(&xp, &h, &self.weight_hh.t()?, act)
    }
}

impl LSTMCell {
    const GATES: usize = 4;
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::build(input_size, hidden_size, true)
    }
    /// One step; `state` `None` starts from zeros. Returns `(h', c')`.
    pub fn step(&self, x: &Tensor, state: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, Tensor)> {
        self.init_errors.check("LSTMCell")?;
        let xp = project("LSTMCell", x, &self.weight_ih, self.bias_ih.as_ref(), self.bias_hh.as_ref())?;
        let (h, c) = match state {
            Some((h, c)) => {
                check_state("LSTMCell", "h", h, x, self.hidden())?;
                check_state("LSTMCell", "c", c, x, self.hidden())?;
                (h.clone(), c.clone())
            }
            None => (zeros_state(x, self.hidden())?, zeros_state(x, self.hidden())?),
        };
        let s = lstm_step(&xp, &h, &c, &self.weight_hh.t()?)?;
        Ok((s.h, s.c))
    }
}

impl GRUCell {
    const GATES: usize = 3;
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::build(input_size, hidden_size, true)
    }
    /// One step; `h` `None` starts from zeros.
    pub fn step(&self, x: &Tensor, h: Option<&Tensor>) -> Result<Tensor> {
        self.init_errors.check("GRUCell")?;
        let xp = project("GRUCell", x, &self.weight_ih, self.bias_ih.as_ref(), None)?;
        let h = match h {
            Some(h) => {
                check_state("GRUCell", "h", h, x, self.hidden())?;
                h.clone()
            }
            None => zeros_state(x, self.hidden())?,
        };
        Ok(gru_step(&xp, &h, &self.weight_hh.t()?, self.bias_hh.as_ref())?.h)
    }
}
