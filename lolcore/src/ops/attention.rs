//! Scaled dot-product attention (PyTorch's `F.scaled_dot_product_attention`):
//! `softmax(q·kᵀ·scale + mask)·v` over the last two dims, with an attention mask, a key
//! padding mask, a causal mask and dropout on the probabilities.
//!
//! On the CPU (f32/f64, no dropout, no float mask that needs a gradient) it runs fused (`cpu/attention.rs`): blocks of query
//! rows, so no head ever holds its whole `[L, S]` score matrix, and the backward
//! recomputes the probabilities from each row's log-sum-exp. Elsewhere (CUDA, half
//! precision, or dropout) it is composed from batched matmul and softmax.
//!
//! A query whose keys are all masked gets a zero output and zero gradients (PyTorch's
//! scaled_dot_product_attention does the same; softmax alone would give NaN).

use crate::autograd::{BackwardFn, Saved};
use crate::cpu::attention::{self as fused, AttnFloat, AttnGeom};
use crate::cpu::strided::row_major;
use crate::cpu::CpuElem;
use crate::error::{bail, Error, Result};
use crate::rng::{current_generator, Generator};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{DType, Device};

/// Masks and options of an attention call. Masks broadcast to `[..., L, S]`:
/// - `attn_mask`: bool-like (u8; non-zero = may attend, PyTorch's SDPA convention) or
///   float (added to the scores, `-inf` to forbid);
/// - `key_padding_mask`: `[B, S]` for queries `[B, ..., L, E]`; non-zero = padding, never
///   attended (PyTorch's MultiheadAttention convention); a float mask is added;
/// - `is_causal`: query `i` attends keys `j ≤ i` only;
/// - `dropout_p`: dropout on the attention probabilities (from `generator`, else the
///   current generator);
/// - `scale`: `1/√E` unless given.
#[derive(Clone, Copy, Default)]
pub struct AttentionParams<'a> {
    pub attn_mask: Option<&'a Tensor>,
    pub key_padding_mask: Option<&'a Tensor>,
    pub is_causal: bool,
    pub dropout_p: f64,
    pub scale: Option<f64>,
    pub generator: Option<&'a Generator>,
}

impl<'a> AttentionParams<'a> {
    pub fn attn_mask(mut self, m: &'a Tensor) -> Self {
        self.attn_mask = Some(m);
        self
    }
    pub fn key_padding_mask(mut self, m: &'a Tensor) -> Self {
        self.key_padding_mask = Some(m);
        self
    }
    pub fn causal(mut self, on: bool) -> Self {
        self.is_causal = on;
        self
    }
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout_p = p;
        self
    }
    pub fn scale(mut self, s: f64) -> Self {
        self.scale = Some(s);
        self
    }
    pub fn generator(mut self, g: &'a Generator) -> Self {
        self.generator = Some(g);
        self
    }
}

const OP: &str = "scaled_dot_product_attention";

/// Checked sizes of an attention call.
struct Sizes {
    batch: Vec<usize>,
    l: usize,
    s: usize,
    e: usize,
    ev: usize,
}

fn sizes(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Sizes> {
    q.same_device(OP, k)?;
    q.same_device(OP, v)?;
    q.same_dtype(OP, k)?;
    q.same_dtype(OP, v)?;
    q.require_float(OP)?;
    let r = q.rank();
    if r < 2 || k.rank() != r || v.rank() != r {
        bail!(Error::shape(
            OP,
            format!("q {:?}, k {:?} and v {:?} must have the same rank, at least 2", q.shape(), k.shape(), v.shape())
        ));
    }
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    if qs[..r - 2] != ks[..r - 2] || qs[..r - 2] != vs[..r - 2] || ks[r - 2] != vs[r - 2] || qs[r - 1] != ks[r - 1] {
        bail!(Error::shape(
            OP,
            format!("q {qs:?} [..., L, E], k {ks:?} [..., S, E] and v {vs:?} [..., S, Ev] do not fit together")
        ));
    }
    if ks[r - 2] == 0 || qs[r - 1] == 0 {
        bail!(Error::shape(OP, format!("k {ks:?} has no keys or no features")));
    }
    Ok(Sizes { batch: qs[..r - 2].to_vec(), l: qs[r - 2], s: ks[r - 2], e: qs[r - 1], ev: vs[r - 1] })
}

/// The masks as one additive float bias broadcastable to `[..., L, S]` (0 or −∞ for
/// bool masks), or `None`.
fn mask_bias(q: &Tensor, z: &Sizes, p: &AttentionParams) -> Result<Option<Tensor>> {
    let additive = |m: &Tensor, forbid_when: bool| -> Result<Tensor> {
        if m.dtype().is_float() {
            return m.to_dtype(q.dtype());
        }
        let zero = Tensor::full_dtype(0.0, &[], q.dtype(), &m.device())?;
        let ninf = Tensor::full_dtype(f64::NEG_INFINITY, &[], q.dtype(), &m.device())?;
        let on = m.ne_scalar(0.0)?;
        if forbid_when {
            on.where_cond(&ninf, &zero)
        } else {
            on.where_cond(&zero, &ninf)
        }
    };
    let mut bias: Option<Tensor> = None;
    let full: Vec<usize> = z.batch.iter().copied().chain([z.l, z.s]).collect();
    if let Some(m) = p.attn_mask {
        q.same_device(OP, m)?;
        let fits =
            m.rank() <= full.len() && m.shape().iter().rev().zip(full.iter().rev()).all(|(&a, &b)| a == b || a == 1);
        if !fits {
            bail!(Error::shape(OP, format!("attn_mask {:?} does not broadcast to the scores {full:?}", m.shape())));
        }
        bias = Some(additive(m, false)?);
    }
    if let Some(m) = p.key_padding_mask {
        q.same_device(OP, m)?;
        let b = z.batch.first().copied();
        if b.is_none() || m.shape() != [b.unwrap_or(0), z.s] {
            bail!(Error::shape(
                OP,
                format!("key_padding_mask {:?} must be [batch, S] = [{}, {}]", m.shape(), b.unwrap_or(1), z.s)
            ));
        }
        // [B, S] → [B, 1, ..., 1, S]
        let mut s = vec![1; full.len()];
        s[0] = m.shape()[0];
        s[full.len() - 1] = z.s;
        let kp = additive(m, true)?.reshape(&s)?;
        bias = Some(match bias {
            Some(b) => b.add(&kp)?,
            None => kp,
        });
    }
    Ok(bias)
}

/// Attention probabilities `[..., L, S]`, composed (rows with every key masked are 0).
fn probabilities(q: &Tensor, k: &Tensor, bias: Option<&Tensor>, causal: bool, scale: f64, z: &Sizes) -> Result<Tensor> {
    let r = q.rank();
    let mut sc = q.matmul(&k.transpose(r - 2, r - 1)?)?.mul_scalar(scale)?;
    if let Some(b) = bias {
        sc = sc.add(b)?;
    }
    if causal {
        let above: Vec<u8> = (0..z.l * z.s).map(|i| u8::from(i % z.s > i / z.s)).collect();
        let above = Tensor::from_vec(above, &[z.l, z.s], &Device::Cpu)?.to_device(&q.device())?;
        sc = sc.masked_fill(&above, f64::NEG_INFINITY)?;
    }
    let dead = sc.detach().max_keepdim(r - 1)?.eq_scalar(f64::NEG_INFINITY)?;
    let zero = sc.scalar_like(0.0)?;
    let p = dead.where_cond(&zero, &sc)?.softmax(r - 1)?;
    dead.where_cond(&zero, &p)
}

/// For each flat head of `batch`, the index of the `[L, S]` block of `bias` it reads.
fn bias_blocks(batch: &[usize], bias_shape: &[usize]) -> Vec<usize> {
    let rank = batch.len();
    let bb: Vec<usize> = {
        let own = &bias_shape[..bias_shape.len() - 2];
        let mut v = vec![1; rank - own.len()];
        v.extend_from_slice(own);
        v
    };
    let heads: usize = batch.iter().product();
    (0..heads)
        .map(|mut h| {
            let (mut idx, mut stride) = (0, 1);
            for d in (0..rank).rev() {
                let i = h % batch[d];
                h /= batch[d];
                if bb[d] != 1 {
                    idx += i * stride;
                }
                stride *= bb[d];
            }
            idx
        })
        .collect()
}

/// A CPU tensor's elements in row-major order.
fn host<T: AttnFloat + CpuElem>(t: &Tensor) -> Result<Vec<T>> {
    let s = t.storage();
    match &*s {
        Storage::Cpu(c) => {
            let data = T::slice(c).ok_or_else(|| Error::msg("internal: attention dtype"))?;
            Ok(row_major(data, t.layout()).to_vec())
        }
        _ => bail!(Error::msg("internal: fused attention on a non-CPU tensor")),
    }
}

impl Tensor {
    /// Attention of queries `self` `[..., L, E]` over keys `[..., S, E]` and values
    /// `[..., S, Ev]` → `[..., L, Ev]`. See [`AttentionParams`] for masks and dropout.
    pub fn scaled_dot_product_attention(&self, k: &Tensor, v: &Tensor, p: AttentionParams) -> Result<Tensor> {
        let z = sizes(self, k, v)?;
        if !(0.0..1.0).contains(&p.dropout_p) {
            bail!(Error::arg(OP, format!("dropout_p {} must be in [0, 1)", p.dropout_p)));
        }
        let scale = p.scale.unwrap_or(1.0 / (z.e as f64).sqrt());
        let bias = mask_bias(self, &z, &p)?;
        let fused = self.device() == Device::Cpu && matches!(self.dtype(), DType::F32 | DType::F64);
        // A float mask that needs its gradient goes the composed way (or a tangent) goes the composed way (the
        // fused kernel would have to keep every score's gradient).
        let mask_grad = bias.as_ref().is_some_and(|b| b.tracks_grad() || b.tangent().is_some());
        if !fused || p.dropout_p > 0.0 || mask_grad {
            let mut probs = probabilities(self, k, bias.as_ref(), p.is_causal, scale, &z)?;
            if p.dropout_p > 0.0 {
                let g = p.generator.cloned().unwrap_or_else(current_generator);
                probs = probs.dropout_with(p.dropout_p, true, &g)?;
            }
            return probs.matmul(v);
        }
        match self.dtype() {
            DType::F64 => self.attention_fused::<f64>(k, v, bias, p.is_causal, scale, z),
            _ => self.attention_fused::<f32>(k, v, bias, p.is_causal, scale, z),
        }
    }

    /// The attention probabilities `[..., L, S]` of queries `self` over keys `k` (with
    /// `p`'s masks, scale and dropout), materialised: for callers that return them
    /// (`MultiheadAttention` with `need_weights`). `probs.matmul(v)` is the attention.
    pub fn attention_weights(&self, k: &Tensor, p: AttentionParams) -> Result<Tensor> {
        let z = sizes(self, k, k)?;
        if !(0.0..1.0).contains(&p.dropout_p) {
            bail!(Error::arg(OP, format!("dropout_p {} must be in [0, 1)", p.dropout_p)));
        }
        let scale = p.scale.unwrap_or(1.0 / (z.e as f64).sqrt());
        let bias = mask_bias(self, &z, &p)?;
        let probs = probabilities(self, k, bias.as_ref(), p.is_causal, scale, &z)?;
        if p.dropout_p > 0.0 {
            let g = p.generator.cloned().unwrap_or_else(current_generator);
            return probs.dropout_with(p.dropout_p, true, &g);
        }
        Ok(probs)
    }

    fn attention_fused<T: AttnFloat + CpuElem>(
        &self,
        k: &Tensor,
        v: &Tensor,
        bias: Option<Tensor>,
        causal: bool,
        scale: f64,
        z: Sizes,
    ) -> Result<Tensor> {
        let bh: usize = z.batch.iter().product();
        let full: Vec<usize> = z.batch.iter().copied().chain([z.l, z.s]).collect();
        // The bias, materialised at its own batch size (a [L, S] mask stays one block).
        let bias = match bias {
            Some(b) => {
                let mut own: Vec<usize> = b.shape().to_vec();
                while own.len() < full.len() {
                    own.insert(0, 1);
                }
                own[full.len() - 2] = z.l;
                own[full.len() - 1] = z.s;
                Some(b.broadcast_as(&own)?.contiguous()?)
            }
            None => None,
        };
        let geom = AttnGeom {
            bh,
            l: z.l,
            s: z.s,
            e: z.e,
            ev: z.ev,
            scale,
            causal,
            bias_block: bias.as_ref().map(|b| bias_blocks(&z.batch, b.shape())),
        };
        let bias_host: Vec<T> = match &bias {
            Some(b) => host(b)?,
            None => Vec::new(),
        };
        let (qh, kh, vh) = (host::<T>(self)?, host::<T>(k)?, host::<T>(v)?);
        let (out, lse) = fused::forward(&geom, &qh, &kh, &vh, &bias_host);
        let mut out_shape = z.batch.clone();
        out_shape.extend([z.l, z.ev]);
        let y = Tensor::from_vec(out, &out_shape, &Device::Cpu)?;
        let lse = Tensor::from_vec(lse, &[bh, z.l], &Device::Cpu)?;
        let saved: Vec<Saved> = [self, k, v]
            .iter()
            .zip(["query", "key", "value"])
            .map(|(t, n)| Saved::new(OP, n, &t.detach()))
            .chain([Saved::new(OP, "output", &y)])
            .collect();
        let shapes = [self.shape().to_vec(), k.shape().to_vec(), v.shape().to_vec()];
        let (jq, jk, jv, jb) = (self.detach(), k.detach(), v.detach(), bias.clone());
        y.clone().record(
            OP,
            &[self, k, v],
            move || -> BackwardFn {
                Box::new(move |gy| {
                    let [q, k, v, out] = [0, 1, 2, 3].map(|i| saved[i].get().cloned());
                    let (q, k, v, out) = (q?, k?, v?, out?);
                    let (dq, dk, dv) = fused::backward(
                        &geom,
                        &host::<T>(&q)?,
                        &host::<T>(&k)?,
                        &host::<T>(&v)?,
                        &bias_host,
                        &host::<T>(&out)?,
                        &host::<T>(&lse)?,
                        &host::<T>(gy)?,
                    );
                    let t = |d: Vec<T>, s: &[usize]| Tensor::from_vec(d, s, &Device::Cpu).map(Some);
                    Ok(vec![t(dq, &shapes[0])?, t(dk, &shapes[1])?, t(dv, &shapes[2])?])
                })
            },
            move |t, _| {
                // Forward mode through the composed probabilities.
                let r = jq.rank();
                let probs = probabilities(&jq, &jk, jb.as_ref(), causal, scale, &z)?;
                let kt = jk.transpose(r - 2, r - 1)?;
                let ts = t[0].matmul(&kt)?.add(&jq.matmul(&t[1].transpose(r - 2, r - 1)?)?)?.mul_scalar(scale)?;
                let tp = probs.mul(&ts.sub(&probs.mul(&ts)?.sum_keepdim(r - 1)?)?)?;
                tp.matmul(&jv)?.add(&probs.matmul(&t[2])?)
            },
        )
    }
}
