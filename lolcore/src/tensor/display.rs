//! `println!("{t}")`: nested rows like PyTorch, long dims elided with `...`.

use super::Tensor;
use std::fmt;

const EDGE: usize = 3;
const SUMMARISE_ABOVE: usize = 1000;

#[allow(clippy::too_many_arguments)]
fn fmt_rec(
    f: &mut fmt::Formatter<'_>,
    v: &[f64],
    shape: &[usize],
    strides: &[usize],
    off: usize,
    depth: usize,
    float: bool,
    summarise: bool,
) -> fmt::Result {
    if shape.is_empty() {
        return if float { write!(f, "{:.4}", v[off]) } else { write!(f, "{}", v[off]) };
    }
    f.write_str("[")?;
    let n = shape[0];
    let show: Vec<Option<usize>> = if summarise && n > 2 * EDGE {
        (0..EDGE).map(Some).chain(std::iter::once(None)).chain((n - EDGE..n).map(Some)).collect()
    } else {
        (0..n).map(Some).collect()
    };
    for (k, i) in show.iter().enumerate() {
        if k > 0 {
            if shape.len() > 1 {
                write!(f, ",\n{:width$}", "", width = depth + 8)?;
            } else {
                f.write_str(", ")?;
            }
        }
        match i {
            Some(i) => fmt_rec(f, v, &shape[1..], &strides[1..], off + i * strides[0], depth + 1, float, summarise)?,
            None => f.write_str("...")?,
        }
    }
    f.write_str("]")
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self.to_vec::<f64>() {
            Ok(v) => v,
            Err(e) => return write!(f, "Tensor[{:?}, {}] (unreadable: {e})", self.shape(), self.dtype()),
        };
        if self.numel() == 0 {
            // As PyTorch: the shape of an empty tensor may be anything (even huge dims).
            return write!(f, "tensor([], size={:?}, dtype={})", self.shape(), self.dtype());
        }
        let strides = crate::layout::contiguous_strides(self.shape());
        f.write_str("tensor(")?;
        fmt_rec(f, &v, self.shape(), &strides, 0, 0, self.dtype().is_float(), self.numel() > SUMMARISE_ABOVE)?;
        write!(f, ", dtype={}", self.dtype())?;
        if !self.device().is_cpu() {
            write!(f, ", device={}", self.device())?;
        }
        f.write_str(")")
    }
}
