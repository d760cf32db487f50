//! Finite-difference gradient checks (f64) and forward-vs-reverse checks.
#![allow(dead_code)]

use lolcore::{jvp, no_grad, DType, Device, Result, Tensor};

pub const EPS: f64 = 1e-6;

/// Random f64 tensor of `shape` with values in [lo, hi).
pub fn rnd(shape: &[usize], lo: f64, hi: f64) -> Tensor {
    Tensor::uniform(lo, hi, shape, &Device::Cpu).unwrap().to_dtype(DType::F64).unwrap()
}

/// Random f64 normal tensor.
pub fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn(shape, &Device::Cpu).unwrap().to_dtype(DType::F64).unwrap()
}

/// A non-contiguous tensor with the values of `t`: built transposed and transposed back.
pub fn strided(t: &Tensor) -> Tensor {
    if t.rank() < 2 {
        // Every other element of a twice-as-long vector.
        let n = t.numel();
        let wide = Tensor::stack(&[t.clone(), t.zeros_like().unwrap()], 1).unwrap();
        return wide.narrow(1, 0, 1).unwrap().reshape(&[n]).unwrap_or_else(|_| t.clone());
    }
    let r = t.rank();
    t.transpose(r - 2, r - 1).unwrap().contiguous().unwrap().detach().transpose(r - 2, r - 1).unwrap()
}

fn loss_of(y: &Tensor, w: &Tensor) -> Result<Tensor> {
    y.mul(w)?.sum_all()
}

/// Checks reverse-mode gradients of `f` at `inputs` against central differences, and
/// forward-mode (jvp) against reverse mode, all in f64.
pub fn check<F>(name: &str, inputs: &[Tensor], f: F)
where
    F: Fn(&[Tensor]) -> Result<Tensor>,
{
    check_tol(name, inputs, 1e-5, f)
}

pub fn check_tol<F>(name: &str, inputs: &[Tensor], tol: f64, f: F)
where
    F: Fn(&[Tensor]) -> Result<Tensor>,
{
    check_with(name, inputs, EPS, tol, f)
}

/// `check` with a chosen finite-difference step (ops that round through f32 need ~1e-3).
pub fn check_with<F>(name: &str, inputs: &[Tensor], eps: f64, tol: f64, f: F)
where
    F: Fn(&[Tensor]) -> Result<Tensor>,
{
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.requires_grad(true)).collect();
    let y = f(&leaves).unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
    // Same values from contiguous copies of the inputs.
    let dense: Vec<Tensor> = inputs.iter().map(|t| t.contiguous().unwrap().detach()).collect();
    let y_dense = no_grad(|| f(&dense)).unwrap();
    assert_close(
        name,
        "strided vs contiguous forward",
        &y.to_vec::<f64>().unwrap(),
        &y_dense.to_vec::<f64>().unwrap(),
        1e-12,
    );

    let w = randn(y.shape());
    let grads = loss_of(&y, &w).unwrap().backward().unwrap_or_else(|e| panic!("{name}: backward failed: {e}"));
    for (i, x) in dense.iter().enumerate() {
        let g = grads.get(&leaves[i]).map(|g| g.to_vec::<f64>().unwrap()).unwrap_or_else(|| vec![0.0; x.numel()]);
        assert_eq!(g.len(), x.numel(), "{name}: gradient {i} has the wrong size");
        let base = x.to_vec::<f64>().unwrap();
        let mut num = vec![0.0; base.len()];
        for j in 0..base.len() {
            let eval = |delta: f64| -> f64 {
                let mut v = base.clone();
                v[j] += delta;
                let xi = Tensor::from_vec(v, x.shape(), &Device::Cpu).unwrap();
                let mut args = dense.clone();
                args[i] = xi;
                no_grad(|| loss_of(&f(&args).unwrap(), &w).unwrap().to_scalar::<f64>().unwrap())
            };
            num[j] = (eval(eps) - eval(-eps)) / (2.0 * eps);
        }
        assert_close(name, &format!("d/d input {i}"), &g, &num, tol);
    }

    // Forward mode: <jvp(f)(v), w> must equal Σ <grad_i, v_i>.
    let tangents: Vec<Tensor> = inputs.iter().map(|t| randn(t.shape())).collect();
    let (_, dots) = jvp(|xs| Ok(vec![f(xs)?]), &dense, &tangents).unwrap_or_else(|e| panic!("{name}: jvp failed: {e}"));
    let fwd = dots[0].mul(&w).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
    let mut rev = 0.0;
    for (i, t) in tangents.iter().enumerate() {
        if let Some(g) = grads.get(&leaves[i]) {
            rev += g.mul(t).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
        }
    }
    assert!((fwd - rev).abs() <= tol * (1.0 + rev.abs()), "{name}: forward mode {fwd} vs reverse mode {rev}");
}

pub fn assert_close(name: &str, what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{name}: {what}: lengths differ");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{name}: {what}: element {k}: {x} vs {y}");
    }
}
