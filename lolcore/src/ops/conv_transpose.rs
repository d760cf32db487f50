//! Transposed convolution (PyTorch's `conv_transpose1d/2d`): the adjoint of a conv2d,
//! with weight `[in, out/groups, kh, kw]`. Its forward is conv2d's input gradient and
//! its backward is a conv2d (input) and conv2d's weight gradient (weight), so it runs on
//! the same kernels on every device.

use super::conv_params::{ConvGeom, IntoPair};
use crate::autograd::{BackwardFn, Saved};
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;
use crate::Conv2dParams;

/// Stride, padding, output padding, dilation (each `(h, w)`) and groups of a transposed
/// convolution. Output size: `(in − 1)·stride − 2·padding + dilation·(k − 1) +
/// output_padding + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dParams {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub output_padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl Default for ConvTranspose2dParams {
    fn default() -> Self {
        ConvTranspose2dParams { stride: (1, 1), padding: (0, 0), output_padding: (0, 0), dilation: (1, 1), groups: 1 }
    }
}

impl ConvTranspose2dParams {
    pub fn stride(mut self, s: impl IntoPair) -> Self {
        self.stride = s.into_pair();
        self
    }
    pub fn padding(mut self, p: impl IntoPair) -> Self {
        self.padding = p.into_pair();
        self
    }
    /// Extra rows/columns on one side of the output (to pick among the input sizes a
    /// strided convolution maps to the same output size); smaller than the stride or
    /// the dilation.
    pub fn output_padding(mut self, p: impl IntoPair) -> Self {
        self.output_padding = p.into_pair();
        self
    }
    pub fn dilation(mut self, d: impl IntoPair) -> Self {
        self.dilation = d.into_pair();
        self
    }
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

/// Output length of a transposed convolution along one dim.
fn out_len(op: &'static str, len: usize, k: usize, s: usize, p: usize, op_: usize, d: usize) -> Result<usize> {
    if s == 0 || d == 0 || k == 0 {
        bail!(Error::arg(op, format!("stride {s}, dilation {d} and kernel {k} must be positive")));
    }
    if op_ >= s && op_ >= d {
        bail!(Error::arg(op, format!("output_padding {op_} must be smaller than the stride {s} or the dilation {d}")));
    }
    let full = (len.max(1) - 1)
        .checked_mul(s)
        .and_then(|v| v.checked_add(d.checked_mul(k - 1)?))
        .and_then(|v| v.checked_add(op_ + 1))
        .ok_or_else(|| Error::shape(op, "the output size overflows"))?;
    match full.checked_sub(2 * p) {
        Some(n) if n > 0 && len > 0 => Ok(n),
        _ => bail!(Error::shape(
            op,
            format!("padding {p} leaves no output for an input of {len} with kernel {k}, stride {s}, dilation {d}")
        )),
    }
}

impl Tensor {
    /// Transposed convolution of `[n, in, h, w]` with `[in, out/groups, kh, kw]` →
    /// `[n, out, ho, wo]`, plus an optional bias `[out]`.
    pub fn conv_transpose2d(&self, w: &Tensor, bias: Option<&Tensor>, p: ConvTranspose2dParams) -> Result<Tensor> {
        let op = "conv_transpose2d";
        self.same_device(op, w)?;
        self.same_dtype(op, w)?;
        if self.rank() != 4 || w.rank() != 4 {
            bail!(Error::shape(
                op,
                format!(
                    "input {:?} must be [n, in, h, w] and weight {:?} [in, out/groups, kh, kw]",
                    self.shape(),
                    w.shape()
                )
            ));
        }
        let (x, ws) = (self.shape(), w.shape());
        if p.groups == 0 || x[1] != ws[0] {
            bail!(Error::shape(
                op,
                format!("input {x:?} has {} channels, weight {ws:?} expects {} (groups {})", x[1], ws[0], p.groups)
            ));
        }
        let ho = out_len(op, x[2], ws[2], p.stride.0, p.padding.0, p.output_padding.0, p.dilation.0)?;
        let wo = out_len(op, x[3], ws[3], p.stride.1, p.padding.1, p.output_padding.1, p.dilation.1)?;
        let out_c = ws[1].checked_mul(p.groups).ok_or_else(|| Error::shape(op, "channel count overflows"))?;
        // The convolution this one is the adjoint of: [n, out, ho, wo] ⋆ w → [n, in, h, w].
        let cp = Conv2dParams::default().stride(p.stride).dilation(p.dilation).groups(p.groups);
        let g = ConvGeom::new(&[x[0], out_c, ho, wo], ws, cp, p.padding).map_err(|e| e.context(op))?;
        if (g.ho, g.wo) != (x[2], x[3]) {
            bail!(Error::msg(format!("internal: {op} geometry {g:?} does not map back to {x:?}")));
        }
        let y = self.conv2d_backward_input(w, &g)?;
        let (nx, nw) = (self.tracks_grad(), w.tracks_grad());
        let (jx, jw) = (self.detach(), w.detach());
        let y = y.record(
            op,
            &[self, w],
            move || -> BackwardFn {
                let x_saved = nw.then(|| Saved::new(op, "input", &jx));
                let w_saved = nx.then(|| Saved::new(op, "weight", &jw));
                Box::new(move |gy| {
                    let gx = match &w_saved {
                        Some(w) => Some(gy.conv2d_with_geom(w.get()?, &g)?),
                        None => None,
                    };
                    let gw = match &x_saved {
                        Some(x) => Some(gy.conv2d_backward_weight(x.get()?, &g)?),
                        None => None,
                    };
                    Ok(vec![gx, gw])
                })
            },
            move |t, _| {
                let (x, w) = (self.detach(), w.detach());
                t[0].conv_transpose2d(&w, None, p)?.add(&x.conv_transpose2d(&t[1], None, p)?)
            },
        )?;
        match bias {
            Some(b) => {
                if b.shape() != [out_c] {
                    bail!(Error::shape(op, format!("bias {:?} must be [{out_c}] for weight {ws:?}", b.shape())));
                }
                y.add(&b.reshape(&[1, out_c, 1, 1])?)
            }
            None => Ok(y),
        }
    }

    /// Transposed convolution of `[n, in, l]` with `[in, out/groups, k]` → `[n, out, lo]`.
    pub fn conv_transpose1d(&self, w: &Tensor, bias: Option<&Tensor>, p: ConvTranspose1dParams) -> Result<Tensor> {
        let op = "conv_transpose1d";
        if self.rank() != 3 || w.rank() != 3 {
            bail!(Error::shape(
                op,
                format!("input {:?} must be [n, in, l] and weight {:?} [in, out/groups, k]", self.shape(), w.shape())
            ));
        }
        let p2 = ConvTranspose2dParams {
            stride: (1, p.stride),
            padding: (0, p.padding),
            output_padding: (0, p.output_padding),
            dilation: (1, p.dilation),
            groups: p.groups,
        };
        self.unsqueeze(2)?.conv_transpose2d(&w.unsqueeze(2)?, bias, p2)?.squeeze(2)
    }
}

/// Stride, padding, output padding, dilation and groups of a 1-D transposed convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose1dParams {
    pub stride: usize,
    pub padding: usize,
    pub output_padding: usize,
    pub dilation: usize,
    pub groups: usize,
}

impl Default for ConvTranspose1dParams {
    fn default() -> Self {
        ConvTranspose1dParams { stride: 1, padding: 0, output_padding: 0, dilation: 1, groups: 1 }
    }
}

impl ConvTranspose1dParams {
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = p;
        self
    }
    pub fn output_padding(mut self, p: usize) -> Self {
        self.output_padding = p;
        self
    }
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = d;
        self
    }
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}
