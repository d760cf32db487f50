use lolcore::cpu::gemm::{sgemm, MatRef};
use std::time::Instant;
fn main() {
    for &n in &[512usize, 1024, 2048] {
        let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0f32; n * n];
        let ar = MatRef {
            data: &a,
            offset: 0,
            rs: n,
            cs: 1,
        };
        let br = MatRef {
            data: &b,
            offset: 0,
            rs: n,
            cs: 1,
        };
        sgemm(n, n, n, ar, br, &mut c, false, true);
        let reps = (4_000_000_000 / (2 * n * n * n)).max(3);
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            for _ in 0..reps {
                sgemm(n, n, n, ar, br, &mut c, false, true);
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        println!(
            "n={n}: {:.1} GFLOP/s",
            2.0 * (n * n * n) as f64 / best / 1e9
        );
    }
}
