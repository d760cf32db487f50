//! Gradient checks for reductions, softmax and matmul.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::type_complexity)]
mod common;
use common::{check, rnd, strided};
use lolcore::manual_seed;

#[test]
fn reductions() {
    manual_seed(11);
    let a = rnd(&[3, 4, 2], -1.0, 1.0);
    check("sum dim", &[a.clone()], |x| x[0].sum(1));
    check("sum keepdim", &[a.clone()], |x| x[0].sum_keepdim(-1));
    check("sum_all", &[strided(&a)], |x| x[0].sum_all());
    check("sum dims", &[a.clone()], |x| x[0].sum_dims(&[0, 2]));
    check("mean", &[a.clone()], |x| x[0].mean(0));
    check("mean keepdim", &[a.clone()], |x| x[0].mean_keepdim(2));
    check("mean_all", &[a.clone()], |x| x[0].mean_all());
    check("max", &[a.clone()], |x| x[0].max(1));
    check("max keepdim", &[strided(&a)], |x| x[0].max_keepdim(2));
    check("min", &[a.clone()], |x| x[0].min(0));
    check("max_all", &[a.clone()], |x| x[0].max_all());
    check("min_all", &[a.clone()], |x| x[0].min_all());
    check("var", &[a.clone()], |x| x[0].var(1));
    check("var keepdim", &[a.clone()], |x| x[0].var_keepdim(0));
    check("logsumexp", &[a.clone()], |x| x[0].logsumexp(1));
}

#[test]
fn softmax_family() {
    manual_seed(12);
    let a = rnd(&[3, 5], -2.0, 2.0);
    check("softmax last", &[a.clone()], |x| x[0].softmax(-1));
    check("softmax dim 0", &[a.clone()], |x| x[0].softmax(0));
    check("softmax strided", &[strided(&a)], |x| x[0].softmax(1));
    check("log_softmax last", &[a.clone()], |x| x[0].log_softmax(1));
    check("log_softmax dim 0", &[strided(&a)], |x| x[0].log_softmax(0));
}

#[test]
fn matmul_shapes() {
    manual_seed(13);
    check("matmul 2d", &[rnd(&[3, 4], -1.0, 1.0), rnd(&[4, 2], -1.0, 1.0)], |x| x[0].matmul(&x[1]));
    check("matmul strided", &[strided(&rnd(&[3, 4], -1.0, 1.0)), strided(&rnd(&[4, 5], -1.0, 1.0))], |x| {
        x[0].matmul(&x[1])
    });
    check("matmul batched broadcast", &[rnd(&[2, 1, 3, 4], -1.0, 1.0), rnd(&[3, 4, 2], -1.0, 1.0)], |x| {
        x[0].matmul(&x[1])
    });
    check("matmul batch × matrix", &[rnd(&[2, 3, 4], -1.0, 1.0), rnd(&[4, 2], -1.0, 1.0)], |x| x[0].matmul(&x[1]));
    check("matrix-vector", &[rnd(&[3, 4], -1.0, 1.0), rnd(&[4], -1.0, 1.0)], |x| x[0].matmul(&x[1]));
    check("vector-matrix", &[rnd(&[3], -1.0, 1.0), rnd(&[3, 4], -1.0, 1.0)], |x| x[0].matmul(&x[1]));
    check("dot", &[rnd(&[5], -1.0, 1.0), rnd(&[5], -1.0, 1.0)], |x| x[0].matmul(&x[1]));
}

#[test]
fn det_and_inverse() {
    manual_seed(14);
    let a = rnd(&[3, 3], -1.0, 1.0)
        .add(
            &lolcore::Tensor::eye(3, &lolcore::Device::Cpu)
                .unwrap()
                .to_dtype(lolcore::DType::F64)
                .unwrap()
                .mul_scalar(2.0)
                .unwrap(),
        )
        .unwrap();
    check("det", &[a.clone()], |x| x[0].det());
    check("det batched", &[rnd(&[2, 2, 2], -1.0, 1.0)], |x| x[0].det());
    check("inverse", &[a], |x| x[0].inverse());
}
