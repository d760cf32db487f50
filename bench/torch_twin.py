#!/usr/bin/env python3
"""PyTorch twins of the Rust benchmark workloads (bench/src/workloads).

usage: torch_twin.py [--threads N] [--device cpu|cuda] WORKLOAD...
Prints one JSON object per workload: {"name": ..., "value": ..., "unit": ...}.
"""
import gzip
import json
import os
import statistics
import struct
import sys
import time

import torch
from torch import nn


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


DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist")


def idx(name):
    with gzip.open(os.path.join(DATA, name + ".gz")) as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(raw[4 + 4 * rank :]), dtype=torch.uint8).reshape(dims)


def mnist_model(kind):
    """The MLP 784-256-128-10 or the S15 CNN, and its batch size."""
    from torch import nn

    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)), 128
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    ), 64


def fit_epoch_seconds(kind, epochs=4):
    """The PyTorch twin of Model::fit: shuffled mini-batches, Adam 1e-3, cross-entropy."""
    from torch import nn

    torch.manual_seed(0)
    x = idx("train-images-idx3-ubyte").float() / 255.0
    y = idx("train-labels-idx1-ubyte").long()
    x = x.reshape(-1, 784) if kind.startswith("mlp") else x.reshape(-1, 1, 28, 28)
    loader = kind == "mlp_loader"
    model, batch = mnist_model("mlp" if loader else kind)
    if loader:
        # The twin of fit_loader: a shuffling DataLoader with one worker process.
        from torch.utils.data import DataLoader, TensorDataset

        batches = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, num_workers=1, persistent_workers=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        total = 0.0
        pairs = batches if loader else ((x[perm[i : i + batch]], y[perm[i : i + batch]]) for i in range(0, n, batch))
        for xb, yb in pairs:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def in_child(kind):
    """Runs one fit workload in a fresh interpreter; returns (s/epoch, peak RSS MiB)."""
    import subprocess

    code = (
        "import sys, resource; sys.path.insert(0, %r); import torch_twin as t; "
        "torch = t.torch; torch.set_num_threads(%d); s = t.fit_epoch_seconds(%r); "
        "print(s, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    ) % (os.path.dirname(os.path.abspath(__file__)), torch.get_num_threads(), kind)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


_fit_cache = {}


def fit_figure(kind, which):
    if kind not in _fit_cache:
        _fit_cache[kind] = in_child(kind)
    secs, rss = _fit_cache[kind]
    return (secs, "s") if which == "epoch" else (rss, "MiB")


def load_checkpoint():
    """load_file + load_state_dict of the checkpoint lol wrote, into an existing model."""
    from safetensors.torch import load_file
    from torch import nn

    path = os.environ["LOL_BENCH_CHECKPOINT"]
    model = nn.Sequential(nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 2048))
    return median_secs(11, lambda: model.load_state_dict(load_file(path), strict=True)), "s"


def cuda_time(fn, warm, reps):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gpu_gemm(dtype, tf32):
    n = 4096
    torch.manual_seed(0)
    a = torch.randn(n, n, device="cuda").to(dtype)
    b = torch.randn(n, n, device="cuda").to(dtype)
    torch.backends.cuda.matmul.allow_tf32 = tf32

    def run():
        for _ in range(10):
            torch.mm(a, b)

    t = cuda_time(run, 3, 5)
    torch.backends.cuda.matmul.allow_tf32 = False
    return 10 * 2 * n ** 3 / t / 1e12, "TFLOP/s"


def gpu_mlp(sizes, batch, tf32):
    from torch import nn

    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).cuda()
    x = torch.randn(batch, sizes[0], device="cuda")
    y = (torch.arange(batch, device="cuda") % sizes[-1])
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    torch.backends.cuda.matmul.allow_tf32 = tf32

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    t = cuda_time(step, 20, 50)
    torch.backends.cuda.matmul.allow_tf32 = False
    return t * 1e3, "ms"


def gpu_cnn():
    from torch import nn

    # PyTorch lets cuDNN use TF32 by default; ours is exact f32 unless asked, so compare alike.
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    model = mnist_model("cnn")[0].cuda()
    x = torch.randn(64, 1, 28, 28, device="cuda")
    y = torch.arange(64, device="cuda") % 10
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return cuda_time(step, 20, 50) * 1e3, "ms"


def gpu_fit(kind, epochs=4):
    """fit_epoch_seconds on the GPU: the data moved there once, as lol's fit does."""
    from torch import nn

    torch.backends.cudnn.allow_tf32 = False  # exact f32 convolutions, as ours

    torch.manual_seed(0)
    x = idx("train-images-idx3-ubyte").float().div(255).cuda()
    y = idx("train-labels-idx1-ubyte").long().cuda()
    x = x.reshape(-1, 784) if kind.startswith("mlp") else x.reshape(-1, 1, 28, 28)
    model, batch = mnist_model(kind)
    model = model.cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]
    times = []
    for _ in range(epochs):
        torch.cuda.synchronize()
        t = time.perf_counter()
        perm = torch.randperm(n, device="cuda")
        for i in range(0, n, batch):
            b = perm[i : i + batch]
            loss = nn.functional.cross_entropy(model(x[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:]), "s"


def per_step_ms(inner, step):
    def run():
        for _ in range(inner):
            step()

    return median_secs(5, run) * 1e3 / inner, "ms"


def mse(y, t):
    return (y - t).pow(2).mean()


def lstm_step():
    torch.manual_seed(0)
    lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
    opt = torch.optim.Adam(lstm.parameters(), 1e-3)
    x, t = torch.randn(32, 64, 128), torch.randn(32, 64, 256)

    def step():
        opt.zero_grad()
        mse(lstm(x)[0], t).backward()
        opt.step()

    return per_step_ms(2, step)


def transformer_step():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    opt = torch.optim.Adam(enc.parameters(), 1e-3)
    x, t = torch.randn(16, 128, 256), torch.randn(16, 128, 256)

    def step():
        opt.zero_grad()
        mse(enc(x), t).backward()
        opt.step()

    return per_step_ms(2, step)


class TextConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5000, 64)
        self.conv = nn.Conv1d(64, 128, 5, padding=2)
        self.fc = nn.Linear(128, 2)

    def forward(self, ids):
        h = self.conv(self.embed(ids).transpose(1, 2)).relu()
        return self.fc(h.amax(2))


def conv1d_text_epoch():
    torch.manual_seed(0)
    model = TextConv()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    ids, labels = torch.randint(0, 5000, (4096, 256)), torch.randint(0, 2, (4096,))

    def epoch():
        for b in range(4096 // 64):
            opt.zero_grad()
            x, y = ids[b * 64 : (b + 1) * 64], labels[b * 64 : (b + 1) * 64]
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    return median_secs(5, epoch), "s"


def dcgan_step():
    torch.manual_seed(0)
    gen = nn.Sequential(
        nn.ConvTranspose2d(16, 64, 7, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Tanh(),
    )
    disc = nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1),
    )
    og = torch.optim.Adam(gen.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(disc.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    bce = nn.functional.binary_cross_entropy_with_logits

    def step():
        z = torch.randn(64, 16, 1, 1)
        fake = gen(z)
        od.zero_grad()
        lr, lf = disc(real), disc(fake.detach())
        (bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))).backward()
        od.step()
        og.zero_grad()
        lg = disc(fake)
        bce(lg, torch.ones_like(lg)).backward()
        og.step()

    return per_step_ms(5, step)


def resnet18_infer():
    import torchvision

    torch.manual_seed(0)
    m = torchvision.models.resnet18().eval()
    x = torch.randn(8, 3, 224, 224)

    def run():
        with torch.no_grad():
            m(x)

    return median_secs(5, run) * 1e3, "ms"


def bert_encoder():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    m = BertModel(BertConfig(num_hidden_layers=4, attn_implementation="sdpa")).eval()
    ids = (torch.arange(4 * 128) * 37 % 30000).reshape(4, 128)

    def run():
        with torch.no_grad():
            m(input_ids=ids)

    return median_secs(5, run) * 1e3, "ms"


def gpt2_decode():
    """The same loop as ours: one prompt pass, then 32 greedy steps feeding the cache."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(attn_implementation="sdpa")).eval()
    prompt = (torch.arange(16) * 1013 % 50000).reshape(1, 16)

    def run():
        with torch.no_grad():
            out = m(input_ids=prompt, use_cache=True)
            past = out.past_key_values
            nxt = torch.zeros(1, 1, dtype=torch.long)
            for _ in range(32):
                out = m(input_ids=nxt, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)

    return 32.0 / median_secs(3, run), "tokens/s"


def big_model():
    return nn.Sequential(nn.Linear(8192, 8192), nn.Linear(8192, 7168))


def write_500mb_pt():
    path = os.environ["LOL_BENCH_CHECKPOINT"]
    torch.manual_seed(0)
    with torch.no_grad():
        m = big_model()
    torch.save(m.state_dict(), path)
    return os.path.getsize(path) / 2**20, "MiB"


def load_500mb_pt():
    """torch.load + load_state_dict of the .pt file, into an existing model."""
    path = os.environ["LOL_BENCH_CHECKPOINT"]
    m = big_model()
    return median_secs(5, lambda: m.load_state_dict(torch.load(path), strict=True)), "s"


WORKLOADS = {
    "resnet18_infer_b8": resnet18_infer,
    "bert_encoder_seq128": bert_encoder,
    "gpt2_decode": gpt2_decode,
    "write_500mb_pt": write_500mb_pt,
    "load_500mb_pt": load_500mb_pt,
    "lstm_step": lstm_step,
    "transformer_step": transformer_step,
    "conv1d_text_epoch": conv1d_text_epoch,
    "dcgan_step": dcgan_step,
    "gpu_sgemm_4096": lambda: gpu_gemm(torch.float32, False),
    "gpu_tf32_gemm_4096": lambda: gpu_gemm(torch.float32, True),
    "gpu_bf16_gemm_4096": lambda: gpu_gemm(torch.bfloat16, False),
    "gpu_mlp_784_step": lambda: gpu_mlp([784, 256, 128, 10], 128, False),
    "gpu_mlp_4096_step": lambda: gpu_mlp([4096, 4096, 4096, 4096], 4096, False),
    "gpu_mlp_4096_tf32_step": lambda: gpu_mlp([4096, 4096, 4096, 4096], 4096, True),
    "gpu_cnn_step": gpu_cnn,
    "gpu_cnn_step_cudnn": gpu_cnn,
    "gpu_fit_mlp_epoch": lambda: gpu_fit("mlp"),
    "gpu_fit_cnn_epoch": lambda: gpu_fit("cnn"),
    "load_100mb": load_checkpoint,
    "fit_mlp_epoch": lambda: fit_figure("mlp", "epoch"),
    "fit_mlp_peak_rss": lambda: fit_figure("mlp", "rss"),
    "fit_mlp_loader_epoch": lambda: fit_figure("mlp_loader", "epoch"),
    "fit_mlp_loader_peak_rss": lambda: fit_figure("mlp_loader", "rss"),
    "fit_cnn_epoch": lambda: fit_figure("cnn", "epoch"),
    "fit_cnn_peak_rss": lambda: fit_figure("cnn", "rss"),
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
