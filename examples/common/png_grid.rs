//! Writes a grid of grayscale images as a PNG (the `png` crate), atomically: a temporary
//! file in the same folder, then a rename, so a crash never leaves half an image.
#![allow(dead_code)]
use keras::prelude::*;
use std::path::Path;

/// `images` `[n, 1, h, w]` (or `[n, h·w]` with `side`) in [0, 1], laid out `cols` across.
pub fn save_grid(images: &Tensor, side: usize, cols: usize, path: &Path) -> Result<()> {
    let n = images.dims()[0];
    let px = images.reshape(&[n, side * side])?.clamp(0.0, 1.0)?.to_vec::<f32>()?;
    let rows = n.div_ceil(cols);
    let (w, h) = (cols * side, rows * side);
    let mut buf = vec![0u8; w * h];
    for (i, img) in px.chunks(side * side).enumerate() {
        let (r0, c0) = ((i / cols) * side, (i % cols) * side);
        for (k, &v) in img.iter().enumerate() {
            buf[(r0 + k / side) * w + c0 + k % side] = (v * 255.0).round() as u8;
        }
    }
    let tmp = path.with_extension("png.tmp");
    let io = |e: std::io::Error| Error::msg(format!("writing {}: {e}", path.display()));
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let png_err = |e: png::EncodingError| Error::msg(format!("writing {}: {e}", path.display()));
    let mut writer = enc.write_header().map_err(png_err)?;
    writer.write_image_data(&buf).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    std::fs::rename(&tmp, path).map_err(io)
}
