//! Issue "Trust", items 1–5 and 7 at the tensor level: each a user-reachable way to get a
//! wrong number, a hang or a panic on main before the fix.
use lolcore::optim::{Adam, Optimizer, Sgd};
use lolcore::{no_grad, Conv2dParams, DType, Device, Error, Result, Tensor};
use std::sync::mpsc;
use std::time::Duration;

fn cpu() -> Device {
    Device::Cpu
}

fn vals(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

/// Runs `f` on another thread and fails the test if it takes longer than `secs` (a hang).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs)).expect("the call hung (or panicked)")
}

// 1. A bias that is a view at an offset is read where it is.
#[test]
fn conv_bias_view_at_offset_is_read_from_its_offset() -> Result<()> {
    let x = Tensor::arange(0.0, 2.0 * 9.0, &cpu())?.reshape(&[1, 2, 3, 3])?;
    let w = Tensor::ones(&[2, 2, 2, 2], &cpu())?;
    let big = Tensor::from_vec(vec![10f32, 20., 30., 40.], &[4], &cpu())?;
    let view = big.narrow(0, 2, 2)?;
    let y = x.conv2d_bias(&w, Some(&view), Conv2dParams::default())?;
    let expect = x.conv2d_bias(&w, Some(&view.deep_copy()?), Conv2dParams::default())?;
    assert_eq!(vals(&y), vals(&expect));
    // Output channel 0 gets 30 added, not 10.
    let plain = x.conv2d(&w, Conv2dParams::default())?;
    assert_eq!(vals(&y)[0], vals(&plain)[0] + 30.0);
    // A bias that is a contiguous prefix of a longer buffer, and a strided one.
    let prefix = big.narrow(0, 0, 2)?;
    let y = x.conv2d_bias(&w, Some(&prefix), Conv2dParams::default())?;
    assert_eq!(vals(&y)[4], vals(&plain)[4] + 20.0);
    let stepped = big.reshape(&[2, 2])?.narrow(1, 1, 1)?.reshape(&[2])?; // [20, 40]
    let y = x.conv2d_bias(&w, Some(&stepped), Conv2dParams::default())?;
    assert_eq!(vals(&y)[4], vals(&plain)[4] + 40.0);
    Ok(())
}

// 2. Overlapping in-place copies give PyTorch's shifted values instead of hanging.
#[test]
fn overlapping_copies_shift_values_and_never_hang() {
    let out = within(20, || -> Result<Vec<f32>> {
        let b = Tensor::arange(0.0, 6.0, &cpu())?;
        b.narrow(0, 0, 5)?.copy_from(&b.narrow(0, 1, 5)?)?;
        let shifted_left = vals(&b);
        let c = Tensor::arange(0.0, 6.0, &cpu())?;
        c.narrow(0, 1, 5)?.copy_from(&c.narrow(0, 0, 5)?)?;
        c.copy_from(&c)?;
        let m = Tensor::arange(0.0, 4.0, &cpu())?.reshape(&[2, 2])?;
        m.copy_from(&m.t()?)?;
        m.add_scaled_(&m.t()?, 1.0)?;
        Ok([shifted_left, vals(&c), vals(&m)].concat())
    })
    .unwrap();
    assert_eq!(&out[..6], &[1., 2., 3., 4., 5., 5.]);
    assert_eq!(&out[6..12], &[0., 0., 1., 2., 3., 4.]);
    // m = [[0, 2], [1, 3]], then m + mᵀ.
    assert_eq!(&out[12..], &[0., 3., 3., 6.]);
}

#[test]
fn writing_into_a_broadcast_view_is_an_error() -> Result<()> {
    let row = Tensor::zeros(&[3], &cpu())?;
    let wide = row.broadcast_as(&[4, 3])?;
    let e = wide.copy_from(&Tensor::ones(&[4, 3], &cpu())?).unwrap_err().to_string();
    assert!(e.contains("copy_from") && e.contains("broadcast view"), "{e}");
    assert!(wide.add_scaled_(&Tensor::ones(&[4, 3], &cpu())?, 1.0).is_err());
    Ok(())
}

// 3. Parameters used through cat/stack, and parameters that are views, train.
#[test]
fn parameters_through_cat_and_stack_train() -> Result<()> {
    let a = Tensor::ones(&[2, 3], &cpu())?.requires_grad(true);
    let b = Tensor::ones(&[1, 3], &cpu())?.requires_grad(true);
    let mut opt = Adam::new(0.1).params(vec![a.clone(), b.clone()]);
    for _ in 0..2 {
        let loss = Tensor::cat(&[&a, &b], 0)?.sqr()?.sum_all()?.add(&Tensor::stack(&[&b, &b], 0)?.sum_all()?)?;
        opt.step(&loss.backward()?)?;
    }
    assert!(vals(&a).iter().all(|&v| v < 1.0) && vals(&b).iter().all(|&v| v < 1.0));
    Ok(())
}

#[test]
fn parameter_views_are_updated_in_place_where_they_are() -> Result<()> {
    // Two parameters sliced from one flat buffer, and a transposed one.
    let flat = Tensor::zeros(&[6], &cpu())?;
    let p1 = flat.narrow(0, 0, 2)?.requires_grad(true);
    let p2 = flat.narrow(0, 2, 4)?.requires_grad(true);
    let base = Tensor::zeros(&[2, 3], &cpu())?;
    let pt = base.t()?.requires_grad(true);
    let mut opt = Sgd::new(1.0).momentum(0.5).params(vec![p1.clone(), p2.clone(), pt.clone()]);
    let target = Tensor::arange(1.0, 7.0, &cpu())?;
    for _ in 0..3 {
        let loss = Tensor::cat(&[&p1, &p2], 0)?
            .sub(&target)?
            .sqr()?
            .sum_all()?
            .add(&pt.sub(&Tensor::ones(&[3, 2], &cpu())?)?.sqr()?.sum_all()?)?;
        opt.step(&loss.backward()?)?;
    }
    // The same updates as on independent dense parameters.
    let q = Tensor::zeros(&[6], &cpu())?.requires_grad(true);
    let r = Tensor::zeros(&[3, 2], &cpu())?.requires_grad(true);
    let mut opt2 = Sgd::new(1.0).momentum(0.5).params(vec![q.clone(), r.clone()]);
    for _ in 0..3 {
        let loss = q.sub(&target)?.sqr()?.sum_all()?.add(&r.sub(&Tensor::ones(&[3, 2], &cpu())?)?.sqr()?.sum_all()?)?;
        opt2.step(&loss.backward()?)?;
    }
    assert_eq!(vals(&flat), vals(&q));
    assert_eq!(vals(&base.t()?), vals(&r));
    Ok(())
}

// 4. In-place writes to something backward saved are an error naming the op.
#[test]
fn modifying_a_saved_tensor_fails_backward_with_the_op_named() -> Result<()> {
    let x = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3], &cpu())?.requires_grad(true);
    let y = x.exp()?;
    let loss = y.sum_all()?;
    y.copy_from(&Tensor::zeros(&[3], &cpu())?)?;
    let e = loss.backward().unwrap_err().to_string();
    assert!(e.contains("`exp`") && e.contains("output") && e.contains("modified in place"), "{e}");

    // An input saved by matmul, modified through another view of its storage.
    let w = Tensor::ones(&[3, 2], &cpu())?.requires_grad(true);
    let data = Tensor::ones(&[4, 3], &cpu())?;
    let batch = data.narrow(0, 0, 2)?;
    let loss = batch.matmul(&w)?.sum_all()?;
    data.narrow(0, 3, 1)?.add_scaled_(&Tensor::ones(&[1, 3], &cpu())?, 1.0)?;
    let e = loss.backward().unwrap_err().to_string();
    assert!(e.contains("`matmul`") && e.contains("input 0") && e.contains("[2, 3]"), "{e}");

    // Not saved (add needs no values): PyTorch allows it, and so do we.
    let b = Tensor::ones(&[3], &cpu())?;
    let loss = x.add(&b)?.sum_all()?;
    b.copy_from(&Tensor::zeros(&[3], &cpu())?)?;
    let g = loss.backward()?;
    assert_eq!(vals(g.get(&x).unwrap()), vec![1.0; 3]);

    // An optimizer step between forward and backward (a parameter saved by mul).
    let p = Tensor::ones(&[3], &cpu())?.requires_grad(true);
    let loss = p.mul(&x)?.sum_all()?;
    let g0 = p.sqr()?.sum_all()?.backward()?;
    Sgd::new(0.1).params(vec![p.clone()]).step(&g0)?;
    let e = loss.backward().unwrap_err();
    assert!(matches!(e, Error::Autograd(_)) && e.to_string().contains("`mul`"), "{e}");
    Ok(())
}

#[test]
fn version_counts_in_place_writes_on_every_view() -> Result<()> {
    let t = Tensor::zeros(&[4], &cpu())?;
    let v = t.narrow(0, 1, 2)?;
    assert_eq!((t.version(), v.version()), (0, 0));
    v.copy_from(&Tensor::ones(&[2], &cpu())?)?;
    t.add_scaled_(&Tensor::ones(&[4], &cpu())?, 2.0)?;
    assert_eq!((t.version(), v.version()), (2, 2));
    // Out-of-place ops and optimizer-free reads do not count.
    let _ = t.exp()?.add(&v.sum_all()?)?;
    assert_eq!(t.version(), 2);
    Ok(())
}

// 5. Parameter identity survives requires_grad, moves and casts.
#[test]
fn requires_grad_keeps_identity() -> Result<()> {
    let w = Tensor::randn(&[3], &cpu())?;
    let p = w.requires_grad(true);
    assert_eq!(w.id(), p.id());
    let grads = p.sqr()?.sum_all()?.backward()?;
    assert!(grads.get(&w).is_some(), "the gradient is found through the original handle");
    // The result of an op becomes a new leaf (it is cut from its graph).
    let y = p.exp()?;
    assert_ne!(y.requires_grad(true).id(), y.id());
    Ok(())
}

#[test]
fn a_parameter_in_two_groups_is_an_error() -> Result<()> {
    let w = Tensor::ones(&[2], &cpu())?.requires_grad(true);
    let mut opt = Sgd::new(0.1);
    opt.add_param_group(vec![w.clone()], None)?;
    let e = opt.add_param_group(vec![w.clone()], Some(0.2)).unwrap_err().to_string();
    assert!(e.contains("already in group 0"), "{e}");
    // Through the builder, the first step reports it (and nothing moves).
    let mut twice = Sgd::new(0.1).params(vec![w.clone(), w.clone()]);
    let g = w.sum_all()?.backward()?;
    assert!(twice.step(&g).unwrap_err().to_string().contains("stepped twice"));
    assert_eq!(vals(&w), vec![1.0, 1.0]);
    Ok(())
}

#[test]
fn a_moved_or_cast_module_keeps_its_optimizer_groups_and_state() -> Result<()> {
    use lolcore::nn::Module;
    #[derive(lolcore::Module)]
    struct Two {
        a: Tensor,
        b: Tensor,
        tied: Tensor,
    }
    let a = Tensor::ones(&[2], &cpu())?.requires_grad(true);
    let b = Tensor::ones(&[2], &cpu())?.requires_grad(true);
    let mut m = Two { a: a.clone(), b: b.clone(), tied: a.clone() };
    assert_eq!(m.named_parameters().len(), 2, "a tied parameter is listed once");
    assert_eq!(m.num_parameters(), 4);
    let mut opt = Adam::new(0.1);
    opt.add_param_group(vec![m.a.clone()], None)?;
    opt.add_param_group(vec![m.b.clone()], Some(0.01))?;
    let loss = |m: &Two| m.a.mul(&m.b)?.sum_all()?.add(&m.tied.sum_all()?);
    opt.step(&loss(&m)?.backward()?)?;
    m.cast_to(DType::F64)?;
    assert_eq!((m.a.id(), m.b.id()), (a.id(), b.id()));
    assert!(m.a.same_storage(&m.tied), "a cast keeps tied weights tied");
    // Stepping the stale f32 handles is an error, not a silent no-op.
    let e = opt.step(&loss(&m)?.backward()?).unwrap_err().to_string();
    assert!(e.contains("rebind"), "{e}");
    opt.rebind(&m.parameters())?;
    assert_eq!(opt.param_groups().len(), 2);
    assert_eq!(opt.param_groups()[1].lr, 0.01);
    let before = m.a.to_vec::<f64>()?;
    opt.step(&loss(&m)?.backward()?)?;
    assert!(m.a.to_vec::<f64>()?.iter().zip(&before).all(|(x, y)| x < y));
    assert_eq!(m.a.dtype(), DType::F64);
    Ok(())
}

// 7. Shape arithmetic: errors, never a panic, a wrap or an abort.
#[test]
fn absurd_shapes_are_errors() {
    let big = 1usize << 40;
    let d = cpu();
    assert!(Tensor::zeros(&[big, big], &d).unwrap_err().to_string().contains("overflow"));
    assert!(Tensor::zeros(&[usize::MAX], &d).is_err());
    assert!(Tensor::zeros(&[1 << 61], &d).is_err());
    // A shape whose product wraps to the data length.
    let e = Tensor::from_vec(vec![0f32; 4], &[1 << 32, 1 << 32, 4], &d).unwrap_err();
    assert!(e.to_string().contains("from_vec"), "{e}");
    let t = Tensor::zeros(&[4], &d).unwrap();
    assert!(t.reshape(&[1 << 63, 2, 4]).is_err());
    assert!(t.narrow(0, usize::MAX, 2).is_err());
    assert!(Tensor::eye(1 << 33, &d).is_err());
    assert!(Tensor::arange(0.0, 1e30, &d).is_err());
    assert!(Tensor::randn(&[big, big], &d).is_err());
    // A broadcast view is free; materialising it is an out-of-memory error.
    let wide = t.reshape(&[4, 1]).unwrap().expand(&[4, big]).unwrap();
    let e = wide.contiguous().unwrap_err();
    assert!(matches!(e, Error::OutOfMemory { .. }), "{e}");
    assert!(wide.exp().is_err() && wide.sum_all().is_err());
    let rows = t.reshape(&[4, 1]).unwrap().expand(&[4, big]).unwrap();
    assert!(rows.t().unwrap().matmul(&rows).is_err(), "a [2^40, 2^40] product cannot be allocated");
    let x = Tensor::zeros(&[1, 1, 4, 4], &d).unwrap();
    let w = Tensor::zeros(&[1, 1, 2, 2], &d).unwrap();
    assert!(x.conv2d(&w, Conv2dParams::default().dilation(usize::MAX)).is_err());
    assert!(x.conv2d(&w, Conv2dParams::default().padding(usize::MAX / 2)).is_err());
    assert!(Tensor::cat(&[&wide, &wide], 1).is_err());
    let labels = Tensor::from_vec(vec![1u32, 2], &[2], &d).unwrap();
    assert!(labels.one_hot(usize::MAX).is_err());
    assert!(no_grad(|| t.repeat(&[usize::MAX])).is_err());
}

// 1. Saving views writes their own elements, in row-major order.
#[test]
fn saving_views_writes_their_own_elements() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("lol_trust_views_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("views.safetensors");
    let big = Tensor::arange(0.0, 12.0, &cpu())?;
    let m = big.reshape(&[3, 4])?;
    let views = vec![
        ("offset".to_string(), big.narrow(0, 5, 3)?),
        ("transposed".to_string(), m.t()?),
        ("stepped".to_string(), m.narrow(1, 1, 1)?),
        ("broadcast".to_string(), big.narrow(0, 2, 1)?.expand(&[2, 3])?),
    ];
    lolcore::safetensors::save(&p, &views, &[])?;
    let back = lolcore::safetensors::load(&p, &cpu())?;
    for ((n, v), (m, b)) in views.iter().zip(&back) {
        assert_eq!(n, m);
        assert_eq!(vals(v), vals(b), "{n}");
    }
    std::fs::remove_dir_all(dir).ok();
    Ok(())
}

// 3/5. An optimizer step that reads a gradient sharing the parameter's storage finishes
// (it used to wait on its own lock), and a step that fails changes nothing.
#[test]
fn a_gradient_aliasing_its_parameter_does_not_hang() {
    let out = within(20, || -> Result<Vec<f32>> {
        let p = Tensor::from_vec(vec![1f32, 2.0], &[2], &cpu())?.requires_grad(true);
        let mut g = lolcore::Gradients::new();
        g.insert(&p, p.clone());
        Sgd::new(0.5).params(vec![p.clone()]).step(&g)?;
        Ok(vals(&p))
    })
    .unwrap();
    assert_eq!(out, vec![0.5, 1.0]);
}

#[test]
fn a_failing_step_changes_nothing() -> Result<()> {
    let a = Tensor::ones(&[2], &cpu())?.requires_grad(true);
    let b = Tensor::ones(&[2], &cpu())?.requires_grad(true);
    let mut opt = Adam::new(0.1);
    opt.add_param_group(vec![a.clone()], None)?;
    opt.add_param_group(vec![b.clone()], None)?;
    let mut g = lolcore::Gradients::new();
    g.insert(&a, Tensor::ones(&[2], &cpu())?);
    g.insert(&b, Tensor::ones(&[2], &cpu())?.to_dtype(DType::F64)?);
    assert!(opt.step(&g).is_err());
    assert_eq!(vals(&a), vec![1.0, 1.0], "the first group was not stepped");
    // Fixed and stepped again: exactly one Adam step (lr-sized).
    g.insert(&b, Tensor::ones(&[2], &cpu())?);
    opt.step(&g)?;
    assert!((vals(&a)[0] - 0.9).abs() < 1e-6, "{:?}", vals(&a));
    Ok(())
}

#[test]
fn moving_keeps_buffers_buffers_and_shared_storage_shared() -> Result<()> {
    use lolcore::nn::{Module, TensorKind};
    #[derive(lolcore::Module)]
    struct M {
        w: Tensor,
        #[module(buffer)]
        frozen: Tensor,
    }
    let w = Tensor::ones(&[3], &cpu())?.requires_grad(true);
    let mut m = M { frozen: w.requires_grad(false), w };
    m.cast_to(DType::F64)?;
    let mut kinds = Vec::new();
    m.visit("", &mut |n, t, k| kinds.push((n.to_string(), k, t.is_leaf_param())));
    assert_eq!(kinds, vec![("w".into(), TensorKind::Parameter, true), ("frozen".into(), TensorKind::Buffer, false)]);
    assert!(m.w.same_storage(&m.frozen));
    Ok(())
}

// 6. Threads that never seed repeat when the program seeds before starting them. (No
// other test in this binary calls manual_seed, which would restart such threads.)
#[test]
fn threads_spawned_after_a_seed_repeat() {
    let run = || {
        lolcore::manual_seed(5);
        let h = std::thread::spawn(|| Tensor::randn(&[4], &Device::Cpu).and_then(|t| t.to_vec::<f32>()));
        h.join().unwrap().unwrap()
    };
    assert_eq!(run(), run());
}
