//! Elementwise ops of two (or three) strided operands on the CPU. Layouts arrive already
//! broadcast to the output shape; inner loops specialise on unit and zero strides so
//! `a + b`, `a + bias` and `a * scalar` all run as tight, vectorisable loops.

use super::buffer_pool as pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::Rows;
use crate::dtype::{FloatElem, NumElem};
use crate::error::{bail, Error, Result};
use crate::layout::Layout;
use crate::ops::kinds::{BinaryOp, CmpOp};
use crate::Device;

fn zip_map<A: CpuElem, B: CpuElem, O: CpuElem>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    f: impl Fn(A, B) -> O + Sync,
) -> Vec<O> {
    let shape = la.shape();
    let mut out = pool::take::<O>(crate::layout::numel(shape));
    let rows = Rows::new(shape, [la, lb]);
    let [sa, sb] = rows.inner_strides();
    rows.fill(&mut out, |o, [oa, ob]| {
        let n = o.len();
        match (sa, sb) {
            (1, 1) => {
                for ((d, &x), &y) in o.iter_mut().zip(&a[oa..oa + n]).zip(&b[ob..ob + n]) {
                    *d = f(x, y);
                }
            }
            (1, 0) => {
                let y = b[ob];
                for (d, &x) in o.iter_mut().zip(&a[oa..oa + n]) {
                    *d = f(x, y);
                }
            }
            (0, 1) => {
                let x = a[oa];
                for (d, &y) in o.iter_mut().zip(&b[ob..ob + n]) {
                    *d = f(x, y);
                }
            }
            _ => {
                for (i, d) in o.iter_mut().enumerate() {
                    *d = f(a[oa + i * sa], b[ob + i * sb]);
                }
            }
        }
    });
    out
}

fn arith<T: NumElem + CpuElem>(op: BinaryOp, a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<T> {
    match op {
        BinaryOp::Add => zip_map(a, la, b, lb, |x: T, y: T| x.add(y)),
        BinaryOp::Sub => zip_map(a, la, b, lb, |x: T, y: T| x.sub(y)),
        BinaryOp::Mul => zip_map(a, la, b, lb, |x: T, y: T| x.mul(y)),
        BinaryOp::Div => zip_map(a, la, b, lb, |x: T, y: T| x.div(y)),
        BinaryOp::Maximum => zip_map(a, la, b, lb, |x: T, y: T| x.maximum(y)),
        BinaryOp::Minimum => zip_map(a, la, b, lb, |x: T, y: T| x.minimum(y)),
        BinaryOp::MaskPositive => zip_map(a, la, b, lb, |x: T, y: T| if y > T::zero() { x } else { T::zero() }),
        BinaryOp::Pow => unreachable!("pow is dispatched to the float path"),
    }
}

fn float_pow<T: FloatElem + CpuElem>(a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<T> {
    zip_map(a, la, b, lb, |x: T, y: T| x.powf(y))
}

pub fn binary(op: BinaryOp, a: &CpuStorage, la: &Layout, b: &CpuStorage, lb: &Layout) -> Result<CpuStorage> {
    use CpuStorage as S;
    Ok(match (a, b) {
        (S::F32(x), S::F32(y)) if op == BinaryOp::Pow => f32::wrap(float_pow(x, la, y, lb)),
        (S::F64(x), S::F64(y)) if op == BinaryOp::Pow => f64::wrap(float_pow(x, la, y, lb)),
        (_, _) if op == BinaryOp::Pow => return Err(Error::unsupported_dtype(op.name(), a.dtype(), Device::Cpu)),
        (S::F32(x), S::F32(y)) => f32::wrap(arith(op, x, la, y, lb)),
        (S::F64(x), S::F64(y)) => f64::wrap(arith(op, x, la, y, lb)),
        (S::U8(x), S::U8(y)) => u8::wrap(arith(op, x, la, y, lb)),
        (S::U32(x), S::U32(y)) => u32::wrap(arith(op, x, la, y, lb)),
        (S::I64(x), S::I64(y)) => i64::wrap(arith(op, x, la, y, lb)),
        _ => return Err(Error::unsupported_dtype(op.name(), a.dtype(), Device::Cpu)),
    })
}

fn cmp_typed<T: CpuElem>(op: CmpOp, a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<u8> {
    match op {
        CmpOp::Eq => zip_map(a, la, b, lb, |x: T, y: T| (x == y) as u8),
        CmpOp::Ne => zip_map(a, la, b, lb, |x: T, y: T| (x != y) as u8),
        CmpOp::Lt => zip_map(a, la, b, lb, |x: T, y: T| (x < y) as u8),
        CmpOp::Le => zip_map(a, la, b, lb, |x: T, y: T| (x <= y) as u8),
        CmpOp::Gt => zip_map(a, la, b, lb, |x: T, y: T| (x > y) as u8),
        CmpOp::Ge => zip_map(a, la, b, lb, |x: T, y: T| (x >= y) as u8),
    }
}

pub fn compare(op: CmpOp, a: &CpuStorage, la: &Layout, b: &CpuStorage, lb: &Layout) -> Result<CpuStorage> {
    use CpuStorage as S;
    let v = match (a, b) {
        (S::F32(x), S::F32(y)) => cmp_typed(op, x, la, y, lb),
        (S::F64(x), S::F64(y)) => cmp_typed(op, x, la, y, lb),
        (S::F16(x), S::F16(y)) => cmp_typed(op, x, la, y, lb),
        (S::BF16(x), S::BF16(y)) => cmp_typed(op, x, la, y, lb),
        (S::U8(x), S::U8(y)) => cmp_typed(op, x, la, y, lb),
        (S::U32(x), S::U32(y)) => cmp_typed(op, x, la, y, lb),
        (S::I64(x), S::I64(y)) => cmp_typed(op, x, la, y, lb),
        _ => bail!(Error::dtype(op.name(), format!("dtypes {} and {} differ", a.dtype(), b.dtype()))),
    };
    Ok(u8::wrap(v))
}

fn select<T: CpuElem>(c: &[u8], lc: &Layout, a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<T> {
    let shape = lc.shape();
    let mut out = pool::take::<T>(crate::layout::numel(shape));
    let rows = Rows::new(shape, [lc, la, lb]);
    let [sc, sa, sb] = rows.inner_strides();
    rows.fill(&mut out, |o, [oc, oa, ob]| {
        for (i, d) in o.iter_mut().enumerate() {
            *d = if c[oc + i * sc] != 0 { a[oa + i * sa] } else { b[ob + i * sb] };
        }
    });
    out
}

/// `cond ? a : b` elementwise; `cond` is u8.
pub fn where_cond(
    c: &CpuStorage,
    lc: &Layout,
    a: &CpuStorage,
    la: &Layout,
    b: &CpuStorage,
    lb: &Layout,
) -> Result<CpuStorage> {
    use CpuStorage as S;
    let S::U8(c) = c else { bail!(Error::dtype("where_cond", format!("condition must be u8, got {}", c.dtype()))) };
    Ok(match (a, b) {
        (S::F32(x), S::F32(y)) => f32::wrap(select(c, lc, x, la, y, lb)),
        (S::F64(x), S::F64(y)) => f64::wrap(select(c, lc, x, la, y, lb)),
        (S::F16(x), S::F16(y)) => CpuElem::wrap(select(c, lc, x, la, y, lb)),
        (S::BF16(x), S::BF16(y)) => CpuElem::wrap(select(c, lc, x, la, y, lb)),
        (S::U8(x), S::U8(y)) => u8::wrap(select(c, lc, x, la, y, lb)),
        (S::U32(x), S::U32(y)) => u32::wrap(select(c, lc, x, la, y, lb)),
        (S::I64(x), S::I64(y)) => i64::wrap(select(c, lc, x, la, y, lb)),
        _ => bail!(Error::dtype("where_cond", format!("dtypes {} and {} differ", a.dtype(), b.dtype()))),
    })
}
