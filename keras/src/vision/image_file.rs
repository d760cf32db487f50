//! Decoding image files (PNG, JPEG) with the `image` crate into `[3, h, w]` float
//! tensors in [0, 1], as torchvision's `to_tensor` gives them.

use lolcore::{Device, Error, Result, Tensor};
use std::path::Path;

/// Reads a PNG or JPEG file (recognised by content) as RGB: `[3, h, w]`, values in
/// [0, 1]. Grey and RGBA images are converted to RGB (alpha dropped).
pub fn load_image<P: AsRef<Path>>(path: P) -> Result<Tensor> {
    let path = path.as_ref();
    let reader = image::ImageReader::open(path).map_err(|e| Error::io(path, e))?;
    let reader = reader.with_guessed_format().map_err(|e| Error::io(path, e))?;
    if reader.format().is_none() {
        return Err(Error::format(path, "not an image file lol reads (PNG or JPEG)"));
    }
    let img = reader.decode().map_err(|e| Error::format(path, format!("cannot decode the image: {e}")))?;
    let rgb = img.to_rgb8();
    tensor_from_rgb8(rgb.as_raw(), rgb.height() as usize, rgb.width() as usize)
}

/// Interleaved 8-bit RGB pixels (`h·w·3` bytes) as a `[3, h, w]` tensor in [0, 1].
pub fn tensor_from_rgb8(pixels: &[u8], h: usize, w: usize) -> Result<Tensor> {
    if pixels.len() != h * w * 3 {
        return Err(Error::arg(
            "tensor_from_rgb8",
            format!("{} bytes for a {h}×{w} RGB image (needs {})", pixels.len(), h * w * 3),
        ));
    }
    let mut planar = vec![0f32; 3 * h * w];
    for (i, px) in pixels.chunks_exact(3).enumerate() {
        for c in 0..3 {
            planar[c * h * w + i] = px[c] as f32 / 255.0;
        }
    }
    Tensor::from_vec(planar, &[3, h, w], &Device::Cpu)
}
