//! CPU ↔ CUDA parity for every op, forward and backward, on random shapes including
//! strided and broadcast inputs: relative error ≤ 1e-5 in f32 (≤ 3e-3 with TF32). Also
//! half-precision casts, device RNG statistics, optimizers, and flat device memory over
//! 1,000 training steps. Every test skips, printing why, when no GPU is present.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::type_complexity)]
use lolcore::optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};
use lolcore::{manual_seed, Conv2dParams, DType, Device, Pool2dParams, Result, Tensor};

fn gpu() -> Option<Device> {
    match Device::cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            println!("skipped: {e}");
            None
        }
    }
}

/// Held by tests that switch device-wide settings (TF32, cuDNN) and by those whose
/// tolerance those settings would change, so a parallel `cargo test` stays exact.
fn device_settings() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn rnd(shape: &[usize]) -> Tensor {
    Tensor::randn(shape, &Device::Cpu).unwrap()
}

fn pos(shape: &[usize]) -> Tensor {
    Tensor::uniform(0.5, 2.0, shape, &Device::Cpu).unwrap()
}

/// ‖a − b‖ / ‖b‖ (or ‖a − b‖ when b is zero).
fn rel(a: &Tensor, b: &Tensor) -> f64 {
    let (a, b) = (a.to_vec::<f64>().unwrap(), b.to_vec::<f64>().unwrap());
    assert_eq!(a.len(), b.len());
    let num: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let den: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    if den == 0.0 {
        num
    } else {
        num / den
    }
}

/// Runs `f` on CPU and CUDA copies of `inputs`, compares outputs and the gradients of
/// `sum(f(x) · w)` for random `w`.
fn parity(dev: &Device, name: &str, inputs: &[Tensor], tol: f64, f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let run = |d: &Device, w: Option<&Tensor>| {
        let xs: Vec<Tensor> =
            inputs.iter().map(|t| t.to_device(d).unwrap().requires_grad(t.dtype().is_float())).collect();
        let y = f(&xs).unwrap_or_else(|e| panic!("{name} on {d}: {e}"));
        let w = match w {
            Some(w) => w.to_device(d).unwrap(),
            None => Tensor::randn(y.shape(), &Device::Cpu).unwrap().to_dtype(y.dtype()).unwrap().to_device(d).unwrap(),
        };
        let grads = if y.tracks_grad() {
            let g = y
                .mul(&w)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap_or_else(|e| panic!("{name} backward on {d}: {e}"));
            xs.iter().map(|x| g.get(x).map(|t| t.to_device(&Device::Cpu).unwrap())).collect()
        } else {
            vec![]
        };
        (y.to_device(&Device::Cpu).unwrap(), grads, w.to_device(&Device::Cpu).unwrap())
    };
    let (yc, gc, w) = run(&Device::Cpu, None);
    let (yg, gg, _) = run(dev, Some(&w));
    assert_eq!(yc.shape(), yg.shape(), "{name}: shapes");
    let e = rel(&yg, &yc);
    assert!(e <= tol, "{name}: forward relative error {e:.3e}");
    for (i, (a, b)) in gg.iter().zip(&gc).enumerate() {
        match (a, b) {
            (Some(a), Some(b)) => {
                let e = rel(a, b);
                assert!(e <= tol, "{name}: gradient {i} relative error {e:.3e}");
            }
            (None, None) => {}
            _ => panic!("{name}: gradient {i} present on one device only"),
        }
    }
}

const TOL: f64 = 1e-5;

#[test]
fn elementwise_and_broadcasting() {
    let Some(d) = gpu() else { return };
    manual_seed(1);
    let (a, b, c) = (rnd(&[37, 41]), rnd(&[41]), pos(&[37, 1]));
    parity(&d, "add", &[a.clone(), b.clone()], TOL, |x| x[0].add(&x[1]));
    parity(&d, "sub", &[a.clone(), c.clone()], TOL, |x| x[0].sub(&x[1]));
    parity(&d, "mul", &[b.clone(), a.clone()], TOL, |x| x[0].mul(&x[1]));
    parity(&d, "div", &[a.clone(), c.clone()], TOL, |x| x[0].div(&x[1]));
    parity(&d, "maximum", &[a.clone(), b.clone()], TOL, |x| x[0].maximum(&x[1]));
    parity(&d, "minimum", &[a.clone(), b.clone()], TOL, |x| x[0].minimum(&x[1]));
    parity(&d, "pow", &[pos(&[5, 7]), rnd(&[7])], TOL, |x| x[0].pow(&x[1]));
    parity(&d, "strided add", &[a.clone(), rnd(&[41, 37])], TOL, |x| x[0].add(&x[1].t()?));
    parity(&d, "rank-4 broadcast", &[rnd(&[2, 1, 3, 5]), rnd(&[4, 1, 5])], TOL, |x| x[0].mul(&x[1]));
    let unary: Vec<(&str, Tensor, fn(&Tensor) -> Result<Tensor>)> = vec![
        ("neg", a.clone(), |x| x.neg()),
        ("exp", a.clone(), |x| x.exp()),
        ("log", pos(&[9, 11]), |x| x.log()),
        ("sqrt", pos(&[9, 11]), |x| x.sqrt()),
        ("abs", a.clone(), |x| x.abs()),
        ("sin", a.clone(), |x| x.sin()),
        ("cos", a.clone(), |x| x.cos()),
        ("tanh", a.clone(), |x| x.tanh()),
        ("sigmoid", a.clone(), |x| x.sigmoid()),
        ("relu", a.clone(), |x| x.relu()),
        ("gelu", a.clone(), |x| x.gelu()),
        ("leaky_relu", a.clone(), |x| x.leaky_relu(0.2)),
        ("sqr", a.clone(), |x| x.sqr()),
        ("recip", pos(&[9, 11]), |x| x.recip()),
        ("erf", a.clone(), |x| x.erf()),
        ("powf", pos(&[9, 11]), |x| x.powf(1.7)),
        ("clamp", a.clone(), |x| x.clamp(-0.5, 0.8)),
        ("affine", a.clone(), |x| x.affine(2.5, -1.0)),
        ("floor/ceil/round/sign", a.clone(), |x| x.floor()?.add(&x.ceil()?)?.add(&x.round()?)?.add(&x.sign()?)),
        ("strided unary", rnd(&[13, 17]), |x| x.t()?.exp()),
    ];
    for (name, x, f) in unary {
        parity(&d, name, &[x], TOL, |t| f(&t[0]));
    }
    let m = a.gt_scalar(0.0).unwrap();
    parity(&d, "where_cond", &[a.clone(), b.clone(), m.to_dtype(DType::F32).unwrap()], TOL, |x| {
        x[2].ne_scalar(0.0)?.where_cond(&x[0], &x[1])
    });
    parity(&d, "comparisons", &[a.clone(), b.clone()], 0.0, |x| {
        let parts =
            [x[0].eq(&x[1])?, x[0].ne(&x[1])?, x[0].lt(&x[1])?, x[0].le(&x[1])?, x[0].gt(&x[1])?, x[0].ge(&x[1])?];
        Tensor::stack(&parts, 0)?.to_dtype(DType::F32)
    });
}

#[test]
fn reductions_softmax_and_matmul() {
    let Some(d) = gpu() else { return };
    let _settings = device_settings();
    manual_seed(2);
    let x = rnd(&[6, 70, 33]);
    parity(&d, "sum dim", &[x.clone()], TOL, |t| t[0].sum(1));
    parity(&d, "sum dims", &[x.clone()], TOL, |t| t[0].sum_dims(&[0, 2]));
    parity(&d, "sum_all", &[x.clone()], TOL, |t| t[0].sum_all());
    parity(&d, "mean", &[x.clone()], TOL, |t| t[0].mean(0));
    parity(&d, "max", &[x.clone()], TOL, |t| t[0].max(2));
    parity(&d, "min keepdim", &[x.clone()], TOL, |t| t[0].min_keepdim(1));
    parity(&d, "var", &[x.clone()], TOL, |t| t[0].var(1));
    parity(&d, "argmax/argmin", &[x.clone()], 0.0, |t| {
        Tensor::cat(&[t[0].argmax(1)?, t[0].argmin(2)?], 1)?.to_dtype(DType::F32)
    });
    parity(&d, "softmax", &[x.clone()], TOL, |t| t[0].softmax(-1));
    parity(&d, "softmax dim 1", &[x.clone()], TOL, |t| t[0].softmax(1));
    parity(&d, "log_softmax", &[x.clone()], TOL, |t| t[0].log_softmax(2));
    parity(&d, "matmul", &[rnd(&[64, 100]), rnd(&[100, 30])], TOL, |t| t[0].matmul(&t[1]));
    parity(&d, "matmul transposed", &[rnd(&[100, 64]), rnd(&[30, 100])], TOL, |t| t[0].t()?.matmul(&t[1].t()?));
    parity(&d, "batched broadcast", &[rnd(&[3, 1, 8, 9]), rnd(&[4, 9, 5])], TOL, |t| t[0].matmul(&t[1]));
    parity(&d, "matrix-vector", &[rnd(&[17, 9]), rnd(&[9])], TOL, |t| t[0].matmul(&t[1]));
    parity(
        &d,
        "f64 matmul",
        &[rnd(&[20, 30]).to_dtype(DType::F64).unwrap(), rnd(&[30, 10]).to_dtype(DType::F64).unwrap()],
        1e-12,
        |t| t[0].matmul(&t[1]),
    );
}

#[test]
fn tf32_matmul_within_3e3() {
    let Some(d) = gpu() else { return };
    let _settings = device_settings();
    manual_seed(3);
    lolcore::cuda::set_tf32(&d, true).unwrap();
    let (a, b) = (rnd(&[256, 512]), rnd(&[512, 128]));
    let want = a.matmul(&b).unwrap();
    let got = a.to_device(&d).unwrap().matmul(&b.to_device(&d).unwrap()).unwrap();
    let e = rel(&got, &want);
    lolcore::cuda::set_tf32(&d, false).unwrap();
    assert!(e <= 3e-3, "TF32 relative error {e:.3e}");
}

#[test]
fn views_joins_and_indexing() {
    let Some(d) = gpu() else { return };
    manual_seed(4);
    let x = rnd(&[5, 6, 7]);
    parity(&d, "permute/reshape", &[x.clone()], TOL, |t| t[0].permute(&[2, 0, 1])?.reshape(&[7, 30]));
    parity(&d, "narrow", &[x.clone()], TOL, |t| t[0].narrow(2, 2, 4));
    parity(&d, "broadcast_as", &[rnd(&[6, 1])], TOL, |t| t[0].broadcast_as(&[3, 6, 4]));
    parity(&d, "diag", &[rnd(&[6, 6])], TOL, |t| t[0].diag());
    parity(&d, "cat", &[x.clone(), rnd(&[5, 2, 7])], TOL, |t| Tensor::cat(&[&t[0], &t[1]], 1));
    parity(&d, "stack", &[x.clone(), rnd(&[5, 6, 7])], TOL, |t| Tensor::stack(&[&t[0], &t[1]], 3));
    parity(&d, "flip", &[x.clone()], TOL, |t| t[0].flip(&[0, 2]));
    let ids = Tensor::from_vec(vec![4u32, 0, 4, 2], &[4], &Device::Cpu).unwrap();
    parity(&d, "index_select", &[x.clone(), ids.clone()], TOL, |t| t[0].index_select(&t[1], 0));
    let gi =
        Tensor::from_vec((0..5 * 3 * 7).map(|i| ((i * 7) % 6) as i64).collect::<Vec<_>>(), &[5, 3, 7], &Device::Cpu)
            .unwrap();
    parity(&d, "gather", &[x.clone(), gi.clone()], TOL, |t| t[0].gather(&t[1], 1));
    parity(&d, "scatter_add", &[x.clone(), rnd(&[5, 3, 7]), gi], TOL, |t| t[0].scatter_add(&t[2], &t[1], 1));
    parity(
        &d,
        "embedding",
        &[rnd(&[10, 4]), Tensor::from_vec(vec![9i64, 0, 3, 3], &[2, 2], &Device::Cpu).unwrap()],
        TOL,
        |t| t[0].embedding(&t[1]),
    );
    parity(&d, "one_hot", &[Tensor::from_vec(vec![1u8, 0, 3], &[3], &Device::Cpu).unwrap()], 0.0, |t| t[0].one_hot(4));
}

/// Every convolution case (forward and both gradients) at tolerance `tol`.
fn conv_cases(d: &Device, label: &str, tol: f64) {
    let x = rnd(&[3, 4, 11, 9]);
    let w = rnd(&[6, 4, 3, 3]);
    let p = |s: usize, pad: usize, dil: usize, g: usize| {
        Conv2dParams::default().stride(s).padding(pad).dilation(dil).groups(g)
    };
    let name = |case: &str| format!("{label}{case}");
    parity(d, &name("conv2d"), &[x.clone(), w.clone()], tol, |t| t[0].conv2d(&t[1], Conv2dParams::default()));
    parity(d, &name("conv2d stride pad bias"), &[x.clone(), w.clone(), rnd(&[6])], tol, |t| {
        t[0].conv2d_bias(&t[1], Some(&t[2]), p(2, 1, 1, 1))
    });
    parity(d, &name("conv2d dilation"), &[x.clone(), w.clone()], tol, |t| t[0].conv2d(&t[1], p(1, 2, 2, 1)));
    parity(d, &name("conv2d groups"), &[x.clone(), rnd(&[6, 2, 3, 3])], tol, |t| t[0].conv2d(&t[1], p(1, 1, 1, 2)));
    parity(d, &name("conv2d 1x1 strided input"), &[rnd(&[3, 9, 11, 4]), rnd(&[5, 4, 1, 1])], tol, |t| {
        t[0].permute(&[0, 3, 1, 2])?.conv2d(&t[1], Conv2dParams::default())
    });
    parity(d, &name("conv2d mnist 5x5"), &[rnd(&[8, 1, 28, 28]), rnd(&[20, 1, 5, 5])], tol, |t| {
        t[0].conv2d(&t[1], Conv2dParams::default())
    });
}

#[test]
fn convolution_and_pooling() {
    let Some(d) = gpu() else { return };
    let _settings = device_settings();
    manual_seed(5);
    lolcore::cuda::set_cudnn(&d, false).unwrap();
    conv_cases(&d, "", TOL);
    let x = rnd(&[3, 4, 11, 9]);
    parity(&d, "max_pool2d", &[x.clone()], TOL, |t| t[0].max_pool2d(Pool2dParams::new(2)));
    parity(&d, "max_pool2d 3/2/1", &[x.clone()], TOL, |t| t[0].max_pool2d(Pool2dParams::new(3).stride(2).padding(1)));
    parity(&d, "avg_pool2d", &[x.clone()], TOL, |t| t[0].avg_pool2d(Pool2dParams::new(3).stride(2).padding(1)));
}

/// The same convolutions through cuDNN (exact f32, then TF32), when cuDNN opens here.
#[test]
fn convolution_through_cudnn() {
    let Some(d) = gpu() else { return };
    let _settings = device_settings();
    if let Err(e) = lolcore::cuda::set_cudnn(&d, true) {
        println!("cuDNN skipped: {e}");
        return;
    }
    manual_seed(15);
    conv_cases(&d, "cuDNN ", TOL);
    lolcore::cuda::set_tf32(&d, true).unwrap();
    conv_cases(&d, "cuDNN TF32 ", 3e-3);
    lolcore::cuda::set_tf32(&d, false).unwrap();
    for dt in [DType::F16, DType::BF16] {
        let (x, w) = (rnd(&[4, 8, 12, 12]), rnd(&[16, 8, 3, 3]));
        let want = x.conv2d(&w, Conv2dParams::default().padding(1)).unwrap();
        let got = x
            .to_dtype(dt)
            .unwrap()
            .to_device(&d)
            .unwrap()
            .conv2d(&w.to_dtype(dt).unwrap().to_device(&d).unwrap(), Conv2dParams::default().padding(1))
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap();
        let e = rel(&got, &want);
        assert!(e <= 2e-2, "cuDNN {dt:?} conv2d relative error {e:.3e}");
    }
    lolcore::cuda::set_cudnn(&d, false).unwrap();
}

#[test]
fn casts_and_half_precision() {
    let Some(d) = gpu() else { return };
    manual_seed(6);
    let x = rnd(&[50, 20]).affine(100.0, 0.0).unwrap();
    for dt in [DType::F16, DType::BF16, DType::F64, DType::I64, DType::U32, DType::U8] {
        let want = x.to_dtype(dt).unwrap().to_dtype(DType::F64).unwrap();
        let got = x
            .to_device(&d)
            .unwrap()
            .to_dtype(dt)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_device(&Device::Cpu)
            .unwrap();
        if dt == DType::U8 || dt == DType::U32 {
            // Negative values to unsigned types are implementation-defined: compare the rest.
            let (w, g) = (want.to_vec::<f64>().unwrap(), got.to_vec::<f64>().unwrap());
            let xs = x.to_vec::<f32>().unwrap();
            assert!(
                w.iter().zip(&g).zip(&xs).filter(|(_, &v)| (0.0..255.0).contains(&v)).all(|((a, b), _)| a == b),
                "{dt}"
            );
        } else {
            assert_eq!(got.to_vec::<f64>().unwrap(), want.to_vec::<f64>().unwrap(), "{dt}");
        }
    }
    // Half arithmetic and matmul on the GPU, against f32 on the CPU.
    let (a, b) = (rnd(&[64, 32]), rnd(&[32, 16]));
    for dt in [DType::F16, DType::BF16] {
        let ga = a.to_device(&d).unwrap().to_dtype(dt).unwrap();
        let gb = b.to_device(&d).unwrap().to_dtype(dt).unwrap();
        let y = ga.matmul(&gb).unwrap().relu().unwrap().to_dtype(DType::F32).unwrap();
        let e = rel(&y, &a.matmul(&b).unwrap().relu().unwrap());
        assert!(e < 2e-2, "{dt} matmul relative error {e:.3e}");
    }
}

#[test]
fn device_random_numbers_have_the_right_statistics() {
    let Some(d) = gpu() else { return };
    manual_seed(7);
    let u = Tensor::rand(&[100_000], &d).unwrap().to_vec::<f32>().unwrap();
    assert!(u.iter().all(|&v| (0.0..1.0).contains(&v)));
    let mean = u.iter().sum::<f32>() / u.len() as f32;
    assert!((mean - 0.5).abs() < 0.01, "uniform mean {mean}");
    let n = Tensor::randn(&[100_000], &d).unwrap().to_vec::<f32>().unwrap();
    let m = n.iter().sum::<f32>() / n.len() as f32;
    let v = n.iter().map(|x| (x - m).powi(2)).sum::<f32>() / n.len() as f32;
    assert!(m.abs() < 0.02 && (v - 1.0).abs() < 0.03, "normal mean {m} var {v}");
    // Dropout keeps about 1 − p and scales the kept values.
    let x = Tensor::ones(&[100_000], &d).unwrap();
    let y = x.dropout(0.25, true).unwrap().to_vec::<f32>().unwrap();
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
    assert!((kept - 0.75).abs() < 0.01 && y.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
}

#[test]
fn optimizers_match_the_cpu() {
    let Some(d) = gpu() else { return };
    manual_seed(8);
    let makers: Vec<(&str, fn() -> Box<dyn Optimizer>)> = vec![
        ("sgd", || Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(0.01))),
        ("adam", || Box::new(Adam::new(0.01).weight_decay(0.1))),
        ("adamw", || Box::new(AdamW::new(0.01))),
        ("rmsprop", || Box::new(RmsProp::new(0.01).momentum(0.5).centered(true))),
        ("adagrad", || Box::new(Adagrad::new(0.1).lr_decay(0.01))),
    ];
    let p0: Vec<Tensor> = (0..30).map(|i| rnd(&[i + 1, 3])).collect();
    let grads: Vec<Vec<Tensor>> = (0..3).map(|_| p0.iter().map(|p| rnd(p.shape())).collect()).collect();
    for (name, make) in makers {
        let run = |dev: &Device| -> Vec<Tensor> {
            let ps: Vec<Tensor> =
                p0.iter().map(|p| p.to_device(dev).unwrap().deep_copy().unwrap().requires_grad(true)).collect();
            let mut opt = make();
            opt.add_param_group(ps.clone(), None).unwrap();
            for step in &grads {
                let mut g = lolcore::Gradients::new();
                for (p, gr) in ps.iter().zip(step) {
                    g.insert(p, gr.to_device(dev).unwrap());
                }
                opt.step(&g).unwrap();
            }
            ps.iter().map(|p| p.to_device(&Device::Cpu).unwrap()).collect()
        };
        let (cpu, cuda) = (run(&Device::Cpu), run(&d));
        for (a, b) in cuda.iter().zip(&cpu) {
            let e = rel(a, b);
            assert!(e <= 1e-5, "{name}: relative error {e:.3e}");
        }
    }
}

#[test]
fn training_memory_stays_flat_over_1000_steps() {
    let Some(d) = gpu() else { return };
    manual_seed(9);
    let x = Tensor::randn(&[64, 32], &d).unwrap();
    let y = Tensor::randn(&[64, 8], &d).unwrap();
    let w1 = Tensor::randn(&[32, 64], &d).unwrap().affine(0.1, 0.0).unwrap().requires_grad(true);
    let w2 = Tensor::randn(&[64, 8], &d).unwrap().affine(0.1, 0.0).unwrap().requires_grad(true);
    let mut opt = Adam::new(1e-3).params(vec![w1.clone(), w2.clone()]);
    let mut step = || {
        let loss = x
            .matmul(&w1)
            .unwrap()
            .relu()
            .unwrap()
            .matmul(&w2)
            .unwrap()
            .sub(&y)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        opt.step(&loss.backward().unwrap()).unwrap();
    };
    for _ in 0..10 {
        step();
    }
    let early = lolcore::cuda::memory_in_use(&d).unwrap();
    for _ in 10..1000 {
        step();
    }
    let late = lolcore::cuda::memory_in_use(&d).unwrap();
    assert!(late <= early, "device memory grew from {early} to {late} bytes");
}

#[test]
fn out_of_range_indices_are_reported() {
    let Some(d) = gpu() else { return };
    let x = Tensor::ones(&[3, 2], &d).unwrap();
    let ids = Tensor::from_vec(vec![0u32, 7], &[2], &d).unwrap();
    let y = x.index_select(&ids, 0).unwrap();
    let e = y.to_vec::<f32>().unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");
    // The flag is cleared once reported.
    assert_eq!(x.to_vec::<f32>().unwrap(), vec![1.0; 6]);
}

#[test]
fn mixed_devices_are_an_error_naming_both() {
    let Some(d) = gpu() else { return };
    let a = Tensor::ones(&[2], &Device::Cpu).unwrap();
    let b = Tensor::ones(&[2], &d).unwrap();
    let e = a.add(&b).unwrap_err().to_string();
    assert!(e.contains("cpu") && e.contains("cuda:0"), "{e}");
}

/// Parameters that are views (slices of one buffer, a transposed weight) and a conv bias
/// at an offset: CUDA updates and reads them exactly where the CPU does.
#[test]
fn views_as_parameters_and_biases_match_the_cpu() {
    let Some(dev) = gpu() else { return };
    let run = |d: &Device| -> Result<Vec<Vec<f32>>> {
        let flat = Tensor::arange(0.0, 8.0, d)?;
        let (p1, p2) = (flat.narrow(0, 1, 3)?.requires_grad(true), flat.narrow(0, 5, 3)?.requires_grad(true));
        let base = Tensor::ones(&[2, 3], d)?;
        let pt = base.t()?.requires_grad(true);
        let mut opt = Adam::new(0.1).params(vec![p1.clone(), p2.clone(), pt.clone()]);
        for _ in 0..3 {
            let loss = p1.mul(&p2)?.sum_all()?.add(&pt.sqr()?.sum_all()?)?;
            opt.step(&loss.backward()?)?;
        }
        let x = Tensor::ones(&[1, 2, 3, 3], d)?;
        let w = Tensor::ones(&[2, 2, 2, 2], d)?;
        let bias = Tensor::from_vec(vec![10f32, 20., 30., 40.], &[4], &Device::Cpu)?.to_device(d)?;
        let y = x.conv2d_bias(&w, Some(&bias.narrow(0, 2, 2)?), Conv2dParams::default())?;
        Ok(vec![flat.to_vec()?, base.to_vec()?, y.to_vec()?])
    };
    let (cpu, cuda) = (run(&Device::Cpu).unwrap(), run(&dev).unwrap());
    for (a, b) in cpu.iter().zip(&cuda) {
        let err = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(err < 1e-5, "{a:?} vs {b:?}");
    }
    assert_eq!(cuda[2][0], 8.0 + 30.0, "the bias view is read from its offset");
}
