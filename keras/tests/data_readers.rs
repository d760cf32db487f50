//! The readers of `keras::data`: image folders, CSV files with options, text lines; and
//! the `Rescaling` layer. Fixture files are written into a temp folder by each test.
use keras::data::{
    ColorMode, CsvDataset, DataLoader, Dataset, ImageFolder, ImageFolderOptions, LabelKind, LabelMode, Subset,
    TextLineDataset,
};
use keras::prelude::*;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lol_readers_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

fn solid(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb)).save(path).unwrap();
}

const COLOURS: [(&str, [u8; 3]); 3] = [("cats", [200, 30, 10]), ("birds", [10, 220, 40]), ("dogs", [20, 40, 250])];

/// 3 classes × 4 solid-colour images of 8×6 (png, PNG, jpg, jpeg), plus files and
/// folders that must be skipped.
fn image_folder(name: &str) -> PathBuf {
    let d = tmp(name);
    for (class, rgb) in COLOURS {
        for (k, ext) in ["png", "PNG", "jpg", "jpeg"].iter().enumerate() {
            solid(&d.join(class).join(format!("img{k}.{ext}")), 8, 6, rgb);
        }
        write(&d, &format!("{class}/notes.txt"), b"not an image");
    }
    solid(&d.join(".hidden/x.png"), 2, 2, [0, 0, 0]);
    write(&d, "README.md", b"top-level files are not classes");
    d
}

fn max_abs_diff(t: &Tensor, v: f32) -> f32 {
    t.to_vec::<f32>().unwrap().iter().map(|x| (x - v).abs()).fold(0.0, f32::max)
}

#[test]
fn image_folder_classes_labels_shapes_and_pixels() {
    let d = image_folder("basic");
    let ds = ImageFolder::new(&d).image_size(4, 5).build().unwrap();
    assert_eq!(ds.class_names(), ["birds", "cats", "dogs"]);
    assert_eq!(ds.len(), 12);
    assert_eq!(ds.labels(), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    assert!(ds.file_paths()[4].ends_with("cats/img0.png"), "{:?}", ds.file_paths());
    for i in 0..ds.len() {
        let (x, y) = ds.get(i).unwrap();
        assert_eq!((x.dims(), x.dtype()), (&[3usize, 4, 5][..], DType::F32));
        assert_eq!((y.dims(), y.dtype(), y.to_scalar::<u32>().unwrap()), (&[][..], DType::U32, ds.labels()[i]));
        let rgb = COLOURS.iter().find(|(c, _)| *c == ds.class_names()[ds.labels()[i] as usize]).unwrap().1;
        // PNG is lossless, so a solid image keeps its exact values through the resize;
        // JPEG's chroma rounding moves solid colours by a few levels.
        let png = ds.file_paths()[i].extension().unwrap().eq_ignore_ascii_case("png");
        let tol = if png { 1e-3 } else { 8.0 };
        for (c, v) in rgb.iter().enumerate() {
            let diff = max_abs_diff(&x.narrow(0, c, 1).unwrap(), *v as f32);
            assert!(diff <= tol, "sample {i} channel {c}: off by {diff}");
        }
    }
    let (xb, yb) = ds.get_batch(&[0, 5, 11]).unwrap();
    assert_eq!((xb.dims(), yb.dims()), (&[3usize, 3, 4, 5][..], &[3usize][..]));
    assert_eq!(yb.to_vec::<u32>().unwrap(), [0, 1, 2]);

    let cat = ImageFolder::new(&d).image_size(2, 2).label_mode(LabelMode::Categorical).build().unwrap();
    let (_, y) = cat.get(5).unwrap();
    assert_eq!((y.dims(), y.to_vec::<f32>().unwrap()), (&[3usize][..], vec![0., 1., 0.]));

    let grey = ImageFolder::new(&d).image_size(3, 3).color_mode(ColorMode::Grayscale).build().unwrap();
    let (x, _) = grey.get(4).unwrap(); // cats/img0.png
    assert_eq!(x.dims(), [1, 3, 3]);
    let luma = 0.2989 * 200.0 + 0.5870 * 30.0 + 0.1140 * 10.0;
    assert!(max_abs_diff(&x, luma) < 1e-2);

    // The free function with options is the same dataset.
    let opts = ImageFolderOptions { image_size: (4, 5), ..Default::default() };
    let f = keras::data::image_dataset_from_directory(&d, opts).unwrap();
    assert_eq!(f.file_paths(), ds.file_paths());
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn image_folder_split_follows_keras() {
    let d = image_folder("split");
    let split = |subset, seed| {
        ImageFolder::new(&d).image_size(2, 2).validation_split(0.2).subset(subset).seed(seed).build().unwrap()
    };
    let (train, val) = (split(Subset::Training, 1337), split(Subset::Validation, 1337));
    // Keras: floor(0.2 · 12) = 2 files for validation, the other 10 for training.
    assert_eq!((train.len(), val.len()), (10, 2));
    let mut all: Vec<PathBuf> = train.file_paths().iter().chain(val.file_paths()).cloned().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(all.len(), before, "training and validation overlap");
    let mut every = ImageFolder::new(&d).build().unwrap().file_paths().to_vec();
    every.sort();
    assert_eq!(all, every, "the two subsets must cover every file");
    // The same seed gives the same subsets; the shuffled order is the seeded one.
    assert_eq!(split(Subset::Training, 1337).file_paths(), train.file_paths());
    let shuffled = ImageFolder::new(&d).seed(1337).build().unwrap();
    assert_eq!(shuffled.file_paths()[..10], train.file_paths()[..]);
    assert_eq!(shuffled.file_paths()[10..], val.file_paths()[..]);
    assert_ne!(shuffled.file_paths(), ImageFolder::new(&d).seed(7).build().unwrap().file_paths());
    // Labels follow their files through the shuffle.
    for (p, l) in train.file_paths().iter().zip(train.labels()) {
        assert!(p.parent().unwrap().ends_with(&train.class_names()[*l as usize]));
    }

    let no_seed = ImageFolder::new(&d).validation_split(0.2).subset(Subset::Training).build();
    assert!(no_seed.unwrap_err().to_string().contains("needs a seed"));
    let bad = ImageFolder::new(&d).validation_split(1.5).subset(Subset::Training).seed(1).build();
    assert!(bad.unwrap_err().to_string().contains("between 0 and 1"));
    let half = ImageFolder::new(&d).validation_split(0.2).seed(1).build();
    assert!(half.unwrap_err().to_string().contains("set both or neither"));
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn image_folder_loader_with_workers_matches_inline() {
    let d = image_folder("workers");
    let batches = |workers| {
        let ds = ImageFolder::new(&d).image_size(3, 3).build().unwrap();
        let g = Generator::new(5);
        let loader = DataLoader::new(ds, 5).shuffle(true).generator(&g).workers(workers);
        let out: Vec<(Vec<f32>, Vec<u32>)> = loader
            .iter()
            .unwrap()
            .map(|b| {
                let (x, y) = b.unwrap();
                (x.to_vec::<f32>().unwrap(), y.to_vec::<u32>().unwrap())
            })
            .collect();
        out
    };
    let (inline, threaded) = (batches(0), batches(2));
    assert_eq!(inline.len(), 3); // 5 + 5 + 2
    assert_eq!(inline[2].1.len(), 2);
    assert_eq!(inline, threaded);
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn image_folder_errors_name_what_is_wrong() {
    let d = tmp("errors");
    let missing = ImageFolder::new(d.join("nope")).build().unwrap_err().to_string();
    assert!(missing.contains("nope"), "{missing}");
    write(&d, "flat/a.png", b"");
    let flat = ImageFolder::new(d.join("flat")).build();
    assert!(flat.unwrap_err().to_string().contains("no class subfolders"));
    write(&d, "empty/a/readme.txt", b"x");
    write(&d, "empty/b/data.csv", b"x");
    let empty = ImageFolder::new(d.join("empty")).build().unwrap_err().to_string();
    assert!(empty.contains("no images") && empty.contains("empty"), "{empty}");

    solid(&d.join("three/a/1.png"), 2, 2, [1, 2, 3]);
    solid(&d.join("three/b/1.png"), 2, 2, [1, 2, 3]);
    solid(&d.join("three/c/1.png"), 2, 2, [1, 2, 3]);
    let binary = ImageFolder::new(d.join("three")).label_mode(LabelMode::Binary).build().unwrap_err().to_string();
    assert!(binary.contains("exactly 2 classes") && binary.contains("has 3"), "{binary}");

    // Listing does not decode; `get` reports the broken file by name.
    solid(&d.join("broken/a/good.png"), 2, 2, [9, 9, 9]);
    write(&d, "broken/b/corrupt.jpg", b"this is not a jpeg");
    let ds = ImageFolder::new(d.join("broken")).image_size(2, 2).label_mode(LabelMode::Binary).build().unwrap();
    let (_, y) = ds.get(0).unwrap();
    assert_eq!((y.dims(), y.to_vec::<f32>().unwrap()), (&[1usize][..], vec![0.0]));
    let e = ds.get(1).unwrap_err().to_string();
    assert!(e.contains("corrupt.jpg") && e.contains("sample 1"), "{e}");
    assert!(ds.get(2).unwrap_err().to_string().contains("sample 2 of 2"));
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn rescaling_layer() {
    let x = Tensor::from_vec(vec![0f32, 127.5, 255.0], &[1, 3], &Device::Cpu).unwrap();
    let y = Rescaling::new(1.0 / 255.0).forward(&x).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), [0.0, 0.5, 1.0]);
    let y = Rescaling::new(1.0 / 127.5).offset(-1.0).forward(&x).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), [-1.0, 0.0, 1.0]);
    assert!(Rescaling::new(2.0).named_parameters().is_empty());
}

#[test]
fn csv_quoted_fields_string_labels_and_column_selection() {
    let d = tmp("csv");
    let text = "id,\"width, cm\",height,note,species\n\
                1,1.5,2,\"says \"\"hi\"\", twice\",setosa\n\
                2,3,4,\"two\nlines\",virginica\n\
                \n\
                3,5.25,-6,plain,setosa\n";
    let p = write(&d, "iris.csv", text.as_bytes());
    let ds = CsvDataset::builder(&p).label_column("species").feature_columns(&["height", "width, cm"]).build().unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.feature_names(), ["height", "width, cm"]);
    assert_eq!(ds.label_name(), "species");
    assert_eq!(ds.class_names().unwrap(), ["setosa", "virginica"]);
    let (x, y) = ds.get_batch(&[0, 1, 2]).unwrap();
    assert_eq!(x.to_vec::<f32>().unwrap(), [2., 1.5, 4., 3., -6., 5.25]);
    assert_eq!((y.dims(), y.to_vec::<u32>().unwrap()), (&[3usize][..], vec![0, 1, 0]));
    let (_, y0) = ds.get(1).unwrap();
    assert_eq!((y0.dims(), y0.dtype()), (&[][..], DType::U32));

    // The default features are all but the label: the quoted text column is not a number.
    let e = CsvDataset::builder(&p).label_column("species").build().unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("column \"note\"") && e.contains("says \\\"hi\\\", twice"), "{e}");
    // By index, no header: the header line is data, so it fails on "width, cm".
    let e = CsvDataset::builder(&p).header(false).label_column(4).feature_columns(&[1]).build().unwrap_err();
    assert!(e.to_string().contains("line 1, column 2: \"width, cm\" is not a number"), "{e}");

    // Numeric labels: floats by default, class ids when asked.
    let n = write(&d, "num.csv", b"a,b,y\n1,2,0.5\n3,4,2\n");
    let (_, y) = CsvDataset::builder(&n).build().unwrap().get_batch(&[0, 1]).unwrap();
    assert_eq!((y.dims(), y.to_vec::<f32>().unwrap()), (&[2usize, 1][..], vec![0.5, 2.0]));
    let c = write(&d, "cls.csv", b"a,b,y\n1,2,0\n3,4,2\n");
    let ds = CsvDataset::builder(&c).label_kind(LabelKind::Class).build().unwrap();
    assert_eq!(ds.class_names().unwrap(), ["0", "1", "2"]);
    assert_eq!(ds.get_batch(&[0, 1]).unwrap().1.to_vec::<u32>().unwrap(), [0, 2]);
    // "0.5" is no class id, so Class falls back to sorted strings.
    let ds = CsvDataset::builder(&n).label_kind(LabelKind::Class).build().unwrap();
    assert_eq!(ds.class_names().unwrap(), ["0.5", "2"]);
    // Integers too large to be class ids are names too.
    let big = write(&d, "big.csv", b"a,zip\n1,70000\n2,5\n");
    let ds = CsvDataset::builder(&big).label_kind(LabelKind::Class).build().unwrap();
    assert_eq!(ds.class_names().unwrap(), ["5", "70000"]);
    assert_eq!(ds.get_batch(&[0, 1]).unwrap().1.to_vec::<u32>().unwrap(), [1, 0]);
    let e = CsvDataset::builder(&p).label_kind(LabelKind::Float).feature_columns(&[1]).build().unwrap_err();
    assert!(e.to_string().contains("line 2, column \"species\" (the label): \"setosa\" is not a number"), "{e}");
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn csv_missing_values_and_bad_options() {
    let d = tmp("csv_missing");
    let p = write(&d, "m.csv", b"temp,humidity,label\n1,2,a\n3,,b\n5,NA,a\n");
    let e = CsvDataset::builder(&p).build().unwrap_err().to_string();
    assert!(e.contains("m.csv") && e.contains("line 3") && e.contains("column \"humidity\""), "{e}");
    assert!(e.contains("fill_missing"), "{e}");
    let ds = CsvDataset::builder(&p).fill_missing(-1.0).build().unwrap();
    assert_eq!(ds.get_batch(&[0, 1, 2]).unwrap().0.to_vec::<f32>().unwrap(), [1., 2., 3., -1., 5., -1.]);
    let l = write(&d, "l.csv", b"x,label\n1,a\n2,\n");
    let e = CsvDataset::builder(&l).fill_missing(0.0).build().unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("the label"), "{e}");

    let e = CsvDataset::builder(&p).label_column("nope").build().unwrap_err().to_string();
    assert!(e.contains("no column \"nope\"") && e.contains("humidity"), "{e}");
    let e = CsvDataset::builder(&p).label_column(7).build().unwrap_err().to_string();
    assert!(e.contains("index 7 out of range"), "{e}");
    let e = CsvDataset::builder(&p).feature_columns(&["temp", "label"]).build().unwrap_err().to_string();
    assert!(e.contains("both a feature and the label"), "{e}");
    let r = write(&d, "r.csv", b"a,b\n1,2\n3\n");
    let e = CsvDataset::builder(&r).build().unwrap_err().to_string();
    assert!(e.contains("line 3 has 1 fields, expected 2"), "{e}");
    let t = write(&d, "t.tsv", b"a\tb\n1\t0\n");
    assert_eq!(CsvDataset::builder(&t).delimiter(b'\t').build().unwrap().feature_names(), ["a"]);
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn text_lines_crlf_last_line_and_utf8() {
    let d = tmp("text");
    let p = write(&d, "t.txt", b"pos\tgood film\r\nneg\tbad\r\n\nneg\t\xff\xfe\npos\tfin");
    let t = TextLineDataset::open(&p).unwrap();
    assert_eq!(t.len(), 5);
    assert_eq!(t.line(0).unwrap(), "pos\tgood film");
    assert_eq!(t.line(1).unwrap(), "neg\tbad");
    assert_eq!(t.line(2).unwrap(), "");
    assert_eq!(t.line(4).unwrap(), "pos\tfin");
    let e = t.line(3).unwrap_err().to_string();
    assert!(e.contains("t.txt") && e.contains("line 4 is not UTF-8"), "{e}");
    assert!(t.line(5).is_err());
    // A trailing newline does not make an empty last line; an empty file has no lines.
    assert_eq!(TextLineDataset::open(write(&d, "n.txt", b"a\nb\n")).unwrap().len(), 2);
    assert_eq!(TextLineDataset::open(write(&d, "e.txt", b"")).unwrap().len(), 0);
    assert!(TextLineDataset::open(d.join("missing.txt")).unwrap_err().to_string().contains("missing.txt"));

    // Lines into samples: the label prefix and the first 4 bytes as ids.
    let p = write(&d, "s.txt", b"1 abcd\n0 xy\n");
    let ds = TextLineDataset::open(&p).unwrap().map(|line: &str| {
        let (label, text) = line.split_once(' ').ok_or_else(|| Error::msg("no label"))?;
        let label: u32 = label.parse().map_err(|_| Error::msg(format!("bad label {label:?}")))?;
        let mut ids: Vec<u32> = text.bytes().map(u32::from).take(4).collect();
        ids.resize(4, 0);
        Ok((Tensor::from_vec(ids, &[4], &Device::Cpu)?, Tensor::from_vec(vec![label], &[], &Device::Cpu)?))
    });
    let (x, y) = DataLoader::new(ds, 2).workers(1).iter().unwrap().next().unwrap().unwrap();
    assert_eq!(x.to_vec::<u32>().unwrap(), [97, 98, 99, 100, 120, 121, 0, 0]);
    assert_eq!(y.to_vec::<u32>().unwrap(), [1, 0]);
    let bad = TextLineDataset::open(write(&d, "b.txt", b"1 ok\nnolabel\n")).unwrap().map(|l: &str| {
        l.split_once(' ').ok_or_else(|| Error::msg("no label"))?;
        Ok((Tensor::zeros(&[1], &Device::Cpu)?, Tensor::zeros(&[1], &Device::Cpu)?))
    });
    let e = bad.get(1).unwrap_err().to_string();
    assert!(e.contains("b.txt line 2") && e.contains("no label"), "{e}");
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn image_folder_trains_a_classifier_to_full_accuracy() {
    manual_seed(3);
    let d = tmp("train");
    for k in 0..6 {
        // Two classes of noisy solid colours: reddish and bluish.
        let j = (k * 17) as u8;
        solid(&d.join(format!("blue/{k}.png")), 10, 10, [20 + j, 30, 200 - j]);
        solid(&d.join(format!("red/{k}.png")), 10, 10, [210 - j, 40 + j, 30]);
    }
    let ds = ImageFolder::new(&d).image_size(4, 4).build().unwrap();
    let loader = DataLoader::new(ds, 4).shuffle(true).workers(2);
    let mut m = Model::new(sequential![Rescaling::new(1.0 / 255.0), Flatten, Dense::new(48, 2)]);
    m.compile_with_metrics(Adam::new(0.05), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    for _ in 0..15 {
        for b in loader.iter().unwrap() {
            let (x, y) = b.unwrap();
            m.train_on_batch(&x, &y).unwrap();
        }
    }
    let (x, y) = loader.dataset().get_batch(&(0..12).collect::<Vec<_>>()).unwrap();
    let s = m.evaluate(&x, &y, 12).unwrap();
    assert_eq!(s.get("accuracy"), Some(1.0), "{s:?}");
    std::fs::remove_dir_all(d).ok();
}
