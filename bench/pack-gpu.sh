#!/usr/bin/env bash
# Packs everything a GPU run needs into .gpu/ (git-ignored): the release test binaries
# and examples (through ../shared/tools/gpu-pack) and the benchmark binary, xz-compressed
# (≈140 MB of binaries travel as ≈15 MB; the device carries at most 64 MiB). Then, on the
# GPU machine, from the repository root (each script unpacks the binaries first):
#   bash .gpu/run.sh      # every test binary (the CUDA parity suite included)
#   bash .gpu/bench.sh    # the GPU benchmarks against PyTorch
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
pack="${GPU_PACK:-../shared/tools/gpu-pack}"
[ -x "$pack" ] || { echo "gpu-pack not found at $pack (set GPU_PACK)"; exit 1; }
# lolcore's `nccl` feature packs the NCCL test (lolcore/src/dist/nccl_tests.rs) too.
"$pack" --examples --features lolcore/nccl
cargo build --release -p lol-bench
cp target/release/lol-bench .gpu/bin/lol-bench
strip .gpu/bin/lol-bench 2>/dev/null || true
cat > .gpu/bench.sh <<'RUN'
#!/usr/bin/env bash
# GPU benchmarks, ours and PyTorch's twin in one run. usage: bash .gpu/bench.sh [GROUP...]
set -u
here=$(pwd)
built=$(cat .gpu/built-at)
if [ "$built" != "$here" ]; then mkdir -p "$(dirname "$built")" && ln -sfn "$here" "$built"; fi
.gpu/bin/lol-bench "${@:-gpu}"
RUN
chmod +x .gpu/bench.sh
# The binaries share most of their code, so one xz stream shrinks them ~9×. Python's
# lzma unpacks them on the device, which may lack the xz tool.
tar -cf - -C .gpu bin | xz -T0 -6 >.gpu/bin.tar.xz
rm -rf .gpu/bin
cat >.gpu/unpack.sh <<'RUN'
#!/usr/bin/env bash
[ -d .gpu/bin ] || python3 -c 'import tarfile; tarfile.open(".gpu/bin.tar.xz").extractall(".gpu")'
RUN
# NCCL from PyTorch's wheel ships only `libnccl.so.2`; cudarc opens `libnccl.so`.
cat >.gpu/nccl-path.sh <<'RUN'
nccl=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null)
if [ -n "$nccl" ] && [ -e "$nccl/libnccl.so.2" ]; then
  mkdir -p .gpu/lib && ln -sfn "$nccl/libnccl.so.2" .gpu/lib/libnccl.so
  export LD_LIBRARY_PATH="$(pwd)/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
RUN
for s in run.sh bench.sh; do
  sed -i 's|^set -u$|set -u\nbash .gpu/unpack.sh \|\| exit 1\n. .gpu/nccl-path.sh|' .gpu/$s
done
du -sh .gpu | awk '{print "packed size: " $1}'
