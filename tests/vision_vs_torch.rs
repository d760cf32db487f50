//! Image decoding and torchvision's classification transforms against PIL and
//! torchvision (tests/fixtures/vision/make_vision_fixtures.py).

use keras::lolcore::checkpoint::Checkpoint;
use keras::prelude::*;
use keras::vision::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vision").join(name)
}

fn io() -> Checkpoint {
    Checkpoint::open(fixture("vision.io.safetensors")).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.shape(), b.shape());
    let (a, b) = (a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn png_grey_and_rgba_decode_as_pil_does() {
    let io = io();
    for (file, key) in [("photo.png", "png_tensor"), ("grey.png", "grey_tensor"), ("rgba.png", "rgba_tensor")] {
        let got = load_image(fixture(file)).unwrap();
        assert!(max_diff(&got, &io.tensor(key).unwrap()) < 1e-6, "{file}");
    }
}

#[test]
fn jpeg_decodes_close_to_libjpeg() {
    // Decoders may differ in IDCT rounding and chroma upsampling; the mean stays tiny.
    let got = load_image(fixture("photo.jpg")).unwrap();
    let want = io().tensor("jpg_tensor").unwrap();
    let (g, w) = (got.to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
    let mean = g.iter().zip(&w).map(|(a, b)| (a - b).abs()).sum::<f32>() / g.len() as f32;
    assert!(mean < 0.01, "mean |zune-jpeg - libjpeg| = {mean}");
}

#[test]
fn files_that_are_not_images_are_errors_naming_the_path() {
    let err = load_image(fixture("not_an_image.png")).unwrap_err().to_string();
    assert!(err.contains("not_an_image.png"), "{err}");
    let err = load_image(fixture("missing.png")).unwrap_err().to_string();
    assert!(err.contains("missing.png"), "{err}");
}

#[test]
fn resize_crop_and_normalize_match_torchvision() {
    let io = io();
    let x = io.tensor("png_tensor").unwrap();
    assert!(max_diff(&resize(&x, 36).unwrap(), &io.tensor("resized").unwrap()) < 1e-5);
    assert!(max_diff(&resize(&x, 60).unwrap(), &io.tensor("resized_up").unwrap()) < 1e-5);
    assert!(max_diff(&resize_to(&x, 17, 29).unwrap(), &io.tensor("resized_exact").unwrap()) < 1e-5);
    let cropped = center_crop(&io.tensor("resized").unwrap(), 32).unwrap();
    assert!(max_diff(&cropped, &io.tensor("cropped").unwrap()) < 1e-6);
    let n = normalize(&cropped, &IMAGENET_MEAN, &IMAGENET_STD).unwrap();
    assert!(max_diff(&n, &io.tensor("normalized").unwrap()) < 1e-5);
    let err = center_crop(&x, 64).unwrap_err().to_string();
    assert!(err.contains("center_crop") && err.contains("40×48"), "{err}");
}
