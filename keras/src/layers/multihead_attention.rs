//! MultiheadAttention (PyTorch's `nn.MultiheadAttention`).

use super::param_init::InitErrors;
use super::Dense;
use crate::Module;
use lolcore::nn::{functional, trace, Init};
use lolcore::rng::current_generator;
use lolcore::{AttentionParams, Error, Result, Tensor};

/// Attention with `num_heads` heads over `embed_dim` features:
/// `MultiHead(q, k, v) = concat(head_1, …, head_h)·W_oᵀ + b_o`, with
/// `head_i = softmax(q W_qiᵀ (k W_kiᵀ)ᵀ / √d + mask) v W_viᵀ` and `d = embed_dim / num_heads`.
///
/// # Parameters (PyTorch's names)
/// - `in_proj_weight [3·embed_dim, embed_dim]` (Xavier-uniform) and `in_proj_bias
///   [3·embed_dim]` (zeros): the q, k and v projections stacked; when keys or values
///   have other sizes (`kdim`, `vdim`), `q_proj_weight`, `k_proj_weight [embed_dim, kdim]`,
///   `v_proj_weight [embed_dim, vdim]` instead of `in_proj_weight`
/// - `out_proj.weight [embed_dim, embed_dim]`, `out_proj.bias` (zeros)
///
/// # Shapes
/// Queries `[L, B, E]` (`[B, L, E]` with `batch_first(true)`, or `[L, E]` unbatched), keys
/// and values `[S, B, kdim/vdim]`. `attend` returns the output `[L, B, E]` and, with
/// `need_weights` (the default), the attention weights `[B, L, S]` averaged over heads.
///
/// # Masks
/// `key_padding_mask [B, S]`: true (non-zero) marks padding keys, ignored. `attn_mask
/// [L, S]` or `[B·num_heads, L, S]`: true marks pairs that may *not* attend (PyTorch's
/// MultiheadAttention convention); a float mask is added to the scores. A query with
/// every key masked gets a zero output (PyTorch's gives NaN).
#[derive(Module, Clone)]
pub struct MultiheadAttention {
    pub in_proj_weight: Option<Tensor>,
    pub q_proj_weight: Option<Tensor>,
    pub k_proj_weight: Option<Tensor>,
    pub v_proj_weight: Option<Tensor>,
    pub in_proj_bias: Option<Tensor>,
    pub out_proj: Dense,
    #[module(skip)]
    embed_dim: usize,
    #[module(skip)]
    num_heads: usize,
    #[module(skip)]
    kvdim: (usize, usize),
    #[module(skip)]
    bias: bool,
    #[module(skip)]
    pub dropout: f64,
    #[module(skip)]
    pub batch_first: bool,
    #[module(skip)]
    pub need_weights: bool,
    #[module(skip)]
    pub average_attn_weights: bool,
    #[module(training)]
    training: bool,
    #[module(skip)]
    init_errors: InitErrors,
}

impl MultiheadAttention {
    /// Self-attention sizes (keys and values of `embed_dim`), with biases, no dropout.
    pub fn new(embed_dim: usize, num_heads: usize) -> Self {
        MultiheadAttention {
            in_proj_weight: None,
            q_proj_weight: None,
            k_proj_weight: None,
            v_proj_weight: None,
            in_proj_bias: None,
            out_proj: Dense::new(embed_dim, embed_dim),
            embed_dim,
            num_heads,
            kvdim: (embed_dim, embed_dim),
            bias: true,
            dropout: 0.0,
            batch_first: false,
            need_weights: true,
            average_attn_weights: true,
            training: true,
            init_errors: InitErrors::default(),
        }
        .rebuild()
    }

    fn rebuild(mut self) -> Self {
        let (e, (kd, vd)) = (self.embed_dim, self.kvdim);
        let mut errs = InitErrors::default();
        let x = Init::GlorotUniform;
        if (kd, vd) == (e, e) {
            self.in_proj_weight = Some(errs.param("in_proj_weight", x, &[3 * e, e], e, 3 * e));
            (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight) = (None, None, None);
        } else {
            self.in_proj_weight = None;
            self.q_proj_weight = Some(errs.param("q_proj_weight", x, &[e, e], e, e));
            self.k_proj_weight = Some(errs.param("k_proj_weight", x, &[e, kd], kd, e));
            self.v_proj_weight = Some(errs.param("v_proj_weight", x, &[e, vd], vd, e));
        }
        self.in_proj_bias = self.bias.then(|| errs.param("in_proj_bias", Init::Zeros, &[3 * e], e, e));
        // A bias that is switched on starts at zero, as PyTorch's out_proj.bias.
        self.out_proj = Dense::new(e, e).bias(self.bias);
        self.init_errors = errs;
        self
    }
    /// Keys of `kdim` and values of `vdim` features (separate projection weights).
    pub fn kdim_vdim(mut self, kdim: usize, vdim: usize) -> Self {
        self.kvdim = (kdim, vdim);
        self.rebuild()
    }
    /// With (default) or without the projection biases.
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = on;
        self.rebuild()
    }
    /// Dropout on the attention weights, in training.
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }
    pub fn batch_first(mut self, on: bool) -> Self {
        self.batch_first = on;
        self
    }
    /// Whether `attend` returns the weights (materialising them; off is faster).
    pub fn need_weights(mut self, on: bool) -> Self {
        self.need_weights = on;
        self
    }
    /// Weights averaged over heads (default) or per head `[B, num_heads, L, S]`.
    pub fn average_attn_weights(mut self, on: bool) -> Self {
        self.average_attn_weights = on;
        self
    }
    pub fn embed_dim(&self) -> usize {
        self.embed_dim
    }
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Attention of `query` over `key` and `value`: the output and, with `need_weights`,
    /// the attention weights.
    pub fn attend(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        key_padding_mask: Option<&Tensor>,
        attn_mask: Option<&Tensor>,
    ) -> Result<(Tensor, Option<Tensor>)> {
        self.attend_with(query, key, value, key_padding_mask, attn_mask, false)
    }

    /// `attend` with PyTorch's `is_causal` (query `i` sees keys `j ≤ i`).
    pub fn attend_with(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        key_padding_mask: Option<&Tensor>,
        attn_mask: Option<&Tensor>,
        is_causal: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let name = "MultiheadAttention";
        self.init_errors.check(name)?;
        let (e, h) = (self.embed_dim, self.num_heads);
        if h == 0 || e % h != 0 {
            return Err(Error::arg(name, format!("embed_dim {e} must divide into num_heads {h} heads")));
        }
        let (kd, vd) = self.kvdim;
        let rank = query.rank();
        let ok = (rank == 2 || rank == 3)
            && key.rank() == rank
            && value.rank() == rank
            && query.shape()[rank - 1] == e
            && key.shape()[rank - 1] == kd
            && value.shape()[rank - 1] == vd;
        if !ok {
            let layout = if self.batch_first { "[B, L, E]" } else { "[L, B, E]" };
            return Err(Error::shape(
                name,
                format!(
                    "query {:?}, key {:?}, value {:?} must be {layout} (or [L, E]) with E = {e}, kdim {kd}, vdim {vd}",
                    query.shape(),
                    key.shape(),
                    value.shape()
                ),
            ));
        }
        // Batch-first inside: [B, L, E].
        let to_bf = |t: &Tensor| -> Result<Tensor> {
            if rank == 2 {
                t.unsqueeze(0)
            } else if self.batch_first {
                Ok(t.clone())
            } else {
                t.transpose(0, 1)
            }
        };
        let (q, k, v) = (to_bf(query)?, to_bf(key)?, to_bf(value)?);
        let (b, l, s) = (q.shape()[0], q.shape()[1], k.shape()[1]);
        if k.shape()[..2] != v.shape()[..2] || k.shape()[0] != b {
            return Err(Error::shape(
                name,
                format!(
                    "key {:?} and value {:?} must match the query's batch and each other's length",
                    key.shape(),
                    value.shape()
                ),
            ));
        }
        let bias = |i: usize| -> Result<Option<Tensor>> {
            self.in_proj_bias.as_ref().map(|bi| bi.narrow(0, i * e, e)).transpose()
        };
        let weight = |i: usize| -> Result<Tensor> {
            match (&self.in_proj_weight, [&self.q_proj_weight, &self.k_proj_weight, &self.v_proj_weight][i]) {
                (Some(w), _) => w.narrow(0, i * e, e),
                (None, Some(w)) => Ok(w.clone()),
                _ => Err(Error::msg("internal: MultiheadAttention has no projection weight")),
            }
        };
        let d = e / h;
        // [B, n, E] → [B, H, n, d]
        let heads = |t: Tensor, n: usize| t.reshape(&[b, n, h, d])?.transpose(1, 2);
        let qh = heads(functional::linear(&q, &weight(0)?, bias(0)?.as_ref())?, l)?;
        let kh = heads(functional::linear(&k, &weight(1)?, bias(1)?.as_ref())?, s)?;
        let vh = heads(functional::linear(&v, &weight(2)?, bias(2)?.as_ref())?, s)?;
        // Masks in the SDPA convention: a bool attn_mask flips (true = may attend).
        let attn_mask = match attn_mask {
            Some(m) => {
                let m = if m.dtype().is_float() { m.clone() } else { m.eq_scalar(0.0)? };
                Some(match m.rank() {
                    2 if m.shape() == [l, s] => m,
                    3 if m.shape() == [b * h, l, s] => m.reshape(&[b, h, l, s])?,
                    _ => {
                        return Err(Error::shape(
                            name,
                            format!(
                                "attn_mask {:?} must be [L, S] = [{l}, {s}] or [B·num_heads, L, S] = [{}, {l}, {s}]",
                                m.shape(),
                                b * h
                            ),
                        ))
                    }
                })
            }
            None => None,
        };
        let kpm = match key_padding_mask {
            Some(m) if rank == 2 && m.rank() == 1 => Some(m.unsqueeze(0)?),
            Some(m) => Some(m.clone()),
            None => None,
        };
        let training = trace::effective_training(self.training);
        let dropout = if training { self.dropout } else { 0.0 };
        let g = current_generator();
        let mut p = AttentionParams::default().causal(is_causal).dropout(dropout).generator(&g);
        if let Some(m) = &attn_mask {
            p = p.attn_mask(m);
        }
        if let Some(m) = &kpm {
            p = p.key_padding_mask(m);
        }
        let err = |e: Error| e.context(name);
        let (out, weights) = if self.need_weights {
            let probs = qh.attention_weights(&kh, p).map_err(err)?;
            let w = if self.average_attn_weights { probs.mean(1)? } else { probs.clone() };
            (probs.matmul(&vh)?, Some(w))
        } else {
            (qh.scaled_dot_product_attention(&kh, &vh, p).map_err(err)?, None)
        };
        // [B, H, L, d] → [B, L, E]
        let out = out.transpose(1, 2)?.reshape(&[b, l, e])?;
        let out = lolcore::nn::Forward::forward(&self.out_proj, &out)?;
        let out = if rank == 2 {
            out.squeeze(0)?
        } else if self.batch_first {
            out
        } else {
            out.transpose(0, 1)?
        };
        let weights = if rank == 2 { weights.map(|w| w.squeeze(0)).transpose()? } else { weights };
        Ok((out, weights))
    }
}

/// Self-attention of the input with itself (`attend(x, x, x, None, None)`), output only.
impl lolcore::nn::Forward for MultiheadAttention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.attend(x, x, x, None, None)?.0)
    }
}
