//! lol's benchmarks, side by side with their PyTorch twins in one run.
//!
//! usage: cargo run --release -p lol-bench -- [GROUP ...]
//!   core   sgemm GFLOP/s at n = 512, 1024, 2048 and the seed two-layer loop (CPU)
//!   fit    Model::fit s/epoch and peak RSS: MNIST MLP (batch 128) and CNN (batch 64), CPU
//!   load   loading a 100 MB safetensors checkpoint into an existing model
//!   seq    step-2 training steps (CPU): LSTM, Transformer encoder, Conv1D text epoch, DCGAN
//!   zoo    step-3 (CPU): ResNet-18 and BERT-base-shaped inference, GPT-2 small decoding
//!          with the KV cache, loading a 500 MB torch.save checkpoint
//!   gpu    on CUDA device 0: GEMM TFLOP/s at 4096 (f32, TF32, bf16), hand-written training
//!          steps (MNIST MLP, 3×4096 MLP f32/TF32, S15 CNN), Model::fit epochs
//! With no group, runs `core`, `fit`, `load`, `seq` and `zoo`. Prints a Markdown table: ours, PyTorch, ratio.

mod report;
mod timing;
mod twin;
mod workloads;

use report::Row;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(|s| s.as_str()) == Some("child") {
        return child(&args[1..]);
    }
    let groups: Vec<&str> = if args.is_empty() {
        vec!["core", "fit", "load", "seq", "zoo"]
    } else {
        args.iter().map(|s| s.as_str()).collect()
    };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("lol benchmarks: {threads} threads (both frameworks)");
    let mut rows: Vec<Row> = Vec::new();
    for g in &groups {
        match *g {
            "core" => {
                for n in [512, 1024, 2048] {
                    rows.extend(alternate(3, threads, None, || vec![workloads::core_cpu::sgemm_gflops(n)]));
                }
                rows.extend(alternate(3, threads, None, || {
                    workloads::core_cpu::two_layer().map(|r| vec![r]).unwrap_or_else(|e| {
                        eprintln!("two_layer failed: {e}");
                        vec![]
                    })
                }));
            }
            "fit" => {
                for name in ["fit_mlp", "fit_mlp_loader", "fit_cnn"] {
                    rows.extend(alternate(3, threads, None, || workloads::fit_cpu::rows(name)));
                }
            }
            "load" => match workloads::load::write_checkpoint() {
                Ok(path) => {
                    rows.extend(alternate(3, threads, Some(&path), || {
                        workloads::load::run(&path).map(|r| vec![r]).unwrap_or_default()
                    }));
                    std::fs::remove_file(path).ok();
                }
                Err(e) => eprintln!("load failed: {e}"),
            },
            "seq" => {
                for name in ["lstm_step", "transformer_step", "conv1d_text_epoch", "dcgan_step"] {
                    rows.extend(alternate(3, threads, None, || workloads::seq_cpu::rows(name)));
                }
            }
            "zoo" => {
                for name in ["resnet18_infer_b8", "bert_encoder_seq128", "gpt2_decode"] {
                    rows.extend(alternate(3, threads, None, || workloads::zoo_cpu::rows(name)));
                }
                // The twin writes the .pt with torch.save; both sides then load it.
                let path = workloads::zoo_cpu::pt_checkpoint_path();
                twin::run(&["write_500mb_pt".to_string()], threads, Some(&path));
                if path.is_file() {
                    rows.extend(alternate(3, threads, Some(&path), || {
                        workloads::zoo_cpu::load_pt(&path).map(|r| vec![r]).unwrap_or_else(|e| {
                            eprintln!("load_500mb_pt failed: {e}");
                            vec![]
                        })
                    }));
                    std::fs::remove_file(&path).ok();
                } else {
                    eprintln!("load_500mb_pt skipped: the PyTorch twin could not write the checkpoint");
                }
            }
            "gpu" => rows.extend(alternate(1, threads, None, workloads::gpu::rows)),
            other => eprintln!("unknown benchmark group `{other}` (known: core, fit, load, seq, zoo, gpu)"),
        }
    }
    report::print(&rows);
}

/// Ours, then PyTorch's twin, `rounds` times over: a slow spell of this shared machine
/// then hits both sides. Each figure is the median of its rounds.
fn alternate(
    rounds: usize,
    threads: usize,
    checkpoint: Option<&std::path::Path>,
    mut ours: impl FnMut() -> Vec<Row>,
) -> Vec<Row> {
    let mut acc: Vec<(Row, Vec<f64>, Vec<f64>)> = Vec::new();
    for _ in 0..rounds {
        let rs = ours();
        let names: Vec<String> = rs.iter().map(|r| r.name.clone()).collect();
        let theirs = twin::run(&names, threads, checkpoint);
        for r in rs {
            let t = theirs.get(&r.name).copied();
            match acc.iter_mut().find(|(a, _, _)| a.name == r.name) {
                Some((_, o, p)) => {
                    o.push(r.ours);
                    p.extend(t);
                }
                None => {
                    let o = vec![r.ours];
                    acc.push((r, o, t.into_iter().collect()));
                }
            }
        }
    }
    let median = |mut v: Vec<f64>| -> Option<f64> {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    acc.into_iter()
        .map(|(mut r, o, p)| {
            r.ours = median(o).unwrap_or(r.ours);
            r.torch = median(p);
            r
        })
        .collect()
}

/// `lol-bench child NAME`: runs one workload and prints `seconds peak_rss_mib`.
fn child(args: &[String]) {
    let name = args.first().map(|s| s.as_str()).unwrap_or("");
    match workloads::fit_cpu::run(name, &keras::Device::Cpu) {
        Ok(secs) => println!("{secs} {}", timing::peak_rss_mib()),
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    }
}
