//! The step-3 examples on the small fixtures: the answers torch gives, and clear
//! errors (never a panic) for missing or mismatched files.
#![allow(clippy::duplicate_mod)]
#[path = "../examples/classify_image.rs"]
mod classify_image;
#[path = "../examples/gpt2_generate.rs"]
mod gpt2_generate;

use keras::lolcore::checkpoint::Checkpoint;

fn path(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn classify_image_ranks_as_torchvision_does() {
    let top = classify_image::run(&args(&[
        &path("tests/fixtures/zoo/resnet18_tiny.safetensors"),
        &path("tests/fixtures/vision/photo.png"),
        "--arch",
        "resnet",
        "--config",
        &path("tests/fixtures/zoo/resnet18_tiny.json"),
        "--resize",
        "36",
        "--crop",
        "32",
    ]))
    .unwrap();
    let logits = Checkpoint::open(path("tests/fixtures/vision/vision.io.safetensors"))
        .unwrap()
        .tensor("resnet_logits")
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mut order: Vec<usize> = (0..10).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    let want: Vec<String> = order[..5].iter().map(|i| format!("class {i}")).collect();
    let got: Vec<String> = top.iter().map(|(l, _)| l.clone()).collect();
    assert_eq!(got, want);
    let z: f32 = logits.iter().map(|l| l.exp()).sum();
    assert!((top[0].1 - logits[order[0]].exp() / z).abs() < 1e-5);
}

#[test]
fn classify_image_explains_bad_input() {
    let weights = path("tests/fixtures/zoo/resnet18_tiny.safetensors");
    let image = path("tests/fixtures/vision/photo.png");
    // The tiny weights into a full-size ResNet-18: a strict report, not a panic.
    let err = classify_image::run(&args(&[&weights, &image, "--arch", "resnet18"])).unwrap_err().to_string();
    assert!(err.contains("do not match the model") && err.contains("shape mismatch"), "{err}");
    let err = classify_image::run(&args(&["no_such.pt", &image])).unwrap_err().to_string();
    assert!(err.contains("no_such.pt"), "{err}");
    let err = classify_image::run(&args(&[
        &weights,
        "no_such.png",
        "--arch",
        "resnet",
        "--config",
        &path("tests/fixtures/zoo/resnet18_tiny.json"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(err.contains("no_such.png"), "{err}");
    let err = classify_image::run(&args(&[&weights])).unwrap_err().to_string();
    assert!(err.contains("usage"), "{err}");
}

#[test]
fn gpt2_generate_continues_as_transformers_does() {
    let io = Checkpoint::open(path("tests/fixtures/zoo/gpt2_tiny.io.safetensors")).unwrap();
    let prompt = io.tensor("prompt_ids").unwrap().to_vec::<i64>().unwrap();
    let want: Vec<u32> = io.tensor("step_ids").unwrap().to_vec::<i64>().unwrap().iter().map(|&v| v as u32).collect();
    let ids = prompt.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ");
    let g = gpt2_generate::run(&args(&[&path("tests/fixtures/zoo/gpt2_tiny"), "--ids", &ids, "--max-new-tokens", "8"]))
        .unwrap();
    assert_eq!(g.tokens, want);
    let sampled = args(&[&path("tests/fixtures/zoo/gpt2_tiny"), "--ids", &ids, "--top-p", "0.9", "--seed", "7"]);
    assert_eq!(gpt2_generate::run(&sampled).unwrap().tokens, gpt2_generate::run(&sampled).unwrap().tokens);
}

#[test]
fn gpt2_generate_explains_bad_input() {
    let dir = path("tests/fixtures/zoo/gpt2_tiny");
    let err = gpt2_generate::run(&args(&["/nonexistent/gpt2", "--ids", "1 2"])).err().unwrap().to_string();
    assert!(err.contains("config.json"), "{err}");
    let err = gpt2_generate::run(&args(&[&dir, "--ids", "1 2 500"])).err().unwrap().to_string();
    assert!(err.contains("token id 500"), "{err}");
    let err = gpt2_generate::run(&args(&[&dir, "--ids", "1 x"])).err().unwrap().to_string();
    assert!(err.contains("\"x\""), "{err}");
    // A BERT directory is not a GPT-2 one: the strict report says what is missing.
    let err =
        gpt2_generate::run(&args(&[&path("tests/fixtures/zoo/bert_tiny"), "--ids", "1"])).err().unwrap().to_string();
    assert!(err.contains("missing"), "{err}");
}
