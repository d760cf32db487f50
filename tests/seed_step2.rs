//! The step-2 examples, each trained briefly: the figures they must reach.
#![allow(clippy::duplicate_mod)]
#[path = "../examples/char_lstm.rs"]
mod char_lstm;
#[path = "../examples/custom_function.rs"]
mod custom_function;
#[path = "../examples/dcgan_mnist.rs"]
mod dcgan_mnist;
#[path = "../examples/sine_lstm.rs"]
mod sine_lstm;
#[path = "../examples/text_conv1d.rs"]
mod text_conv1d;
#[path = "../examples/transformer_classifier.rs"]
mod transformer_classifier;
#[path = "../examples/vae_mnist.rs"]
mod vae_mnist;

use keras::Verbosity::Silent;

#[test]
fn sine_lstm_forecasts_near_the_noise_floor() {
    let (h, mse) = sine_lstm::run(20, Silent).unwrap();
    eprintln!("sine_lstm: loss {:.4} → {:.4}, held-out MSE {mse:.5}", h.loss()[0], h.loss()[19]);
    assert!(mse < 0.01, "held-out MSE {mse}");
}

#[test]
fn text_conv1d_finds_the_phrase() {
    let (h, acc) = text_conv1d::run(8, Silent).unwrap();
    eprintln!("text_conv1d: loss {:.3} → {:.3}, test accuracy {acc:.3}", h.loss()[0], h.loss()[7]);
    assert!(acc > 0.95, "test accuracy {acc}");
}

#[test]
fn transformer_classifier_counts_through_the_padding() {
    let (h, acc) = transformer_classifier::run(15, Silent).unwrap();
    eprintln!("transformer_classifier: loss {:.3} → {:.3}, test accuracy {acc:.3}", h.loss()[0], h.loss()[14]);
    assert!(acc > 0.9, "test accuracy {acc}");
}

#[test]
fn custom_function_trains_a_binary_network() {
    let (h, acc) = custom_function::run(30, Silent).unwrap();
    eprintln!("custom_function: loss {:.3} → {:.3}, test accuracy {acc:.3}", h.loss()[0], h.loss()[29]);
    assert!(acc > 0.85, "test accuracy {acc}");
}

#[test]
fn vae_losses_fall_and_samples_are_written() {
    let png = std::env::temp_dir().join(format!("lol_vae_{}.png", std::process::id()));
    let h = vae_mnist::run(4, 4096, Some(&png)).unwrap();
    eprintln!("vae_mnist: (reconstruction, KL) per epoch {h:?}");
    let total = |(r, k): (f64, f64)| r + k;
    assert!(total(h[3]) < 0.75 * total(h[0]), "{h:?}");
    assert!(h[3].0 < 190.0, "reconstruction {h:?}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    std::fs::remove_file(png).ok();
}

#[test]
fn dcgan_trains_both_players_and_writes_samples() {
    let png = std::env::temp_dir().join(format!("lol_dcgan_{}.png", std::process::id()));
    let log = dcgan_mnist::run(150, Some(&png)).unwrap();
    let last = &log[log.len() - 20..];
    let mean = |f: fn(&dcgan_mnist::Step) -> f64| last.iter().map(f).sum::<f64>() / last.len() as f64;
    let (d_real, d_fake) = (mean(|s| s.d_real), mean(|s| s.d_fake));
    eprintln!("dcgan_mnist: last 20 steps D(real) {d_real:.2}, D(fake) {d_fake:.2}, G loss {:.2}", mean(|s| s.g_loss));
    assert!(log.iter().all(|s| s.d_loss.is_finite() && s.g_loss.is_finite()));
    // Neither player has won outright: the discriminator separates, but not perfectly.
    assert!(d_real > d_fake && d_fake > 0.02 && d_real < 0.98, "D(real) {d_real}, D(fake) {d_fake}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    std::fs::remove_file(png).ok();
}

#[test]
fn char_lstm_learns_the_text_and_samples() {
    let r = char_lstm::run(200, 128, 200).unwrap();
    eprintln!(
        "char_lstm: training loss {:.3} → {:.3} nats/char, held-out {:.3}; sample: {:?}",
        r.train[0],
        r.train[r.train.len() - 1],
        r.held_out,
        r.sample
    );
    // ln(65) ≈ 4.17 nats for a uniform guess over the characters.
    assert!(r.held_out < 2.3, "held-out {} nats/char", r.held_out);
    assert_eq!(r.sample.chars().count(), 200);
    assert!(r.sample.contains(' ') && r.sample.contains('e'), "{:?}", r.sample);
}
