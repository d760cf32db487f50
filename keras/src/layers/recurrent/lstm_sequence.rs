//! The LSTM time loop of one layer and direction as a single differentiable op with a
//! hand-written backward (backpropagation through time, as cuDNN does), instead of a
//! dozen recorded ops per step: the forward runs the steps without building a graph and
//! keeps each step's activated gates; the backward walks the steps in reverse and gets
//! the recurrent weight's gradient from one GEMM over all steps.

use super::step::lstm_step;
use lolcore::{no_grad, Function, Result, Tensor};

/// Inputs: the projected input `xp [T, B, 4H]` (both biases in), `w_hh [4H, H]`,
/// `h0`, `c0 [B, H]`. Output `[T, B, 6H]`: per step `h, c, i, f, g, o` (activated gates),
/// in time order whichever way the loop ran.
pub(crate) struct LstmSequence {
    pub(crate) reverse: bool,
}

fn order(steps: usize, reverse: bool) -> Box<dyn Iterator<Item = usize>> {
    if reverse {
        Box::new((0..steps).rev())
    } else {
        Box::new(0..steps)
    }
}

impl Function for LstmSequence {
    fn name(&self) -> &'static str {
        "lstm_sequence"
    }

    fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
        let (xp, w_hh) = (&x[0], &x[1]);
        let steps = xp.dims()[0];
        let w_t = w_hh.t()?;
        let (mut h, mut c) = (x[2].clone(), x[3].clone());
        let mut out = vec![None; steps];
        for t in order(steps, self.reverse) {
            let s = lstm_step(&xp.narrow(0, t, 1)?.squeeze(0)?, &h, &c, &w_t)?;
            out[t] = Some(Tensor::cat(&[&s.h, &s.c, &s.i, &s.f, &s.g, &s.o], 1)?);
            (h, c) = (s.h, s.c);
        }
        let out: Vec<Tensor> = out.into_iter().flatten().collect();
        Tensor::stack(&out, 0)
    }

    fn backward(&self, x: &[Tensor], y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
        no_grad(|| {
            let (w_hh, h0, c0) = (&x[1], &x[2], &x[3]);
            let (steps, n) = (y.dims()[0], w_hh.dims()[1]);
            let part = |t: &Tensor, k: usize| t.narrow(1, k * n, n);
            let mut dgates = vec![None; steps];
            let mut h_prev = vec![None; steps];
            let (mut dh_next, mut dc_next) = (h0.zeros_like()?, c0.zeros_like()?);
            let seq: Vec<usize> = order(steps, self.reverse).collect();
            for (k, &t) in seq.iter().enumerate().rev() {
                let (yt, gt) = (y.narrow(0, t, 1)?.squeeze(0)?, gy.narrow(0, t, 1)?.squeeze(0)?);
                let (c, i, f, g, o) = (part(&yt, 1)?, part(&yt, 2)?, part(&yt, 3)?, part(&yt, 4)?, part(&yt, 5)?);
                let (hp, cp) = match k {
                    0 => (h0.clone(), c0.clone()),
                    _ => {
                        let prev = y.narrow(0, seq[k - 1], 1)?.squeeze(0)?;
                        (part(&prev, 0)?, part(&prev, 1)?)
                    }
                };
                let dh = part(&gt, 0)?.add(&dh_next)?;
                let tanh_c = c.tanh()?;
                let dc = part(&gt, 1)?.add(&dc_next)?.add(&dh.mul(&o)?.mul(&tanh_c.sqr()?.affine(-1.0, 1.0)?)?)?;
                let d_o = dh.mul(&tanh_c)?;
                let sig = |v: &Tensor, d: Tensor| -> Result<Tensor> { d.mul(&v.mul(&v.affine(-1.0, 1.0)?)?) };
                let di = sig(&i, dc.mul(&g)?)?;
                let df = sig(&f, dc.mul(&cp)?)?;
                let dg = dc.mul(&i)?.mul(&g.sqr()?.affine(-1.0, 1.0)?)?;
                let d_o = sig(&o, d_o)?;
                let dgt = Tensor::cat(&[&di, &df, &dg, &d_o], 1)?;
                dh_next = dgt.matmul(w_hh)?;
                dc_next = dc.mul(&f)?;
                dgates[t] = Some(dgt);
                h_prev[t] = Some(hp);
            }
            let dgates: Vec<Tensor> = dgates.into_iter().flatten().collect();
            let h_prev: Vec<Tensor> = h_prev.into_iter().flatten().collect();
            let dxp = Tensor::stack(&dgates, 0)?;
            // dW_hh = Σ_t dgates_tᵀ · h_{t−1}: one GEMM over all steps.
            let b = h0.dims()[0];
            let dg_all = dxp.reshape(&[steps * b, 4 * n])?;
            let hp_all = Tensor::stack(&h_prev, 0)?.reshape(&[steps * b, n])?;
            let dw = dg_all.t()?.matmul(&hp_all)?;
            Ok(vec![Some(dxp), Some(dw), Some(dh_next), Some(dc_next)])
        })
    }
}
