//! Seed programs S4, S5, S8, S11, S12: each example's own code, with parameter names
//! and output shapes checked against what PyTorch gives for the same structure
//! (tests/fixtures/module_names.json, made by tests/fixtures/make_module_names.py).
#[path = "../examples/conv_model.rs"]
mod conv_model;
#[path = "../examples/dynamic_graph.rs"]
mod dynamic_graph;
#[path = "../examples/functional_vs_module.rs"]
mod functional_vs_module;
#[path = "../examples/parallel_block.rs"]
mod parallel_block;
#[path = "../examples/two_layer_module.rs"]
mod two_layer_module;

use keras::prelude::*;
use serde_json::Value;

fn fixture(key: &str) -> (Vec<(String, Vec<usize>)>, Vec<usize>) {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/module_names.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let entry = &v[key];
    let names = entry["state_dict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect(),
            )
        })
        .collect();
    let shape = entry["output_shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    (names, shape)
}

fn described<M: Module>(m: &M) -> Vec<(String, Vec<usize>)> {
    m.state_dict().into_iter().map(|(n, t)| (n, t.shape().to_vec())).collect()
}

#[test]
fn s4_two_layer_module_names_and_training() {
    let (model, losses) = two_layer_module::run(200).unwrap();
    let (names, shape) = fixture("s4_two_layer_module");
    assert_eq!(described(&model), names);
    let y = model.forward(&Tensor::zeros(&[64, 1000], &Device::Cpu).unwrap()).unwrap();
    assert_eq!(y.shape(), &shape[..]);
    assert!(losses[losses.len() - 1] < losses[0] * 0.1, "loss {} → {}", losses[0], losses[losses.len() - 1]);
}

#[test]
fn s5_parallel_block_nested_names_and_adam_training() {
    let (names, shape, losses) = parallel_block::run(300).unwrap();
    let (want_names, want_shape) = fixture("s5_parallel_block");
    assert_eq!(names, want_names);
    assert_eq!(shape, want_shape);
    assert!(losses[losses.len() - 1] < losses[0] * 0.5, "loss {} → {}", losses[0], losses[losses.len() - 1]);
}

#[test]
fn s8_functional_equals_module() {
    let (m, f) = functional_vs_module::run().unwrap();
    assert_eq!(m.len(), 8);
    assert_eq!(m, f);
}

#[test]
fn s11_gradients_follow_the_path_that_ran() {
    let reached = dynamic_graph::run(&[1, 3, 10]).unwrap();
    let layers = |r: &Vec<String>| {
        let mut l: Vec<usize> = r.iter().map(|n| n.split('.').nth(1).unwrap().parse().unwrap()).collect();
        l.dedup();
        l
    };
    assert_eq!(layers(&reached[0]), vec![0]);
    assert_eq!(layers(&reached[1]), vec![0, 1, 2]);
    assert_eq!(layers(&reached[2]), (0..10).collect::<Vec<_>>());
    let (names, shape) = fixture("s11_module_list");
    let net = dynamic_graph::ModuleListNet::new();
    assert_eq!(described(&net), names);
    assert_eq!(net.forward(&Tensor::zeros(&[4, 10], &Device::Cpu).unwrap()).unwrap().shape(), &shape[..]);
}

#[test]
fn s12_conv_model_names_and_shapes() {
    let (m, s) = conv_model::run().unwrap();
    let (names, shape) = fixture("s12_conv_module");
    assert_eq!(m.names, names);
    assert_eq!(m.output_shape, shape);
    let (names, shape) = fixture("s12_conv_sequential");
    assert_eq!(s.names, names);
    assert_eq!(s.output_shape, shape);
}

#[test]
fn sequential_and_batchnorm_names_match_pytorch() {
    let mlp = sequential![Dense::new(784, 256), Relu, Dense::new(256, 10)];
    let (names, shape) = fixture("sequential_mlp");
    assert_eq!(described(&mlp), names);
    assert_eq!(mlp.num_parameters(), 784 * 256 + 256 + 256 * 10 + 10);
    assert_eq!(mlp.forward(&Tensor::zeros(&[2, 784], &Device::Cpu).unwrap()).unwrap().shape(), &shape[..]);
    let bn = sequential![
        Conv2D::new(3, 8, 3).padding(1),
        BatchNorm2D::new(8),
        Relu,
        Flatten,
        Dense::new(8 * 8 * 8, 4),
        BatchNorm1D::new(4)
    ];
    let (names, shape) = fixture("batchnorm_net");
    assert_eq!(described(&bn), names);
    assert_eq!(bn.forward(&Tensor::randn(&[2, 3, 8, 8], &Device::Cpu).unwrap()).unwrap().shape(), &shape[..]);
    let buffers: Vec<String> = bn.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        [
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked",
            "5.running_mean",
            "5.running_var",
            "5.num_batches_tracked"
        ]
    );
}
