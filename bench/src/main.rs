//! lol's benchmarks, side by side with their PyTorch twins in one run.
//!
//! usage: cargo run --release -p lol-bench -- [GROUP ...]
//!   core   sgemm GFLOP/s at n = 512, 1024, 2048 and the seed two-layer loop (CPU)
//!   fit    Model::fit s/epoch and peak RSS: MNIST MLP (batch 128) and CNN (batch 64), CPU
//! With no group, runs `core` and `fit`. Prints a Markdown table: ours, PyTorch, ratio.

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
    let groups: Vec<&str> =
        if args.is_empty() { vec!["core", "fit"] } else { args.iter().map(|s| s.as_str()).collect() };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("lol benchmarks: {threads} threads (both frameworks)");
    let mut rows: Vec<Row> = Vec::new();
    for g in &groups {
        match *g {
            "core" => {
                for n in [512, 1024, 2048] {
                    rows.push(workloads::core_cpu::sgemm_gflops(n));
                }
                match workloads::core_cpu::two_layer() {
                    Ok(r) => rows.push(r),
                    Err(e) => eprintln!("two_layer failed: {e}"),
                }
            }
            "fit" => {
                rows.extend(workloads::fit_cpu::rows("fit_mlp"));
                rows.extend(workloads::fit_cpu::rows("fit_cnn"));
            }
            other => eprintln!("unknown benchmark group `{other}` (known: core, fit)"),
        }
    }
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let torch = twin::run(&names, threads);
    for r in &mut rows {
        r.torch = torch.get(&r.name).copied();
    }
    report::print(&rows);
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
