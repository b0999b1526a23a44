"""Trains a small CNN on Fashion-MNIST with batches chosen by recency-sampler (or, as a control,
by plain in-process shuffling) and writes per-epoch wall-clock, train loss and test error to CSV.

    python examples/fashion_mnist.py --strategy recency_bias --epochs 20 --seed 0 --csv rb.csv

--label-noise and --imbalance make the harder training sets of the benchmark, deterministically
(the same set for every strategy and seed); the test set stays the official one.

Without --target it starts the service itself (node dist/main.js, built by `npm run build`).
"""
import argparse
import csv
import functools
import gzip
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from typing import Iterator, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

try:  # progress bars where tqdm is installed (pip install "./clients/python[examples]")
    from tqdm import tqdm
except ImportError:
    def tqdm(iterable, **_):  # type: ignore[no-redef]
        return iterable

from recency_sampler import IndexedDataset, RecencyBatchSampler, SamplerClient

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}
REPO = pathlib.Path(__file__).resolve().parents[3]


def read_idx(path: pathlib.Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as a numpy array of its declared shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zeros, dtype_code, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zeros != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find(data_dir: pathlib.Path, stem: str) -> pathlib.Path:
    for candidate in (data_dir / stem, data_dir / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    raise SystemExit(
        f"Fashion-MNIST file {stem}[.gz] not found in {data_dir}.\n"
        f"On Debian: apt-get install dataset-fashion-mnist (installs to {DEFAULT_DATA}); otherwise download the four "
        f"IDX files from the Fashion-MNIST repository (zalandoresearch/fashion-mnist) and pass --data-dir.")


SCENARIO_SEED = 20200101  # fixed: every strategy and seed trains on the same noisy / imbalanced set


def long_tail(labels: np.ndarray, ratio: float, classes: int = 10) -> np.ndarray:
    """Indices keeping n_c = n_max * ratio^(-c / (k - 1)) samples of class c (the first ones in file
    order), so class 0 keeps all and the last class 1/ratio of them."""
    n_max = np.bincount(labels, minlength=classes).max()
    keep = []
    for c in range(classes):
        members = np.flatnonzero(labels == c)
        keep.append(members[: int(round(n_max * ratio ** (-c / (classes - 1))))])
    return np.sort(np.concatenate(keep))


def symmetric_noise(labels: np.ndarray, rate: float, classes: int = 10) -> np.ndarray:
    """Labels with a fraction `rate` of them (chosen by a fixed seed) replaced by a different class,
    uniformly among the other k - 1."""
    rng = np.random.default_rng(SCENARIO_SEED)
    noisy = labels.copy()
    flip = rng.permutation(len(labels))[: int(round(rate * len(labels)))]
    noisy[flip] = (labels[flip] + rng.integers(1, classes, len(flip))) % classes
    return noisy


@functools.lru_cache(maxsize=4)  # the benchmark trains many runs on one data set: decode it once
def load(data_dir: str, limit_train: Optional[int] = None, label_noise: float = 0.0, imbalance: float = 1.0):
    d = pathlib.Path(data_dir)
    arrays = {key: read_idx(find(d, stem)) for key, stem in FILES.items()}
    def images(a: np.ndarray) -> torch.Tensor:
        return ((torch.from_numpy(a.astype(np.float32)) / 255.0 - 0.2860) / 0.3530).unsqueeze(1)
    train_images, train_labels = arrays["train_images"], arrays["train_labels"].astype(np.int64)
    if limit_train:
        train_images, train_labels = train_images[:limit_train], train_labels[:limit_train]
    if imbalance > 1:
        keep = long_tail(train_labels, imbalance)
        train_images, train_labels = train_images[keep], train_labels[keep]
    if label_noise > 0:
        train_labels = symmetric_noise(train_labels, label_noise)
    train = TensorDataset(images(train_images), torch.from_numpy(train_labels))
    return train, (images(arrays["test_images"]), torch.from_numpy(arrays["test_labels"].astype(np.int64)))


class SmallCNN(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


@dataclass
class EpochRecord:
    strategy: str
    seed: int
    epoch: int
    epoch_seconds: float  # training time of this epoch (evaluation excluded)
    wall_clock: float  # training time since the start
    train_loss: float
    test_error: float
    phase: str
    selection_pressure: float


def evaluate(model: nn.Module, test) -> float:
    model.eval()
    x, y = test
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(y), 1000):
            wrong += (model(x[i:i + 1000]).argmax(1) != y[i:i + 1000]).sum().item()
    model.train()
    return wrong / len(y)


class LocalService:
    """The service in a child process, for a self-contained run."""

    def __init__(self):
        main = REPO / "dist" / "main.js"
        if not main.exists():
            raise SystemExit(f"{main} is missing: run `npm ci && npm run build` in {REPO}, or pass --target")
        self.dir = tempfile.TemporaryDirectory(prefix="recency-sampler-example-")
        self.process = subprocess.Popen(
            ["node", str(main), "--grpc-port", "0", "--http-port", "0", "--db", os.path.join(self.dir.name, "db")],
            stdout=subprocess.PIPE, text=True)
        for line in self.process.stdout:
            entry = json.loads(line)
            if entry.get("msg") == "listening":
                self.target = f"127.0.0.1:{entry['grpcPort']}"
                self.dashboard = f"http://127.0.0.1:{entry['httpPort']}/"
                print(f"service started: gRPC {self.target}, dashboard {self.dashboard}", flush=True)
                break
        else:
            raise SystemExit("the service exited before listening")
        # Keep reading its log: a closed pipe would leave the service stuck writing its shutdown line.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()
        self.dir.cleanup()


def train(args: argparse.Namespace, target: Optional[str]) -> List[EpochRecord]:
    return list(train_epochs(args, target))


def train_epochs(args: argparse.Namespace, target: Optional[str]) -> Iterator[EpochRecord]:
    """Trains, yielding each epoch's record as it ends (so two runs can be interleaved)."""
    torch.manual_seed(args.seed)
    train_set, test = load(args.data_dir, args.limit_train, args.label_noise, args.imbalance)
    data = IndexedDataset(train_set)
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    # The paper's schedule: the learning rate divided by 10 at 50% and 75% of training.
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, [args.epochs // 2, args.epochs * 3 // 4], 0.1)
    sampler = client = None
    if args.strategy == "shuffle":
        loader = DataLoader(data, batch_size=args.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(args.seed))
    else:
        client = SamplerClient(target)
        name = args.name or f"fmnist-{args.strategy}-s{args.seed}-{os.getpid()}-{time.time_ns()}"
        sampler = RecencyBatchSampler(
            client, name=name, dataset_size=len(data), num_classes=10, batch_size=args.batch_size, epochs=args.epochs,
            strategy=args.strategy, window=args.window, warmup_epochs=args.warmup_epochs,
            initial_pressure=args.initial_pressure, seed=args.seed, active_bias_mode=args.active_bias_mode)
        loader = DataLoader(data, batch_sampler=sampler)
    wall = 0.0
    for epoch in range(args.epochs):
        if sampler:
            sampler.set_epoch(epoch)
        started = time.perf_counter()
        total, count = 0.0, 0
        for indices, x, y in tqdm(loader, desc=f"{args.strategy} epoch {epoch}", leave=False, disable=args.quiet):
            logits = model(x)
            losses = F.cross_entropy(logits, y, reduction="none")
            weights = sampler.loss_weights(indices) if sampler else None  # Active Bias, reweight mode
            loss = (losses * weights).mean() if weights is not None else losses.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if sampler:
                # The baselines learn from losses / true-class probabilities, which report() computes
                # from the targets; Recency Bias needs only the predictions (half the report's bytes).
                sampler.report(indices, logits, y if args.strategy in ("online_batch", "active_bias") else None)
            total += losses.detach().sum().item()  # unweighted, comparable across strategies
            count += len(y)
        if sampler:
            sampler.flush()
        seconds = time.perf_counter() - started
        wall += seconds
        schedule.step()
        batch = client.next_batch(sampler.stream.name, epoch * len(sampler)) if sampler else None
        record = EpochRecord(args.strategy, args.seed, epoch, seconds, wall, total / count, evaluate(model, test),
                             batch.phase if batch else "SHUFFLE", batch.selection_pressure if batch else 1.0)
        if not args.quiet:
            print(f"{args.strategy} seed {args.seed} epoch {epoch}: {seconds:.1f} s, train loss {record.train_loss:.4f}, "
                  f"test error {record.test_error:.4f} ({record.phase}, s_e = {record.selection_pressure:.1f})", flush=True)
        yield record
    if sampler:
        sampler.close()
        client.close()


def write_csv(path: str, records: List[EpochRecord]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(records[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in records)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--strategy", choices=["recency_bias", "random", "online_batch", "active_bias", "shuffle"],
                   default="recency_bias",
                   help="a strategy of the service; shuffle: in-process DataLoader shuffling (control)")
    p.add_argument("--active-bias-mode", choices=["sample", "reweight"], default="sample")
    p.add_argument("--label-noise", type=float, default=0.0, help="fraction of training labels flipped (e.g. 0.2)")
    p.add_argument("--imbalance", type=float, default=1.0, help="long-tail ratio of largest to smallest class (e.g. 10)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--window", type=int, default=None, help="q (service default 10)")
    p.add_argument("--warmup-epochs", type=int, default=None, help="g (service default: min(window, epochs // 2))")
    p.add_argument("--initial-pressure", type=float, default=None, help="s0 (service default 100)")
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("--limit-train", type=int, default=None, help="use only the first N training images")
    p.add_argument("--target", default=None, help="service address host:port (default: start one)")
    p.add_argument("--name", default=None, help="sampler name (default: unique per run)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--csv", default=None, help="write per-epoch records here")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    args = parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    service = LocalService() if args.target is None and args.strategy != "shuffle" else None
    try:
        records = train(args, args.target or (service.target if service else None))
    finally:
        if service:
            service.close()
    if args.csv:
        write_csv(args.csv, records)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    sys.exit(main())
