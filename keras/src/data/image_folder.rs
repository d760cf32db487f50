//! A folder of images, one subfolder per class, as a `Dataset`: Keras's
//! `keras.utils.image_dataset_from_directory`.
//!
//! ```text
//! flowers/
//!   daisy/   a.jpg b.png ...
//!   roses/   c.jpeg ...
//! ```
//!
//! Only the file list is built up front; each image is decoded and resized when the
//! dataset's `get` asks for it, so folders larger than memory work and a `DataLoader`'s
//! worker threads decode in parallel.

use super::dataset::Dataset;
use crate::vision::{load_image, resize_to};
use lolcore::rng::Generator;
use lolcore::{Device, Error, Result, Tensor};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

const OP: &str = "image_dataset_from_directory";

/// The file extensions read (case-insensitive); other files are skipped.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Which part of a split folder to read (Keras's `subset="training"` / `"validation"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subset {
    /// The first `n - floor(split·n)` files of the shuffled list.
    Training,
    /// The last `floor(split·n)` files of the shuffled list.
    Validation,
}

/// Channels of each sample (Keras's `color_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorMode {
    /// 3 channels, RGB (`"rgb"`, the default). Grey and RGBA files are converted.
    #[default]
    Rgb,
    /// 1 channel: `0.2989 R + 0.5870 G + 0.1140 B`, the weights of TensorFlow's
    /// `rgb_to_grayscale` (`"grayscale"`).
    Grayscale,
}

impl ColorMode {
    /// Channels per sample: 3 or 1.
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Rgb => 3,
            ColorMode::Grayscale => 1,
        }
    }
}

/// How each sample's label is encoded (Keras's `label_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LabelMode {
    /// The class index, u32 of shape `[]` (a batch is `[B]`), what
    /// `SparseCategoricalCrossentropy` wants (`"int"`, the default).
    #[default]
    Int,
    /// One-hot f32 of shape `[classes]`, for `CategoricalCrossentropy` (`"categorical"`).
    Categorical,
    /// 0.0 or 1.0 as f32 of shape `[1]`, for `BinaryCrossentropy`; needs exactly 2
    /// classes (`"binary"`).
    Binary,
}

/// The settings of [`image_dataset_from_directory`]; [`ImageFolder::new`] builds them
/// one at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageFolderOptions {
    /// `(height, width)` every image is resized to; Keras's default is 256×256.
    pub image_size: (usize, usize),
    /// RGB (3 channels, the default) or grayscale (1).
    pub color_mode: ColorMode,
    /// How labels are encoded: class index (the default), one-hot or binary.
    pub label_mode: LabelMode,
    /// Seed of the shuffle of the file list. Without one the files stay in sorted order
    /// (shuffle each epoch with `DataLoader::shuffle`).
    pub seed: Option<u64>,
    /// Fraction in (0, 1) kept for validation; needs `subset` and `seed`.
    pub validation_split: Option<f64>,
    /// Which side of the split to read; needs `validation_split`.
    pub subset: Option<Subset>,
}

impl Default for ImageFolderOptions {
    fn default() -> Self {
        ImageFolderOptions {
            image_size: (256, 256),
            color_mode: ColorMode::Rgb,
            label_mode: LabelMode::Int,
            seed: None,
            validation_split: None,
            subset: None,
        }
    }
}

/// Keras's `image_dataset_from_directory(directory, ...)`: one subfolder of `dir` per
/// class, see [`ImageFolder`].
pub fn image_dataset_from_directory<P: AsRef<Path>>(dir: P, options: ImageFolderOptions) -> Result<ImageFolder> {
    ImageFolder::with_options(dir, options)
}

/// Images in class subfolders as `(image, label)` samples (Keras's
/// `image_dataset_from_directory`).
///
/// Class names are the subfolder names sorted alphabetically (folders whose name starts
/// with `.` are skipped); class `i` is the `i`-th name. Every `.png`, `.jpg` and `.jpeg`
/// file (any case) under a class folder, nested folders included, is a sample; other
/// files are skipped. The list is sorted by path, then shuffled with `seed` if one is
/// given, then split: the training subset is the first `n - floor(split·n)` files, the
/// validation subset the last `floor(split·n)`, as Keras's `dataset_utils` does. The
/// shuffle uses lol's generator, not NumPy's, so the same seed picks other files than in
/// Keras.
///
/// # Shapes
/// - image: f32 `[C, H, W]` with values in [0, 255] as Keras gives them (scale with
///   `Rescaling::new(1.0 / 255.0)`); C is 3 (RGB) or 1 (grayscale). The layout is
///   channels-first, not Keras's `[H, W, C]`, because lol's layers use PyTorch's layouts.
///   Images are resized to `image_size` with an antialiased bilinear filter (PIL's, as
///   `vision::resize_to`): upscaling equals Keras's bilinear, downscaling averages every
///   covered pixel where Keras's `tf.image.resize` (no antialias) samples 4.
/// - label: u32 `[]` ([`LabelMode::Int`]), f32 `[classes]` (`Categorical`), f32 `[1]`
///   (`Binary`).
///
/// A file that cannot be decoded is an error from `get`, naming the file.
///
/// ```no_run
/// use keras::data::{DataLoader, ImageFolder, Subset};
/// let train = ImageFolder::new("flowers").image_size(180, 180).validation_split(0.2)
///     .subset(Subset::Training).seed(1337).build()?;
/// println!("{:?}", train.class_names());
/// let loader = DataLoader::new(train, 32).shuffle(true).workers(4);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ImageFolder {
    dir: PathBuf,
    options: ImageFolderOptions,
    class_names: Vec<String>,
    files: Vec<PathBuf>,
    labels: Vec<u32>,
}

/// Builds an [`ImageFolder`] option by option (`ImageFolder::new(dir)....build()`).
#[derive(Clone, Debug)]
pub struct ImageFolderBuilder {
    dir: PathBuf,
    options: ImageFolderOptions,
}

impl ImageFolderBuilder {
    /// Size every image is resized to (Keras's `image_size=(height, width)`).
    pub fn image_size(mut self, height: usize, width: usize) -> Self {
        self.options.image_size = (height, width);
        self
    }
    /// RGB (default) or grayscale samples (Keras's `color_mode`).
    pub fn color_mode(mut self, mode: ColorMode) -> Self {
        self.options.color_mode = mode;
        self
    }
    /// Int (default), Categorical or Binary labels (Keras's `label_mode`).
    pub fn label_mode(mut self, mode: LabelMode) -> Self {
        self.options.label_mode = mode;
        self
    }
    /// Seed of the file-list shuffle; required with a validation split.
    pub fn seed(mut self, seed: u64) -> Self {
        self.options.seed = Some(seed);
        self
    }
    /// Fraction of the files kept for validation, in (0, 1).
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.options.validation_split = Some(fraction);
        self
    }
    /// Which side of the validation split to read (Keras's `subset`).
    pub fn subset(mut self, subset: Subset) -> Self {
        self.options.subset = Some(subset);
        self
    }
    /// Lists the folder and returns the dataset (images are decoded later, in `get`).
    pub fn build(self) -> Result<ImageFolder> {
        ImageFolder::with_options(self.dir, self.options)
    }
}

impl ImageFolder {
    /// Starts a builder for the folder `dir` with Keras's defaults (256×256, RGB, int
    /// labels, no split).
    #[allow(clippy::new_ret_no_self)]
    pub fn new<P: AsRef<Path>>(dir: P) -> ImageFolderBuilder {
        ImageFolderBuilder { dir: dir.as_ref().to_path_buf(), options: ImageFolderOptions::default() }
    }

    /// Lists `dir` with the given options.
    pub fn with_options<P: AsRef<Path>>(dir: P, options: ImageFolderOptions) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        check_options(&options)?;
        let class_names = class_folders(&dir)?;
        if options.label_mode == LabelMode::Binary && class_names.len() != 2 {
            return Err(Error::arg(
                OP,
                format!(
                    "label_mode Binary needs exactly 2 classes, {} has {}: {class_names:?}",
                    dir.display(),
                    class_names.len()
                ),
            ));
        }
        let mut samples: Vec<(PathBuf, u32)> = Vec::new();
        for (label, name) in class_names.iter().enumerate() {
            let mut files = Vec::new();
            image_files(&dir.join(name), &mut files)?;
            files.sort_by(|a, b| path_order(a, b));
            samples.extend(files.into_iter().map(|f| (f, label as u32)));
        }
        if samples.is_empty() {
            return Err(Error::format(
                &dir,
                format!("{OP}: no images ({}) in the class folders {class_names:?}", IMAGE_EXTENSIONS.join(", ")),
            ));
        }
        if let Some(seed) = options.seed {
            Generator::new(seed).with(|r| r.shuffle(&mut samples));
        }
        if let (Some(split), Some(subset)) = (options.validation_split, options.subset) {
            let n = samples.len();
            let val = (split * n as f64).floor() as usize;
            samples = match subset {
                Subset::Training => samples[..n - val].to_vec(),
                Subset::Validation => samples[n - val..].to_vec(),
            };
            if samples.is_empty() {
                return Err(Error::arg(
                    OP,
                    format!("validation_split {split} of {n} files leaves the {subset:?} subset empty"),
                ));
            }
        }
        let (files, labels) = samples.into_iter().unzip();
        Ok(ImageFolder { dir, options, class_names, files, labels })
    }

    /// Class names in label order: the subfolder names, sorted.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }
    /// Every sample's file, in sample order.
    pub fn file_paths(&self) -> &[PathBuf] {
        &self.files
    }
    /// Every sample's class index, in sample order (without decoding any image).
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }
    /// The folder read.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The options it was built with.
    pub fn options(&self) -> &ImageFolderOptions {
        &self.options
    }

    /// Sample `i`'s image alone: decoded, converted and resized, `[C, H, W]` in [0, 255].
    pub fn image(&self, i: usize) -> Result<Tensor> {
        let path = self.file(i)?;
        let rgb = load_image(path).map_err(|e| e.context(format!("{OP}: sample {i}")))?;
        let x = match self.options.color_mode {
            ColorMode::Rgb => rgb,
            ColorMode::Grayscale => grayscale(&rgb)?,
        };
        let (h, w) = self.options.image_size;
        let same = x.dims()[1..] == [h, w];
        let x = if same { x } else { resize_to(&x, h, w)? };
        x.mul_scalar(255.0)
    }

    /// Sample `i`'s label, encoded as the label mode says.
    pub fn label(&self, i: usize) -> Result<Tensor> {
        self.file(i)?;
        let l = self.labels[i];
        match self.options.label_mode {
            LabelMode::Int => Tensor::from_vec(vec![l], &[], &Device::Cpu),
            LabelMode::Binary => Tensor::from_vec(vec![l as f32], &[1], &Device::Cpu),
            LabelMode::Categorical => {
                let mut v = vec![0f32; self.class_names.len()];
                v[l as usize] = 1.0;
                Tensor::from_vec(v, &[self.class_names.len()], &Device::Cpu)
            }
        }
    }

    fn file(&self, i: usize) -> Result<&Path> {
        self.files
            .get(i)
            .map(PathBuf::as_path)
            .ok_or_else(|| Error::index(OP, format!("sample {i} of {} in {}", self.files.len(), self.dir.display())))
    }
}

impl Dataset for ImageFolder {
    fn len(&self) -> usize {
        self.files.len()
    }
    fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        Ok((self.image(i)?, self.label(i)?))
    }
}

fn check_options(o: &ImageFolderOptions) -> Result<()> {
    let (h, w) = o.image_size;
    if h == 0 || w == 0 {
        return Err(Error::arg(OP, format!("image_size ({h}, {w}) must be positive")));
    }
    match (o.validation_split, o.subset) {
        (None, None) => Ok(()),
        (Some(s), Some(_)) if !(s > 0.0 && s < 1.0) => {
            Err(Error::arg(OP, format!("validation_split must be between 0 and 1, got {s}")))
        }
        (Some(_), Some(_)) if o.seed.is_none() => Err(Error::arg(
            OP,
            "a validation_split needs a seed, so that the training and validation subsets do not overlap",
        )),
        (Some(_), Some(_)) => Ok(()),
        _ => Err(Error::arg(OP, "validation_split and subset go together: set both or neither")),
    }
}

/// The class subfolders of `dir`, sorted; hidden ones skipped.
fn class_folders(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(Error::format(&path, format!("{OP}: a class folder name must be UTF-8")));
        };
        if !name.starts_with('.') {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(Error::format(dir, format!("{OP}: no class subfolders (expected one folder per class)")));
    }
    names.sort();
    Ok(names)
}

/// Every image file under `dir`, recursively.
fn image_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        // Symlinked folders are not followed (Keras's follow_links=False): a link back
        // up the tree would recurse forever.
        if entry.file_type().map_err(|e| Error::io(&path, e))?.is_dir() {
            image_files(&path, out)?;
        } else if is_image(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_image(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    ext.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

/// Keras's walk order: by folder, then by file name within it.
fn path_order(a: &Path, b: &Path) -> Ordering {
    (a.parent(), a.file_name()).cmp(&(b.parent(), b.file_name()))
}

/// `[3, h, w]` RGB → `[1, h, w]` luma with TensorFlow's `rgb_to_grayscale` weights.
fn grayscale(rgb: &Tensor) -> Result<Tensor> {
    let w = Tensor::from_vec(vec![0.2989f32, 0.5870, 0.1140], &[3, 1, 1], &rgb.device())?;
    rgb.mul(&w)?.sum_keepdim(0)
}
