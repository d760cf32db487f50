//! Gradient checks (f64 central differences, plus forward vs reverse mode) for every
//! elementwise op, with broadcasting and strided inputs.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::type_complexity)]
mod common;
use common::{check, rnd, strided};
use lolcore::{manual_seed, Tensor};

#[test]
fn binary_ops_with_broadcasting() {
    manual_seed(1);
    let a = rnd(&[3, 4], -1.0, 1.0);
    let b = rnd(&[4], -1.0, 1.0);
    let c = rnd(&[3, 1], 0.5, 2.0);
    check("add", &[a.clone(), b.clone()], |x| x[0].add(&x[1]));
    check("sub", &[a.clone(), c.clone()], |x| x[0].sub(&x[1]));
    check("mul", &[b.clone(), a.clone()], |x| x[0].mul(&x[1]));
    check("div", &[a.clone(), c.clone()], |x| x[0].div(&x[1]));
    check("maximum", &[a.clone(), b.clone()], |x| x[0].maximum(&x[1]));
    check("minimum", &[a.clone(), strided(&rnd(&[3, 4], -1.0, 1.0))], |x| x[0].minimum(&x[1]));
    check("pow", &[rnd(&[2, 3], 0.5, 2.0), rnd(&[3], -1.5, 1.5)], |x| x[0].pow(&x[1]));
    check("add strided", &[strided(&a), strided(&rnd(&[3, 4], -1.0, 1.0))], |x| x[0].add(&x[1]));
    check("mul rank-3 broadcast", &[rnd(&[2, 1, 3], -1.0, 1.0), rnd(&[4, 1], -1.0, 1.0)], |x| x[0].mul(&x[1]));
    check("operators", &[a.clone(), b.clone()], |x| (&x[0] * &((&x[1] + 2.0)? - &x[0])?)? / 3.0);
}

#[test]
fn unary_ops() {
    manual_seed(2);
    let any = rnd(&[3, 5], -2.0, 2.0);
    let pos = rnd(&[3, 5], 0.2, 3.0);
    let cases: Vec<(&str, Tensor, fn(&Tensor) -> lolcore::Result<Tensor>)> = vec![
        ("neg", any.clone(), |x| x.neg()),
        ("exp", any.clone(), |x| x.exp()),
        ("log", pos.clone(), |x| x.log()),
        ("sqrt", pos.clone(), |x| x.sqrt()),
        ("abs", any.clone(), |x| x.abs()),
        ("sin", any.clone(), |x| x.sin()),
        ("cos", any.clone(), |x| x.cos()),
        ("tanh", any.clone(), |x| x.tanh()),
        ("sigmoid", any.clone(), |x| x.sigmoid()),
        ("relu", any.clone(), |x| x.relu()),
        ("gelu", any.clone(), |x| x.gelu()),
        ("leaky_relu", any.clone(), |x| x.leaky_relu(0.1)),
        ("sqr", any.clone(), |x| x.sqr()),
        ("recip", pos.clone(), |x| x.recip()),
        ("erf", any.clone(), |x| x.erf()),
        ("powf", pos.clone(), |x| x.powf(2.5)),
        ("clamp", any.clone(), |x| x.clamp(-1.0, 0.7)),
        ("affine", any.clone(), |x| x.affine(-3.0, 0.5)),
        ("scalar ops", any.clone(), |x| x.add_scalar(1.0)?.mul_scalar(2.0)?.sub_scalar(0.5)?.div_scalar(4.0)),
    ];
    for (name, x, f) in cases {
        check(name, &[x.clone()], |t| f(&t[0]));
        check(name, &[strided(&x)], |t| f(&t[0]));
    }
}

#[test]
fn where_cond_routes_gradients() {
    manual_seed(3);
    let a = rnd(&[3, 4], -1.0, 1.0);
    let b = rnd(&[4], -1.0, 1.0);
    let mask = rnd(&[3, 4], -1.0, 1.0).gt_scalar(0.0).unwrap();
    check("where_cond", &[a, b], |x| mask.where_cond(&x[0], &x[1]));
}

#[test]
fn dtype_and_device_moves() {
    manual_seed(4);
    let a = rnd(&[2, 3], -1.0, 1.0);
    common::check_with("to_dtype f32 round trip", &[a.clone()], 1e-3, 1e-3, |x| {
        x[0].to_dtype(lolcore::DType::F32)?.sqr()?.to_dtype(lolcore::DType::F64)
    });
    check("to_device cpu", &[a], |x| x[0].to_device(&lolcore::Device::Cpu)?.exp());
}

/// Random compositions of ops: forward mode (jvp) must agree with reverse mode and with
/// finite differences on whatever graph comes out.
#[test]
fn random_compositions_forward_vs_reverse() {
    type Op = fn(&Tensor, &Tensor) -> lolcore::Result<Tensor>;
    let ops: [Op; 10] = [
        |a, b| a.add(b),
        |a, b| a.mul(b),
        |a, b| a.sub(&b.tanh()?),
        |a, _| a.sin(),
        |a, _| a.sigmoid(),
        |a, b| a.matmul(&b.t()?)?.narrow(1, 0, 3),
        |a, _| a.softmax(1),
        |a, b| Tensor::cat(&[a, b], 1)?.narrow(1, 1, 3),
        |a, b| a.mul(&b.sum_keepdim(0)?),
        |a, _| a.exp()?.log_softmax(0),
    ];
    for seed in 0..12u64 {
        manual_seed(100 + seed);
        let picks: Vec<usize> = (0..5).map(|k| ((seed * 7 + k * 13 + seed * k) % 10) as usize).collect();
        let a = rnd(&[3, 3], -1.0, 1.0);
        let b = rnd(&[3, 3], -1.0, 1.0);
        check(&format!("composition {picks:?}"), &[a, b], |x| {
            let mut h = x[0].clone();
            for &p in &picks {
                h = ops[p](&h, &x[1])?;
            }
            Ok(h)
        });
    }
}
