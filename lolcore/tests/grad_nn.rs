//! Gradient checks for conv2d and pooling.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::type_complexity)]
mod common;
use common::{check, rnd, strided};
use lolcore::{manual_seed, Conv2dParams, Pool2dParams};

#[test]
fn conv2d_variants() {
    manual_seed(31);
    let x = rnd(&[2, 2, 5, 5], -1.0, 1.0);
    let w = rnd(&[3, 2, 3, 3], -1.0, 1.0);
    check("conv2d", &[x.clone(), w.clone()], |t| t[0].conv2d(&t[1], Conv2dParams::default()));
    check("conv2d stride pad", &[x.clone(), w.clone()], |t| {
        t[0].conv2d(&t[1], Conv2dParams::default().stride(2).padding(1))
    });
    check("conv2d dilation", &[x.clone(), w.clone()], |t| {
        t[0].conv2d(&t[1], Conv2dParams::default().dilation(2).padding(1))
    });
    let wg = rnd(&[4, 1, 2, 2], -1.0, 1.0);
    check("conv2d groups", &[x.clone(), wg], |t| t[0].conv2d(&t[1], Conv2dParams::default().groups(2)));
    check("conv2d 1x1", &[x.clone(), rnd(&[3, 2, 1, 1], -1.0, 1.0)], |t| t[0].conv2d(&t[1], Conv2dParams::default()));
    check("conv2d strided input", &[strided(&x), w.clone()], |t| {
        t[0].conv2d(&t[1], Conv2dParams::default().padding(1))
    });
    check("conv2d with bias", &[x.clone(), w, rnd(&[3], -1.0, 1.0)], |t| {
        t[0].conv2d_bias(&t[1], Some(&t[2]), Conv2dParams::default().padding(1))
    });
}

#[test]
fn pooling() {
    manual_seed(32);
    let x = rnd(&[2, 2, 6, 6], -1.0, 1.0);
    check("max_pool2d", &[x.clone()], |t| t[0].max_pool2d(Pool2dParams::new(2)));
    check("max_pool2d stride pad", &[x.clone()], |t| t[0].max_pool2d(Pool2dParams::new(3).stride(2).padding(1)));
    check("avg_pool2d", &[x.clone()], |t| t[0].avg_pool2d(Pool2dParams::new(2)));
    check("avg_pool2d overlap", &[strided(&x)], |t| t[0].avg_pool2d(Pool2dParams::new(3).stride(2).padding(1)));
}

#[test]
fn normalisation_layers() {
    use lolcore::nn::functional::{batch_norm, layer_norm};
    manual_seed(33);
    let x = rnd(&[3, 2, 2, 2], -1.0, 1.0);
    let (w, b) = (rnd(&[2], 0.5, 1.5), rnd(&[2], -0.5, 0.5));
    check("batch_norm train", &[x.clone(), w.clone(), b.clone()], |t| {
        let (rm, rv) = (t[0].zeros_like_shape2(&[2])?, t[0].zeros_like_shape2(&[2])?);
        batch_norm(&t[0], &rm, &rv, Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5)
    });
    let (rm, rv) = (rnd(&[2], -0.5, 0.5), rnd(&[2], 0.5, 1.5));
    check("batch_norm eval", &[x.clone(), w, b], |t| {
        batch_norm(&t[0], &rm, &rv, Some(&t[1]), Some(&t[2]), false, 0.1, 1e-5)
    });
    let (lw, lb) = (rnd(&[2, 2], 0.5, 1.5), rnd(&[2, 2], -0.5, 0.5));
    check("layer_norm", &[x, lw, lb], |t| layer_norm(&t[0], &[2, 2], Some(&t[1]), Some(&t[2]), 1e-5));
}

trait ZerosLikeShape {
    fn zeros_like_shape2(&self, shape: &[usize]) -> lolcore::Result<lolcore::Tensor>;
}
impl ZerosLikeShape for lolcore::Tensor {
    fn zeros_like_shape2(&self, shape: &[usize]) -> lolcore::Result<lolcore::Tensor> {
        lolcore::Tensor::zeros_dtype(shape, self.dtype(), &self.device())
    }
}

#[test]
fn dropout_with_fixed_mask() {
    // Each evaluation draws its mask from a fresh generator with the same seed, so every
    // finite difference sees the same mask whatever other tests draw meanwhile.
    let a = rnd(&[4, 5], -1.0, 1.0);
    check("dropout", &[a], |x| x[0].dropout_with(0.3, true, &lolcore::Generator::new(9)));
}
