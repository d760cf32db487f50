//! Seed programs S16 and S17: each example's own code, checked.
#![allow(clippy::duplicate_mod)]
#[path = "../examples/pretrained.rs"]
mod pretrained;
#[path = "../examples/save_load.rs"]
mod save_load;

#[test]
fn s16_reloaded_weights_predict_bitwise_equal() {
    let dir = std::env::temp_dir().join(format!("lol_s16_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r = save_load::run(&dir).unwrap();
    assert_eq!(r.trained.len(), 1000);
    assert_eq!(r.trained, r.reloaded, "bitwise-equal logits on the CPU");
    if let Some((gpu, cpu)) = r.from_gpu {
        let d = gpu.iter().zip(&cpu).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(d < 1e-4, "GPU-trained weights on the CPU differ by {d}");
    } else {
        println!("no GPU: the GPU → CPU part was skipped");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn s17_pytorch_weights_give_pytorch_logits() {
    let (diff, acc) = pretrained::run().unwrap();
    assert!(diff <= 1e-4, "max abs diff {diff}");
    assert!(acc > 0.85, "accuracy {acc}");
}
