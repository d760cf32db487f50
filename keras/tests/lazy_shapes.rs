//! Lazy input shapes: `Dense::units(64)`, `Conv2D::filters(32, 3)`, ... infer their input
//! size, and once built are the eager layers: same names, shapes, values and outputs.

use keras::prelude::*;
use lolcore::safetensors::save;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lol_lazy_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join("w.safetensors")
}

type State = Vec<(String, Vec<usize>, DType, Vec<f32>)>;

fn state(m: &impl Module) -> State {
    m.state_dict()
        .into_iter()
        .map(|(n, t)| {
            let v = t.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap();
            (n, t.shape().to_vec(), t.dtype(), v)
        })
        .collect()
}

fn batch(sample: &[usize], n: usize, seed: u64) -> Tensor {
    let mut dims = vec![n];
    dims.extend(sample);
    with_generator(&Generator::new(seed), || Tensor::randn(&dims, &Device::Cpu)).unwrap()
}

/// The eager and the lazy model, each made (and the lazy one built) from seed 7, have
/// the same state dict and give the same outputs.
fn same_as_eager<E: Module + Forward, L: Module + Forward>(
    eager: impl FnOnce() -> E,
    lazy: impl FnOnce() -> L,
    sample: &[usize],
) -> Result<()> {
    let mut e = Model::new(with_generator(&Generator::new(7), eager));
    let g = Generator::new(7);
    let mut l = Model::new(with_generator(&g, lazy));
    assert!(!l.is_built());
    assert!(l.module().state_dict().is_empty(), "no tensors before the build");
    with_generator(&g, || l.build(sample).map(|_| ()))?;
    assert!(l.is_built());
    let (se, sl) = (state(e.module()), state(l.module()));
    assert!(!se.is_empty());
    assert_eq!(se, sl, "state dicts differ");
    let x = batch(sample, 3, 1);
    e.module_mut().eval();
    l.module_mut().eval();
    assert_eq!(e.module().forward(&x)?.to_vec::<f32>()?, l.module().forward(&x)?.to_vec::<f32>()?);
    // Building again is a no-op.
    l.build(sample)?;
    assert_eq!(state(l.module()), se);
    Ok(())
}

#[test]
fn dense_matches_eager() -> Result<()> {
    same_as_eager(
        || sequential![Dense::new(6, 8).activation(Activation::Tanh), Dense::new(8, 3).bias(false)],
        || sequential![Dense::units(8).activation(Activation::Tanh), Dense::units(3).bias(false)],
        &[6],
    )
}

#[test]
fn conv2d_and_batch_norm2d_match_eager() -> Result<()> {
    same_as_eager(
        || {
            sequential![
                Conv2D::new(3, 4, 3).padding(1).stride(2).activation(Activation::Relu),
                Conv2D::new(4, 6, (3, 1)).groups(2),
                BatchNorm2D::new(6).momentum(0.3).eps(1e-3)
            ]
        },
        || {
            sequential![
                Conv2D::filters(4, 3).padding(1).stride(2).activation(Activation::Relu),
                Conv2D::filters(6, (3, 1)).groups(2),
                BatchNorm2D::lazy().momentum(0.3).eps(1e-3)
            ]
        },
        &[3, 8, 8],
    )
}

#[test]
fn conv1d_and_batch_norm1d_match_eager() -> Result<()> {
    same_as_eager(
        || {
            sequential![
                Conv1D::new(2, 4, 3).padding(1),
                BatchNorm1D::new(4).affine(false),
                Conv1D::new(4, 4, 3).groups(2).bias(false).dilation(2)
            ]
        },
        || {
            sequential![
                Conv1D::filters(4, 3).padding(1),
                BatchNorm1D::lazy().affine(false),
                Conv1D::filters(4, 3).groups(2).bias(false).dilation(2)
            ]
        },
        &[2, 10],
    )
}

#[test]
fn recurrent_and_layer_norm_match_eager() -> Result<()> {
    same_as_eager(
        || {
            sequential![
                LSTM::new(5, 6).batch_first(true).num_layers(2).bidirectional(true),
                GRU::new(12, 4).batch_first(true),
                LayerNorm::new(4).eps(1e-3)
            ]
        },
        || {
            sequential![
                LSTM::units(6).batch_first(true).num_layers(2).bidirectional(true),
                GRU::units(4).batch_first(true),
                LayerNorm::lazy().eps(1e-3)
            ]
        },
        &[7, 5],
    )
}

#[test]
fn a_derived_struct_with_lazy_fields_names_them_as_eager() -> Result<()> {
    #[derive(Module)]
    struct Net {
        fc: Lazy<Dense>,
        rnn: Lazy<GRU>,
    }
    let net = Net { fc: Dense::units(3), rnn: GRU::units(2) };
    assert!(!net.is_built());
    net.fc.forward(&batch(&[5], 2, 0))?;
    assert!(!net.is_built(), "the GRU is still unbuilt");
    let (out, h) = net.rnn.forward_seq(&batch(&[4, 3], 1, 0), None)?;
    assert_eq!((out.shape(), h.shape()), (&[1, 4, 2][..], &[1, 4, 2][..]));
    assert!(net.is_built());
    let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["fc.weight", "fc.bias", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"]
    );
    assert_eq!(net.fc.get().map(|d| (d.in_features(), d.out_features())), Some((5, 3)));
    Ok(())
}

fn mnist_convnet() -> impl Module + Forward {
    sequential![
        Conv2D::filters(32, 3).activation(Activation::Relu),
        MaxPool2D::new(2),
        Conv2D::filters(64, 3).activation(Activation::Relu),
        MaxPool2D::new(2),
        Flatten,
        Dropout::new(0.5),
        Dense::units(10)
    ]
}

#[test]
fn the_keras_io_mnist_convnet_infers_1600_features() -> Result<()> {
    let mut model = Model::new(mnist_convnet());
    let before = model.summary_string();
    assert!(before.contains("0 (Conv2D)") && before.contains("6 (Dense)"), "{before}");
    assert!(before.contains("unbuilt") && before.contains("not built yet"), "{before}");
    assert!(before.contains("build(&input_shape)"), "{before}");
    assert!(!model.is_built(), "summary builds nothing");

    model.build(&[1, 28, 28])?;
    let shapes: Vec<(String, Vec<usize>)> =
        model.module().named_parameters().into_iter().map(|(n, t)| (n, t.shape().to_vec())).collect();
    assert_eq!(
        shapes,
        [
            ("0.weight".to_string(), vec![32, 1, 3, 3]),
            ("0.bias".to_string(), vec![32]),
            ("2.weight".to_string(), vec![64, 32, 3, 3]),
            ("2.bias".to_string(), vec![64]),
            ("6.weight".to_string(), vec![10, 1600]),
            ("6.bias".to_string(), vec![10]),
        ]
    );
    assert_eq!(model.module().num_parameters(), 34_826, "Keras's count for this model");
    let after = model.summary_string();
    for s in ["(None, 1600)", "(None, 10)", "6 (Dense)", "34,826"] {
        assert!(after.contains(s), "{s} in\n{after}");
    }
    assert!(!after.contains("unbuilt") && !after.contains("not built"), "{after}");
    Ok(())
}

fn small_lazy_net() -> impl Module + Forward {
    sequential![Dense::units(8).activation(Activation::Tanh), BatchNorm1D::lazy(), Dense::units(3)]
}

#[test]
fn an_optimizer_compiled_before_the_build_trains_every_parameter() -> Result<()> {
    let g = Generator::new(3);
    let mut model = Model::new(with_generator(&g, small_lazy_net));
    model.compile(Adam::new(1e-2), Loss::SparseCategoricalCrossentropy);
    with_generator(&g, || model.build(&[5]).map(|_| ()))?;
    let before = state(model.module());
    let x = batch(&[5], 16, 2);
    let y = Tensor::from_vec((0..16u32).map(|i| i % 3).collect(), &[16], &Device::Cpu)?;
    model.train_on_batch(&x, &y)?;
    let after = state(model.module());
    let params: Vec<String> = model.module().named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(params.len(), 6);
    for ((n, _, _, b), (_, _, _, a)) in before.iter().zip(&after) {
        if params.contains(n) {
            assert!(b.iter().zip(a).all(|(b, a)| b != a), "every value of {n} moved");
        }
    }

    // fit builds an unbuilt model by itself, and the optimizer holds every parameter.
    let mut model = Model::new(with_generator(&g, small_lazy_net));
    model.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
    let opts = FitOptions::new(1, 8).verbose(Verbosity::Silent);
    model.fit_with(&x, &y, opts)?;
    assert!(model.is_built());
    let held: usize = model.optimizer_mut().map(|o| o.param_groups().iter().map(|g| g.params.len()).sum()).unwrap_or(0);
    assert_eq!(held, 6);
    Ok(())
}

#[test]
fn predict_and_evaluate_build_an_unbuilt_model() -> Result<()> {
    let mut model = Model::new(small_lazy_net());
    let out = model.predict(&batch(&[5], 4, 0), 2)?;
    assert_eq!(out.shape(), &[4, 3]);
    let mut model = Model::new(small_lazy_net());
    model.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
    let y = Tensor::from_vec(vec![0u32, 1, 2, 0], &[4], &Device::Cpu)?;
    model.evaluate(&batch(&[5], 4, 0), &y, 2)?;
    assert!(model.is_built());
    // The build ran as in eval mode: the running statistics were not touched.
    let rm = model.module().named_buffers();
    assert_eq!(rm[0].0, "1.running_mean");
    assert!(rm[0].1.to_vec::<f32>()?.iter().all(|v| *v == 0.0));
    Ok(())
}

#[test]
fn load_weights_builds_a_lazy_model_from_the_file() -> Result<()> {
    let eager = || {
        sequential![
            Conv2D::new(3, 4, 3).padding(1),
            Conv2D::new(4, 6, 3).groups(2),
            BatchNorm2D::new(6),
            Flatten,
            Dense::new(6 * 4 * 4, 5),
            LayerNorm::new(5)
        ]
    };
    let lazy = || {
        sequential![
            Conv2D::filters(4, 3).padding(1),
            Conv2D::filters(6, 3).groups(2),
            BatchNorm2D::lazy(),
            Flatten,
            Dense::units(5),
            LayerNorm::lazy()
        ]
    };
    let mut e = Model::new(with_generator(&Generator::new(1), eager));
    e.train_on_batch_free_stats()?;
    let path = tmp("conv");
    e.save_weights(&path)?;
    let mut l = Model::new(with_generator(&Generator::new(2), lazy));
    l.load_weights(&path)?;
    assert!(l.is_built());
    assert_eq!(state(e.module()), state(l.module()));
    let x = batch(&[3, 6, 6], 2, 5);
    e.module_mut().eval();
    l.module_mut().eval();
    assert_eq!(e.predict(&x, 2)?.to_vec::<f32>()?, l.predict(&x, 2)?.to_vec::<f32>()?);

    // Recurrent layers read their input size from weight_ih_l0.
    let mut e = Model::new(sequential![
        LSTM::new(3, 5).batch_first(true).bidirectional(true),
        GRU::new(10, 2),
        Dense::new(2, 2)
    ]);
    e.save_weights(&path)?;
    let mut l =
        Model::new(sequential![LSTM::units(5).batch_first(true).bidirectional(true), GRU::units(2), Dense::units(2)]);
    l.load_weights(&path)?;
    assert_eq!(state(e.module()), state(l.module()));
    let x = batch(&[4, 3], 2, 5);
    assert_eq!(e.predict(&x, 2)?.to_vec::<f32>()?, l.predict(&x, 2)?.to_vec::<f32>()?);
    Ok(())
}

/// Moves the running statistics off their initial values so loading them is checked.
trait FreeStats {
    fn train_on_batch_free_stats(&mut self) -> Result<()>;
}
impl<M: Module + Forward> FreeStats for Model<M> {
    fn train_on_batch_free_stats(&mut self) -> Result<()> {
        self.module_mut().train();
        self.module().forward(&batch(&[3, 6, 6], 4, 9))?;
        Ok(())
    }
}

#[test]
fn loading_what_cannot_build_a_layer_says_which_and_what_to_do() -> Result<()> {
    let path = tmp("missing");
    Model::new(sequential![Dense::new(4, 3)]).save_weights(&path)?;
    let mut l = Model::new(sequential![Dense::units(3), Dense::units(2)]);
    let err = l.load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("`1.weight`") && err.contains("Dense") && err.contains("Model::build"), "{err}");

    // A tensor of the wrong rank where the weight should be.
    let path = tmp("rank");
    save(&path, &[("0.weight".to_string(), Tensor::zeros(&[3, 4, 1], &Device::Cpu)?)], &[])?;
    let mut l = Model::new(sequential![Dense::units(3)]);
    let err = l.load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("[3, 4, 1]") && err.contains("not rank 2"), "{err}");

    // Inferred from the file but not matching the lazy layer's own size: the strict
    // load's shape report.
    let path = tmp("units");
    Model::new(sequential![Dense::new(4, 3)]).save_weights(&path)?;
    let mut l = Model::new(sequential![Dense::units(5)]);
    let err = l.load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("0.weight") && err.contains("[5, 4]"), "{err}");
    Ok(())
}

#[test]
fn forward_errors_name_the_layer_and_the_shape() -> Result<()> {
    let conv = sequential![Conv2D::filters(4, 3)];
    let err = conv.forward(&Tensor::zeros(&[2, 5], &Device::Cpu)?).unwrap_err().to_string();
    assert!(err.contains("layer 0 (Conv2D)") && err.contains("[2, 5]"), "{err}");
    let lstm = LSTM::units(4);
    let err = lstm.forward(&Tensor::zeros(&[2, 3, 4, 5], &Device::Cpu)?).unwrap_err().to_string();
    assert!(err.contains("LSTM") && err.contains("[2, 3, 4, 5]"), "{err}");
    assert!(!lstm.is_built(), "a failed build leaves the layer unbuilt");

    // Built for 4 features, a 5-feature input fails as the eager layer's would.
    let lazy = Dense::units(3);
    lazy.forward(&Tensor::zeros(&[2, 4], &Device::Cpu)?)?;
    let x5 = Tensor::zeros(&[2, 5], &Device::Cpu)?;
    let eager_err = Dense::new(4, 3).forward(&x5).unwrap_err().to_string();
    assert_eq!(lazy.forward(&x5).unwrap_err().to_string(), eager_err);

    // build() on a model whose input cannot fit says so.
    let mut m = Model::new(sequential![Flatten, Conv2D::filters(2, 3)]);
    let err = m.build(&[1, 8, 8]).map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("Conv2D") && err.contains("[1, 64]"), "{err}");
    Ok(())
}

#[test]
fn train_eval_and_dtype_set_before_the_build_apply_to_it() -> Result<()> {
    let mut bn = BatchNorm1D::lazy();
    bn.eval();
    bn.cast_to(DType::F64)?;
    assert!(bn.named_parameters().is_empty());
    let built = bn.build(&[2, 3])?;
    assert_eq!(built.is_training(), Some(false));
    assert_eq!(bn.state_dict().iter().map(|(_, t)| t.dtype()).collect::<Vec<_>>()[..2], [DType::F64, DType::F64]);
    assert_eq!(bn.is_training(), Some(false));
    Ok(())
}
