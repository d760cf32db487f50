//! (Part of the keras_fit test binary.) `fit` with `FitOptions::distributed` on an in-process group (threads as ranks): the
//! ranks end with identical weights, equal to one process training on the same global
//! batches; logs are averaged over the ranks; writers run on rank 0 only; bad set-ups
//! fail with errors that say what to change. `lol-dist`'s tests run the same over MPI.
use keras::data::{DataLoader, TensorDataset};
use keras::dist::{LocalGroup, ProcessGroup as _};
use keras::prelude::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

fn data() -> (Tensor, Tensor) {
    manual_seed(11);
    let x = Tensor::randn(&[256, 8], &Device::Cpu).unwrap();
    let y = x.narrow(1, 0, 4).unwrap().argmax(1).unwrap().to_dtype(DType::U32).unwrap();
    (x, y)
}

fn model(seed: u64) -> Model<impl Module + Forward> {
    manual_seed(seed);
    let mut m = Model::new(sequential![Dense::new(8, 32), Relu, Dense::new(32, 4)]);
    m.compile_with_metrics(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    m
}

fn weights(m: &Model<impl Module + Forward>) -> Vec<f32> {
    m.module().state_dict().iter().flat_map(|(_, t)| t.to_vec::<f32>().unwrap()).collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

type RankResult = (Vec<f32>, Vec<f64>, Vec<f64>);

#[test]
fn two_ranks_train_like_one_process_on_the_global_batch() {
    let (x, y) = data();
    // One process, global batch 32.
    let mut single = model(5);
    manual_seed(42);
    let h = single.fit_with(&x, &y, FitOptions::new(3, 32).verbose(Verbosity::Silent)).unwrap();
    let expect = weights(&single);

    let out = LocalGroup::run(2, T, |pg| -> Result<RankResult> {
        // Rank 1 starts from other weights: fit must give it rank 0's.
        let mut m = model(if pg.rank() == 0 { 5 } else { 77 });
        // Rank 1 seeds otherwise: fit gives every rank rank 0's generator state, so
        // all deal out the order one process would draw.
        manual_seed(if pg.rank() == 0 { 42 } else { 4242 });
        let opts = FitOptions::new(3, 32).verbose(Verbosity::Silent).distributed(pg.clone());
        let h = m.fit_with(&x, &y, opts)?;
        Ok((weights(&m), h.loss().to_vec(), h.get("accuracy").unwrap().to_vec()))
    });
    let out: Vec<RankResult> = out.into_iter().collect::<Result<_>>().unwrap();
    assert_eq!(out[0].0, out[1].0, "the ranks' weights differ");
    assert_eq!(out[0].1, out[1].1);
    let d = max_diff(&out[0].0, &expect);
    assert!(d <= 1e-5, "max |distributed - single| = {d}");
    for (a, b) in out[0].1.iter().zip(h.loss()) {
        assert!((a - b).abs() < 1e-5, "loss {a} vs {b}");
    }
    // Accuracy over every rank's samples: the single run's, up to rounding.
    for (a, b) in out[0].2.iter().zip(h.get("accuracy").unwrap()) {
        assert!((a - b).abs() < 1e-6, "accuracy {a} vs {b}");
    }
}

#[test]
fn a_loader_is_dealt_out_between_the_ranks() {
    let (x, y) = data();
    let loader = |g: &Generator| DataLoader::new(TensorDataset::new(&x, &y).unwrap(), 32).shuffle(true).generator(g);
    let mut single = model(5);
    let h =
        single.fit_loader_with(&loader(&Generator::new(3)), FitOptions::epochs(2).verbose(Verbosity::Silent)).unwrap();
    let expect = weights(&single);
    let out = LocalGroup::run(2, T, |pg| -> Result<RankResult> {
        let mut m = model(5);
        let l = loader(&Generator::new(3)).workers(1);
        let h = m.fit_loader_with(&l, FitOptions::epochs(2).verbose(Verbosity::Silent).distributed(pg.clone()))?;
        Ok((weights(&m), h.loss().to_vec(), vec![]))
    });
    let out: Vec<RankResult> = out.into_iter().collect::<Result<_>>().unwrap();
    assert_eq!(out[0].0, out[1].0);
    assert!(max_diff(&out[0].0, &expect) <= 1e-5);
    assert!((out[0].1[1] - h.loss()[1]).abs() < 1e-5);
}

#[test]
fn only_rank_zero_writes_and_bad_set_ups_are_refused() {
    let (x, y) = data();
    let dir = std::env::temp_dir().join(format!("lol-dist-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = LocalGroup::run(2, T, |pg| {
        let mut m = model(5);
        let mut log = CsvLogger::new(dir.join(format!("rank{}.csv", pg.rank())));
        let opts = FitOptions::new(1, 32).verbose(Verbosity::Silent).callback(&mut log).distributed(pg.clone());
        m.fit_with(&x, &y, opts).map(|_| ())
    });
    out.into_iter().collect::<Result<Vec<()>>>().unwrap();
    assert!(dir.join("rank0.csv").exists());
    assert!(!dir.join("rank1.csv").exists(), "rank 1 wrote its log");
    std::fs::remove_dir_all(&dir).ok();

    // A summed loss would be divided by the number of ranks.
    let out = LocalGroup::run(2, T, |pg| {
        let mut m = Model::new(sequential![Dense::new(8, 4)]);
        m.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy.reduction(keras::losses::Reduction::Sum));
        m.fit_with(&x, &y, FitOptions::new(1, 32).verbose(Verbosity::Silent).distributed(pg.clone())).map(|_| ())
    });
    let msg = out[0].as_ref().unwrap_err().to_string();
    assert!(msg.contains("Reduction::Sum"), "{msg}");

    // A global batch the ranks cannot share evenly.
    let out = LocalGroup::run(2, T, |pg| {
        let mut m = model(5);
        m.fit_with(&x, &y, FitOptions::new(1, 33).verbose(Verbosity::Silent).distributed(pg.clone())).map(|_| ())
    });
    let msg = out[0].as_ref().unwrap_err().to_string();
    assert!(msg.contains("batch_size 33 is the global batch of 2 ranks"), "{msg}");

    // A rank with another model: named at the start, on both ranks.
    let out = LocalGroup::run(2, T, |pg| {
        manual_seed(1);
        let hidden = if pg.rank() == 1 { 16 } else { 32 };
        let mut m = Model::new(sequential![Dense::new(8, hidden), Relu, Dense::new(hidden, 4)]);
        m.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
        m.fit_with(&x, &y, FitOptions::new(1, 32).verbose(Verbosity::Silent).distributed(pg.clone())).map(|_| ())
    });
    for r in &out {
        let msg = r.as_ref().unwrap_err().to_string();
        assert!(
            msg.contains(
                "rank 1 has parameter `0.weight` [16, 8] f32 where rank 0 has parameter `0.weight` [32, 8] f32"
            ),
            "{msg}"
        );
    }
}
