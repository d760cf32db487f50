//! Gradient checks for conv2d and pooling.
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
    check("conv2d strided input", &[strided(&x), w], |t| t[0].conv2d(&t[1], Conv2dParams::default().padding(1)));
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
