//! The GRU and plain-RNN time loops of one layer and direction as single differentiable
//! ops with hand-written backwards, like `lstm_sequence.rs`: a recorded op per step would
//! make each step's slice of the projected input cost a whole `[T, B, G·H]` gradient in
//! the backward (quadratic in T).

use super::step::{gru_step, rnn_step, Nonlinearity};
use lolcore::{no_grad, Function, Result, Tensor};

fn order(steps: usize, reverse: bool) -> Vec<usize> {
    if reverse {
        (0..steps).rev().collect()
    } else {
        (0..steps).collect()
    }
}

fn step_of(t: &Tensor, i: usize) -> Result<Tensor> {
    t.narrow(0, i, 1)?.squeeze(0)
}

/// `dW = Σ_t d_tᵀ · h_{t−1}` as one GEMM over all steps (`d [T, B, G·H]`, `h_prev` per
/// step `[B, H]` in time order).
fn recurrent_weight_grad(d: &Tensor, h_prev: &[Tensor]) -> Result<Tensor> {
    let (steps, b, gh) = (d.dims()[0], d.dims()[1], d.dims()[2]);
    let n = h_prev[0].dims()[1];
    d.reshape(&[steps * b, gh])?.t()?.matmul(&Tensor::stack(h_prev, 0)?.reshape(&[steps * b, n])?)
}

/// Inputs `xp [T, B, 3H]` (with `b_ih`), `w_hh [3H, H]`, `b_hh [3H]` (zeros when the layer
/// has no bias), `h0 [B, H]`. Output `[T, B, 5H]`: per step `h, r, z, n, h_n` where `h_n =
/// h_{t−1}·W_hnᵀ + b_hn` (kept for the backward).
pub(crate) struct GruSequence {
    pub(crate) reverse: bool,
}

impl Function for GruSequence {
    fn name(&self) -> &'static str {
        "gru_sequence"
    }

    fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
        let (xp, b_hh) = (&x[0], &x[2]);
        let w_t = x[1].t()?;
        let mut h = x[3].clone();
        let mut out = vec![None; xp.dims()[0]];
        for t in order(xp.dims()[0], self.reverse) {
            let s = gru_step(&step_of(xp, t)?, &h, &w_t, Some(b_hh))?;
            out[t] = Some(Tensor::cat(&[&s.h, &s.r, &s.z, &s.n, &s.hn], 1)?);
            h = s.h;
        }
        Tensor::stack(&out.into_iter().flatten().collect::<Vec<_>>(), 0)
    }

    fn backward(&self, x: &[Tensor], y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
        no_grad(|| {
            let (w_hh, h0) = (&x[1], &x[3]);
            let (steps, n) = (y.dims()[0], w_hh.dims()[1]);
            let part = |v: &Tensor, k: usize| v.narrow(1, k * n, n);
            let seq = order(steps, self.reverse);
            let (mut dxp, mut dhp_all, mut h_prev) = (vec![None; steps], vec![None; steps], vec![None; steps]);
            let mut dh_next = h0.zeros_like()?;
            for (k, &t) in seq.iter().enumerate().rev() {
                let (yt, gt) = (step_of(y, t)?, step_of(gy, t)?);
                let (r, z, cand, hn) = (part(&yt, 1)?, part(&yt, 2)?, part(&yt, 3)?, part(&yt, 4)?);
                let hp = if k == 0 { h0.clone() } else { part(&step_of(y, seq[k - 1])?, 0)? };
                let dh = part(&gt, 0)?.add(&dh_next)?;
                let one_minus = |v: &Tensor| v.affine(-1.0, 1.0);
                let dn = dh.mul(&one_minus(&z)?)?.mul(&one_minus(&cand.sqr()?)?)?;
                let dz = dh.mul(&hp.sub(&cand)?)?.mul(&z.mul(&one_minus(&z)?)?)?;
                let dr = dn.mul(&hn)?.mul(&r.mul(&one_minus(&r)?)?)?;
                let dhn = dn.mul(&r)?;
                dxp[t] = Some(Tensor::cat(&[&dr, &dz, &dn], 1)?);
                let dhp = Tensor::cat(&[&dr, &dz, &dhn], 1)?;
                dh_next = dh.mul(&z)?.add(&dhp.matmul(w_hh)?)?;
                dhp_all[t] = Some(dhp);
                h_prev[t] = Some(hp);
            }
            let dxp = Tensor::stack(&dxp.into_iter().flatten().collect::<Vec<_>>(), 0)?;
            let dhp = Tensor::stack(&dhp_all.into_iter().flatten().collect::<Vec<_>>(), 0)?;
            let h_prev: Vec<Tensor> = h_prev.into_iter().flatten().collect();
            let dw = recurrent_weight_grad(&dhp, &h_prev)?;
            let db = dhp.sum_dims(&[0, 1])?;
            Ok(vec![Some(dxp), Some(dw), Some(db), Some(dh_next)])
        })
    }
}

/// Inputs `xp [T, B, H]` (both biases in), `w_hh [H, H]`, `h0 [B, H]`. Output
/// `[T, B, H]`: the hidden states.
pub(crate) struct RnnSequence {
    pub(crate) reverse: bool,
    pub(crate) act: Nonlinearity,
}

impl Function for RnnSequence {
    fn name(&self) -> &'static str {
        "rnn_sequence"
    }

    fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
        let (xp, w_t) = (&x[0], x[1].t()?);
        let steps = xp.dims()[0];
        let mut h = x[2].clone();
        let mut out = vec![None; steps];
        for t in order(steps, self.reverse) {
            h = rnn_step(&step_of(xp, t)?, &h, &w_t, self.act)?;
            out[t] = Some(h.clone());
        }
        Tensor::stack(&out.into_iter().flatten().collect::<Vec<_>>(), 0)
    }

    fn backward(&self, x: &[Tensor], y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
        no_grad(|| {
            let (w_hh, h0) = (&x[1], &x[2]);
            let steps = y.dims()[0];
            let seq = order(steps, self.reverse);
            let (mut dpre, mut h_prev) = (vec![None; steps], vec![None; steps]);
            let mut dh_next = h0.zeros_like()?;
            for (k, &t) in seq.iter().enumerate().rev() {
                let h = step_of(y, t)?;
                let dh = step_of(gy, t)?.add(&dh_next)?;
                let d = match self.act {
                    Nonlinearity::Tanh => dh.mul(&h.sqr()?.affine(-1.0, 1.0)?)?,
                    Nonlinearity::Relu => h.gt_scalar(0.0)?.where_cond(&dh, &dh.zeros_like()?)?,
                };
                dh_next = d.matmul(w_hh)?;
                dpre[t] = Some(d);
                h_prev[t] = Some(if k == 0 { h0.clone() } else { step_of(y, seq[k - 1])? });
            }
            let dxp = Tensor::stack(&dpre.into_iter().flatten().collect::<Vec<_>>(), 0)?;
            let h_prev: Vec<Tensor> = h_prev.into_iter().flatten().collect();
            let dw = recurrent_weight_grad(&dxp, &h_prev)?;
            Ok(vec![Some(dxp), Some(dw), Some(dh_next)])
        })
    }
}
