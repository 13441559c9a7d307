"""PyTorch peer for bench/gru.bench.ts: the same GRU/LSTM classifier, data shape and training loop.

Prints one JSON line: train windows/s for one epoch, and predict latency for 1 and 100 windows.
Run with Debian's python3-torch: /usr/bin/python3 bench/peers/torch_peer.py --threads 1 ...
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


class SeqClassifier(nn.Module):
    def __init__(self, cell: str, n_features: int, units: int, layers: int):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(n_features, units, num_layers=layers, batch_first=True)
        self.head = nn.Linear(units, 3)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])  # logits; CrossEntropyLoss applies log-softmax


def median_ms(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cell", default="gru", choices=["gru", "lstm"])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--window", type=int, default=48)
    ap.add_argument("--features", type=int, default=28)
    ap.add_argument("--units", type=int, default=64)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--x-file", default="", help="float32 windows [n, window, features], little-endian (kilo's bench writes it)")
    ap.add_argument("--y-file", default="", help="uint8 labels [n]")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.x_file:
        # The same real windows kilo trains on (from ../shared/data/ohlcv through kilo's features).
        x = torch.from_file(a.x_file, size=a.n * a.window * a.features, dtype=torch.float32).reshape(a.n, a.window, a.features)
        y = torch.from_file(a.y_file, size=a.n, dtype=torch.uint8).long()
    else:
        x = torch.rand(a.n, a.window, a.features) * 2 - 1
        y = torch.randint(0, 3, (a.n,))
    counts = torch.bincount(y, minlength=3).float()
    weights = (a.n / (3 * counts)).clamp(max=10)  # same class weighting as kilo

    model = SeqClassifier(a.cell, a.features, a.units, a.layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss(weight=weights)

    model.train()
    c0 = time.process_time()
    t0 = time.perf_counter()
    perm = torch.randperm(a.n)
    xs, ys = x[perm], y[perm]
    for start in range(0, a.n, a.batch):
        xb, yb = xs[start:start + a.batch], ys[start:start + a.batch]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0

    model.eval()
    with torch.no_grad():
        one, hundred = x[:1], x[:100]
        model(hundred)  # warm-up
        p1 = median_ms(lambda: torch.softmax(model(one), 1), 50)
        p100 = median_ms(lambda: torch.softmax(model(hundred), 1), 20)

    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cell": a.cell,
        "n": a.n,
        "features": a.features,
        "data": "file" if a.x_file else "random",
        "train_s": train_s,
        "windows_per_s": a.n / train_s,
        "train_cpu_s": train_cpu_s,
        "predict1_ms": p1,
        "predict100_ms": p100,
    }))


if __name__ == "__main__":
    main()
