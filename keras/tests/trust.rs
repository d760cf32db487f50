//! Issue "Trust", items 5, 6 and 9 at the model level: training what the user thinks it
//! trains, reproducible randomness with threads, strict loading, constructor errors,
//! a summary that changes nothing, and softmax of masked rows.
use keras::prelude::*;
use lolcore::rng::Generator;
use lolcore::safetensors::{save, LoadOptions};
use std::process::Command;

fn quiet<'a>(epochs: usize, bs: usize) -> FitOptions<'a> {
    FitOptions::new(epochs, bs).verbose(Verbosity::Silent)
}

fn blobs(n: usize, g: &Generator) -> (Tensor, Tensor) {
    let x = Tensor::randn_with(&[n, 4], &Device::Cpu, g).unwrap();
    let y = x.narrow(1, 0, 1).unwrap().gt_scalar(0.0).unwrap().reshape(&[n]).unwrap().to_dtype(DType::U32).unwrap();
    (x, y)
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lol_trust_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs this test binary again for one test with `LOL_TRUST_CHILD` set, returning its
/// stderr (what a user sees in the terminal).
fn child_stderr(test: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"]).env("LOL_TRUST_CHILD", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "child {test} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn is_child() -> bool {
    std::env::var_os("LOL_TRUST_CHILD").is_some()
}

// 5. Moving or casting after compile keeps every group, its learning rate and state.
#[test]
fn casting_after_compile_trains_every_group_at_its_rate() -> Result<()> {
    let g = Generator::new(3);
    let (x, y) = blobs(64, &g);
    let net = with_generator(&g, || sequential![Dense::new(4, 8), Relu, Dense::new(8, 2)]);
    let mut opt = Sgd::new(0.1).momentum(0.9);
    let first: Vec<Tensor> =
        net.named_parameters().into_iter().filter(|(n, _)| n.starts_with("0.")).map(|(_, t)| t).collect();
    let last: Vec<Tensor> =
        net.named_parameters().into_iter().filter(|(n, _)| n.starts_with("2.")).map(|(_, t)| t).collect();
    opt.add_param_group(first, None)?;
    opt.add_param_group(last, Some(0.01))?;
    let mut m = Model::new(net);
    m.compile(opt, Loss::SparseCategoricalCrossentropy);
    m.fit_with(&x, &y, quiet(1, 16))?;
    m.module_mut().cast_to(DType::F64)?;
    let before: Vec<Vec<f64>> = m.module().parameters().iter().map(|p| p.to_vec::<f64>().unwrap()).collect();
    m.fit_with(&x.to_dtype(DType::F64)?, &y, quiet(1, 16))?;
    let after: Vec<Vec<f64>> = m.module().parameters().iter().map(|p| p.to_vec::<f64>().unwrap()).collect();
    assert!(before.iter().zip(&after).all(|(b, a)| b != a), "every parameter moved after the cast");
    let groups = m.optimizer_mut().unwrap().param_groups();
    assert_eq!(groups.iter().map(|g| g.lr).collect::<Vec<_>>(), vec![0.1, 0.01]);
    assert!(groups.iter().flat_map(|g| &g.params).all(|p| p.dtype() == DType::F64));
    // to_device keeps the groups as well (the CPU is the only device here).
    m.to_device(&Device::Cpu)?;
    assert_eq!(m.optimizer_mut().unwrap().param_groups().len(), 2);
    Ok(())
}

#[test]
fn a_layer_added_after_compile_trains_too() -> Result<()> {
    #[derive(Module)]
    struct Grow {
        a: Dense,
        b: Option<Dense>,
    }
    impl Forward for Grow {
        fn forward(&self, x: &Tensor) -> Result<Tensor> {
            let h = self.a.forward(x)?;
            match &self.b {
                Some(b) => b.forward(&h.relu()?),
                None => Ok(h),
            }
        }
    }
    let g = Generator::new(4);
    let (x, y) = blobs(32, &g);
    let mut m = Model::new(with_generator(&g, || Grow { a: Dense::new(4, 2), b: None }));
    m.compile(Adam::new(0.01), Loss::SparseCategoricalCrossentropy);
    m.fit_with(&x, &y, quiet(1, 16))?;
    m.module_mut().a = Dense::new(4, 6);
    m.module_mut().b = Some(Dense::new(6, 2));
    let w = m.module().b.as_ref().unwrap().weight.deep_copy()?;
    m.fit_with(&x, &y, quiet(1, 16))?;
    assert_ne!(w.to_vec::<f32>()?, m.module().b.as_ref().unwrap().weight.to_vec::<f32>()?);
    Ok(())
}

#[test]
fn a_parameter_without_gradient_is_reported_once_by_name() {
    if is_child() {
        #[derive(Module)]
        struct Unused {
            used: Dense,
            spare: Dense,
        }
        impl Forward for Unused {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                self.used.forward(x)
            }
        }
        let g = Generator::new(5);
        let (x, y) = blobs(32, &g);
        let mut m = Model::new(with_generator(&g, || Unused { used: Dense::new(4, 2), spare: Dense::new(4, 2) }));
        m.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
        m.fit_with(&x, &y, quiet(3, 8)).unwrap();
        return;
    }
    let err = child_stderr("a_parameter_without_gradient_is_reported_once_by_name", &[]);
    assert_eq!(err.matches("no gradient reached").count(), 1, "{err}");
    assert!(err.contains("spare.weight [2, 4]") && err.contains("spare.bias [2]"), "{err}");
    assert!(!err.contains("used.weight"), "{err}");
}

// 6. The same seed gives the same history twice in one process, with loader workers,
// and with one or two compute threads.
fn run_once(threads: usize) -> Result<(History, Vec<Vec<f32>>)> {
    lolcore::set_num_threads(threads);
    manual_seed(1234);
    let (x, y) = {
        let x = Tensor::randn(&[96, 4], &Device::Cpu)?;
        let y = x.narrow(1, 0, 1)?.gt_scalar(0.0)?.reshape(&[96])?.to_dtype(DType::U32)?;
        (x, y)
    };
    let mut m = Model::new(sequential![Dense::new(4, 16), Relu, Dropout::new(0.3), Dense::new(16, 2)]);
    m.compile_with_metrics(Adam::new(0.01), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let h = m.fit_with(&x, &y, quiet(3, 16).validation_split(0.25))?;
    // A loader whose dataset augments with random noise, read by two workers.
    struct Noisy(TensorDataset);
    impl Dataset for Noisy {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
            let (x, y) = self.0.get(i)?;
            Ok((x.add(&Tensor::randn(x.dims(), &Device::Cpu)?)?, y))
        }
    }
    let loader = DataLoader::new(Noisy(TensorDataset::new(&x, &y)?), 16).shuffle(true).workers(2);
    let batches = loader.iter()?.map(|b| b.and_then(|(x, _)| x.to_vec::<f32>())).collect::<Result<Vec<_>>>()?;
    lolcore::set_num_threads(0);
    Ok((h, batches))
}

#[test]
fn same_seed_same_history_with_workers_and_threads() -> Result<()> {
    let (h1, b1) = run_once(1)?;
    let (h1b, b1b) = run_once(1)?;
    assert_eq!(h1, h1b);
    assert_eq!(b1, b1b);
    let (h2, b2) = run_once(2)?;
    let (h2b, b2b) = run_once(2)?;
    assert_eq!(h2, h2b);
    assert_eq!(b2, b2b);
    // Batches do not depend on the thread count at all.
    assert_eq!(b1, b2);
    Ok(())
}

#[test]
fn loader_batches_do_not_depend_on_the_worker_count() -> Result<()> {
    struct Noise(usize);
    impl Dataset for Noise {
        fn len(&self) -> usize {
            self.0
        }
        fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
            Ok((Tensor::rand(&[3], &Device::Cpu)?, Tensor::new(&[i as u32]).reshape(&[])?))
        }
    }
    let read = |workers: usize| -> Result<Vec<Vec<f32>>> {
        let g = Generator::new(9);
        let l = DataLoader::new(Noise(40), 8).shuffle(true).workers(workers).generator(&g);
        l.iter()?.map(|b| b.and_then(|(x, _)| x.to_vec::<f32>())).collect()
    };
    let inline = read(0)?;
    assert_eq!(inline, read(1)?);
    assert_eq!(inline, read(3)?);
    Ok(())
}

#[test]
fn generators_make_tests_in_one_binary_independent() -> Result<()> {
    // Two threads draw at once, each from its own generator: both streams repeat.
    let draw = || {
        std::thread::spawn(|| {
            let g = Generator::new(11);
            with_generator(&g, || (0..50).map(|_| Tensor::randn(&[4], &Device::Cpu)?.to_vec::<f32>()).collect())
        })
    };
    let (a, b) = (draw(), draw());
    let (a, b): (Result<Vec<Vec<f32>>>, _) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(a?, b?);
    // A Dropout with its own generator repeats whatever else draws in between.
    let x = Tensor::ones(&[64], &Device::Cpu)?;
    let mask = |g: &Generator| -> Result<Vec<f32>> {
        let d = Dropout::new(0.5).generator(g);
        let _ = Tensor::randn(&[7], &Device::Cpu)?;
        d.forward(&x)?.to_vec::<f32>()
    };
    assert_eq!(mask(&Generator::new(2))?, mask(&Generator::new(2))?);
    Ok(())
}

// 9. Strict loading is exact (or a float conversion); lossy integer conversions are
// mismatches.
#[test]
fn strict_loading_refuses_lossy_integer_conversions() -> Result<()> {
    let d = tmp("dtypes");
    let mut bn = BatchNorm1D::new(2);
    let mut state: Vec<(String, Tensor)> = bn.state_dict();
    let p = d.join("u8.safetensors");
    // num_batches_tracked is i64 in the model; write it as u8 (lossless widening).
    for (n, t) in state.iter_mut() {
        if n == "num_batches_tracked" {
            *t = Tensor::full_dtype(3.0, &[], DType::U8, &Device::Cpu)?;
        }
    }
    save(&p, &state, &[])?;
    let r = lolcore::safetensors::load_module(&mut bn, &p, &LoadOptions::strict())?;
    assert_eq!(r.converted.len(), 1);
    assert_eq!(bn.num_batches_tracked.to_scalar::<i64>()?, 3);
    // The other way round, 300 would not fit: a mismatch that names the tensor.
    #[derive(Module)]
    struct Counter {
        #[module(buffer)]
        count: Tensor,
    }
    let mut c = Counter { count: Tensor::zeros_dtype(&[], DType::U8, &Device::Cpu)? };
    let q = d.join("i64.safetensors");
    save(&q, &[("count".into(), Tensor::full_dtype(300.0, &[], DType::I64, &Device::Cpu)?)], &[])?;
    let e = lolcore::safetensors::load_module(&mut c, &q, &LoadOptions::strict()).unwrap_err().to_string();
    assert!(e.contains("dtype mismatch: count: file I64, model u8"), "{e}");
    let r = lolcore::safetensors::load_module(&mut c, &q, &LoadOptions::non_strict())?;
    assert_eq!(r.dtype_mismatch.len(), 1);
    assert_eq!(c.count.to_scalar::<u8>()?, 0, "nothing was written");
    // Floats into an integer buffer, likewise.
    let f = d.join("f32.safetensors");
    save(&f, &[("count".into(), Tensor::full(1.0, &[], &Device::Cpu)?)], &[])?;
    assert!(lolcore::safetensors::load_module(&mut c, &f, &LoadOptions::strict()).is_err());
    std::fs::remove_dir_all(d).ok();
    Ok(())
}

// 9. An initialiser with a NaN bound is an error naming the layer, not zero weights.
#[test]
fn nan_init_bounds_are_errors() {
    let x = Tensor::ones(&[1, 2], &Device::Cpu).unwrap();
    let d = Dense::new(2, 3).init(Init::Uniform(f64::NAN, 1.0));
    let e = d.forward(&x).unwrap_err().to_string();
    assert!(e.starts_with("Dense:") && e.contains("NaN"), "{e}");
    let e = Init::Normal { mean: 0.0, std: f64::INFINITY }.tensor(&[2], 1, 1, &Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("std inf"), "{e}");
    assert!(Conv2D::new(1, 1, 3)
        .init(Init::Uniform(2.0, 1.0))
        .forward(&Tensor::ones(&[1, 1, 3, 3], &Device::Cpu).unwrap())
        .is_err());
    // A layer too large to allocate is an error at its first use, not an abort.
    let huge = Dense::new(1 << 40, 1 << 40);
    assert!(huge.forward(&x).unwrap_err().to_string().starts_with("Dense:"));
}

// 9. summary() changes nothing and shows every layer's output shape.
#[test]
fn summary_changes_nothing_and_shows_every_shape() -> Result<()> {
    let g = Generator::new(6);
    let mut m = Model::new(with_generator(&g, || {
        sequential![Dense::new(4, 8), BatchNorm1D::new(8), Relu, Dropout::new(0.5), Dense::new(8, 2)]
    }));
    m.build(&[4])?;
    let state_before: Vec<Vec<f32>> = m.module().state_dict().iter().map(|(_, t)| t.to_vec::<f32>().unwrap()).collect();
    manual_seed(77);
    let s = m.summary_string();
    let after_summary = Tensor::randn(&[3], &Device::Cpu)?.to_vec::<f32>()?;
    manual_seed(77);
    assert_eq!(after_summary, Tensor::randn(&[3], &Device::Cpu)?.to_vec::<f32>()?, "summary drew no random numbers");
    let state_after: Vec<Vec<f32>> = m.module().state_dict().iter().map(|(_, t)| t.to_vec::<f32>().unwrap()).collect();
    assert_eq!(state_before, state_after, "running statistics untouched");
    assert!(s.starts_with("Model: \"sequential\""), "{s}");
    assert!(!s.contains('?'), "{s}");
    for row in ["0 (Dense)", "1 (BatchNorm1D)", "(None, 8)", "4 (Dense)", "(None, 2)"] {
        assert!(s.contains(row), "{row} in\n{s}");
    }
    Ok(())
}

// 9. Softmax of a row that is all −inf is NaN, as in PyTorch; partly masked rows are fine.
#[test]
fn softmax_of_masked_rows_follows_pytorch() -> Result<()> {
    let inf = f32::NEG_INFINITY;
    let x = Tensor::from_vec(vec![inf, inf, inf, 0.0, inf, 0.0], &[2, 3], &Device::Cpu)?;
    let s = x.softmax(1)?.to_vec::<f32>()?;
    assert!(s[..3].iter().all(|v| v.is_nan()), "{s:?}");
    assert_eq!(&s[3..], &[0.5, 0.0, 0.5]);
    let l = x.log_softmax(1)?.to_vec::<f32>()?;
    assert!(l[..3].iter().all(|v| v.is_nan()), "{l:?}");
    assert_eq!(l[4], inf);
    Ok(())
}

#[test]
fn a_valid_initialiser_replaces_a_failed_one() -> Result<()> {
    let x = Tensor::ones(&[1, 2], &Device::Cpu)?;
    let d = Dense::new(2, 3).init(Init::Uniform(f64::NAN, 1.0)).init(Init::HeUniform);
    assert_eq!(d.forward(&x)?.dims(), &[1, 3]);
    assert!(Dense::new(2, 3).bias_init(Init::Constant(f64::NAN)).bias(false).forward(&x).is_ok());
    Ok(())
}
