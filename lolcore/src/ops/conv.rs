//! 2-D convolution (NCHW input, `[out, in/groups, kh, kw]` weight, PyTorch's layout) and
//! the two products its backward needs.

use super::conv_params::{Conv2dParams, ConvGeom};
use crate::autograd::{BackwardFn, Saved};
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

impl Tensor {
    /// Cross-correlation of `[n, c, h, w]` with `[o, c/groups, kh, kw]` → `[n, o, ho, wo]`.
    pub fn conv2d(&self, w: &Tensor, p: Conv2dParams) -> Result<Tensor> {
        self.conv2d_bias(w, None, p)
    }

    /// conv2d with a per-channel bias `[o]` added in the same pass.
    pub fn conv2d_bias(&self, w: &Tensor, bias: Option<&Tensor>, p: Conv2dParams) -> Result<Tensor> {
        let op = "conv2d";
        if w.rank() != 4 {
            bail!(Error::shape(op, format!("weight {:?} must be 4-D [out, in/groups, kh, kw]", w.shape())));
        }
        let span = |k: usize, d: usize| d.saturating_mul(k.saturating_sub(1)).saturating_add(1);
        let spans = (span(w.shape()[2], p.dilation.0), span(w.shape()[3], p.dilation.1));
        let [(top, bottom), (left, right)] = p.padding.sides(op, p.stride, spans)?;
        if top == bottom && left == right {
            return self.conv2d_padded(w, bias, p, (top, left));
        }
        // "same" with an even kernel: the extra row and column go at the bottom and right.
        let x = self.pad(&[0, right - left, 0, bottom - top], super::pad::PadMode::Constant(0.0))?;
        x.conv2d_padded(w, bias, p, (top, left))
    }

    /// conv2d with symmetric zero padding `pad`.
    fn conv2d_padded(&self, w: &Tensor, bias: Option<&Tensor>, p: Conv2dParams, pad: (usize, usize)) -> Result<Tensor> {
        let op = "conv2d";
        self.same_device(op, w)?;
        self.same_dtype(op, w)?;
        let g = ConvGeom::new(self.shape(), w.shape(), p, pad)?;
        let b = match bias {
            Some(b) => {
                self.same_device(op, b)?;
                self.same_dtype(op, b)?;
                if b.shape() != [g.o] {
                    bail!(Error::shape(
                        op,
                        format!("bias {:?} must be [{}] for weight {:?}", b.shape(), g.o, w.shape())
                    ));
                }
                Some(b.contiguous_raw()?)
            }
            None => None,
        };
        let s = {
            let bs = b.as_ref().map(|b| b.storage());
            self.storage().conv2d(self.layout(), &w.storage(), w.layout(), bs.as_deref(), &g)?
        };
        let y = Tensor::from_storage(s, &g.out_shape());
        let (nx, nw) = (self.tracks_grad(), w.tracks_grad());
        let (x, wt) = (self.detach(), w.detach());
        let (jx, jw) = (x.clone(), wt.clone());
        let mut inputs = vec![self, w];
        if let Some(b) = bias {
            inputs.push(b);
        }
        let has_bias = bias.is_some();
        y.record(
            op,
            &inputs,
            move || -> BackwardFn {
                let x_saved = nw.then(|| Saved::new(op, "input", &x));
                let w_saved = nx.then(|| Saved::new(op, "weight", &wt));
                Box::new(move |gy| {
                    let gx = match &w_saved {
                        Some(w) => Some(gy.conv2d_backward_input(w.get()?, &g)?),
                        None => None,
                    };
                    let gw = match &x_saved {
                        Some(x) => Some(x.get()?.conv2d_backward_weight(gy, &g)?),
                        None => None,
                    };
                    let mut out = vec![gx, gw];
                    if has_bias {
                        out.push(Some(gy.sum_dims(&[0, 2, 3])?));
                    }
                    Ok(out)
                })
            },
            move |t, _| {
                let y = t[0].conv2d_padded(&jw, None, p, pad)?.add(&jx.conv2d_padded(&t[1], None, p, pad)?)?;
                match t.get(2) {
                    Some(tb) => y.add(&tb.reshape(&[1, tb.numel(), 1, 1])?),
                    None => Ok(y),
                }
            },
        )
    }

    /// The convolution `self ⋆ w` of geometry `g`, no bias, no graph.
    pub(crate) fn conv2d_with_geom(&self, w: &Tensor, g: &ConvGeom) -> Result<Tensor> {
        let s = self.storage().conv2d(self.layout(), &w.storage(), w.layout(), None, g)?;
        Ok(Tensor::from_storage(s, &g.out_shape()))
    }

    /// The gradient of conv2d's input given `self` = the output gradient.
    pub(crate) fn conv2d_backward_input(&self, w: &Tensor, g: &ConvGeom) -> Result<Tensor> {
        let s = self.storage().conv2d_backward_input(self.layout(), &w.storage(), w.layout(), g)?;
        Ok(Tensor::from_storage(s, &[g.n, g.c, g.h, g.w]))
    }

    /// The gradient of conv2d's weight given `self` = the input and `gy` the output gradient.
    pub(crate) fn conv2d_backward_weight(&self, gy: &Tensor, g: &ConvGeom) -> Result<Tensor> {
        let s = self.storage().conv2d_backward_weight(self.layout(), &gy.storage(), gy.layout(), g)?;
        Ok(Tensor::from_storage(s, &[g.o, g.c / g.p.groups, g.kh, g.kw]))
    }
}
