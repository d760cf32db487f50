//! Every weight format `Checkpoint` reads, against files that PyTorch and NumPy wrote
//! (tests/fixtures/checkpoints/make_checkpoint_fixtures.py): each tensor's name,
//! dtype, shape and bytes equal the same tensors saved as safetensors.

use lolcore::checkpoint::Checkpoint;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/checkpoints").join(name)
}

/// `file` holds exactly the tensors of `expected`, value for value.
fn same_tensors(file: &str, expected: &str, format: &str) {
    let got = Checkpoint::open(fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(got.format(), format, "{file}");
    let want = Checkpoint::open(fixture(expected)).unwrap();
    let mut got_names: Vec<&str> = got.tensors().iter().map(|e| e.name.as_str()).collect();
    let mut want_names: Vec<&str> = want.tensors().iter().map(|e| e.name.as_str()).collect();
    got_names.sort();
    want_names.sort();
    assert_eq!(got_names, want_names, "{file}: names");
    for w in want.tensors() {
        let g = got.get(&w.name).unwrap();
        assert_eq!(g.dtype_name, w.dtype_name, "{file}: dtype of {}", w.name);
        assert_eq!(g.shape, w.shape, "{file}: shape of {}", w.name);
        assert_eq!(got.bytes(g).as_ref(), want.bytes(w).as_ref(), "{file}: values of {}", w.name);
    }
}

#[test]
fn torch_save_zip_and_legacy_read_every_dtype() {
    same_tensors("dtypes_zip.pt", "dtypes_expected.safetensors", "torch.save (zip)");
    same_tensors("dtypes_legacy.pt", "dtypes_expected.safetensors", "torch.save (legacy)");
}

#[test]
fn views_and_shared_storages_read_their_own_values() {
    same_tensors("views_zip.pt", "views_expected.safetensors", "torch.save (zip)");
    same_tensors("views_legacy.pt", "views_expected.safetensors", "torch.save (legacy)");
}

#[test]
fn nested_training_checkpoints_flatten_with_dots() {
    same_tensors("nested_zip.pt", "nested_expected.safetensors", "torch.save (zip)");
    same_tensors("nested_legacy.pt", "nested_expected.safetensors", "torch.save (legacy)");
    let ck = Checkpoint::open(fixture("nested_zip.pt")).unwrap();
    assert!(ck.get("model_state.linear.weight").is_some());
    assert!(ck.get("optimizer_state.state.0.exp_avg").is_some());
    assert!(ck.get("nested.deep.w").is_some());
}

#[test]
fn parameters_and_bare_tensors() {
    same_tensors("parameter.pt", "parameter_expected.safetensors", "torch.save (zip)");
    same_tensors("bare_tensor.pt", "bare_tensor_expected.safetensors", "torch.save (zip)");
}

#[test]
fn numpy_npz_stored_compressed_and_npy() {
    same_tensors("arrays.npz", "arrays_expected.safetensors", "npz");
    same_tensors("arrays_compressed.npz", "arrays_expected.safetensors", "npz");
    let one = Checkpoint::open(fixture("single.npy")).unwrap();
    assert_eq!(one.tensors()[0].shape, vec![2, 3]);
    assert_eq!(one.tensor("array").unwrap().to_vec::<f32>().unwrap(), vec![0., 1., 2., 3., 4., 5.]);
}

#[test]
fn sharded_indexes_and_model_directories() {
    same_tensors("sharded/model.safetensors.index.json", "sharded_expected.safetensors", "sharded");
    same_tensors("sharded/pytorch_model.bin.index.json", "sharded_expected.safetensors", "sharded");
    // A directory: the safetensors index is preferred.
    same_tensors("sharded", "sharded_expected.safetensors", "sharded");
}

#[test]
fn hostile_pickles_are_refused_naming_the_global() {
    for f in ["evil.pt", "evil_legacy.pt"] {
        let err = Checkpoint::open(fixture(f)).err().unwrap_or_else(|| panic!("{f} loaded")).to_string();
        assert!(err.contains("refused to load the global") && err.contains("system"), "{f}: {err}");
    }
}

#[test]
fn integers_widen_and_bools_read_as_u8() {
    let ck = Checkpoint::open(fixture("dtypes_zip.pt")).unwrap();
    assert_eq!(ck.tensor("i32").unwrap().to_vec::<i64>().unwrap(), vec![0, 1, 2, 3]);
    assert_eq!(ck.tensor("i8").unwrap().to_vec::<i64>().unwrap(), vec![-3, 4]);
    assert_eq!(ck.tensor("i16").unwrap().to_vec::<i64>().unwrap(), vec![-300, 5]);
    assert_eq!(ck.tensor("bool").unwrap().to_vec::<u8>().unwrap(), vec![1, 0, 1]);
}

#[test]
fn unknown_content_is_an_error_not_a_guess() {
    let err = Checkpoint::from_bytes(b"hello, world".to_vec(), "x.bin").err().unwrap().to_string();
    assert!(err.contains("not a weights file"), "{err}");
    let err = Checkpoint::open(fixture("no_such_file.pt")).err().unwrap().to_string();
    assert!(err.contains("no_such_file.pt"), "{err}");
}
