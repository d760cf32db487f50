//! TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder and
//! TransformerDecoder (PyTorch's), with the same parameter names, so their state dicts
//! load unchanged: `self_attn.*`, `multihead_attn.*` (decoder), `linear1`, `linear2`,
//! `norm1`, `norm2`, `norm3` (decoder); stacks prefix `layers.{i}.` and an optional `norm`.

use super::{Activation, Dense, Dropout, LayerNorm, MultiheadAttention};
use crate::Module;
use lolcore::nn::{Forward, TensorKind};
use lolcore::{Error, Result, Tensor};

/// Self-attention and a feed-forward block, each with a residual connection and a layer
/// norm (after the sum, or before the block with `norm_first(true)`):
/// `x = norm1(x + dropout1(self_attn(x)))`, `x = norm2(x + dropout2(linear2(dropout(act(linear1(x))))))`.
///
/// Defaults as PyTorch: `dim_feedforward` 2048, dropout 0.1, ReLU, eps 1e-5,
/// sequence-first input `[S, B, d_model]` (`batch_first(true)` for `[B, S, d_model]`).
#[derive(Module, Clone)]
pub struct TransformerEncoderLayer {
    pub self_attn: MultiheadAttention,
    pub linear1: Dense,
    pub linear2: Dense,
    pub norm1: LayerNorm,
    pub norm2: LayerNorm,
    dropout: Dropout,
    dropout1: Dropout,
    dropout2: Dropout,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    pub norm_first: bool,
}

/// The feed-forward block shared by both layer kinds.
fn feed_forward(x: &Tensor, l1: &Dense, l2: &Dense, act: Activation, drop: &Dropout) -> Result<Tensor> {
    l2.forward(&drop.forward(&act.apply(&l1.forward(x)?)?)?)
}

fn check_activation(layer: &'static str, act: Activation) -> Result<()> {
    match act {
        Activation::Relu | Activation::Gelu => Ok(()),
        other => {
            Err(Error::arg(layer, format!("activation {other:?}: PyTorch's transformer layers take Relu or Gelu")))
        }
    }
}

impl TransformerEncoderLayer {
    pub fn new(d_model: usize, nhead: usize) -> Self {
        TransformerEncoderLayer {
            self_attn: MultiheadAttention::new(d_model, nhead).dropout(0.1).need_weights(false),
            linear1: Dense::new(d_model, 2048),
            linear2: Dense::new(2048, d_model),
            norm1: LayerNorm::new(d_model),
            norm2: LayerNorm::new(d_model),
            dropout: Dropout::new(0.1),
            dropout1: Dropout::new(0.1),
            dropout2: Dropout::new(0.1),
            activation: Activation::Relu,
            norm_first: false,
        }
    }
    /// Width of the feed-forward block (re-creates `linear1` and `linear2`).
    pub fn dim_feedforward(mut self, n: usize) -> Self {
        let d = self.self_attn.embed_dim();
        (self.linear1, self.linear2) = (Dense::new(d, n), Dense::new(n, d));
        self
    }
    /// Dropout after attention, inside and after the feed-forward block, and on the
    /// attention weights.
    pub fn dropout(mut self, p: f64) -> Self {
        self.self_attn = self.self_attn.dropout(p);
        (self.dropout, self.dropout1, self.dropout2) = (Dropout::new(p), Dropout::new(p), Dropout::new(p));
        self
    }
    /// `Activation::Relu` (default) or `Activation::Gelu`.
    pub fn activation(mut self, act: Activation) -> Self {
        self.activation = act;
        self
    }
    pub fn batch_first(mut self, on: bool) -> Self {
        self.self_attn = self.self_attn.batch_first(on);
        self
    }
    /// Layer norm before each block (pre-LN) instead of after the residual sum.
    pub fn norm_first(mut self, on: bool) -> Self {
        self.norm_first = on;
        self
    }
    pub fn layer_norm_eps(mut self, eps: f64) -> Self {
        (self.norm1, self.norm2) = (self.norm1.eps(eps), self.norm2.eps(eps));
        self
    }

    /// The layer with masks: `src_mask [S, S]` (true = may not attend, or float added),
    /// `src_key_padding_mask [B, S]` (true = padding).
    pub fn forward_masked(
        &self,
        x: &Tensor,
        src_mask: Option<&Tensor>,
        src_key_padding_mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.forward_with(x, src_mask, src_key_padding_mask, false)
    }

    /// `forward_masked` with `is_causal` (each position attends to itself and earlier ones).
    pub fn forward_with(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        kpm: Option<&Tensor>,
        is_causal: bool,
    ) -> Result<Tensor> {
        check_activation("TransformerEncoderLayer", self.activation)?;
        let sa = |x: &Tensor| -> Result<Tensor> {
            self.dropout1.forward(&self.self_attn.attend_with(x, x, x, kpm, mask, is_causal)?.0)
        };
        let ff = |x: &Tensor| {
            feed_forward(x, &self.linear1, &self.linear2, self.activation, &self.dropout)
                .and_then(|y| self.dropout2.forward(&y))
        };
        if self.norm_first {
            let x = x.add(&sa(&self.norm1.forward(x)?)?)?;
            x.add(&ff(&self.norm2.forward(&x)?)?)
        } else {
            let x = self.norm1.forward(&x.add(&sa(x)?)?)?;
            self.norm2.forward(&x.add(&ff(&x)?)?)
        }
    }
}

impl Forward for TransformerEncoderLayer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_masked(x, None, None)
    }
}

/// Self-attention over the target, attention over the encoder's output (`memory`), and a
/// feed-forward block, each with a residual connection and a layer norm (`norm1..3`).
#[derive(Module, Clone)]
pub struct TransformerDecoderLayer {
    pub self_attn: MultiheadAttention,
    pub multihead_attn: MultiheadAttention,
    pub linear1: Dense,
    pub linear2: Dense,
    pub norm1: LayerNorm,
    pub norm2: LayerNorm,
    pub norm3: LayerNorm,
    dropout: Dropout,
    dropout1: Dropout,
    dropout2: Dropout,
    dropout3: Dropout,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    pub norm_first: bool,
}

/// Masks of a decoder layer (each optional): `tgt_mask [T, T]`, `memory_mask [T, S]`,
/// `tgt_key_padding_mask [B, T]`, `memory_key_padding_mask [B, S]`, and
/// `tgt_is_causal` for a causal self-attention without a mask tensor.
#[derive(Clone, Copy, Default)]
pub struct DecoderMasks<'a> {
    pub tgt_mask: Option<&'a Tensor>,
    pub memory_mask: Option<&'a Tensor>,
    pub tgt_key_padding_mask: Option<&'a Tensor>,
    pub memory_key_padding_mask: Option<&'a Tensor>,
    pub tgt_is_causal: bool,
}

impl TransformerDecoderLayer {
    pub fn new(d_model: usize, nhead: usize) -> Self {
        let attn = || MultiheadAttention::new(d_model, nhead).dropout(0.1).need_weights(false);
        TransformerDecoderLayer {
            self_attn: attn(),
            multihead_attn: attn(),
            linear1: Dense::new(d_model, 2048),
            linear2: Dense::new(2048, d_model),
            norm1: LayerNorm::new(d_model),
            norm2: LayerNorm::new(d_model),
            norm3: LayerNorm::new(d_model),
            dropout: Dropout::new(0.1),
            dropout1: Dropout::new(0.1),
            dropout2: Dropout::new(0.1),
            dropout3: Dropout::new(0.1),
            activation: Activation::Relu,
            norm_first: false,
        }
    }
    pub fn dim_feedforward(mut self, n: usize) -> Self {
        let d = self.self_attn.embed_dim();
        (self.linear1, self.linear2) = (Dense::new(d, n), Dense::new(n, d));
        self
    }
    pub fn dropout(mut self, p: f64) -> Self {
        (self.self_attn, self.multihead_attn) = (self.self_attn.dropout(p), self.multihead_attn.dropout(p));
        let d = || Dropout::new(p);
        (self.dropout, self.dropout1, self.dropout2, self.dropout3) = (d(), d(), d(), d());
        self
    }
    pub fn activation(mut self, act: Activation) -> Self {
        self.activation = act;
        self
    }
    pub fn batch_first(mut self, on: bool) -> Self {
        (self.self_attn, self.multihead_attn) = (self.self_attn.batch_first(on), self.multihead_attn.batch_first(on));
        self
    }
    pub fn norm_first(mut self, on: bool) -> Self {
        self.norm_first = on;
        self
    }
    pub fn layer_norm_eps(mut self, eps: f64) -> Self {
        (self.norm1, self.norm2, self.norm3) = (self.norm1.eps(eps), self.norm2.eps(eps), self.norm3.eps(eps));
        self
    }

    /// The layer on target `tgt` attending to `memory`.
    pub fn forward_masked(&self, tgt: &Tensor, memory: &Tensor, m: DecoderMasks) -> Result<Tensor> {
        check_activation("TransformerDecoderLayer", self.activation)?;
        let sa = |x: &Tensor| -> Result<Tensor> {
            let y = self.self_attn.attend_with(x, x, x, m.tgt_key_padding_mask, m.tgt_mask, m.tgt_is_causal)?.0;
            self.dropout1.forward(&y)
        };
        let ca = |x: &Tensor| -> Result<Tensor> {
            let y = self.multihead_attn.attend(x, memory, memory, m.memory_key_padding_mask, m.memory_mask)?.0;
            self.dropout2.forward(&y)
        };
        let ff = |x: &Tensor| {
            feed_forward(x, &self.linear1, &self.linear2, self.activation, &self.dropout)
                .and_then(|y| self.dropout3.forward(&y))
        };
        if self.norm_first {
            let x = tgt.add(&sa(&self.norm1.forward(tgt)?)?)?;
            let x = x.add(&ca(&self.norm2.forward(&x)?)?)?;
            x.add(&ff(&self.norm3.forward(&x)?)?)
        } else {
            let x = self.norm1.forward(&tgt.add(&sa(tgt)?)?)?;
            let x = self.norm2.forward(&x.add(&ca(&x)?)?)?;
            self.norm3.forward(&x.add(&ff(&x)?)?)
        }
    }
}

/// `n` copies of `m` with tensors of their own (same values, new identities), so that
/// the layers of a stack train independently (PyTorch deep-copies too). A copy that
/// cannot be made (out of memory) is kept as the error, which the stack's forward returns.
fn copies<M: lolcore::nn::Module + Clone>(m: &M, n: usize) -> (Vec<M>, Option<String>) {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match deep_copy(m) {
            Ok(c) => out.push(c),
            Err(e) => return (Vec::new(), Some(e.to_string())),
        }
    }
    (out, None)
}

fn check_copies(stack: &'static str, err: &Option<String>) -> Result<()> {
    match err {
        Some(e) => Err(Error::arg(stack, format!("its layers could not be copied: {e}"))),
        None => Ok(()),
    }
}

fn deep_copy<M: lolcore::nn::Module + Clone>(m: &M) -> Result<M> {
    let mut c = m.clone();
    c.visit_mut("", &mut |_, t, kind| {
        let fresh = t.deep_copy()?;
        *t = if kind == TensorKind::Parameter { fresh.requires_grad(true) } else { fresh };
        Ok(())
    })?;
    Ok(c)
}

/// `num_layers` copies of an encoder layer, applied in turn, then an optional final norm.
#[derive(Module)]
pub struct TransformerEncoder {
    pub layers: Vec<TransformerEncoderLayer>,
    pub norm: Option<LayerNorm>,
    #[module(skip)]
    copy_error: Option<String>,
}

impl TransformerEncoder {
    /// Copies of `layer` (each with its own weights, all starting equal, as PyTorch).
    pub fn new(layer: TransformerEncoderLayer, num_layers: usize) -> Self {
        let (layers, copy_error) = copies(&layer, num_layers);
        TransformerEncoder { layers, norm: None, copy_error }
    }
    /// A layer norm after the last layer (`norm=` in PyTorch).
    pub fn norm(mut self, norm: LayerNorm) -> Self {
        self.norm = Some(norm);
        self
    }
    /// The stack with masks (see `TransformerEncoderLayer::forward_masked`).
    pub fn forward_masked(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        src_key_padding_mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        check_copies("TransformerEncoder", &self.copy_error)?;
        let mut x = x.clone();
        for l in &self.layers {
            x = l.forward_masked(&x, mask, src_key_padding_mask)?;
        }
        match &self.norm {
            Some(n) => n.forward(&x),
            None => Ok(x),
        }
    }
}

impl Forward for TransformerEncoder {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_masked(x, None, None)
    }
}

/// `num_layers` copies of a decoder layer, then an optional final norm.
#[derive(Module)]
pub struct TransformerDecoder {
    pub layers: Vec<TransformerDecoderLayer>,
    pub norm: Option<LayerNorm>,
    #[module(skip)]
    copy_error: Option<String>,
}

impl TransformerDecoder {
    pub fn new(layer: TransformerDecoderLayer, num_layers: usize) -> Self {
        let (layers, copy_error) = copies(&layer, num_layers);
        TransformerDecoder { layers, norm: None, copy_error }
    }
    pub fn norm(mut self, norm: LayerNorm) -> Self {
        self.norm = Some(norm);
        self
    }
    /// The stack on target `tgt` attending to `memory`.
    pub fn forward_masked(&self, tgt: &Tensor, memory: &Tensor, m: DecoderMasks) -> Result<Tensor> {
        check_copies("TransformerDecoder", &self.copy_error)?;
        let mut x = tgt.clone();
        for l in &self.layers {
            x = l.forward_masked(&x, memory, m)?;
        }
        match &self.norm {
            Some(n) => n.forward(&x),
            None => Ok(x),
        }
    }
}
