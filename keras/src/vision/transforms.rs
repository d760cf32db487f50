//! torchvision's classification transforms on `[c, h, w]` float tensors:
//! `Resize(size)` (shorter side to `size`, antialiased bilinear, as PIL and
//! torchvision's `antialias=True` compute it), `CenterCrop(size)` and
//! `Normalize(mean, std)`.

use lolcore::{Device, Error, Result, Tensor};

/// ImageNet's channel means and standard deviations, as torchvision's weights use.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

fn chw(x: &Tensor, op: &'static str) -> Result<(usize, usize, usize)> {
    match x.shape() {
        [c, h, w] if *h > 0 && *w > 0 => Ok((*c, *h, *w)),
        s => Err(Error::arg(op, format!("image of shape {s:?}: expected [channels, height, width]"))),
    }
}

/// For each output index: the first input index and the normalised weights of
/// PIL's antialiased triangle filter (support widened by the downscale factor).
fn filter_weights(input: usize, output: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f64 / output as f64;
    let filterscale = scale.max(1.0);
    let support = filterscale; // the bilinear (triangle) filter has support 1
    (0..output)
        .map(|i| {
            let center = (i as f64 + 0.5) * scale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(input as i64) as usize;
            let mut w: Vec<f64> =
                (xmin..xmax).map(|x| (1.0 - ((x as f64 - center + 0.5) / filterscale).abs()).max(0.0)).collect();
            let total: f64 = w.iter().sum();
            if total > 0.0 {
                w.iter_mut().for_each(|v| *v /= total);
            }
            (xmin, w.into_iter().map(|v| v as f32).collect())
        })
        .collect()
}

/// Resizes `[c, h, w]` so that its shorter side is `size` (the longer one scaled and
/// truncated, as torchvision's `Resize(size)`), antialiased bilinear.
pub fn resize(x: &Tensor, size: usize) -> Result<Tensor> {
    let (_, h, w) = chw(x, "resize")?;
    if size == 0 {
        return Err(Error::arg("resize", "size must be positive"));
    }
    let (oh, ow) = if w <= h {
        ((size as f64 * h as f64 / w as f64) as usize, size)
    } else {
        (size, (size as f64 * w as f64 / h as f64) as usize)
    };
    resize_to(x, oh.max(1), ow.max(1))
}

/// Resizes `[c, h, w]` to exactly `[c, oh, ow]`, antialiased bilinear.
pub fn resize_to(x: &Tensor, oh: usize, ow: usize) -> Result<Tensor> {
    let (c, h, w) = chw(x, "resize")?;
    let src = x.contiguous()?.to_vec::<f32>()?;
    let (wy, wx) = (filter_weights(h, oh), filter_weights(w, ow));
    // Horizontal pass, then vertical, as PIL does.
    let mut tmp = vec![0f32; c * h * ow];
    for ch in 0..c {
        for y in 0..h {
            let row = &src[(ch * h + y) * w..(ch * h + y + 1) * w];
            for (ox, (x0, ws)) in wx.iter().enumerate() {
                tmp[(ch * h + y) * ow + ox] = ws.iter().enumerate().map(|(k, wt)| wt * row[x0 + k]).sum();
            }
        }
    }
    let mut out = vec![0f32; c * oh * ow];
    for ch in 0..c {
        for (oy, (y0, ws)) in wy.iter().enumerate() {
            for ox in 0..ow {
                out[(ch * oh + oy) * ow + ox] =
                    ws.iter().enumerate().map(|(k, wt)| wt * tmp[(ch * h + y0 + k) * ow + ox]).sum();
            }
        }
    }
    Tensor::from_vec(out, &[c, oh, ow], &Device::Cpu)
}

/// Python's `round` (halves to even), which torchvision's crop offsets use.
fn round_half_even(v: f64) -> i64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - v.signum()) as i64
    } else {
        r as i64
    }
}

/// The central `size`×`size` window of `[c, h, w]` (torchvision's `CenterCrop`).
pub fn center_crop(x: &Tensor, size: usize) -> Result<Tensor> {
    let (_, h, w) = chw(x, "center_crop")?;
    if size > h || size > w {
        return Err(Error::arg("center_crop", format!("crop of {size}×{size} from an image of {h}×{w}: resize first")));
    }
    let top = round_half_even((h - size) as f64 / 2.0) as usize;
    let left = round_half_even((w - size) as f64 / 2.0) as usize;
    x.narrow(1, top, size)?.narrow(2, left, size)?.contiguous()
}

/// `(x - mean[c]) / std[c]` per channel.
pub fn normalize(x: &Tensor, mean: &[f32], std: &[f32]) -> Result<Tensor> {
    let (c, _, _) = chw(x, "normalize")?;
    if mean.len() != c || std.len() != c || std.contains(&0.0) {
        return Err(Error::arg("normalize", format!("{c} channels with mean {mean:?} and std {std:?}")));
    }
    let m = Tensor::from_vec(mean.to_vec(), &[c, 1, 1], &x.device())?;
    let s = Tensor::from_vec(std.to_vec(), &[c, 1, 1], &x.device())?;
    x.sub(&m)?.div(&s)
}

/// A classifier's preprocessing: resize the shorter side, crop the center,
/// normalise; `[3, h, w]` in [0, 1] → `[1, 3, crop, crop]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageTransform {
    pub resize: usize,
    pub crop: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl ImageTransform {
    /// torchvision's ImageNet evaluation transform: `Resize(256)`, `CenterCrop(224)`,
    /// `Normalize(IMAGENET_MEAN, IMAGENET_STD)`.
    pub fn imagenet() -> Self {
        ImageTransform { resize: 256, crop: 224, mean: IMAGENET_MEAN.to_vec(), std: IMAGENET_STD.to_vec() }
    }
    /// The same steps at other sizes.
    pub fn new(resize: usize, crop: usize) -> Self {
        ImageTransform { resize, crop, ..Self::imagenet() }
    }
    /// Applies the steps and adds a batch dimension.
    pub fn apply(&self, image: &Tensor) -> Result<Tensor> {
        let x = center_crop(&resize(image, self.resize)?, self.crop)?;
        normalize(&x, &self.mean, &self.std)?.unsqueeze(0)
    }
}
