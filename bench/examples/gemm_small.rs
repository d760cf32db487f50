use lolcore::cpu::gemm::{sgemm, MatRef};
use std::time::Instant;
fn main() {
    for &(m, n, k, ta) in
        &[(64usize, 100usize, 1000usize, false), (1000, 100, 64, true), (64, 1000, 100, false), (128, 256, 784, false)]
    {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0f32; m * n];
        let ar = if ta {
            MatRef { data: &a, offset: 0, rs: 1, cs: m }
        } else {
            MatRef { data: &a, offset: 0, rs: k, cs: 1 }
        };
        let br = MatRef { data: &b, offset: 0, rs: n, cs: 1 };
        for par in [false, true] {
            for _ in 0..100 {
                sgemm(m, n, k, ar, br, &mut c, false, par);
            }
            let reps = 2000;
            let t = Instant::now();
            for _ in 0..reps {
                sgemm(m, n, k, ar, br, &mut c, false, par);
            }
            let dt = t.elapsed().as_secs_f64() / reps as f64;
            println!(
                "{m}x{n}x{k} ta={ta} par={par}: {:.1} us, {:.1} GFLOP/s",
                dt * 1e6,
                2.0 * (m * n * k) as f64 / dt / 1e9
            );
        }
    }
}
