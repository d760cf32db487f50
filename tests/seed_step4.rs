//! Step 4's "done when": Keras programs written line by line reach Keras's accuracy on
//! the same data. Keras's figures come from `tests/fixtures/keras/keras_io_reference.py`
//! (Keras 3.15, torch backend) run on the same digits.
//! - keras-io's MNIST convnet (`examples/mnist_convnet_keras.rs`): lazily sized layers, a
//!   softmax output, categorical cross-entropy on one-hot labels;
//! - an image-folder classifier (`image_dataset_from_directory` → `DataLoader` →
//!   `fit_loader`), on 2,000 digits written as PNG files in one folder per class;
//! - a CSV classifier (header, a class-name label column) fed by a loader.
use keras::data::{ColorMode, CsvDataset, ImageFolder, Subset};
use keras::prelude::*;
use std::path::{Path, PathBuf};

#[path = "../examples/mnist_convnet_keras.rs"]
mod mnist_convnet_keras;

const NAMES: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

fn reference() -> serde_json::Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras/keras_io_reference.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Pixels (784 per digit) and labels.
type Digits = (Vec<u8>, Vec<u8>);

fn digits() -> (Digits, Digits) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist");
    let ((x, y), (xt, yt)) = keras::datasets::mnist::load_data(dir).unwrap();
    let v = |t: &Tensor| t.to_dtype(DType::U8).unwrap().to_vec::<u8>().unwrap();
    ((v(&x), v(&y)), (v(&xt), v(&yt)))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lol_step4_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_png(path: &Path, pixels: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), 28, 28);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(pixels).unwrap();
    w.finish().unwrap();
}

#[test]
fn keras_io_mnist_convnet_reaches_keras_accuracy() {
    let keras_acc = reference()["mnist_convnet_test_accuracy"][2].as_f64().unwrap();
    let (h, acc) = mnist_convnet_keras::run(3, Verbosity::Silent).unwrap();
    assert_eq!(h.len(), 3);
    assert!(h.get("val_accuracy").is_some());
    println!("mnist_convnet, 3 epochs: test accuracy ours {acc:.4}, Keras {keras_acc:.4}");
    assert!(acc >= keras_acc - 0.015, "test accuracy after 3 epochs: ours {acc:.4}, Keras {keras_acc:.4}");
}

#[test]
fn an_image_folder_classifier_fed_by_a_loader_reaches_keras_accuracy() {
    let keras_acc = reference()["image_folder_val_accuracy"][3].as_f64().unwrap();
    let ((x, y), _) = digits();
    let dir = scratch("folder");
    for i in 0..2000 {
        let class = dir.join(NAMES[y[i] as usize]);
        std::fs::create_dir_all(&class).unwrap();
        write_png(&class.join(format!("{i:05}.png")), &x[i * 784..(i + 1) * 784]);
    }
    let folder = |subset| {
        ImageFolder::new(&dir)
            .color_mode(ColorMode::Grayscale)
            .image_size(28, 28)
            .validation_split(0.2)
            .subset(subset)
            .seed(1337)
            .build()
            .unwrap()
    };
    let (train, val) = (folder(Subset::Training), folder(Subset::Validation));
    assert_eq!((train.len(), val.len()), (1600, 400));
    let mut names = NAMES.to_vec();
    names.sort();
    assert_eq!(train.class_names(), names.as_slice());
    manual_seed(1337);
    let train = DataLoader::new(train, 32).shuffle(true).workers(2);
    let val = DataLoader::new(val, 32);
    let mut model = Model::new(sequential![
        Rescaling::new(1.0 / 255.0),
        Conv2D::filters(16, 3).activation(Activation::Relu),
        MaxPool2D::new(2),
        Conv2D::filters(32, 3).activation(Activation::Relu),
        MaxPool2D::new(2),
        Flatten,
        Dense::units(10).activation(Activation::Softmax),
    ]);
    model.compile_with_metrics(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let h = model
        .fit_loader_with(&train, FitOptions::epochs(4).validation_loader(&val).verbose(Verbosity::Silent))
        .unwrap();
    let acc = *h.get("val_accuracy").unwrap().last().unwrap();
    println!("image folder, 4 epochs: validation accuracy ours {acc:.4}, Keras {keras_acc:.4}");
    assert!(acc >= keras_acc - 0.03, "validation accuracy after 4 epochs: ours {acc:.4}, Keras {keras_acc:.4}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_csv_classifier_fed_by_a_loader_reaches_keras_accuracy() {
    let keras_acc = reference()["csv_test_accuracy"].as_f64().unwrap();
    let ((x, y), (xt, yt)) = digits();
    let dir = scratch("csv");
    let write = |path: &Path, x: &[u8], y: &[u8], n: usize| {
        let mut text = (0..784).map(|i| format!("p{i}")).collect::<Vec<_>>().join(",") + ",digit\n";
        for i in 0..n {
            for p in &x[i * 784..(i + 1) * 784] {
                text.push_str(&p.to_string());
                text.push(',');
            }
            text.push_str(&format!("\"{}\"\n", NAMES[y[i] as usize]));
        }
        std::fs::write(path, text).unwrap();
    };
    write(&dir.join("train.csv"), &x, &y, 2000);
    write(&dir.join("test.csv"), &xt, &yt, 2000);
    let train = CsvDataset::builder(dir.join("train.csv")).label_column("digit").build().unwrap();
    let test = CsvDataset::builder(dir.join("test.csv")).label_column("digit").build().unwrap();
    assert_eq!(train.class_names(), test.class_names());
    manual_seed(1337);
    let train = DataLoader::new(train, 32).shuffle(true).workers(1);
    let test = DataLoader::new(test, 256);
    let mut model = Model::new(sequential![
        Rescaling::new(1.0 / 255.0),
        Dense::units(64).activation(Activation::Relu),
        Dense::units(10).activation(Activation::Softmax),
    ]);
    model.compile_with_metrics(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    model.fit_loader_with(&train, FitOptions::epochs(5).verbose(Verbosity::Silent)).unwrap();
    let acc = model.evaluate_loader(&test).unwrap().get("accuracy").unwrap();
    println!("csv, 5 epochs: test accuracy ours {acc:.4}, Keras {keras_acc:.4}");
    assert!(acc >= keras_acc - 0.03, "test accuracy after 5 epochs: ours {acc:.4}, Keras {keras_acc:.4}");
    let _ = std::fs::remove_dir_all(&dir);
}
