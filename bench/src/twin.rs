//! Runs the PyTorch twin (`bench/torch_twin.py`) on the same workloads and reads its
//! figures back: one JSON object per line, `{"name": ..., "value": ..., "unit": ...}`.

use std::collections::HashMap;
use std::process::Command;

/// Figures by workload name; empty (with a printed reason) when python3/torch is missing.
pub fn run(workloads: &[String], threads: usize, checkpoint: Option<&std::path::Path>) -> HashMap<String, f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/torch_twin.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg("--threads").arg(threads.to_string()).args(workloads);
    if let Some(p) = checkpoint {
        cmd.env("LOL_BENCH_CHECKPOINT", p);
    }
    let out = cmd.output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!("PyTorch twin failed; ratios omitted:\n{}", String::from_utf8_lossy(&o.stderr));
            return HashMap::new();
        }
        Err(e) => {
            eprintln!("could not run python3 ({e}); ratios omitted");
            return HashMap::new();
        }
    };
    let mut figures = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = field(line, "name") else { continue };
        let Some(value) = field(line, "value").and_then(|v| v.parse::<f64>().ok()) else { continue };
        figures.insert(name, value);
    }
    figures
}

/// A field of a flat JSON object line (the twin writes only strings and numbers).
fn field(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let rest = line[line.find(&pat)? + pat.len()..].trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        Some(s[..s.find('"')?].to_string())
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim().to_string())
    }
}
