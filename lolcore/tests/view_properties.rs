//! The view and aliasing property net: every op in lolcore (the table in `table.rs`),
//! on random shapes, with each input drawn as a contiguous tensor, a slice at a nonzero
//! offset, a permuted (transposed) view, a broadcast (stride 0) view, a stepped view
//! (every other element), or a slice of one buffer that another input shares. The
//! result, the gradients (reverse mode), the tangent (forward mode) and, for in-place
//! ops, the inputs afterwards must equal the same op on contiguous copies.
//!
//! `LOL_PROPTEST_CASES=N` runs N cases per op (default 12); `LOL_PROPTEST_SEED` picks the
//! stream. On a machine with a GPU the same table runs on `cuda:0` as well.
#![allow(clippy::type_complexity)]
#[path = "view_properties/table.rs"]
mod table;

use lolcore::rng::Rng;
use lolcore::{jvp, DType, Device, Result, Tensor};
use table::{Arg, Case, Spec, SPECS};

/// Random choices for shapes and arguments. `big` cases have dims up to 48, so that
/// kernels take their parallel paths (above 32,768 elements) on views too.
pub struct R(pub Rng, pub bool);

impl R {
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.0.below(hi - lo + 1)
    }
    pub fn coin(&mut self) -> bool {
        self.0.below(2) == 1
    }
    /// A shape of rank `lo..=hi` with dims 1..=4 (1..=48 and rank at most 3 when big).
    pub fn shape(&mut self, lo: usize, hi: usize) -> Vec<usize> {
        if self.1 {
            let r = self.range(lo, hi.min(3).max(lo));
            return (0..r).map(|_| self.range(24, 48)).collect();
        }
        let r = self.range(lo, hi);
        (0..r).map(|_| self.range(1, 4)).collect()
    }
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.0.below(v.len())]
    }
    pub fn f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.next_f64()
    }
}

/// How an input is laid out in memory.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    Contiguous,
    Offset,
    Permuted,
    Broadcast,
    Stepped,
}

/// Random values in `[lo, hi)` as a dense f64 CPU tensor.
fn values(r: &mut R, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| r.f64(lo, hi)).collect()
}

/// A tensor of `shape` laid out as `variant` on `dev` (the view ops run on the device),
/// with values from `gen`.
fn make(
    r: &mut R,
    shape: &[usize],
    variant: Variant,
    gen: &mut dyn FnMut(&mut R) -> f64,
    dt: DType,
    dev: &Device,
) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let mut up = |r: &mut R, len: usize, s: &[usize]| -> Result<Tensor> {
        let v: Vec<f64> = (0..len).map(|_| gen(r)).collect();
        Tensor::from_vec(v, s, &Device::Cpu)?.to_dtype(dt)?.to_device(dev)?.detach().contiguous()
    };
    Ok(match variant {
        Variant::Contiguous => up(r, n, shape)?,
        Variant::Offset => {
            let k = r.range(1, 5);
            up(r, n + k + 2, &[n + k + 2])?.narrow(0, k, n)?.reshape(shape)?
        }
        Variant::Permuted => {
            let rank = shape.len();
            let mut perm: Vec<usize> = (0..rank).collect();
            r.0.shuffle(&mut perm);
            if rank >= 2 && perm.iter().enumerate().all(|(i, &p)| i == p) {
                perm.swap(0, rank - 1);
            }
            let mut inv = vec![0; rank];
            for (i, &p) in perm.iter().enumerate() {
                inv[p] = i;
            }
            let stored: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
            up(r, n, &stored)?.permute(&inv)?
        }
        Variant::Broadcast => {
            // One dim (of size > 1) is stored once and repeated with stride 0.
            let dims: Vec<usize> = (0..shape.len()).filter(|&d| shape[d] > 1).collect();
            let d = dims[r.below(dims.len())];
            let mut small = shape.to_vec();
            small[d] = 1;
            up(r, n / shape[d], &small)?.expand(shape)?
        }
        Variant::Stepped => {
            let last = shape.len() - 1;
            let mut wide = shape.to_vec();
            wide.push(2);
            let pick = r.below(2);
            up(r, 2 * n, &wide)?.narrow(last + 1, pick, 1)?.squeeze(last + 1)?
        }
    })
}

fn variants_for(shape: &[usize], writable: bool) -> Vec<Variant> {
    let mut v = vec![Variant::Contiguous, Variant::Offset];
    if !shape.is_empty() && shape.iter().product::<usize>() > 0 {
        v.push(Variant::Stepped);
        if shape.len() >= 2 {
            v.push(Variant::Permuted);
        }
        if !writable && shape.iter().any(|&d| d > 1) {
            v.push(Variant::Broadcast);
        }
    }
    v
}

/// The inputs of one case, as views, plus a description for failure messages.
fn build_inputs(r: &mut R, args: &[Arg], dt: DType, dev: &Device) -> Result<(Vec<Tensor>, String)> {
    let mut out = Vec::with_capacity(args.len());
    let mut desc = Vec::new();
    // Sometimes every float input is a slice of one shared buffer.
    let floats = args.iter().filter(|a| matches!(a, Arg::Float { .. })).count();
    let shared = floats >= 2 && r.below(4) == 0;
    if shared {
        let sizes: Vec<usize> = args
            .iter()
            .map(|a| match a {
                Arg::Float { shape, .. } => shape.iter().product(),
                _ => 0,
            })
            .collect();
        let total: usize = sizes.iter().sum();
        let (lo, hi) = args
            .iter()
            .find_map(|a| match a {
                Arg::Float { lo, hi, .. } => Some((*lo, *hi)),
                _ => None,
            })
            .unwrap_or((-1.0, 1.0));
        let buf =
            Tensor::from_vec(values(r, total + 1, lo, hi), &[total + 1], &Device::Cpu)?.to_dtype(dt)?.to_device(dev)?;
        let mut off = 1;
        for (a, &n) in args.iter().zip(&sizes) {
            match a {
                Arg::Float { shape, .. } => {
                    out.push(buf.narrow(0, off, n)?.reshape(shape)?);
                    desc.push(format!("{shape:?} shared@{off}"));
                    off += n;
                }
                Arg::Index { .. } => out.push(index_input(r, a, dev, &mut desc)?),
            }
        }
        return Ok((out, desc.join(", ")));
    }
    for a in args {
        match a {
            Arg::Float { shape, lo, hi, writable } => {
                let vs = variants_for(shape, *writable);
                let v = vs[r.below(vs.len())];
                let (lo, hi) = (*lo, *hi);
                out.push(make(r, shape, v, &mut |r| r.f64(lo, hi), dt, dev)?);
                desc.push(format!("{shape:?} {v:?}"));
            }
            Arg::Index { .. } => out.push(index_input(r, a, dev, &mut desc)?),
        }
    }
    Ok((out, desc.join(", ")))
}

fn index_input(r: &mut R, a: &Arg, dev: &Device, desc: &mut Vec<String>) -> Result<Tensor> {
    let Arg::Index { shape, bound, dtype } = a else { unreachable!() };
    let vs = variants_for(shape, true);
    let v = vs[r.below(vs.len())];
    desc.push(format!("ids {shape:?} {v:?}"));
    let bound = *bound;
    make(r, shape, v, &mut |r| r.below(bound) as f64, *dtype, dev)
}

/// Relative closeness on f64 values (NaN equals NaN).
fn close(a: &[f64], b: &[f64], tol: f64) -> Option<usize> {
    if a.len() != b.len() {
        return Some(usize::MAX);
    }
    a.iter().zip(b).position(|(x, y)| {
        !(x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * (1.0 + y.abs().max(x.abs())))
    })
}

fn read(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap_or_default()
}

struct Outcome {
    y: Result<Tensor>,
    grads: Vec<Option<Vec<f64>>>,
    tangent: Option<Vec<f64>>,
    inputs_after: Vec<Vec<f64>>,
    /// A backward or forward-mode pass that failed after the forward succeeded.
    failed: Option<String>,
}

/// Forward, backward (a random weighting of the output) and forward mode on `inputs`.
fn run(f: &dyn Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor], w_seed: u64, grads_on: &[bool]) -> Outcome {
    let leaves: Vec<Tensor> =
        inputs.iter().zip(grads_on).map(|(t, &g)| if g { t.requires_grad(true) } else { t.clone() }).collect();
    let y = f(&leaves);
    let mut grads = vec![None; inputs.len()];
    let mut tangent = None;
    let mut failed = None;
    if let Ok(out) = &y {
        if out.dtype().is_float() && out.tracks_grad() {
            let w = Tensor::rand_with(out.shape(), &Device::Cpu, &lolcore::Generator::new(w_seed))
                .and_then(|w| w.to_dtype(out.dtype())?.to_device(&out.device()));
            match w.and_then(|w| out.mul(&w)?.sum_all()?.backward()) {
                Ok(g) => {
                    for (i, l) in leaves.iter().enumerate() {
                        grads[i] = g.get(l).map(read);
                    }
                }
                Err(e) => failed = Some(format!("backward: {e}")),
            }
        }
        let float_inputs: Vec<usize> = (0..inputs.len()).filter(|&i| grads_on[i]).collect();
        if out.dtype().is_float() && !float_inputs.is_empty() {
            let prim: Vec<Tensor> = float_inputs.iter().map(|&i| inputs[i].clone()).collect();
            let tans: Result<Vec<Tensor>> = float_inputs
                .iter()
                .map(|&i| {
                    let t = &inputs[i];
                    let g = lolcore::Generator::new(w_seed ^ (i as u64 + 1));
                    Tensor::rand_with(t.shape(), &Device::Cpu, &g)?.to_dtype(t.dtype())?.to_device(&t.device())
                })
                .collect();
            let with_ids = |xs: &[Tensor]| -> Result<Vec<Tensor>> {
                let mut all = inputs.to_vec();
                for (k, &i) in float_inputs.iter().enumerate() {
                    all[i] = xs[k].clone();
                }
                Ok(vec![f(&all)?])
            };
            match tans.and_then(|tans| jvp(with_ids, &prim, &tans)) {
                Ok((_, dots)) => tangent = Some(read(&dots[0])),
                Err(e) => failed = Some(format!("jvp: {e}")),
            }
        }
    }
    let inputs_after = inputs.iter().map(read).collect();
    Outcome { y, grads, tangent, inputs_after, failed }
}

fn check_case(spec: &Spec, r: &mut R, dt: DType, dev: &Device, tol: f64) -> std::result::Result<(), String> {
    let case: Case = (spec.gen)(r);
    let (views, desc) =
        build_inputs(r, &case.args, dt, dev).map_err(|e| format!("{}: building inputs: {e}", spec.name))?;
    let dense: Vec<Tensor> = views.iter().map(|t| t.deep_copy()).collect::<Result<_>>().map_err(|e| e.to_string())?;
    let grads_on: Vec<bool> = case.args.iter().map(|a| matches!(a, Arg::Float { .. })).collect();
    let seed = r.0.next_u64();
    let a = run(&*case.f, &views, seed, &grads_on);
    let b = run(&*case.f, &dense, seed, &grads_on);
    let ctx = || format!("{} on {dev} ({desc})", spec.name);
    if let Some(e) = a.failed.as_ref().or(b.failed.as_ref()) {
        return Err(format!("{}: {e}", ctx()));
    }
    STATS.with(|st| {
        let mut st = st.borrow_mut();
        st.0 += a.grads.iter().filter(|g| g.is_some()).count();
        st.1 += a.tangent.is_some() as usize;
    });
    match (&a.y, &b.y) {
        (Ok(ya), Ok(yb)) => {
            if ya.shape() != yb.shape() || ya.dtype() != yb.dtype() {
                return Err(format!("{}: result {:?} vs {:?}", ctx(), ya, yb));
            }
            if let Some(k) = close(&read(ya), &read(yb), tol) {
                return Err(format!("{}: result differs at {k}: {:?} vs {:?}", ctx(), read(ya), read(yb)));
            }
        }
        (Err(_), Err(_)) => return Ok(()),
        (ya, yb) => {
            return Err(format!(
                "{}: views give {:?}, contiguous copies {:?}",
                ctx(),
                ya.as_ref().err().map(|e| e.to_string()),
                yb.as_ref().err().map(|e| e.to_string())
            ))
        }
    }
    for (i, (ga, gb)) in a.grads.iter().zip(&b.grads).enumerate() {
        match (ga, gb) {
            (Some(x), Some(y)) => {
                if let Some(k) = close(x, y, tol) {
                    return Err(format!("{}: gradient {i} differs at {k}: {x:?} vs {y:?}", ctx()));
                }
            }
            (None, None) => {}
            _ => return Err(format!("{}: gradient {i} present for one layout only", ctx())),
        }
    }
    match (&a.tangent, &b.tangent) {
        (Some(x), Some(y)) => {
            if let Some(k) = close(x, y, tol) {
                return Err(format!("{}: jvp differs at {k}: {x:?} vs {y:?}", ctx()));
            }
        }
        (None, None) => {}
        _ => return Err(format!("{}: jvp ran for one layout only", ctx())),
    }
    if case.in_place {
        // Inputs written in place must hold the same values (aliased ones aside: a write
        // through one view shows in the other, which contiguous copies cannot mirror).
        for (i, (x, y)) in a.inputs_after.iter().zip(&b.inputs_after).enumerate() {
            let aliased = views.iter().enumerate().any(|(j, v)| j != i && v.same_storage(&views[i]));
            if !aliased && close(x, y, tol).is_some() {
                return Err(format!("{}: input {i} after the op: {x:?} vs {y:?}", ctx()));
            }
        }
    }
    Ok(())
}

thread_local! {
    /// (gradients compared, tangents compared) in this thread's run.
    static STATS: std::cell::RefCell<(usize, usize)> = const { std::cell::RefCell::new((0, 0)) };
}

fn cases() -> usize {
    std::env::var("LOL_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12)
}

fn run_table(dev: &Device, dt: DType, tol: f64) {
    let seed = std::env::var("LOL_PROPTEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20261130u64);
    let mut failures = Vec::new();
    let mut count = 0;
    for (k, spec) in SPECS.iter().enumerate() {
        let mut r = R(Rng::seed_from(seed ^ (k as u64).wrapping_mul(0x9E37_79B9)), false);
        for i in 0..cases() {
            count += 1;
            r.1 = i % 6 == 5;
            if let Err(e) = check_case(spec, &mut r, dt, dev, tol) {
                failures.push(e);
                break;
            }
        }
    }
    let (g, t) = STATS.with(|st| *st.borrow());
    eprintln!("view properties on {dev}: {} ops, {count} cases, {g} gradients and {t} tangents compared", SPECS.len());
    assert!(g > count / 2 && t > count / 2, "too few gradients ({g}) or tangents ({t}) were compared");
    assert!(failures.is_empty(), "{} ops failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_op_agrees_on_views_and_contiguous_copies_cpu() {
    run_table(&Device::Cpu, DType::F64, 1e-10);
}

#[test]
fn every_op_agrees_on_views_and_contiguous_copies_cuda() {
    match Device::cuda(0) {
        Ok(dev) => run_table(&dev, DType::F32, 2e-4),
        Err(e) => eprintln!("no GPU: {e}"),
    }
}

/// Every public op of lolcore (methods of `Tensor` in `src/ops`, `src/tensor/readback.rs`,
/// and the functions of `nn::functional`) is in the table: a new op must join it.
#[test]
fn the_table_lists_every_op() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(src.join("ops")).unwrap().map(|e| e.unwrap().path()).collect();
    files.push(src.join("tensor/readback.rs"));
    files.sort();
    let mut public = Vec::new();
    for f in &files {
        public.extend(tensor_methods(&std::fs::read_to_string(f).unwrap()));
    }
    for line in std::fs::read_to_string(src.join("nn/functional.rs")).unwrap().lines() {
        if let Some(rest) = line.strip_prefix("pub fn ") {
            public.push(format!("functional::{}", rest.split(['(', '<']).next().unwrap_or("")));
        }
    }
    let listed: std::collections::HashSet<&str> = SPECS.iter().map(|s| s.name).collect();
    let missing: Vec<&String> = public.iter().filter(|n| !listed.contains(n.as_str())).collect();
    assert!(missing.is_empty(), "ops missing from the view-property table: {missing:?}");
    let public: std::collections::HashSet<&str> = public.iter().map(|s| s.as_str()).collect();
    let stale: Vec<&&str> = listed.iter().filter(|n| !public.contains(**n)).collect();
    assert!(stale.is_empty(), "table entries that are not public ops: {stale:?}");
    eprintln!("the view-property table covers {} ops", listed.len());
}

/// Names of the `pub fn`s inside `impl Tensor` blocks of a source file.
fn tensor_methods(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_tensor = false;
    for line in src.lines() {
        if line.starts_with("impl") {
            in_tensor = line.trim_end().ends_with("for Tensor {") || line.trim() == "impl Tensor {";
            in_tensor &= !line.contains(" for ");
        }
        if let Some(rest) = line.strip_prefix("    pub fn ") {
            if in_tensor {
                out.push(rest.split(['(', '<']).next().unwrap_or("").to_string());
            }
        }
    }
    out
}
