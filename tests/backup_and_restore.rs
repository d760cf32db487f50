//! Resumable training for real: a training child process is killed (SIGKILL) in the
//! middle of an epoch, then started again; `BackupAndRestore` resumes it from the last
//! epoch's backup, and it ends with the same weights, optimizer-driven and with dropout
//! and a shuffling loader drawing from the random stream, as a run that was never
//! interrupted. The child is this test binary, run with `--ignored --exact resume_child`.
use keras::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const EPOCHS: usize = 5;
const KILL_AT: &str = "epoch 2 batch 2";

/// Prints each batch (so the parent can kill mid-epoch) and slows batches down a little
/// so that the kill lands before the epoch ends.
struct Announce(usize);
impl Callback for Announce {
    fn on_epoch_begin(&mut self, epoch: usize, _: &mut dyn keras::callbacks::TrainingModel) -> Result<()> {
        self.0 = epoch;
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        _: &keras::callbacks::BatchLogs<'_>,
        _: &mut dyn keras::callbacks::TrainingModel,
    ) -> Result<()> {
        println!("epoch {} batch {batch}", self.0);
        std::thread::sleep(std::time::Duration::from_millis(40));
        Ok(())
    }
}

/// The training program: the same seed, data, model and callbacks every time.
fn train(dir: &Path) -> Result<()> {
    manual_seed(42);
    let x = Tensor::randn(&[96, 6], &Device::Cpu)?;
    let y = x.narrow(1, 0, 3)?.argmax(1)?.to_dtype(DType::U32)?;
    let loader = DataLoader::new(TensorDataset::new(&x, &y)?, 16).shuffle(true).workers(2);
    let mut model = Model::new(sequential![
        Dense::new(6, 32),
        Relu,
        Dropout::new(0.3),
        Dense::new(32, 3).activation(Activation::Softmax)
    ]);
    model.compile_with_metrics(
        Adam::new(0.01).gradient_accumulation_steps(2),
        Loss::SparseCategoricalCrossentropy,
        &[Metric::Accuracy],
    );
    let mut backup = BackupAndRestore::new(dir.join("backup"));
    let mut early = EarlyStopping::new().monitor("loss").patience(100);
    let mut announce = Announce(0);
    let opts = FitOptions::epochs(EPOCHS)
        .callback(&mut backup)
        .callback(&mut early)
        .callback(&mut announce)
        .verbose(Verbosity::Silent);
    model.fit_loader_with(&loader, opts)?;
    if let Some(p) = backup.resumed_from {
        println!("resumed at epoch {} step {}", p.epoch, p.global_step);
    }
    println!("best epoch {:?}", early.best_epoch);
    model.save_weights(dir.join("final.safetensors"))
}

#[test]
#[ignore = "the child process of kill_mid_epoch_and_resume_gives_the_same_weights"]
fn resume_child() {
    let dir = std::env::var("LOL_RESUME_DIR").expect("run by kill_mid_epoch_and_resume_gives_the_same_weights");
    train(Path::new(&dir)).unwrap();
}

fn child(dir: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--ignored", "--exact", "resume_child", "--nocapture", "--test-threads=1"])
        .env("LOL_RESUME_DIR", dir)
        .stdout(Stdio::piped());
    c
}

fn run_to_end(dir: &Path) -> String {
    let out = child(dir).output().unwrap();
    assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn weights(path: PathBuf) -> Vec<(String, Vec<f32>)> {
    lolcore::safetensors::load(path, &Device::Cpu)
        .unwrap()
        .into_iter()
        .map(|(n, t)| (n, t.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap()))
        .collect()
}

#[test]
fn kill_mid_epoch_and_resume_gives_the_same_weights() {
    let root = std::env::temp_dir().join(format!("lol_resume_{}", std::process::id()));
    let (reference, resumed) = (root.join("reference"), root.join("resumed"));
    for d in [&reference, &resumed] {
        std::fs::create_dir_all(d).unwrap();
    }
    let log = run_to_end(&reference);
    assert!(!log.contains("resumed"), "{log}");
    // The backup is removed once training ends normally.
    assert!(!reference.join("backup/training_state.safetensors").exists());

    // Kill the second run in the middle of epoch 2 (0-based), after two backups.
    let mut c = child(&resumed).spawn().unwrap();
    let lines = BufReader::new(c.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines {
        let line = line.unwrap();
        seen.push(line.clone());
        if line == KILL_AT {
            c.kill().unwrap();
            break;
        }
    }
    c.wait().unwrap();
    assert_eq!(seen.last().map(String::as_str), Some(KILL_AT), "{seen:?}");
    assert!(resumed.join("backup/training_state.safetensors").exists());
    assert!(!resumed.join("final.safetensors").exists());

    // Rerun: it resumes at epoch 2 (12 optimizer steps = 2 epochs × 6 batches) and ends
    // where the uninterrupted run ended.
    let log2 = run_to_end(&resumed);
    assert!(log2.contains("resumed at epoch 2 step 12"), "{log2}");
    assert!(!log2.contains("epoch 1 batch"), "epochs before the backup ran again: {log2}");
    let best = |l: &str| l.lines().find(|x| x.starts_with("best epoch")).map(str::to_string);
    assert_eq!(best(&log), best(&log2));
    let (a, b) = (weights(reference.join("final.safetensors")), weights(resumed.join("final.safetensors")));
    assert_eq!(a.len(), b.len());
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        let diff = va.iter().zip(vb).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(diff <= 1e-6, "{na} differs by {diff}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_backup_of_another_model_is_refused_with_the_differences() {
    let dir = std::env::temp_dir().join(format!("lol_resume_other_{}", std::process::id()));
    let mut a = Model::new(sequential![Dense::new(4, 3)]);
    a.compile(Adam::new(0.01), Loss::MeanSquaredError);
    a.train_on_batch(&Tensor::ones(&[2, 4], &Device::Cpu).unwrap(), &Tensor::ones(&[2, 3], &Device::Cpu).unwrap())
        .unwrap();
    let path = dir.join("state.safetensors");
    a.save_checkpoint(&path, TrainingProgress { epoch: 3, global_step: 1 }).unwrap();
    // Round trip into the same structure.
    let mut b = Model::new(sequential![Dense::new(4, 3)]);
    b.compile(Adam::new(0.01), Loss::MeanSquaredError);
    assert_eq!(b.load_checkpoint(&path).unwrap(), TrainingProgress { epoch: 3, global_step: 1 });
    assert_eq!(
        a.module().state_dict()[0].1.to_vec::<f32>().unwrap(),
        b.module().state_dict()[0].1.to_vec::<f32>().unwrap()
    );
    // Another structure: every difference in one message; nothing is changed.
    let mut c = Model::new(sequential![Dense::new(4, 5)]);
    c.compile(Adam::new(0.01), Loss::MeanSquaredError);
    let before = c.module().state_dict()[0].1.to_vec::<f32>().unwrap();
    let e = c.load_checkpoint(&path).unwrap_err().to_string();
    assert!(e.contains("0.weight has shape [3, 4] in the file, [5, 4] in the model") && e.contains("0.bias"), "{e}");
    assert_eq!(before, c.module().state_dict()[0].1.to_vec::<f32>().unwrap());
    // Not a checkpoint at all.
    a.save_weights(dir.join("w.safetensors")).unwrap();
    let e = b.load_checkpoint(dir.join("w.safetensors")).unwrap_err().to_string();
    assert!(e.contains("not a lol training checkpoint"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
