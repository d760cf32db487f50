//! A no-panic fuzz of the public API: random sequences of tensor ops, layer calls,
//! backward passes, optimizer steps and model training, on random (also absurd) shapes,
//! dtypes and arguments. Every call must return `Ok` or an `Err` whose message names
//! something; a panic fails the test with the case's seed and the call that panicked.
//!
//! `LOL_FUZZ_CASES=100000 cargo test --release -p keras --test api_fuzz -- --nocapture`
//! runs more (CI runs 2,000); `LOL_FUZZ_SEED` picks another stream.
use keras::prelude::*;
use lolcore::rng::Rng;
use lolcore::Layout;
use std::panic::{catch_unwind, AssertUnwindSafe};

struct Fz {
    r: Rng,
    pool: Vec<Tensor>,
    /// What ran so far in this case, for the failure message.
    log: Vec<String>,
}

static WHERE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

const ABSURD: [usize; 4] = [1 << 40, 1 << 62, usize::MAX, usize::MAX / 3];

impl Fz {
    fn below(&mut self, n: usize) -> usize {
        self.r.below(n)
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.r.below(one_in) == 0
    }
    /// Mostly small sizes, sometimes 0, now and then absurd.
    fn size(&mut self) -> usize {
        match self.below(40) {
            0 => ABSURD[self.below(ABSURD.len())],
            1..=4 => 0,
            _ => 1 + self.below(5),
        }
    }
    fn shape(&mut self) -> Vec<usize> {
        let rank = self.below(5);
        (0..rank).map(|_| self.size()).collect()
    }
    fn small_shape(&mut self) -> Vec<usize> {
        let rank = self.below(4);
        (0..rank).map(|_| 1 + self.below(4)).collect()
    }
    fn dim(&mut self) -> i64 {
        self.below(9) as i64 - 4
    }
    fn udim(&mut self) -> usize {
        if self.chance(20) {
            usize::MAX - self.below(3)
        } else {
            self.below(5)
        }
    }
    fn float(&mut self) -> f64 {
        match self.below(12) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -f64::INFINITY,
            3 => 0.0,
            4 => -1.0,
            5 => 1e300,
            _ => self.r.next_f64() * 2.0,
        }
    }
    fn dtype(&mut self) -> DType {
        [DType::F32, DType::F32, DType::F64, DType::F16, DType::BF16, DType::U8, DType::U32, DType::I64][self.below(8)]
    }
    fn tensor(&mut self) -> Tensor {
        if !self.pool.is_empty() && self.below(3) != 0 {
            let i = self.below(self.pool.len());
            return self.pool[i].clone();
        }
        let shape = if self.chance(4) { self.shape() } else { self.small_shape() };
        let dt = self.dtype();
        let made = match self.below(4) {
            0 => Tensor::randn(&shape, &Device::Cpu).and_then(|t| t.to_dtype(dt)),
            1 => Tensor::full_dtype(self.float(), &shape, dt, &Device::Cpu),
            2 => Tensor::arange(0.0, self.below(30) as f64, &Device::Cpu).and_then(|t| t.reshape(&shape)),
            _ => Tensor::rand(&shape, &Device::Cpu).and_then(|t| t.to_dtype(dt)),
        };
        let t = made.unwrap_or_else(|_| Tensor::new(&[1f32, -2.0, 3.0]));
        if self.chance(3) {
            t.requires_grad(true)
        } else {
            t
        }
    }
    fn ids(&mut self) -> Tensor {
        let n = self.below(6);
        let bound = 1 + self.below(6);
        let v: Vec<i64> = (0..n).map(|_| self.below(bound + 1) as i64 - (self.chance(10) as i64)).collect();
        let t = Tensor::new(&v);
        match self.below(3) {
            0 => t.to_dtype(DType::U32).unwrap_or(t),
            1 => t.to_dtype(DType::U8).unwrap_or(t),
            _ => t,
        }
    }
    fn keep(&mut self, r: Result<Tensor>) {
        match r {
            Ok(t) => {
                if self.pool.len() < 8 {
                    self.pool.push(t);
                } else {
                    let i = self.below(8);
                    self.pool[i] = t;
                }
            }
            Err(e) => assert!(!e.to_string().is_empty(), "an error without a message"),
        }
    }
}

/// One random API call; returns its name for the log.
fn step(z: &mut Fz) -> String {
    let a = z.tensor();
    let b = z.tensor();
    // Mostly operands that agree on dtype, so calls get past the first check.
    let b = if z.below(3) != 0 { b.to_dtype(a.dtype()).unwrap_or(b) } else { b };
    let op = z.below(62);
    let name = format!("op {op} on {:?} {} and {:?} {}", a.shape(), a.dtype(), b.shape(), b.dtype());
    z.log.push(name.clone());
    let (d, u, f) = (z.dim(), z.udim(), z.float());
    let r: Result<Tensor> = match op {
        0 => a.add(&b),
        1 => a.sub(&b),
        2 => a.mul(&b),
        3 => a.div(&b),
        4 => a.pow(&b),
        5 => a.maximum(&b),
        6 => a.matmul(&b),
        7 => a.exp(),
        8 => a.log(),
        9 => a.sqrt(),
        10 => a.relu(),
        11 => a.gelu(),
        12 => a.clamp(f, z.float()),
        13 => a.powf(f),
        14 => a.affine(f, z.float()),
        15 => a.sum(d),
        16 => a.mean(d),
        17 => a.max(d),
        18 => a.argmax(d),
        19 => a.var(d),
        20 => a.sum_all(),
        21 => a.mean_all(),
        22 => a.softmax(d),
        23 => a.log_softmax(d),
        24 => a.logsumexp(d),
        25 => {
            let s = z.shape();
            a.reshape(&s)
        }
        26 => a.transpose(d, z.dim()),
        27 => a.narrow(d, u, z.udim()),
        28 => a.squeeze(d),
        29 => a.unsqueeze(d),
        30 => {
            let s = z.shape();
            a.broadcast_as(&s)
        }
        31 => {
            let p: Vec<usize> = (0..a.rank()).map(|_| z.udim()).collect();
            a.permute(&p)
        }
        32 => Tensor::cat(&[&a, &b], d),
        33 => Tensor::stack(&[&a, &b], d),
        34 => {
            let reps: Vec<usize> = (0..a.rank()).map(|_| z.size()).collect();
            a.repeat(&reps)
        }
        35 => {
            let ids = z.ids();
            a.index_select(&ids, d)
        }
        36 => {
            let ids = z.ids();
            a.embedding(&ids)
        }
        37 => a.gather(&b, d),
        38 => a.where_cond(&b, &z.tensor()),
        39 => a.to_dtype(z.dtype()),
        40 => a.copy_from(&b).map(|_| a.clone()),
        41 => a.add_scaled_(&b, f).map(|_| a.clone()),
        42 => a.dropout(f, z.chance(2)),
        43 => {
            let p = Conv2dParams::default().stride(u).padding(z.udim()).dilation(z.udim()).groups(z.udim());
            a.conv2d(&b, p)
        }
        44 => a.max_pool2d(Pool2dParams::new(z.udim()).stride(z.udim()).padding(z.udim())),
        45 => a.avg_pool2d(Pool2dParams::new(z.udim()).stride(z.udim())),
        46 => a.one_hot(z.size()),
        47 => a.flip(&[u, z.udim()]),
        48 => {
            // Backward of whatever came out (a scalar or not).
            let g = if z.chance(2) { a.backward() } else { a.backward_with(&b) };
            g.map(|_| a.clone())
        }
        49 => a.diag(),
        50 => a.det(),
        51 => a.to_device(&Device::cuda(z.below(2)).unwrap_or(Device::Cpu)),
        52 => a.inverse(),
        53 => a.min(d),
        54 => a.argmin(d),
        55 => {
            let dims: Vec<usize> = (0..z.below(3)).map(|_| z.udim()).collect();
            a.sum_dims_keepdim(&dims)
        }
        56 => a.flatten(d, z.dim()),
        57 => {
            let ids = z.ids();
            a.scatter_add_into(&ids, u, &z.shape())
        }
        58 => a.ge(&b),
        59 => a.t(),
        60 => a.contiguous(),
        61 => {
            let ids = z.ids();
            a.scatter_add(&ids, &b, d)
        }
        _ => unreachable!(),
    };
    if let Ok(t) = &r {
        // Reading back any result must work or fail cleanly.
        let _ = t.to_vec::<f32>();
        let _ = format!("{t}");
    }
    z.keep(r);
    name
}

/// A layer built with random (also absurd) sizes and called on a random tensor.
fn layer_call(z: &mut Fz) -> String {
    let x = z.tensor();
    let (s1, s2, s3) = (z.size(), z.size(), z.size());
    let k = z.below(12);
    let name = format!("layer {k} ({s1}, {s2}, {s3}) on {:?} {}", x.shape(), x.dtype());
    z.log.push(name.clone());
    let r = match k {
        0 => Dense::new(s1, s2).forward(&x),
        1 => Conv2D::new(s1, s2, s3).padding(z.udim()).stride(z.udim()).forward(&x),
        2 => MaxPool2D::new(s1).forward(&x),
        3 => AvgPool2D::new(s1).stride(s2).forward(&x),
        4 => BatchNorm1D::new(s1).forward(&x),
        5 => BatchNorm2D::new(s1).forward(&x),
        6 => LayerNorm::new(s1).forward(&x),
        7 => Embedding::new(s1, s2).forward(&x),
        8 => Dropout::new(z.float()).forward(&x),
        9 => Flatten.forward(&x),
        10 => Softmax::new(z.dim()).forward(&x),
        _ => Dense::new(s1, s2).init(Init::Uniform(z.float(), z.float())).forward(&x),
    };
    z.keep(r);
    name
}

/// A small model trained on random data with random options.
fn training(z: &mut Fz) -> String {
    let (n, i, o) = (z.below(5), 1 + z.below(3), 1 + z.below(3));
    let x = Tensor::randn(&[n, i], &Device::Cpu).unwrap_or_else(|_| Tensor::new(&[0f32]));
    let x = if z.chance(5) { z.tensor() } else { x };
    let y = match z.below(3) {
        0 => z.ids(),
        1 => Tensor::randn(&[n, o], &Device::Cpu).unwrap_or_else(|_| Tensor::new(&[0f32])),
        _ => z.tensor(),
    };
    let loss = [
        Loss::MeanSquaredError,
        Loss::MeanAbsoluteError,
        Loss::Huber,
        Loss::SparseCategoricalCrossentropy,
        Loss::CategoricalCrossentropy,
        Loss::BinaryCrossentropy,
    ][z.below(6)];
    let bs = z.below(4);
    let name = format!("fit {loss:?} x {:?} {} y {:?} {} batch {bs}", x.shape(), x.dtype(), y.shape(), y.dtype());
    z.log.push(name.clone());
    let mut m = Model::new(sequential![Dense::new(i, 4), Relu, Dense::new(4, o)]);
    let metrics = [Metric::Accuracy, Metric::Auc, Metric::TopKAccuracy(z.below(4))];
    m.compile_with_metrics(Adam::new(z.float()), loss, &metrics[..z.below(4)]);
    let _ =
        m.fit_with(&x, &y, FitOptions::new(1 + z.below(2), bs).verbose(Verbosity::Silent).validation_split(z.float()));
    let _ = m.evaluate(&x, &y, bs);
    let _ = m.predict(&x, bs);
    let _ = m.train_on_batch(&x, &y);
    let _ = m.summary_string();
    name
}

fn run_case(seed: u64) -> std::result::Result<(), String> {
    let mut z = Fz { r: Rng::seed_from(seed), pool: Vec::new(), log: Vec::new() };
    let steps = 1 + z.below(8);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        lolcore::with_generator(&Generator::new(seed), || {
            for _ in 0..steps {
                match z.below(20) {
                    0..=2 => {
                        layer_call(&mut z);
                    }
                    3 => {
                        training(&mut z);
                    }
                    _ => {
                        step(&mut z);
                    }
                }
            }
        })
    }));
    outcome.map_err(|p| {
        let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
        let at = WHERE.lock().map(|w| w.clone()).unwrap_or_default();
        format!("case seed {seed}: panic {:?} at {at} after {:?}", msg.unwrap_or_default(), z.log)
    })
}

#[test]
fn the_public_api_never_panics() {
    let cases: u64 = std::env::var("LOL_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let base: u64 = std::env::var("LOL_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    // Quiet the default hook: panics are collected (with where they happened) below.
    std::panic::set_hook(Box::new(|info| {
        if let Some(l) = info.location() {
            *WHERE.lock().unwrap_or_else(|e| e.into_inner()) = format!("{}:{}", l.file(), l.line());
        }
    }));
    let mut failures = Vec::new();
    for c in 0..cases {
        if let Err(e) = run_case(base.wrapping_mul(1_000_003).wrapping_add(c)) {
            failures.push(e);
            if failures.len() >= 10 {
                break;
            }
        }
    }
    let _ = std::panic::take_hook();
    eprintln!("API fuzz: {cases} cases, {} panics", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Layouts are inspectable but not constructible with bad strides from outside.
    let _ = Layout::contiguous(&[2, 3]).strides().len();
}
