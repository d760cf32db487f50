//! One time step of each recurrence, given the input already projected (`x·W_ihᵀ + b`),
//! shared by the cells and the sequence layers. Gate layout as PyTorch: i, f, g, o
//! (LSTM) and r, z, n (GRU), stacked along the last dim of the projections.

use lolcore::{Result, Tensor};

/// The nonlinearity of a plain RNN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Nonlinearity {
    #[default]
    Tanh,
    Relu,
}

/// `h' = act(xp + h·W_hhᵀ)`, `xp` holding both biases.
pub(crate) fn rnn_step(xp: &Tensor, h: &Tensor, w_hh_t: &Tensor, act: Nonlinearity) -> Result<Tensor> {
    let pre = xp.add(&h.matmul(w_hh_t)?)?;
    match act {
        Nonlinearity::Tanh => pre.tanh(),
        Nonlinearity::Relu => pre.relu(),
    }
}

/// One LSTM step: the new state and the activated gates (kept by the fused sequence op
/// for its backward).
pub(crate) struct LstmStep {
    pub h: Tensor,
    pub c: Tensor,
    pub i: Tensor,
    pub f: Tensor,
    pub g: Tensor,
    pub o: Tensor,
}

/// An LSTM step, `xp` holding both biases.
pub(crate) fn lstm_step(xp: &Tensor, h: &Tensor, c: &Tensor, w_hh_t: &Tensor) -> Result<LstmStep> {
    let gates = xp.add(&h.matmul(w_hh_t)?)?;
    let n = h.shape()[h.rank() - 1];
    let d = gates.rank() - 1;
    let i = gates.narrow(d, 0, n)?.sigmoid()?;
    let f = gates.narrow(d, n, n)?.sigmoid()?;
    let g = gates.narrow(d, 2 * n, n)?.tanh()?;
    let o = gates.narrow(d, 3 * n, n)?.sigmoid()?;
    let c = f.mul(c)?.add(&i.mul(&g)?)?;
    let h = o.mul(&c.tanh()?)?;
    Ok(LstmStep { h, c, i, f, g, o })
}

/// One GRU step: the new state, the gates and `h_n = h·W_hnᵀ + b_hn`.
pub(crate) struct GruStep {
    pub h: Tensor,
    pub r: Tensor,
    pub z: Tensor,
    pub n: Tensor,
    pub hn: Tensor,
}

/// A GRU step: `xp` holds `b_ih` only, since `b_hn` sits inside the reset gate's product
/// (`n = tanh(x_n + r·(h·W_hnᵀ + b_hn))`).
pub(crate) fn gru_step(xp: &Tensor, h: &Tensor, w_hh_t: &Tensor, b_hh: Option<&Tensor>) -> Result<GruStep> {
    let mut hp = h.matmul(w_hh_t)?;
    if let Some(b) = b_hh {
        hp = hp.add(b)?;
    }
    let n = h.shape()[h.rank() - 1];
    let d = hp.rank() - 1;
    let part = |t: &Tensor, k: usize| t.narrow(d, k * n, n);
    let r = part(xp, 0)?.add(&part(&hp, 0)?)?.sigmoid()?;
    let z = part(xp, 1)?.add(&part(&hp, 1)?)?.sigmoid()?;
    let hn = part(&hp, 2)?;
    let cand = part(xp, 2)?.add(&r.mul(&hn)?)?.tanh()?;
    // (1 − z)·n + z·h
    let h = cand.add(&z.mul(&h.sub(&cand)?)?)?;
    Ok(GruStep { h, r, z, n: cand, hn })
}
