//! safetensors: round trips, dtype conversion, strict and non-strict loading with one
//! report of every problem, key remapping, atomic writes, and mutated (lying, truncated,
//! corrupt) files that must give errors, never panics or out-of-bounds reads.
use lolcore::nn::{Module, TensorKind, Visit, VisitMut};
use lolcore::rng::Rng;
use lolcore::safetensors::{self, load_module, parse_header, save, save_module, LoadOptions, Remap, SafeTensors};
use lolcore::{DType, Device, Result, Tensor};
use std::path::{Path, PathBuf};

/// A hand-written module: `fc.weight`, `fc.bias`, buffer `stats`.
struct Tiny {
    w: Tensor,
    b: Tensor,
    stats: Tensor,
}

impl Tiny {
    fn new(fill: f64) -> Tiny {
        let dev = Device::Cpu;
        Tiny {
            w: Tensor::full(fill, &[3, 2], &dev).unwrap().requires_grad(true),
            b: Tensor::full(fill, &[3], &dev).unwrap().requires_grad(true),
            stats: Tensor::full_dtype(fill, &[], DType::I64, &dev).unwrap(),
        }
    }
}

impl Module for Tiny {
    fn visit(&self, p: &str, f: &mut Visit<'_>) {
        let _ = p;
        f("fc.weight", &self.w, TensorKind::Parameter);
        f("fc.bias", &self.b, TensorKind::Parameter);
        f("stats", &self.stats, TensorKind::Buffer);
    }
    fn visit_mut(&mut self, _p: &str, f: &mut VisitMut<'_>) -> Result<()> {
        f("fc.weight", &mut self.w, TensorKind::Parameter)?;
        f("fc.bias", &mut self.b, TensorKind::Parameter)?;
        f("stats", &mut self.stats, TensorKind::Buffer)
    }
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lol_st_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn no_tmp_files(d: &Path) -> bool {
    std::fs::read_dir(d).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp"))
}

#[test]
fn round_trip_every_dtype_with_metadata() {
    let d = dir("rt");
    let p = d.join("all.safetensors");
    let base = Tensor::arange(0.0, 6.0, &Device::Cpu).unwrap().reshape(&[2, 3]).unwrap();
    let tensors: Vec<(String, Tensor)> =
        [DType::F32, DType::F64, DType::F16, DType::BF16, DType::U8, DType::U32, DType::I64]
            .iter()
            .map(|&dt| (format!("t_{dt}"), base.to_dtype(dt).unwrap()))
            .collect();
    save(&p, &tensors, &[("framework".into(), "lol".into())]).unwrap();
    let f = SafeTensors::open(&p).unwrap();
    assert_eq!(f.metadata(), &[("framework".to_string(), "lol".to_string())]);
    for (name, t) in &tensors {
        let back = f.tensor(name, &Device::Cpu).unwrap();
        assert_eq!(back.dtype(), t.dtype());
        assert_eq!(back.shape(), &[2, 3]);
        assert_eq!(back.to_vec::<f64>().unwrap(), vec![0., 1., 2., 3., 4., 5.], "{name}");
    }
    // The data section starts 8-byte aligned, as PyTorch's writer does.
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(u64::from_le_bytes(bytes[..8].try_into().unwrap()) % 8, 0);
    assert!(no_tmp_files(&d));
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn module_round_trip_converts_dtypes() {
    let d = dir("conv");
    let src = Tiny::new(1.5);
    src.w
        .copy_from(&Tensor::from_vec(vec![0.5f32, -1.25, 2.0, 3.0, -4.5, 0.125], &[3, 2], &Device::Cpu).unwrap())
        .unwrap();
    // Save the weights as f16, bf16 and f64: each loads into the f32 model converted.
    for dt in [DType::F16, DType::BF16, DType::F64] {
        let p = d.join(format!("{dt}.safetensors"));
        let state: Vec<(String, Tensor)> = src
            .state_dict()
            .into_iter()
            .map(|(n, t)| (n, if t.dtype().is_float() { t.to_dtype(dt).unwrap() } else { t }))
            .collect();
        save(&p, &state, &[]).unwrap();
        let mut dst = Tiny::new(0.0);
        let r = load_module(&mut dst, &p, &LoadOptions::strict()).unwrap();
        assert_eq!(r.converted.len(), 2, "{dt}");
        assert_eq!(dst.w.to_vec::<f32>().unwrap(), src.w.to_vec::<f32>().unwrap(), "{dt}");
        assert_eq!(dst.stats.to_scalar::<i64>().unwrap(), 1);
        assert_eq!(dst.w.dtype(), DType::F32);
    }
    // save_module writes the framework metadata.
    let p = d.join("m.safetensors");
    save_module(&src, &p).unwrap();
    let meta = SafeTensors::open(&p).unwrap().metadata().to_vec();
    assert!(meta.contains(&("framework".into(), "lol".into())) && meta.contains(&("format".into(), "pt".into())));
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn strict_load_reports_every_problem_and_changes_nothing() {
    let d = dir("strict");
    let p = d.join("bad.safetensors");
    let dev = Device::Cpu;
    save(
        &p,
        &[
            ("fc.weight".into(), Tensor::ones(&[2, 2], &dev).unwrap()),
            ("extra.weight".into(), Tensor::ones(&[1], &dev).unwrap()),
            ("stats".into(), Tensor::ones(&[], &dev).unwrap()),
        ],
        &[],
    )
    .unwrap();
    let mut m = Tiny::new(7.0);
    let e = load_module(&mut m, &p, &LoadOptions::strict()).unwrap_err().to_string();
    assert!(e.contains("missing (in the model, not in the file): fc.bias [3]"), "{e}");
    assert!(e.contains("unexpected (in the file, not in the model): extra.weight"), "{e}");
    assert!(e.contains("shape mismatch: fc.weight: file [2, 2], model [3, 2]"), "{e}");
    assert!(e.contains("dtype mismatch: stats: file F32, model i64"), "{e}");
    assert_eq!(m.w.to_vec::<f32>().unwrap(), vec![7.0; 6], "a failed strict load changes nothing");
    // Non-strict loads what matches and says what did not.
    let r = load_module(&mut m, &p, &LoadOptions::non_strict()).unwrap();
    assert!(r.loaded.is_empty() && r.missing.len() == 1 && r.unexpected.len() == 1 && r.shape_mismatch.len() == 1);
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn remapping_names() {
    let d = dir("remap");
    let p = d.join("dp.safetensors");
    let src = Tiny::new(2.0);
    let state: Vec<(String, Tensor)> =
        src.state_dict().into_iter().map(|(n, t)| (format!("module.{}", n.replace("fc.", "classifier.")), t)).collect();
    save(&p, &state, &[]).unwrap();
    let mut m = Tiny::new(0.0);
    assert!(load_module(&mut m, &p, &LoadOptions::strict()).is_err());
    let opts = LoadOptions::strict()
        .remap(Remap::StripPrefix("module.".into()))
        .remap(Remap::Replace("classifier.".into(), "fc.".into()));
    load_module(&mut m, &p, &opts).unwrap();
    assert_eq!(m.b.to_vec::<f32>().unwrap(), vec![2.0; 3]);
    // A hook that drops keys.
    let mut m = Tiny::new(0.0);
    let r = load_module(
        &mut m,
        &p,
        &LoadOptions::non_strict()
            .remap_fn(|n| n.strip_prefix("module.").map(|s| s.replace("classifier.", "fc.")).filter(|s| s != "stats")),
    )
    .unwrap();
    assert_eq!(r.missing.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["stats"]);
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn writes_are_atomic() {
    let d = dir("atomic");
    let p = d.join("w.safetensors");
    let m = Tiny::new(1.0);
    save_module(&m, &p).unwrap();
    let before = std::fs::read(&p).unwrap();
    // Saving into a missing directory fails cleanly.
    assert!(save_module(&m, d.join("nope/w.safetensors")).is_err());
    // A save that fails half-way (a tensor name used twice) leaves the old file intact.
    let dup = vec![("a".to_string(), m.w.clone()), ("a".to_string(), m.w.clone())];
    assert!(save(&p, &dup, &[]).is_err());
    assert_eq!(std::fs::read(&p).unwrap(), before);
    // Writing over a directory fails and leaves no temporary file.
    assert!(save_module(&m, &d).is_err());
    assert!(no_tmp_files(&d));
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn specific_lies_are_errors() {
    let p = Path::new("mem");
    let file = |header: &str, data: usize| {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend(header.as_bytes());
        v.extend(vec![0u8; data]);
        v
    };
    let cases = [
        (file(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4), "do not hold"),
        (file(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, 4), "do not hold"),
        (file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8), "expected 0"),
        (
            file(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                4,
            ),
            "overlapping",
        ),
        (file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8), "cover 4 of 8"),
        (file(r#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}"#, 4), "unknown dtype"),
        (
            file(r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}"#, 4),
            "overflows",
        ),
        (file(r#"[1,2]"#, 0), "not a JSON object"),
        (file(r#"{"a":"#, 0), "not JSON"),
        (vec![1, 2, 3], "too short"),
        (
            {
                let mut v = u64::MAX.to_le_bytes().to_vec();
                v.extend(b"{}");
                v
            },
            "exceeds the file",
        ),
    ];
    for (bytes, want) in cases {
        let e = parse_header(&bytes, p).unwrap_err().to_string();
        assert!(e.contains(want), "{e} (wanted {want})");
    }
}

#[test]
fn fuzzed_headers_never_panic() {
    let d = dir("fuzz");
    let p = d.join("seed.safetensors");
    let m = Tiny::new(3.0);
    save_module(&m, &p).unwrap();
    let seed = std::fs::read(&p).unwrap();
    let header_len = u64::from_le_bytes(seed[..8].try_into().unwrap()) as usize;
    let mut rng = Rng::seed_from(12345);
    let mut accepted = 0;
    for round in 0..3000 {
        let mut v = seed.clone();
        match round % 5 {
            0 => {
                let i = rng.below(8 + header_len);
                v[i] = rng.next_u64() as u8;
            }
            1 => v.truncate(rng.below(v.len())),
            2 => {
                // Rewrite one digit in the JSON (offsets, shapes).
                let digits: Vec<usize> = (8..8 + header_len).filter(|&i| v[i].is_ascii_digit()).collect();
                let i = digits[rng.below(digits.len())];
                v[i] = b'0' + rng.below(10) as u8;
            }
            3 => {
                let n = rng.next_u64() >> rng.below(64);
                v[..8].copy_from_slice(&n.to_le_bytes());
            }
            _ => {
                let i = rng.below(v.len());
                v.insert(i, rng.next_u64() as u8);
            }
        }
        if let Ok(h) = parse_header(&v, &p) {
            accepted += 1;
            // Everything the header names lies inside the file.
            for t in &h.tensors {
                assert!(h.data_start + t.end <= v.len());
            }
            // Loading it into the module is an error or a success, never a panic.
            if round % 10 == 0 {
                let q = d.join("mut.safetensors");
                std::fs::write(&q, &v).unwrap();
                let mut target = Tiny::new(0.0);
                let _ = load_module(&mut target, &q, &LoadOptions::non_strict());
                let _ = SafeTensors::open(&q).and_then(|f| f.load_all(&Device::Cpu));
            }
        }
    }
    // Some mutations are harmless (a digit rewritten to itself): those still load.
    assert!(accepted > 0);
    assert!(safetensors::load(d.join("missing.safetensors"), &Device::Cpu)
        .unwrap_err()
        .to_string()
        .contains("missing.safetensors"));
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn f32_checkpoint_into_a_half_model() {
    let d = dir("half");
    let p = d.join("f32.safetensors");
    let src = Tiny::new(0.5);
    save_module(&src, &p).unwrap();
    for dt in [DType::F16, DType::BF16] {
        let mut m = Tiny::new(0.0);
        m.cast_to(dt).unwrap();
        let r = load_module(&mut m, &p, &LoadOptions::strict()).unwrap();
        assert_eq!(r.converted.len(), 2);
        assert_eq!(m.w.dtype(), dt);
        assert_eq!(m.w.to_vec::<f32>().unwrap(), vec![0.5; 6]);
    }
    std::fs::remove_dir_all(d).ok();
}
