//! Gradient checks for views, joins and index ops.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::type_complexity)]
mod common;
use common::{check, rnd, strided};
use lolcore::{manual_seed, Device, Tensor};

fn ids(v: &[u32]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()], &Device::Cpu).unwrap()
}

#[test]
fn views() {
    manual_seed(21);
    let a = rnd(&[2, 3, 4], -1.0, 1.0);
    check("reshape", &[a.clone()], |x| x[0].reshape(&[6, 4]));
    check("reshape strided", &[strided(&a)], |x| x[0].reshape(&[4, 6]));
    check("flatten", &[a.clone()], |x| x[0].flatten(1, 2));
    check("transpose", &[a.clone()], |x| x[0].transpose(0, 2)?.exp());
    check("t", &[rnd(&[3, 5], -1.0, 1.0)], |x| x[0].t());
    check("permute", &[a.clone()], |x| x[0].permute(&[2, 0, 1])?.sin());
    check("narrow", &[a.clone()], |x| x[0].narrow(2, 1, 2));
    check("squeeze/unsqueeze", &[rnd(&[3, 1, 2], -1.0, 1.0)], |x| x[0].squeeze(1)?.unsqueeze(0));
    check("broadcast_as", &[rnd(&[3, 1], -1.0, 1.0)], |x| x[0].broadcast_as(&[2, 3, 4]));
    check("contiguous", &[strided(&rnd(&[3, 4], -1.0, 1.0))], |x| x[0].contiguous());
    check("diag of matrix", &[rnd(&[3, 4], -1.0, 1.0)], |x| x[0].diag());
    check("diag of vector", &[rnd(&[3], -1.0, 1.0)], |x| x[0].diag());
}

#[test]
fn joins() {
    manual_seed(22);
    let a = rnd(&[2, 3], -1.0, 1.0);
    let b = rnd(&[2, 2], -1.0, 1.0);
    check("cat", &[a.clone(), b.clone()], |x| Tensor::cat(&[&x[0], &x[1]], 1));
    check("cat strided", &[strided(&a), a.clone()], |x| Tensor::cat(&[&x[0], &x[1]], 0));
    check("stack", &[a.clone(), rnd(&[2, 3], -1.0, 1.0)], |x| Tensor::stack(&[&x[0], &x[1]], 1));
    check("flip", &[a.clone()], |x| x[0].flip(&[0, 1]));
    check("repeat", &[a.clone()], |x| x[0].repeat(&[2, 1]));
}

#[test]
fn index_ops() {
    manual_seed(23);
    let a = rnd(&[4, 3], -1.0, 1.0);
    let i = ids(&[3, 0, 3, 1]);
    check("index_select dim 0", &[a.clone()], |x| x[0].index_select(&i, 0));
    check("index_select dim 1", &[strided(&a)], |x| x[0].index_select(&ids(&[2, 2, 0]), 1));
    let g = Tensor::from_vec(vec![2u32, 0, 1, 1, 0, 0], &[2, 3], &Device::Cpu).unwrap();
    check("gather dim 0", &[a.clone()], |x| x[0].gather(&g, 0));
    let g1 = Tensor::from_vec(vec![1i64, 2, 0, 0, 2, 2, 1, 1], &[4, 2], &Device::Cpu).unwrap();
    check("gather dim 1", &[a.clone()], |x| x[0].gather(&g1, 1));
    check("scatter_add", &[a.clone(), rnd(&[4, 2], -1.0, 1.0)], |x| x[0].scatter_add(&g1, &x[1], 1));
    check("embedding", &[rnd(&[5, 3], -1.0, 1.0)], |x| {
        x[0].embedding(&Tensor::from_vec(vec![4u32, 0, 4, 2], &[2, 2], &Device::Cpu)?)
    });
}
