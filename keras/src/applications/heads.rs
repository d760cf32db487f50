//! Pieces the zoo's transformers share: splitting a `[b, t, d]` projection into
//! attention heads and back, and the tanh approximation of GELU (GPT-2's `gelu_new`).

use lolcore::{Result, Tensor};

/// `[b, t, heads·hd]` → `[b, heads, t, hd]`.
pub(crate) fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let s = x.shape();
    let (b, t, d) = (s[0], s[1], s[2]);
    x.reshape(&[b, t, heads, d / heads])?.permute(&[0, 2, 1, 3])
}

/// `[b, heads, t, hd]` → `[b, t, heads·hd]`.
pub(crate) fn merge_heads(x: &Tensor) -> Result<Tensor> {
    let s = x.shape();
    let (b, h, t, hd) = (s[0], s[1], s[2], s[3]);
    x.permute(&[0, 2, 1, 3])?.contiguous()?.reshape(&[b, t, h * hd])
}

/// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`: GPT-2's and BERT-era `gelu_new`.
pub(crate) fn gelu_tanh(x: &Tensor) -> Result<Tensor> {
    let inner = x.add(&x.powf(3.0)?.mul_scalar(0.044715)?)?.mul_scalar((2.0 / std::f64::consts::PI).sqrt())?;
    x.mul(&inner.tanh()?.add_scalar(1.0)?)?.mul_scalar(0.5)
}

/// The activation a Hugging Face config names.
pub(crate) fn hf_activation(name: &str, x: &Tensor) -> Result<Tensor> {
    match name {
        "gelu" => x.gelu(),
        "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => gelu_tanh(x),
        "relu" => x.relu(),
        other => Err(lolcore::Error::msg(format!("activation {other:?} is not supported (gelu, gelu_new, relu are)"))),
    }
}
