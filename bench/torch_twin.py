#!/usr/bin/env python3
"""PyTorch twins of the Rust benchmark workloads (bench/src/workloads).

usage: torch_twin.py [--threads N] [--device cpu|cuda] WORKLOAD...
Prints one JSON object per workload: {"name": ..., "value": ..., "unit": ...}.
"""
import json
import statistics
import sys
import time

import torch


def median_secs(reps, f):
    f()
    times = []
    for _ in range(max(1, reps)):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def sgemm(n):
    torch.manual_seed(1)
    a, b = torch.randn(n, n), torch.randn(n, n)
    flop = 2.0 * n ** 3
    inner = max(1, int(2e9 / flop))

    def run():
        for _ in range(inner):
            torch.mm(a, b)

    return flop * inner / median_secs(5, run) / 1e9, "GFLOP/s"


def two_layer():
    torch.manual_seed(0)
    x, y = torch.randn(64, 1000), torch.randn(64, 10)
    w1 = torch.randn(1000, 100, requires_grad=True)
    w2 = torch.randn(100, 10, requires_grad=True)

    def run():
        for _ in range(500):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            with torch.no_grad():
                w1.sub_(1e-6 * w1.grad)
                w2.sub_(1e-6 * w2.grad)
                w1.grad = None
                w2.grad = None

    return median_secs(3, run), "s"


WORKLOADS = {
    "sgemm_512": lambda: sgemm(512),
    "sgemm_1024": lambda: sgemm(1024),
    "sgemm_2048": lambda: sgemm(2048),
    "two_layer_500_steps": two_layer,
}


def main(argv):
    threads = None
    names = []
    it = iter(argv)
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        else:
            names.append(a)
    if threads:
        torch.set_num_threads(threads)
    for name in names:
        f = WORKLOADS.get(name)
        if f is None:
            continue
        value, unit = f()
        print(json.dumps({"name": name, "value": value, "unit": unit}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
