//! Data-parallel benchmarks (run by `bench/dist.sh`, which prints the table):
//!
//! - `epoch`: seconds per epoch of the MNIST MLP (784-256-128-10, Adam, global batch
//!   128, the `fit_mlp_epoch` workload). Alone it trains in one process; under
//!   `mpirun -np 2` it trains data-parallel, each rank reading half of every batch.
//! - `allreduce`: GB/s of `MpiGroup`'s all-reduce (the bucket path, a buffer handed
//!   over, and `all_reduce_f32` on a slice) against rsmpi's raw `MPI_Allreduce` on the
//!   same bytes, under `mpirun -np 2`.
//!
//! Each prints JSON lines `{"name": ..., "value": ..., "unit": ...}` from rank 0.
use keras::datasets::mnist;
use keras::prelude::*;
use lol_dist::{MpiGroup, ProcessGroup, ReduceOp};
use std::sync::Arc;
use std::time::Instant;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist");
const EPOCHS: usize = 4;
const SIZES_MB: [usize; 4] = [1, 4, 16, 64];
const REPEATS: usize = 20;

fn print(name: &str, value: f64, unit: &str) {
    println!("{{\"name\": \"{name}\", \"value\": {value}, \"unit\": \"{unit}\"}}");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds per epoch (the first epoch is warm-up).
fn epoch(pg: Option<Arc<dyn ProcessGroup>>) -> Result<f64> {
    let ((x, y), _) = mnist::load_data(DATA)?;
    let n = x.dims()[0];
    let x = x.to_dtype(DType::F32)?.affine(1.0 / 255.0, 0.0)?.reshape(&[n, 784])?;
    manual_seed(0);
    let mut model =
        Model::new(sequential![Dense::new(784, 256), Relu, Dense::new(256, 128), Relu, Dense::new(128, 10)]);
    model.compile(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy);
    let times = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let t = times.clone();
    let start = std::rc::Rc::new(std::cell::Cell::new(Instant::now()));
    let s = start.clone();
    let mut timer = LambdaCallback::new()
        .on_epoch_begin(move |_| {
            start.set(Instant::now());
            Ok(())
        })
        .on_epoch_end(move |_, _| {
            t.borrow_mut().push(s.get().elapsed().as_secs_f64());
            Ok(())
        });
    let mut opts = FitOptions::new(EPOCHS, 128).verbose(Verbosity::Silent).callback(&mut timer);
    if let Some(pg) = pg {
        opts = opts.distributed(pg);
    }
    model.fit_with(&x, &y, opts)?;
    let v = times.borrow()[1..].to_vec();
    Ok(median(v))
}

fn gbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e9
}

/// Our all-reduce (both paths) and a raw `MPI_Allreduce` on the same bytes,
/// alternating repeat by repeat in one job so that the machine's drift hits all alike.
/// The raw one runs on our communication thread (`with_communicator`) and is timed
/// there, around the MPI call alone.
fn allreduce(pg: &MpiGroup) -> Result<()> {
    for mb in SIZES_MB {
        let n = mb * (1 << 20) / 4;
        let mut buf = vec![1f32; n];
        let mut raw = Some((vec![1f32; n], vec![0f32; n]));
        let (mut lent, mut handed, mut direct) = (Vec::new(), Vec::new(), Vec::new());
        for rep in 0..=REPEATS {
            pg.barrier()?;
            let t = Instant::now();
            pg.all_reduce_f32(&mut buf, ReduceOp::Sum)?;
            let a = t.elapsed().as_secs_f64();
            pg.barrier()?;
            let t = Instant::now();
            buf = pg.all_reduce_async(std::mem::take(&mut buf))?.wait()?;
            let b = t.elapsed().as_secs_f64();
            pg.barrier()?;
            let (send, mut recv) = raw.take().unwrap_or_default();
            let (c, bufs) = pg.with_communicator(move |world| {
                use mpi::traits::*;
                let t = Instant::now();
                world.all_reduce_into(&send[..], &mut recv[..], mpi::collective::SystemOperation::sum());
                (t.elapsed().as_secs_f64(), (send, recv))
            })?;
            raw = Some(bufs);
            buf.iter_mut().for_each(|x| *x = 1.0); // keep the values finite
            if rep > 0 {
                lent.push(a);
                handed.push(b);
                direct.push(c);
            }
        }
        if pg.rank() == 0 {
            print(&format!("allreduce_{mb}mb"), gbps(n * 4, median(lent)), "GB/s");
            print(&format!("allreduce_async_{mb}mb"), gbps(n * 4, median(handed)), "GB/s");
            print(&format!("raw_allreduce_{mb}mb"), gbps(n * 4, median(direct)), "GB/s");
        }
    }
    Ok(())
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let under_mpirun = std::env::var_os("OMPI_COMM_WORLD_SIZE").is_some() || std::env::var_os("PMI_SIZE").is_some();
    match (mode.as_str(), under_mpirun) {
        ("epoch", false) => match epoch(None) {
            Ok(s) => print("epoch_single", s, "s"),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1)
            }
        },
        ("epoch", true) => lol_dist::run(|pg| {
            let s = epoch(Some(pg.clone() as Arc<dyn ProcessGroup>))?;
            if pg.rank() == 0 {
                print(&format!("epoch_{}_ranks", pg.world_size()), s, "s");
            }
            Ok(())
        }),
        ("allreduce", true) => {
            let pg = MpiGroup::init().unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(1)
            });
            if let Err(e) = allreduce(&pg) {
                eprintln!("{e}");
                pg.abort(1);
            }
            let _ = pg.shutdown();
        }
        _ => {
            eprintln!("usage: dist_bench epoch | mpirun -np 2 dist_bench (epoch | allreduce)");
            std::process::exit(2)
        }
    }
}
