//! S10: forward-mode differentiation with dual numbers (a tensor carrying a tangent),
//! checked against reverse mode and the closed form.
//! d/da sin(a) = cos(a);  f(x1, x2) = ln(x1) + x1·x2 − sin(x2) at (2, 5).
use lolcore::{jvp, Device, Result, Tensor};

pub struct ForwardMode {
    pub dsin_forward: f64,
    pub cos_a: f64,
    pub value: f64,
    pub forward: [f64; 2],
    pub reverse: [f64; 2],
}

fn f(x: &[Tensor]) -> Result<Vec<Tensor>> {
    Ok(vec![x[0].log()?.add(&x[0].mul(&x[1])?)?.sub(&x[1].sin()?)?])
}

pub fn run() -> Result<ForwardMode> {
    let dev = Device::Cpu;
    let s = |v: f64| Tensor::scalar(v, &dev);
    // d/da sin(a) at a = 0.7: the tangent of sin(a) for a tangent of 1 on a.
    let a = 0.7;
    let (_, d) = jvp(|x| Ok(vec![x[0].sin()?]), &[s(a)?], &[s(1.0)?])?;
    let dsin_forward = d[0].to_scalar::<f64>()?;

    let (x1, x2) = (s(2.0)?, s(5.0)?);
    // Forward mode: one pass per input direction.
    let (vals, d1) = jvp(f, &[x1.clone(), x2.clone()], &[s(1.0)?, s(0.0)?])?;
    let (_, d2) = jvp(f, &[x1.clone(), x2.clone()], &[s(0.0)?, s(1.0)?])?;
    // Reverse mode: one pass for both.
    let (p1, p2) = (x1.requires_grad(true), x2.requires_grad(true));
    let y = f(&[p1.clone(), p2.clone()])?.remove(0);
    let g = y.backward()?;
    let grad =
        |t: &Tensor| -> Result<f64> { g.get(t).ok_or_else(|| lolcore::Error::msg("missing gradient"))?.to_scalar() };
    Ok(ForwardMode {
        dsin_forward,
        cos_a: a.cos(),
        value: vals[0].to_scalar()?,
        forward: [d1[0].to_scalar()?, d2[0].to_scalar()?],
        reverse: [grad(&p1)?, grad(&p2)?],
    })
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let r = run()?;
    println!("d/da sin(a) at 0.7: forward mode {:.6}, cos(0.7) = {:.6}", r.dsin_forward, r.cos_a);
    println!("f(2, 5) = {:.6}", r.value);
    println!("forward mode: df/dx1 = {:.6}, df/dx2 = {:.6}", r.forward[0], r.forward[1]);
    println!("reverse mode: df/dx1 = {:.6}, df/dx2 = {:.6}", r.reverse[0], r.reverse[1]);
    println!("closed form:  df/dx1 = {:.6}, df/dx2 = {:.6}", 1.0 / 2.0 + 5.0, 2.0 - 5f64.cos());
    Ok(())
}
