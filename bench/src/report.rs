//! One row per workload: our figure, PyTorch's from the same run, and their ratio.

/// What a figure measures, which decides which direction is better.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    /// Throughput: higher is better.
    Gflops,
    Tflops,
    /// Generated tokens per second.
    PerSec,
    /// Time: lower is better.
    Seconds,
    Millis,
    /// Memory: lower is better.
    Mib,
}

impl Unit {
    pub fn label(self) -> &'static str {
        match self {
            Unit::Gflops => "GFLOP/s",
            Unit::Tflops => "TFLOP/s",
            Unit::PerSec => "tokens/s",
            Unit::Seconds => "s",
            Unit::Millis => "ms",
            Unit::Mib => "MiB",
        }
    }
    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::Gflops | Unit::Tflops | Unit::PerSec)
    }
}

pub struct Row {
    pub name: String,
    pub unit: Unit,
    pub ours: f64,
    pub torch: Option<f64>,
}

/// Prints the table as Markdown (so it pastes into bench/README.md).
pub fn print(rows: &[Row]) {
    println!("| workload | ours | PyTorch | ours / PyTorch | better |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let torch = r.torch.map(|t| format!("{t:.3} {}", r.unit.label())).unwrap_or_else(|| "—".into());
        let ratio = r.torch.map(|t| format!("{:.2}×", r.ours / t)).unwrap_or_else(|| "—".into());
        let better = if r.unit.higher_is_better() { "higher" } else { "lower" };
        println!("| {} | {:.3} {} | {} | {} | {} |", r.name, r.ours, r.unit.label(), torch, ratio, better);
    }
}
