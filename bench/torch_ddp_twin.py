"""PyTorch's twin of dist/examples/dist_bench.rs: the MNIST MLP epoch in one process
(2 threads) and under DistributedDataParallel on 2 processes x 1 thread (gloo, the CPU
backend of torch.distributed, DistributedSampler, per-rank batch 64 = global 128), and
gloo's all-reduce bandwidth on 1-64 MB. Prints JSON lines like dist_bench.

usage: python3 bench/torch_ddp_twin.py epoch_single | epoch_ddp | allreduce
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch import nn  # noqa: E402

import torch_twin  # noqa: E402

SIZES_MB = [1, 4, 16, 64]
REPEATS = 20


def emit(name, value, unit):
    print(json.dumps({"name": name, "value": value, "unit": unit}), flush=True)


def ddp_worker(rank, world, mode, port):
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    if mode == "epoch_ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP
        from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

        torch.manual_seed(0)
        x = torch_twin.idx("train-images-idx3-ubyte").float().reshape(-1, 784) / 255.0
        y = torch_twin.idx("train-labels-idx1-ubyte").long()
        model, batch = torch_twin.mnist_model("mlp")
        model = DDP(model)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        sampler = DistributedSampler(TensorDataset(x, y), num_replicas=world, rank=rank, shuffle=True, seed=0)
        times = []
        for epoch in range(4):
            sampler.set_epoch(epoch)
            idx = torch.tensor(list(iter(sampler)))
            t = time.perf_counter()
            per_rank = batch // world
            for i in range(0, len(idx), per_rank):
                b = idx[i : i + per_rank]
                loss = loss_fn(model(x[b]), y[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
            times.append(time.perf_counter() - t)
        if rank == 0:
            emit(f"epoch_{world}_ranks", statistics.median(times[1:]), "s")
    else:
        for mb in SIZES_MB:
            buf = torch.ones(mb * (1 << 20) // 4)
            dist.all_reduce(buf)
            times = []
            for _ in range(REPEATS):
                dist.barrier()
                t = time.perf_counter()
                dist.all_reduce(buf)
                times.append(time.perf_counter() - t)
            if rank == 0:
                emit(f"allreduce_{mb}mb", mb * (1 << 20) / statistics.median(times) / 1e9, "GB/s")
    dist.barrier()
    dist.destroy_process_group()


def main(mode):
    if mode == "epoch_single":
        torch.set_num_threads(2)
        emit("epoch_single", torch_twin.fit_epoch_seconds("mlp"), "s")
    else:
        mp.spawn(ddp_worker, args=(2, mode, 29500 + os.getpid() % 1000), nprocs=2, join=True)


if __name__ == "__main__":
    main(sys.argv[1])
