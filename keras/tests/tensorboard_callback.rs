//! `TensorBoard`: the event files it writes are read back by an independent reader here
//! (framing, both CRCs, the protobufs) and, where the `tensorboard` Python package is
//! installed, by TensorBoard's own readers; both must find the values of the `History`.
use keras::prelude::*;
use prost::Message;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// The messages as tensorboard/compat/proto/{event,summary}.proto define them, written
// here independently of the callback's own.
#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(string, optional, tag = "3")]
    file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    summary: Option<Summary>,
}
#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<Value>,
}
#[derive(Clone, PartialEq, Message)]
struct Value {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
    #[prost(message, optional, tag = "5")]
    histo: Option<Histo>,
}
#[derive(Clone, PartialEq, Message)]
struct Histo {
    #[prost(double, tag = "1")]
    min: f64,
    #[prost(double, tag = "2")]
    max: f64,
    #[prost(double, tag = "3")]
    num: f64,
    #[prost(double, tag = "4")]
    sum: f64,
    #[prost(double, tag = "5")]
    sum_squares: f64,
    #[prost(double, repeated, tag = "6")]
    bucket_limit: Vec<f64>,
    #[prost(double, repeated, tag = "7")]
    bucket: Vec<f64>,
}

fn masked_crc(b: &[u8]) -> u32 {
    let c = crc32c::crc32c(b);
    c.rotate_right(15).wrapping_add(0xa282_ead8) // (c >> 15) | (c << 17), plus the offset
}

/// Every event of every event file in `dir`, after checking the framing and both CRCs.
fn read_events(dir: &Path) -> Vec<Event> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("events.out.tfevents."), "{name}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let (mut at, mut events) = (0, vec![]);
    while at < bytes.len() {
        let len_bytes = &bytes[at..at + 8];
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
        let crc = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        assert_eq!(crc(at + 8), masked_crc(len_bytes), "length CRC at {at}");
        let data = &bytes[at + 12..at + 12 + len];
        assert_eq!(crc(at + 12 + len), masked_crc(data), "data CRC at {at}");
        events.push(Event::decode(data).unwrap());
        at += 16 + len;
    }
    assert_eq!(at, bytes.len());
    assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
    events
}

type Scalars = BTreeMap<String, Vec<(i64, f32)>>;

fn scalars(events: &[Event]) -> Scalars {
    let mut out = Scalars::new();
    for e in events {
        for v in e.summary.iter().flat_map(|s| &s.value) {
            if let Some(x) = v.simple_value {
                out.entry(v.tag.clone()).or_default().push((e.step, x));
            }
        }
    }
    out
}

fn histograms(events: &[Event]) -> BTreeMap<String, Vec<(i64, Histo)>> {
    let mut out: BTreeMap<String, Vec<(i64, Histo)>> = BTreeMap::new();
    for e in events {
        for v in e.summary.iter().flat_map(|s| &s.value) {
            if let Some(h) = &v.histo {
                out.entry(v.tag.clone()).or_default().push((e.step, h.clone()));
            }
        }
    }
    out
}

fn assert_close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-6 * want.abs().max(1e-30), "{what}: {got} vs {want}");
}

fn assert_epochs(got: Option<&Vec<(i64, f32)>>, want: &[f64], what: &str) {
    let got = got.unwrap_or_else(|| panic!("no {what}"));
    assert_eq!(got.iter().map(|p| p.0).collect::<Vec<_>>(), (0..want.len() as i64).collect::<Vec<_>>(), "{what}");
    for ((_, g), w) in got.iter().zip(want) {
        assert_close(*g as f64, *w as f32 as f64, what);
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lol_tb_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn data() -> (Tensor, Tensor) {
    let x = Tensor::randn(&[64, 2], &Device::Cpu).unwrap();
    let y = x.narrow(1, 0, 1).unwrap().gt_scalar(0.0).unwrap().reshape(&[64]).unwrap().to_dtype(DType::U32).unwrap();
    (x, y)
}

#[test]
fn event_files_hold_the_history() {
    manual_seed(7);
    let (x, y) = data();
    let mut model = Model::new(sequential![Dense::new(2, 8), Relu, Dense::new(8, 2)]);
    model.compile_with_metrics(Adam::new(1e-2), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let dir = fresh_dir("fit");
    let mut tb = TensorBoard::new(&dir).update_freq_batches(2).histogram_freq(1);
    let opts = FitOptions::new(3, 16).validation_split(0.25).verbose(Verbosity::Silent).callback(&mut tb);
    let h = model.fit_with(&x, &y, opts).unwrap();

    let train = read_events(&dir.join("train"));
    let s = scalars(&train);
    assert_epochs(s.get("epoch_loss"), h.loss(), "epoch_loss");
    assert_epochs(s.get("epoch_accuracy"), h.get("accuracy").unwrap(), "epoch_accuracy");
    assert_epochs(s.get("epoch_learning_rate"), h.get("lr").unwrap(), "epoch_learning_rate");
    // 48 training samples in batches of 16: global steps 1..=9, every second one logged.
    let batch_steps: Vec<i64> = s["batch_loss"].iter().map(|p| p.0).collect();
    assert_eq!(batch_steps, [2, 4, 6, 8]);
    assert!(s.keys().all(|k| !k.contains("val_") && k != "epoch_lr"), "{:?}", s.keys());

    let val = scalars(&read_events(&dir.join("validation")));
    assert_eq!(val.keys().collect::<Vec<_>>(), ["epoch_accuracy", "epoch_loss"]);
    assert_epochs(val.get("epoch_loss"), h.get("val_loss").unwrap(), "validation epoch_loss");
    assert_epochs(val.get("epoch_accuracy"), h.get("val_accuracy").unwrap(), "validation epoch_accuracy");

    let hist = histograms(&train);
    for (name, w) in model.module().named_parameters() {
        let values = w.to_vec::<f64>().unwrap();
        for suffix in ["histogram", "gradient"] {
            let tag = format!("{name}/{suffix}");
            let hs = hist.get(&tag).unwrap_or_else(|| panic!("no {tag} in {:?}", hist.keys()));
            assert_eq!(hs.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 1, 2], "{tag}");
            for (_, h) in hs {
                assert_eq!(h.num, values.len() as f64, "{tag}");
                assert_eq!(h.bucket.iter().sum::<f64>(), h.num, "{tag}");
                assert_eq!(h.bucket.len(), h.bucket_limit.len(), "{tag}");
            }
        }
        // The last weight histogram was taken after the last step: the final weights.
        let last = &hist[&format!("{name}/histogram")][2].1;
        let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((last.min, last.max), (min, max), "{name}");
        assert_close(last.sum, values.iter().sum(), &name);
        assert_close(last.sum_squares, values.iter().map(|v| v * v).sum(), &name);
        let grad = &hist[&format!("{name}/gradient")][2].1;
        assert!(grad.max > grad.min, "{name}: gradients of the last batch are not all equal");
    }

    tensorboard_reads(&dir, &h, &model.module().named_parameters().into_iter().map(|(n, _)| n).collect::<Vec<_>>());
}

/// The second half: TensorBoard's own readers, when the Python package is installed.
fn tensorboard_reads(dir: &Path, h: &History, params: &[String]) {
    let has_tb = std::process::Command::new("python3")
        .args(["-c", "import tensorboard"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_tb {
        eprintln!("SKIPPED the TensorBoard half: `python3 -c 'import tensorboard'` fails (pip install tensorboard)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorboard_dump.py");
    let out = std::process::Command::new("python3").arg(&script).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dump: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let series = |run: &str, tag: &str| -> Vec<(i64, f64)> {
        let s = dump[run]["scalars"][tag].as_array().unwrap_or_else(|| panic!("TensorBoard has no {run}/{tag}"));
        s.iter().map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap())).collect()
    };
    for (run, tag, key) in [
        ("train", "epoch_loss", "loss"),
        ("train", "epoch_accuracy", "accuracy"),
        ("train", "epoch_learning_rate", "lr"),
        ("validation", "epoch_loss", "val_loss"),
        ("validation", "epoch_accuracy", "val_accuracy"),
    ] {
        let got = series(run, tag);
        let want = h.get(key).unwrap();
        assert_eq!(got.len(), want.len(), "{run}/{tag}");
        for (i, ((step, g), w)) in got.iter().zip(want).enumerate() {
            assert_eq!(*step, i as i64, "{run}/{tag}");
            assert_close(*g, *w as f32 as f64, &format!("TensorBoard {run}/{tag}"));
        }
    }
    assert_eq!(series("train", "batch_loss").len(), 4);
    for name in params {
        for suffix in ["histogram", "gradient"] {
            let tag = format!("{name}/{suffix}");
            let hs = dump["train"]["histograms"][&tag].as_array().unwrap_or_else(|| panic!("TensorBoard has no {tag}"));
            assert_eq!(hs.len(), 3, "{tag}");
            assert!(hs.iter().all(|e| e[1].as_f64() == e[2].as_f64() && e[1].as_f64() > Some(0.0)), "{tag}");
            // The server's path: migrated to a [buckets, 3] tensor (left, right, count).
            let t = dump["train"]["plugin_tensors"][&tag].as_array().unwrap_or_else(|| panic!("no tensor {tag}"));
            assert!(t.iter().all(|e| e[1].as_array().map(|s| s.len() == 2 && s[1] == 3) == Some(true)), "{tag}: {t:?}");
        }
    }
    eprintln!("TensorBoard (Python) read the event files and found the same values");
}

#[test]
fn log_dir_that_is_a_file_is_an_error_naming_the_callback_and_path() {
    manual_seed(8);
    let (x, y) = data();
    let mut model = Model::new(sequential![Dense::new(2, 2)]);
    model.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
    let dir = fresh_dir("file");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("not_a_dir");
    std::fs::write(&file, b"x").unwrap();
    let mut tb = TensorBoard::new(&file);
    let err = model.fit_with(&x, &y, FitOptions::new(1, 16).verbose(Verbosity::Silent).callback(&mut tb)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("TensorBoard: ") && msg.contains(&file.display().to_string()), "{msg}");
}

#[test]
fn without_validation_or_histograms_only_train_epoch_scalars_are_written() {
    manual_seed(9);
    let (x, y) = data();
    let mut model = Model::new(sequential![Dense::new(2, 2)]);
    model.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
    let dir = fresh_dir("plain");
    let mut tb = TensorBoard::new(&dir);
    let h = model.fit_with(&x, &y, FitOptions::new(2, 16).verbose(Verbosity::Silent).callback(&mut tb)).unwrap();
    assert!(!dir.join("validation").exists());
    let events = read_events(&dir.join("train"));
    assert!(histograms(&events).is_empty());
    let s = scalars(&events);
    assert_eq!(s.keys().collect::<Vec<_>>(), ["epoch_learning_rate", "epoch_loss"]);
    assert_epochs(s.get("epoch_loss"), h.loss(), "epoch_loss");
}
