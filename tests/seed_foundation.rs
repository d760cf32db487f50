//! Seed programs S1, S2, S10 and S13: each example's own code, checked.
#[path = "../examples/forward_mode.rs"]
mod forward_mode;
#[path = "../examples/graph_grad.rs"]
mod graph_grad;
#[path = "../examples/matmul_const.rs"]
mod matmul_const;
#[path = "../examples/two_layer_manual.rs"]
mod two_layer_manual;

use lolcore::Device;

#[test]
fn s1_graph_grad_cpu() {
    let g = graph_grad::run(&Device::Cpu).unwrap();
    assert_eq!(g.grad_x, g.y);
    assert_eq!(g.grad_y, g.x);
    assert!(g.grad_z.iter().all(|&v| v == 1.0) && g.grad_z.len() == 12);
}

#[test]
fn s1_graph_grad_cuda() {
    let Ok(dev) = Device::cuda(0) else {
        println!("skipped: no CUDA device ({})", Device::cuda(0).unwrap_err());
        return;
    };
    let g = graph_grad::run(&dev).unwrap();
    assert_eq!(g.grad_x, g.y);
    assert_eq!(g.grad_y, g.x);
    assert!(g.grad_z.iter().all(|&v| v == 1.0));
}

#[test]
fn s2_two_layer_manual_loss_falls_by_orders_of_magnitude() {
    let losses = two_layer_manual::run(&Device::Cpu, 500).unwrap();
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(first > 1e5, "initial loss {first}");
    assert!(last < first * 1e-4, "loss went from {first} to {last}");
}

#[test]
fn s10_forward_mode_agrees_with_reverse_and_closed_form() {
    let r = forward_mode::run().unwrap();
    assert!((r.dsin_forward - r.cos_a).abs() < 1e-12);
    let value = 2f64.ln() + 10.0 - 5f64.sin();
    assert!((r.value - value).abs() < 1e-12);
    let closed = [0.5 + 5.0, 2.0 - 5f64.cos()];
    for ((f, b), c) in r.forward.iter().zip(&r.reverse).zip(&closed) {
        assert!((f - c).abs() < 1e-12 && (b - c).abs() < 1e-12);
    }
}

#[test]
fn s13_matmul_const() {
    assert_eq!(matmul_const::run().unwrap(), vec![vec![12f32]]);
}

#[path = "../examples/device_roundtrip.rs"]
mod device_roundtrip;

#[test]
fn s14_device_roundtrip() {
    match device_roundtrip::run().unwrap() {
        Ok((gpu, cpu)) => {
            assert_eq!(gpu, vec![2., 3., 4., 5., 6., 7.]);
            assert_eq!(cpu, vec![2., 3., 4., 5., 6., 7.]);
        }
        Err(why) => {
            // No GPU: a clear reason, not a panic.
            assert!(why.starts_with("cuda: cuda:0: "), "{why}");
            println!("skipped: {why}");
        }
    }
}
