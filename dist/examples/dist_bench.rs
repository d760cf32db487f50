//! Data-parallel benchmarks (run by `bench/dist.sh`, which prints the table):
//!
//! - `epoch`: seconds per epoch of the MNIST MLP (784-256-128-10, Adam, global batch
//!   128, the `fit_mlp_epoch` workload). Alone it trains in one process; under
//!   `mpirun -np 2` it trains data-parallel, each rank reading half of every batch.
//! - `allreduce`: GB/s of `MpiGroup::all_reduce_f32` (through the communication thread)
//!   against rsmpi's raw `MPI_Allreduce` on the same bytes (`raw_allreduce`), both
//!   under `mpirun -np 2`.
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

fn allreduce(pg: &MpiGroup) -> Result<()> {
    for mb in SIZES_MB {
        let n = mb * (1 << 20) / 4;
        let mut buf = vec![1f32; n];
        pg.all_reduce_f32(&mut buf, ReduceOp::Sum)?; // warm-up
        let mut times = Vec::new();
        for _ in 0..REPEATS {
            pg.barrier()?;
            let t = Instant::now();
            pg.all_reduce_f32(&mut buf, ReduceOp::Sum)?;
            times.push(t.elapsed().as_secs_f64());
        }
        // The path gradient buckets take: a buffer handed over, reduced on the
        // communication thread, handed back.
        let mut async_times = Vec::new();
        for _ in 0..REPEATS {
            pg.barrier()?;
            let t = Instant::now();
            buf = pg.all_reduce_async(std::mem::take(&mut buf))?.wait()?;
            async_times.push(t.elapsed().as_secs_f64());
        }
        if pg.rank() == 0 {
            print(&format!("allreduce_{mb}mb"), gbps(n * 4, median(times)), "GB/s");
            print(&format!("allreduce_async_{mb}mb"), gbps(n * 4, median(async_times)), "GB/s");
        }
    }
    Ok(())
}

fn raw_allreduce() {
    use mpi::traits::*;
    let Some(universe) = mpi::initialize() else {
        eprintln!("MPI was already initialised");
        std::process::exit(1)
    };
    let world = universe.world();
    for mb in SIZES_MB {
        let n = mb * (1 << 20) / 4;
        let send = vec![1f32; n];
        let mut recv = vec![0f32; n];
        world.all_reduce_into(&send[..], &mut recv[..], mpi::collective::SystemOperation::sum());
        let mut times = Vec::new();
        for _ in 0..REPEATS {
            world.barrier();
            let t = Instant::now();
            world.all_reduce_into(&send[..], &mut recv[..], mpi::collective::SystemOperation::sum());
            times.push(t.elapsed().as_secs_f64());
        }
        if world.rank() == 0 {
            print(&format!("raw_allreduce_{mb}mb"), gbps(n * 4, median(times)), "GB/s");
        }
    }
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
            let s = epoch(Some(pg.clone()))?;
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
        ("raw_allreduce", true) => raw_allreduce(),
        _ => {
            eprintln!("usage: dist_bench epoch | mpirun -np 2 dist_bench (epoch | allreduce | raw_allreduce)");
            std::process::exit(2)
        }
    }
}
