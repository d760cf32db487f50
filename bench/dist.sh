#!/usr/bin/env bash
# Data-parallel benchmarks, ours and PyTorch's twin in one run (needs OpenMPI; PyTorch
# for the twin column). From the repository root:  bash bench/dist.sh
#  - the MNIST MLP epoch (global batch 128, Adam) in 1 process x 2 threads and on
#    2 ranks x 1 thread (ours: mpirun + MpiGroup; PyTorch: DDP on gloo);
#  - all-reduce bandwidth: our MpiGroup against a raw MPI_Allreduce of the same bytes
#    (target >= 0.9x), with gloo's beside it.
# Each figure is the median of 3 runs, ours and PyTorch's alternating.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p lol-dist --features mpi,bench --example dist_bench
bin=target/release/examples/dist_bench
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun -np 2 --oversubscribe --bind-to core --mca btl_vader_single_copy_mechanism none -x LOL_NUM_THREADS=1)
have_torch=0; python3 -c "import torch" 2>/dev/null && have_torch=1
out=$(mktemp)
for _ in 1 2 3; do
  LOL_NUM_THREADS=2 "$bin" epoch | sed 's/^/ours /' >>"$out"
  "${mpi[@]}" "$bin" epoch | sed 's/^/ours /' >>"$out"
  "${mpi[@]}" "$bin" allreduce | sed 's/^/ours /' >>"$out"
  if [ $have_torch = 1 ]; then
    for m in epoch_single epoch_ddp allreduce; do
      python3 bench/torch_ddp_twin.py $m 2>/dev/null | grep '^{' | sed 's/^/torch /' >>"$out"
    done
  fi
done
python3 - "$out" <<'PY'
import json, statistics, sys
vals = {}
for line in open(sys.argv[1]):
    who, _, js = line.partition(" ")
    r = json.loads(js)
    vals.setdefault((who, r["name"]), []).append(r["value"])
med = {k: statistics.median(v) for k, v in vals.items()}
g = lambda who, name: med.get((who, name))
fmt = lambda v, u: "—" if v is None else f"{v:.3f} {u}"
print("| workload | ours | PyTorch | ours / PyTorch | better |")
print("|---|---|---|---|---|")
for name, label in [("epoch_single", "dist_mlp_epoch, 1 process × 2 threads"), ("epoch_2_ranks", "dist_mlp_epoch, 2 ranks × 1 thread")]:
    o, t = g("ours", name), g("torch", name)
    print(f"| {label} | {fmt(o, 's')} | {fmt(t, 's')} | {'—' if not (o and t) else f'{o / t:.2f}×'} | lower |")
o1, o2, t1, t2 = g("ours", "epoch_single"), g("ours", "epoch_2_ranks"), g("torch", "epoch_single"), g("torch", "epoch_2_ranks")
if o1 and o2:
    print(f"| 2 ranks / 1 process (communication overhead) | {o2 / o1:.2f}× | {'—' if not (t1 and t2) else f'{t2 / t1:.2f}×'} | | lower |")
print()
print("| all-reduce, 2 ranks | MpiGroup, bucket path (async) | MpiGroup, `all_reduce_f32` | raw MPI_Allreduce | bucket path / raw (target ≥ 0.9×) | all_reduce_f32 / raw | PyTorch gloo |")
print("|---|---|---|---|---|---|---|")
ratio = lambda a, b: "—" if not (a and b) else f"{a / b:.2f}×"
for mb in [1, 4, 16, 64]:
    a, o, r, t = g("ours", f"allreduce_async_{mb}mb"), g("ours", f"allreduce_{mb}mb"), g("ours", f"raw_allreduce_{mb}mb"), g("torch", f"allreduce_{mb}mb")
    print(f"| {mb} MB | {fmt(a, 'GB/s')} | {fmt(o, 'GB/s')} | {fmt(r, 'GB/s')} | {ratio(a, r)} | {ratio(o, r)} | {fmt(t, 'GB/s')} |")
PY
rm -f "$out"
