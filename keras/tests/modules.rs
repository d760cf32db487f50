//! Module behaviour: derive features, naming, train/eval reaching every nested layer,
//! both modes of the layers that have them, device moves, layer error context.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::type_complexity)]
use keras::functional;
use keras::prelude::*;

#[derive(Module)]
struct Block {
    conv: Conv2D,
    norm: BatchNorm2D,
    drop: Dropout,
}

#[derive(Module)]
struct Net {
    stem: Dense,
    blocks: Vec<Block>,
    head: Option<Dense>,
    tail: Option<Dense>,
    pair: [Dense; 2],
    #[module(skip)]
    width: usize,
    #[module(buffer)]
    scale: Tensor,
    #[module(name = "fc")]
    classifier: Dense,
    #[module(training)]
    training: bool,
}

#[derive(Module)]
struct Tuple(Dense, Relu, Dense);

#[derive(Module)]
struct Generic<M> {
    inner: M,
    extra: Dense,
}

fn block() -> Block {
    Block { conv: Conv2D::new(2, 2, 3).padding(1), norm: BatchNorm2D::new(2), drop: Dropout::new(0.5) }
}

fn net() -> Net {
    Net {
        stem: Dense::new(2, 2),
        blocks: vec![block(), block()],
        head: Some(Dense::new(2, 1)),
        tail: None,
        pair: [Dense::new(1, 1), Dense::new(1, 1)],
        width: 7,
        scale: Tensor::ones(&[1], &Device::Cpu).unwrap(),
        classifier: Dense::new(2, 3),
        training: true,
    }
}

#[test]
fn derive_names_every_kind_of_field() {
    let n = net();
    let names: Vec<String> = n.state_dict().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "stem.weight",
            "stem.bias",
            "blocks.0.conv.weight",
            "blocks.0.conv.bias",
            "blocks.0.norm.weight",
            "blocks.0.norm.bias",
            "blocks.0.norm.running_mean",
            "blocks.0.norm.running_var",
            "blocks.0.norm.num_batches_tracked",
            "blocks.1.conv.weight",
            "blocks.1.conv.bias",
            "blocks.1.norm.weight",
            "blocks.1.norm.bias",
            "blocks.1.norm.running_mean",
            "blocks.1.norm.running_var",
            "blocks.1.norm.num_batches_tracked",
            "head.weight",
            "head.bias",
            "pair.0.weight",
            "pair.0.bias",
            "pair.1.weight",
            "pair.1.bias",
            "scale",
            "fc.weight",
            "fc.bias",
        ]
    );
    let buffers: Vec<String> = n.named_buffers().into_iter().map(|(k, _)| k).collect();
    assert!(buffers.contains(&"scale".to_string()) && buffers.len() == 7);
    assert_eq!(n.width, 7);
    let t = Tuple(Dense::new(1, 2), Relu, Dense::new(2, 1));
    let names: Vec<String> = t.named_parameters().into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    let g = Generic { inner: sequential![Dense::new(1, 1)], extra: Dense::new(1, 1) };
    let names: Vec<String> = g.named_parameters().into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["inner.0.weight", "inner.0.bias", "extra.weight", "extra.bias"]);
}

#[test]
fn train_and_eval_reach_every_nested_layer() {
    let mut n = net();
    n.eval();
    assert_eq!(n.is_training(), Some(false));
    assert!(n.blocks.iter().all(|b| b.drop.is_training() == Some(false) && b.norm.is_training() == Some(false)));
    n.train();
    assert!(n.blocks.iter().all(|b| b.drop.is_training() == Some(true) && b.norm.is_training() == Some(true)));
    let mut seq = sequential![sequential![Dropout::new(0.5)], Dense::new(4, 4)];
    seq.eval();
    let x = Tensor::ones(&[8, 4], &Device::Cpu).unwrap();
    let inner = sequential![Dropout::new(0.5)];
    // Eval: dropout is the identity, so the nested sequential passes x through.
    let mut inner_eval = inner;
    inner_eval.eval();
    assert_eq!(inner_eval.forward(&x).unwrap().to_vec::<f32>().unwrap(), x.to_vec::<f32>().unwrap());
    inner_eval.train();
    let y = inner_eval.forward(&Tensor::ones(&[1000], &Device::Cpu).unwrap()).unwrap().to_vec::<f32>().unwrap();
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    assert!((400..600).contains(&zeros), "{zeros} of 1000 dropped");
    assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
}

#[test]
fn batchnorm_train_updates_running_stats_and_eval_uses_them() {
    manual_seed(3);
    let mut bn = BatchNorm2D::new(2);
    let x = Tensor::randn(&[4, 2, 3, 3], &Device::Cpu).unwrap().affine(2.0, 5.0).unwrap();
    let y = bn.forward(&x).unwrap();
    // Training output is normalised per channel with batch statistics.
    let m = y.mean_dims_keepdim(&[0, 2, 3]).unwrap().to_vec::<f32>().unwrap();
    assert!(m.iter().all(|v| v.abs() < 1e-5));
    let batch_mean = x.mean_dims_keepdim(&[0, 2, 3]).unwrap().flatten_all().unwrap().to_vec::<f32>().unwrap();
    let rm = bn.running_mean.to_vec::<f32>().unwrap();
    for (r, b) in rm.iter().zip(&batch_mean) {
        assert!((r - 0.1 * b).abs() < 1e-5, "running mean {r} vs 0.1·{b}");
    }
    assert_eq!(bn.num_batches_tracked.to_scalar::<i64>().unwrap(), 1);
    bn.eval();
    let ye = bn.forward(&x).unwrap();
    let want = functional::batch_norm(
        &x,
        &bn.running_mean,
        &bn.running_var,
        bn.weight.as_ref(),
        bn.bias.as_ref(),
        false,
        0.1,
        1e-5,
    )
    .unwrap();
    assert_eq!(ye.to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
    assert_eq!(bn.num_batches_tracked.to_scalar::<i64>().unwrap(), 1, "eval must not count batches");
    assert_eq!(bn.running_mean.to_vec::<f32>().unwrap(), rm, "eval must not move running stats");
}

#[test]
fn functional_forms_equal_modules() {
    manual_seed(4);
    let x = Tensor::randn(&[2, 3, 6, 6], &Device::Cpu).unwrap();
    let conv = Conv2D::new(3, 4, 3).stride(2).padding(1);
    let p = Conv2dParams::default().stride(2).padding(1);
    assert_eq!(
        conv.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        functional::conv2d(&x, &conv.weight, conv.bias.as_ref(), p).unwrap().to_vec::<f32>().unwrap()
    );
    let ln = LayerNorm::new(6);
    assert_eq!(
        ln.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        functional::layer_norm(&x, &[6], ln.weight.as_ref(), ln.bias.as_ref(), 1e-5).unwrap().to_vec::<f32>().unwrap()
    );
    let emb = Embedding::new(5, 3);
    let ids = Tensor::from_vec(vec![4u32, 0, 2], &[3], &Device::Cpu).unwrap();
    assert_eq!(
        emb.forward(&ids).unwrap().to_vec::<f32>().unwrap(),
        functional::embedding(&ids, &emb.weight).unwrap().to_vec::<f32>().unwrap()
    );
    let mp = MaxPool2D::new(2).forward(&x).unwrap();
    assert_eq!(
        mp.to_vec::<f32>().unwrap(),
        functional::max_pool2d(&x, Pool2dParams::new(2)).unwrap().to_vec::<f32>().unwrap()
    );
    assert_eq!(GlobalAvgPool2D.forward(&x).unwrap().shape(), &[2, 3]);
    assert_eq!(Flatten.forward(&x).unwrap().shape(), &[2, 108]);
    assert_eq!(AvgPool2D::new(3).forward(&x).unwrap().shape(), &[2, 3, 2, 2]);
    let acts: Vec<Box<dyn Fn(&Tensor) -> Result<Tensor>>> = vec![
        Box::new(|t| Relu.forward(t)),
        Box::new(|t| Sigmoid.forward(t)),
        Box::new(|t| Tanh.forward(t)),
        Box::new(|t| Gelu.forward(t)),
        Box::new(|t| LeakyRelu.forward(t)),
        Box::new(|t| Softmax.forward(t)),
    ];
    let fns: Vec<Box<dyn Fn(&Tensor) -> Result<Tensor>>> = vec![
        Box::new(functional::relu),
        Box::new(functional::sigmoid),
        Box::new(functional::tanh),
        Box::new(functional::gelu),
        Box::new(|t| functional::leaky_relu(t, 0.01)),
        Box::new(|t| functional::softmax(t, -1)),
    ];
    for (a, f) in acts.iter().zip(&fns) {
        assert_eq!(a(&x).unwrap().to_vec::<f32>().unwrap(), f(&x).unwrap().to_vec::<f32>().unwrap());
    }
}

fn double(x: &Tensor) -> Result<Tensor> {
    x.affine(2.0, 0.0)
}

#[test]
fn closures_and_functions_are_layers() {
    let net = sequential![Dense::new(2, 3), |x| x.relu(), double, Dense::new(3, 1)];
    let names: Vec<String> = net.named_parameters().into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["0.weight", "0.bias", "3.weight", "3.bias"]);
    let y = net.forward(&Tensor::ones(&[5, 2], &Device::Cpu).unwrap()).unwrap();
    assert_eq!(y.shape(), &[5, 1]);
}

#[test]
fn shape_errors_name_the_layer() {
    let net = sequential![Dense::new(4, 8), Relu, Dense::new(7, 2)];
    let e = net.forward(&Tensor::zeros(&[3, 4], &Device::Cpu).unwrap()).unwrap_err().to_string();
    assert_eq!(e, "layer 2 (Dense): linear: input [3, 8] has 8 features, weight [2, 7] expects 7");
    let e = net.forward(&Tensor::zeros(&[3, 5], &Device::Cpu).unwrap()).unwrap_err().to_string();
    assert!(e.starts_with("layer 0 (Dense): linear: input [3, 5] has 5 features"), "{e}");
}

#[test]
fn move_to_device_keeps_parameters_trainable() {
    let mut net = sequential![Dense::new(2, 2), BatchNorm1D::new(2)];
    net.move_to(&Device::Cpu).unwrap();
    assert!(net.parameters().iter().all(|p| p.is_leaf_param()));
    assert!(net.named_buffers().iter().all(|(_, b)| !b.tracks_grad()));
    if let Ok(dev) = Device::cuda(0) {
        net.move_to(&dev).unwrap();
        assert!(net.parameters().iter().all(|p| p.device() == dev && p.is_leaf_param()));
    }
}

#[test]
fn initialisers_have_the_right_spread() {
    manual_seed(5);
    let fan_in = 400;
    let w = Init::HeNormal.tensor(&[200, fan_in], fan_in, 200, &Device::Cpu).unwrap();
    let std = w.var(0).unwrap().mean_all().unwrap().to_scalar::<f32>().unwrap().sqrt();
    assert!((std - (2.0f32 / fan_in as f32).sqrt()).abs() < 0.005, "He normal std {std}");
    let g = Init::GlorotUniform.tensor(&[300, 100], 100, 300, &Device::Cpu).unwrap().to_vec::<f32>().unwrap();
    let bound = (6.0f32 / 400.0).sqrt();
    assert!(g.iter().all(|v| v.abs() <= bound) && g.iter().any(|v| v.abs() > 0.9 * bound));
    let d = Dense::new(100, 10);
    assert!(d.weight.to_vec::<f32>().unwrap().iter().all(|v| v.abs() <= 0.1));
    assert_eq!(Init::Constant(0.5).tensor(&[3], 1, 1, &Device::Cpu).unwrap().to_vec::<f32>().unwrap(), vec![0.5; 3]);
}
