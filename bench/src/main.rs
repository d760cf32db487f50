//! lol's benchmarks, side by side with their PyTorch twins in one run.
//!
//! usage: cargo run --release -p lol-bench -- [core] ...
//!   core   sgemm GFLOP/s at n = 512, 1024, 2048 and the seed two-layer loop (CPU)
//! Prints a Markdown table: ours, PyTorch, ours / PyTorch.

mod report;
mod timing;
mod twin;
mod workloads;

use report::Row;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let groups: Vec<&str> = if args.is_empty() { vec!["core"] } else { args.iter().map(|s| s.as_str()).collect() };
    let threads = rayon_threads();
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
            other => eprintln!("unknown benchmark group `{other}` (known: core)"),
        }
    }
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let torch = twin::run(&names, threads);
    for r in &mut rows {
        r.torch = torch.get(&r.name).copied();
    }
    report::print(&rows);
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
