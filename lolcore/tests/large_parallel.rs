//! Tensors large enough to take the parallel and chunked CPU paths (split rows, parallel
//! reductions and scatters, chunked convolution), checked against plain loops or f64.
use lolcore::{manual_seed, Conv2dParams, DType, Device, Pool2dParams, Tensor};

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn(shape, &Device::Cpu).unwrap()
}

fn close(a: &[f32], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((*x as f64 - y).abs() <= tol * (1.0 + y.abs()), "{what}: element {i}: {x} vs {y}");
    }
}

#[test]
fn elementwise_and_broadcast_on_large_tensors() {
    manual_seed(1);
    let x = randn(&[256, 1024]);
    let b = randn(&[1024]);
    let xv = x.to_vec::<f32>().unwrap();
    let bv = b.to_vec::<f32>().unwrap();
    let y = x.affine(2.0, 1.0).unwrap().to_vec::<f32>().unwrap();
    close(&y, &xv.iter().map(|&v| 2.0 * v as f64 + 1.0).collect::<Vec<_>>(), 1e-6, "affine");
    let s = x.add(&b).unwrap().to_vec::<f32>().unwrap();
    close(
        &s,
        &xv.iter().enumerate().map(|(i, &v)| v as f64 + bv[i % 1024] as f64).collect::<Vec<_>>(),
        1e-6,
        "add bias",
    );
    let r = x.relu().unwrap().to_vec::<f32>().unwrap();
    close(&r, &xv.iter().map(|&v| v.max(0.0) as f64).collect::<Vec<_>>(), 0.0, "relu");
    // A transposed (strided) operand.
    let t = x.t().unwrap().sqr().unwrap().to_vec::<f32>().unwrap();
    close(
        &t,
        &(0..1024 * 256).map(|i| (xv[(i % 256) * 1024 + i / 256] as f64).powi(2)).collect::<Vec<_>>(),
        1e-6,
        "transposed sqr",
    );
}

#[test]
fn reductions_on_large_tensors() {
    manual_seed(2);
    let x = randn(&[64, 16, 784]);
    let xv = x.to_vec::<f32>().unwrap();
    let mut want = vec![0f64; 16];
    for (i, v) in xv.iter().enumerate() {
        want[(i / 784) % 16] += *v as f64;
    }
    close(&x.sum_dims(&[0, 2]).unwrap().to_vec::<f32>().unwrap(), &want, 1e-4, "sum over n, hw");
    let mut rows = vec![0f64; 64 * 16];
    for (i, v) in xv.iter().enumerate() {
        rows[i / 784] += *v as f64;
    }
    close(&x.sum(2).unwrap().flatten_all().unwrap().to_vec::<f32>().unwrap(), &rows, 1e-4, "sum last");
    let mx: Vec<f64> =
        (0..64 * 16).map(|r| xv[r * 784..(r + 1) * 784].iter().fold(f32::MIN, |a, &b| a.max(b)) as f64).collect();
    close(&x.max(2).unwrap().flatten_all().unwrap().to_vec::<f32>().unwrap(), &mx, 0.0, "max last");
    let total: f64 = xv.iter().map(|&v| v as f64).sum();
    close(&[x.sum_all().unwrap().to_scalar::<f32>().unwrap()], &[total], 1e-3, "sum_all");
    let sm = x.reshape(&[1024, 784]).unwrap().softmax(1).unwrap().sum(1).unwrap().to_vec::<f32>().unwrap();
    close(&sm, &vec![1.0; 1024], 1e-5, "softmax rows");
}

#[test]
fn pooling_and_scatter_on_large_tensors() {
    manual_seed(3);
    let x = randn(&[64, 16, 28, 28]).requires_grad(true);
    let y = x.max_pool2d(Pool2dParams::new(2)).unwrap();
    let xv = x.to_vec::<f32>().unwrap();
    let yv = y.to_vec::<f32>().unwrap();
    for (o, &v) in yv.iter().enumerate().step_by(97) {
        let (plane, oh, ow) = (o / 196, (o % 196) / 14, o % 14);
        let at = |h: usize, w: usize| xv[plane * 784 + (2 * oh + h) * 28 + 2 * ow + w];
        assert_eq!(v, at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1)));
    }
    // Each window's gradient lands on its maximum: the gradient sums to the output count.
    let g = y.sum_all().unwrap().backward().unwrap();
    let gx = g.get(&x).unwrap();
    assert_eq!(gx.sum_all().unwrap().to_scalar::<f32>().unwrap(), (64 * 16 * 196) as f32);
    assert_eq!(gx.max_all().unwrap().to_scalar::<f32>().unwrap(), 1.0);
}

#[test]
fn batched_convolution_matches_f64() {
    manual_seed(4);
    // 40 images of 16×32×32: spread over the threads an image per task.
    let x = randn(&[40, 16, 32, 32]);
    let w = randn(&[8, 16, 3, 3]).affine(0.1, 0.0).unwrap();
    let b = randn(&[8]);
    let p = Conv2dParams::default().padding(1).stride(1);
    let run = |x: &Tensor, w: &Tensor, b: &Tensor| {
        let (x, w, b) = (x.requires_grad(true), w.requires_grad(true), b.requires_grad(true));
        let y = x.conv2d_bias(&w, Some(&b), p).unwrap();
        let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        let get = |t: &Tensor| g.get(t).unwrap().to_vec::<f64>().unwrap();
        (y.to_vec::<f64>().unwrap(), get(&x), get(&w), get(&b))
    };
    let f32s = run(&x, &w, &b);
    let d = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
    let f64s = run(&d(&x), &d(&w), &d(&b));
    let rel = |a: &[f64], b: &[f64]| {
        let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
        num / b.iter().map(|y| y * y).sum::<f64>().sqrt()
    };
    assert!(rel(&f32s.0, &f64s.0) < 1e-5, "forward");
    assert!(rel(&f32s.1, &f64s.1) < 1e-5, "input grad");
    assert!(rel(&f32s.2, &f64s.2) < 1e-5, "weight grad");
    assert!(rel(&f32s.3, &f64s.3) < 1e-5, "bias grad");
}

/// A batch (an image per task across threads) gives what its images give one at a time
/// (each alone runs with the GEMMs themselves parallel): outputs, input gradients, and the
/// weight and bias gradients summed over the images.
#[test]
fn batched_convolution_matches_single_images() {
    manual_seed(9);
    let n = 40;
    let x = randn(&[n, 4, 9, 11]);
    let w = randn(&[6, 2, 3, 3]).affine(0.3, 0.0).unwrap();
    let b = randn(&[6]);
    let p = Conv2dParams::default().padding(1).stride(2).groups(2);
    let run = |x: &Tensor| {
        let (x, w, b) = (x.requires_grad(true), w.requires_grad(true), b.requires_grad(true));
        let y = x.conv2d_bias(&w, Some(&b), p).unwrap();
        let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        let get = |t: &Tensor| g.get(t).unwrap().to_vec::<f32>().unwrap();
        (y.to_vec::<f32>().unwrap(), get(&x), get(&w), get(&b))
    };
    let batch = run(&x);
    let (mut ys, mut gxs) = (Vec::new(), Vec::new());
    let (mut gw, mut gb) = (vec![0f64; w.elem_count()], vec![0f64; 6]);
    for i in 0..n {
        let one = run(&x.narrow(0, i, 1).unwrap().contiguous().unwrap());
        ys.extend(one.0);
        gxs.extend(one.1);
        gw.iter_mut().zip(&one.2).for_each(|(a, &v)| *a += v as f64);
        gb.iter_mut().zip(&one.3).for_each(|(a, &v)| *a += v as f64);
    }
    let close = |a: &[f32], b: &[f64], what: &str| {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        let scale = b.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((*x as f64 - y).abs() <= 1e-4 * scale, "{what}[{i}]: {x} vs {y}");
        }
    };
    let widen = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    close(&batch.0, &widen(&ys), "output");
    close(&batch.1, &widen(&gxs), "input gradient");
    close(&batch.2, &gw, "weight gradient");
    close(&batch.3, &gb, "bias gradient");
}
