//! DataLoader, datasets, and the IDX / CSV / MNIST readers (including bad files).
use keras::data::{read_csv, CsvDataset};
use keras::datasets::{idx, mnist};
use keras::prelude::*;
use std::path::Path;

fn ds(n: usize) -> TensorDataset {
    let x = Tensor::arange(0.0, n as f64, &Device::Cpu).unwrap().reshape(&[n, 1]).unwrap();
    let y = Tensor::arange(0.0, n as f64, &Device::Cpu).unwrap();
    TensorDataset::new(&x, &y).unwrap()
}

fn collect(loader: &DataLoader<TensorDataset>) -> Vec<Vec<f32>> {
    loader.iter().unwrap().map(|b| b.unwrap().1.to_vec::<f32>().unwrap()).collect()
}

#[test]
fn batches_in_order_with_and_without_workers() {
    let plain = collect(&DataLoader::new(ds(10), 4));
    assert_eq!(plain, vec![vec![0., 1., 2., 3.], vec![4., 5., 6., 7.], vec![8., 9.]]);
    let workers = collect(&DataLoader::new(ds(10), 4).workers(3).prefetch(1));
    assert_eq!(workers, plain);
    let dropped = collect(&DataLoader::new(ds(10), 4).drop_last(true));
    assert_eq!(dropped.len(), 2);
    assert_eq!(DataLoader::new(ds(10), 4).drop_last(true).len(), 2);
}

#[test]
fn shuffling_visits_every_sample_once_and_changes_per_epoch() {
    manual_seed(9);
    let loader = DataLoader::new(ds(50), 7).shuffle(true).workers(2);
    let e1: Vec<f32> = collect(&loader).concat();
    let e2: Vec<f32> = collect(&loader).concat();
    assert_ne!(e1, e2);
    for e in [e1, e2] {
        let mut s = e.clone();
        s.sort_by(f32::total_cmp);
        assert_eq!(s, (0..50).map(|i| i as f32).collect::<Vec<_>>());
    }
    // Dropping an epoch half-way stops the workers cleanly.
    let mut it = loader.iter().unwrap();
    it.next().unwrap().unwrap();
    drop(it);
}

#[test]
fn dataset_errors() {
    let x = Tensor::zeros(&[3, 2], &Device::Cpu).unwrap();
    let y = Tensor::zeros(&[4], &Device::Cpu).unwrap();
    assert!(TensorDataset::new(&x, &y).unwrap_err().to_string().contains("same number of samples"));
    assert!(DataLoader::new(ds(3), 0).iter().is_err());
    assert!(ds(3).get(3).is_err());
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn csv_reading_and_errors() {
    let dir = std::env::temp_dir().join(format!("lol_csv_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = write(&dir, "ok.csv", b"a,b,label\n1,2,0\n3.5,-4,1\n");
    let t = read_csv(&p).unwrap();
    assert_eq!(t.header.unwrap(), vec!["a", "b", "label"]);
    assert_eq!(t.rows, vec![vec![1., 2., 0.], vec![3.5, -4., 1.]]);
    let d = CsvDataset::open(&p).unwrap();
    assert_eq!((d.len(), d.features()), (2, 2));
    let ragged = write(&dir, "ragged.csv", b"1,2,3\n4,5\n");
    assert!(read_csv(&ragged).unwrap_err().to_string().contains("line 2 has 2 fields, expected 3"));
    let text = write(&dir, "text.csv", b"1,2\n3,x\n");
    assert!(read_csv(&text).unwrap_err().to_string().contains("line 2, column 2: \"x\" is not a number"));
    assert!(CsvDataset::open(dir.join("missing.csv")).unwrap_err().to_string().contains("missing.csv"));
    let one = write(&dir, "one.csv", b"1\n2\n");
    assert!(CsvDataset::open(&one).unwrap_err().to_string().contains("at least 2 columns"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn idx_reading_and_errors() {
    let dir = std::env::temp_dir().join(format!("lol_idx_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut good = vec![0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3];
    good.extend([1u8, 2, 3, 4, 5, 6]);
    let t = idx::read_idx(write(&dir, "good", &good)).unwrap();
    assert_eq!((t.dims().to_vec(), t.dtype()), (vec![2, 3], DType::U8));
    assert_eq!(t.to_vec::<u8>().unwrap(), vec![1, 2, 3, 4, 5, 6]);
    let e = idx::read_idx(write(&dir, "short", &good[..15])).unwrap_err().to_string();
    assert!(e.contains("need 6 data bytes, the file has 3"), "{e}");
    assert!(idx::read_idx(write(&dir, "magic", &[1, 2, 3, 4])).unwrap_err().to_string().contains("bad magic"));
    assert!(idx::read_idx(write(&dir, "type", &[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]))
        .unwrap_err()
        .to_string()
        .contains("not supported"));
    assert!(idx::read_idx(write(&dir, "gz", &[0x1f, 0x8b, 1, 2])).unwrap_err().to_string().contains("gzip"));
    assert!(mnist::load_data(&dir).unwrap_err().to_string().contains("train-images-idx3-ubyte"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bundled_mnist_has_keras_shapes_and_dtypes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist");
    let ((xtr, ytr), (xte, yte)) = mnist::load_data(dir).unwrap();
    assert_eq!(xtr.dims(), &[8000, 28, 28]);
    assert_eq!(ytr.dims(), &[8000]);
    assert_eq!(xte.dims(), &[2000, 28, 28]);
    assert_eq!(yte.dims(), &[2000]);
    assert!([&xtr, &ytr, &xte, &yte].iter().all(|t| t.dtype() == DType::U8));
    assert_eq!(ytr.max_all().unwrap().to_scalar::<u8>().unwrap(), 9);
    // Labels per class, all 10,000 (data/mnist/README.md): 0 has 1001.
    let zeros = ytr.eq_scalar(0.0).unwrap().sum_all().unwrap().to_scalar::<i64>().unwrap()
        + yte.eq_scalar(0.0).unwrap().sum_all().unwrap().to_scalar::<i64>().unwrap();
    assert_eq!(zeros, 1001);
}
