//! `load_weights` with every format a user has, recognised by content; `LoadOptions`
//! remapping on all of them; and the strict report naming every problem with a fix.

use keras::lolcore::checkpoint::Checkpoint;
use keras::lolcore::safetensors::{save, LoadOptions, Remap};
use keras::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checkpoints").join(name)
}

/// The structure the fixture script trained: `Sequential(linear=Linear(4, 3), norm=BatchNorm1d(3))`.
#[derive(Module)]
struct Net {
    linear: Dense,
    norm: BatchNorm1D,
}

impl Forward for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.norm.forward(&self.linear.forward(x)?)
    }
}

fn net() -> Model<Net> {
    Model::new(Net { linear: Dense::new(4, 3), norm: BatchNorm1D::new(3) })
}

#[test]
fn a_training_checkpoint_loads_its_model_state_in_both_torch_formats() {
    for f in ["nested_zip.pt", "nested_legacy.pt"] {
        let mut m = net();
        let report = m.load_weights_with(fixture(f), &LoadOptions::strict().within("model_state")).unwrap();
        assert_eq!(report.loaded.len(), 7, "{f}: {report:?}");
        let ck = Checkpoint::open(fixture(f)).unwrap();
        let want = ck.tensor("model_state.linear.weight").unwrap().to_vec::<f32>().unwrap();
        assert_eq!(m.module().linear.weight.to_vec::<f32>().unwrap(), want, "{f}");
        let rv = ck.tensor("model_state.norm.running_var").unwrap().to_vec::<f32>().unwrap();
        assert_eq!(m.module().norm.running_var.to_vec::<f32>().unwrap(), rv, "{f}");
    }
}

#[test]
fn the_strict_report_lists_everything_and_suggests_the_remap() {
    let mut m = net();
    let err = m.load_weights(fixture("nested_zip.pt")).unwrap_err().to_string();
    assert!(err.contains("torch.save (zip)"), "{err}");
    assert!(err.contains("missing (in the model, not in the file): linear.weight [3, 4]"), "{err}");
    assert!(err.contains("optimizer_state.state.0.exp_avg"), "{err}");
    assert!(err.contains("LoadOptions::strict().within(\"model_state\")"), "{err}");

    // DataParallel's `module.` prefix and Keras's gamma/beta, in one file.
    let dir = std::env::temp_dir().join(format!("lol_pretrained_load_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dp.safetensors");
    let src = net();
    let renamed: Vec<(String, Tensor)> = src
        .module()
        .state_dict()
        .into_iter()
        .map(|(n, t)| {
            (format!("module.{}", n.replace("norm.weight", "norm.gamma").replace("norm.bias", "norm.beta")), t)
        })
        .collect();
    save(&path, &renamed, &[]).unwrap();
    let err = net().load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("Remap::StripPrefix(\"module.\")"), "{err}");
    // Stripping the prefix leaves gamma/beta, and the report now says so.
    let opts = LoadOptions::strict().remap(Remap::StripPrefix("module.".into()));
    let err = net().load_weights_with(&path, &opts).unwrap_err().to_string();
    assert!(err.contains("Remap::Replace(\"gamma\", \"weight\")"), "{err}");
    let opts =
        opts.remap(Remap::Replace("gamma".into(), "weight".into())).remap(Remap::Replace("beta".into(), "bias".into()));
    net().load_weights_with(&path, &opts).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shape_mismatches_name_the_layout() {
    #[derive(Module)]
    struct Wrong {
        #[module(name = "layers")]
        layers: Vec<Dense>,
    }
    let mut m = Wrong { layers: vec![Dense::new(4, 4), Dense::new(2, 4)] };
    let err = keras::lolcore::safetensors::load_module(
        &mut m,
        fixture("sharded_expected.safetensors"),
        &LoadOptions::strict(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("shape mismatch: layers.1.weight: file [4, 4], model [4, 2]"), "{err}");
    assert!(err.contains("unexpected (in the file, not in the model): embed.weight"), "{err}");
}

/// The sharded fixture's structure.
#[derive(Module)]
struct Sharded {
    embed: Embedding,
    layers: Vec<Dense>,
    head: Dense,
}

impl Forward for Sharded {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let mut h = self.embed.forward(ids)?;
        for l in &self.layers {
            h = l.forward(&h)?.relu()?;
        }
        self.head.forward(&h)
    }
}

#[test]
fn sharded_safetensors_and_bin_indexes_and_directories_load() {
    for f in ["sharded/model.safetensors.index.json", "sharded/pytorch_model.bin.index.json", "sharded"] {
        let mut m = Model::new(Sharded {
            embed: Embedding::new(10, 4),
            layers: vec![Dense::new(4, 4), Dense::new(4, 4)],
            head: Dense::new(4, 2).bias(false),
        });
        m.load_weights(fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let want = Checkpoint::open(fixture("sharded_expected.safetensors")).unwrap().tensor("layers.1.bias").unwrap();
        assert_eq!(
            m.module().layers[1].bias.as_ref().unwrap().to_vec::<f32>().unwrap(),
            want.to_vec::<f32>().unwrap(),
            "{f}"
        );
    }
}

#[test]
fn npz_arrays_load_into_parameters_and_formats_are_found_by_content() {
    #[derive(Module)]
    struct Arrays {
        #[module(name = "f32")]
        a: Tensor,
        fortran: Tensor,
        big_endian: Tensor,
    }
    let mut m = Arrays {
        a: Tensor::zeros(&[2, 3], &Device::Cpu).unwrap(),
        fortran: Tensor::zeros(&[2, 3], &Device::Cpu).unwrap(),
        big_endian: Tensor::zeros(&[4], &Device::Cpu).unwrap(),
    };
    for f in ["arrays.npz", "arrays_compressed.npz"] {
        let r = keras::lolcore::safetensors::load_module(&mut m, fixture(f), &LoadOptions::non_strict()).unwrap();
        assert_eq!(r.loaded.len(), 3, "{f}: {r:?}");
        assert_eq!(m.fortran.to_vec::<f32>().unwrap(), vec![0., 1., 2., 3., 4., 5.], "{f}");
        assert_eq!(m.big_endian.to_vec::<f32>().unwrap(), vec![0., 1., 2., 3.], "{f}");
    }
    // A torch.save file named .safetensors still loads as what it is.
    let dir = std::env::temp_dir().join(format!("lol_by_content_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let misnamed = dir.join("weights.safetensors");
    std::fs::copy(fixture("nested_zip.pt"), &misnamed).unwrap();
    let mut n = net();
    n.load_weights_with(&misnamed, &LoadOptions::strict().within("model_state")).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
