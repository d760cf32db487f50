//! Determinant and inverse of small square matrices (batched over leading dims). They
//! run on the host in f64 by LU with partial pivoting; results go back to the tensor's
//! device and dtype.

use crate::autograd::{BackwardFn, Saved};
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;
use crate::Device;

/// LU-decomposes one n×n matrix in place; returns the determinant's sign and whether it
/// is singular, with `perm` the row order.
fn lu(a: &mut [f64], n: usize, perm: &mut [usize]) -> (f64, bool) {
    let mut sign = 1.0;
    for (i, p) in perm.iter_mut().enumerate() {
        *p = i;
    }
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs())).unwrap_or(col);
        if a[piv * n + col] == 0.0 {
            return (0.0, true);
        }
        if piv != col {
            for k in 0..n {
                a.swap(piv * n + k, col * n + k);
            }
            perm.swap(piv, col);
            sign = -sign;
        }
        for r in col + 1..n {
            let f = a[r * n + col] / a[col * n + col];
            a[r * n + col] = f;
            for k in col + 1..n {
                a[r * n + k] -= f * a[col * n + k];
            }
        }
    }
    (sign, false)
}

fn det_one(m: &[f64], n: usize) -> f64 {
    let mut a = m.to_vec();
    let mut perm = vec![0; n];
    let (sign, singular) = lu(&mut a, n, &mut perm);
    if singular {
        return 0.0;
    }
    (0..n).map(|i| a[i * n + i]).product::<f64>() * sign
}

fn inv_one(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut a = m.to_vec();
    let mut perm = vec![0; n];
    if lu(&mut a, n, &mut perm).1 {
        return None;
    }
    let mut inv = vec![0.0; n * n];
    for c in 0..n {
        // Solve A x = e_c with the LU factors (rows permuted).
        let mut x: Vec<f64> = (0..n).map(|i| if perm[i] == c { 1.0 } else { 0.0 }).collect();
        for i in 0..n {
            for k in 0..i {
                x[i] -= a[i * n + k] * x[k];
            }
        }
        for i in (0..n).rev() {
            for k in i + 1..n {
                x[i] -= a[i * n + k] * x[k];
            }
            x[i] /= a[i * n + i];
        }
        for i in 0..n {
            inv[i * n + c] = x[i];
        }
    }
    Some(inv)
}

impl Tensor {
    fn square_batch(&self, op: &'static str) -> Result<(usize, usize)> {
        let r = self.rank();
        if r < 2 || self.shape()[r - 1] != self.shape()[r - 2] {
            bail!(Error::shape(op, format!("needs square matrices [.., n, n], got shape {:?}", self.shape())));
        }
        self.require_float(op)?;
        let n = self.shape()[r - 1];
        Ok((self.numel() / (n * n).max(1), n))
    }

    /// Determinant of each square matrix in the last two dims.
    pub fn det(&self) -> Result<Tensor> {
        let (batch, n) = self.square_batch("det")?;
        let v = self.to_vec::<f64>()?;
        let d: Vec<f64> = (0..batch).map(|b| det_one(&v[b * n * n..(b + 1) * n * n], n)).collect();
        let shape = &self.shape()[..self.rank() - 2];
        let y = Tensor::from_vec(d, shape, &Device::Cpu)?.to_dtype(self.dtype())?.to_device(&self.device())?.detach();
        let (jx, jout) = (self.detach(), y.clone());
        let (x, out) = (Saved::new("det", "input", &jx), Saved::new("det", "output", &jout));
        y.record(
            "det",
            &[self],
            move || -> BackwardFn {
                // d det(A)/dA = det(A)·A⁻ᵀ
                Box::new(move |g| {
                    let inv_t = x.get()?.inverse()?.t()?;
                    let scale = g.mul(out.get()?)?.unsqueeze(-1)?.unsqueeze(-1)?;
                    Ok(vec![Some(inv_t.mul(&scale)?)])
                })
            },
            move |t, _| {
                // d det = det · tr(A⁻¹ dA)
                let tr = jx.inverse()?.t()?.mul(&t[0])?.sum(-1)?.sum(-1)?;
                jout.mul(&tr)
            },
        )
    }

    /// Inverse of each square matrix in the last two dims; an error for a singular one.
    pub fn inverse(&self) -> Result<Tensor> {
        let (batch, n) = self.square_batch("inverse")?;
        let v = self.to_vec::<f64>()?;
        let mut out = Vec::with_capacity(v.len());
        for b in 0..batch {
            match inv_one(&v[b * n * n..(b + 1) * n * n], n) {
                Some(inv) => out.extend(inv),
                None => bail!(Error::arg("inverse", format!("matrix {b} of shape {:?} is singular", self.shape()))),
            }
        }
        let y = Tensor::from_vec(out, self.shape(), &Device::Cpu)?
            .to_dtype(self.dtype())?
            .to_device(&self.device())?
            .detach();
        let (inv, jinv) = (Saved::new("inverse", "output", &y), y.clone());
        y.record(
            "inverse",
            &[self],
            move || -> BackwardFn {
                // d(A⁻¹) = −A⁻¹ dA A⁻¹  ⇒  grad = −A⁻ᵀ g A⁻ᵀ
                Box::new(move |g| {
                    let it = inv.get()?.t()?;
                    Ok(vec![Some(it.matmul(g)?.matmul(&it)?.neg()?)])
                })
            },
            move |t, _| jinv.matmul(&t[0])?.matmul(&jinv)?.neg(),
        )
    }
}
