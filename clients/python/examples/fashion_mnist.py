"""Trains a small CNN on Fashion-MNIST with batches chosen by recency-sampler (or, as a control,
by plain in-process shuffling) and writes per-epoch wall-clock, train loss and test error to CSV.

    python examples/fashion_mnist.py --strategy recency_bias --epochs 20 --seed 0 --csv rb.csv

--label-noise and --imbalance make the harder training sets of the benchmark, deterministically
(the same set for every strategy and seed); the test set stays the official one. --augment (random
crop and flip), --model resnet, --momentum 0 (plain SGD) and --device cuda make the training regimes
of docs/results.md. With --device the data stays on that device and batches come from
sampler.batches() (the GPU path); without it, through a DataLoader (the README's usage).

Without --target it starts the service itself (node dist/main.js, built by `npm run build`).
"""
import argparse
import atexit
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


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or 1x1 projection) shortcut."""

    def __init__(self, inputs: int, outputs: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut = nn.Sequential() if stride == 1 and inputs == outputs else nn.Sequential(
            nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """A ResNet-style net for 28x28 images: a stem, three stages of `blocks` basic blocks (widths
    w, 2w, 4w; the last two halve the resolution), global average pooling. blocks = 1: ResNet-8."""

    def __init__(self, classes: int = 10, width: int = 16, blocks: int = 1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        layers, inputs = [], width
        for stage, outputs in enumerate((width, 2 * width, 4 * width)):
            for block in range(blocks):
                layers.append(BasicBlock(inputs, outputs, 2 if stage > 0 and block == 0 else 1))
                inputs = outputs
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(inputs, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.stages(self.stem(x)).mean((2, 3)))


def build_model(name: str) -> nn.Module:
    return ResNet() if name == "resnet" else SmallCNN()


def augment(x: torch.Tensor, generator: torch.Generator, pad: int = 2) -> torch.Tensor:
    """Random crop (zero padding of `pad` pixels, then a crop back to the original size) and a
    random horizontal flip, per image, on x's device, drawn from `generator`."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n, 1, 1), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n, 1, 1), device=x.device, generator=generator)
    flip = torch.rand((n, 1, 1), device=x.device, generator=generator) < 0.5
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    cols = torch.where(flip, w - 1 - cols, cols) + dx
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy
    return padded[torch.arange(n, device=x.device).view(n, 1, 1), 0, rows, cols].unsqueeze(1)


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


def evaluate(model: nn.Module, test, device: Optional[torch.device] = None) -> float:
    model.eval()
    x, y = test
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(y), 1000):
            batch = x[i:i + 1000].to(device or "cpu")
            wrong += (model(batch).argmax(1).cpu() != y[i:i + 1000]).sum().item()
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
        # A script that ends without close() (an exception, a forgotten call) still stops it: a
        # service left running would hold the script's output pipe open.
        atexit.register(self.close)

    def close(self) -> None:
        atexit.unregister(self.close)
        if self.process.poll() is None:
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
    device = torch.device(args.device) if args.device else None
    model = build_model(args.model).to(device or "cpu")
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=args.nesterov,
                                weight_decay=5e-4)
    # The paper's schedule: the learning rate divided by 10 at 50% and 75% of training.
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, [args.epochs // 2, args.epochs * 3 // 4], 0.1)
    # Its own generator, so that augmenting changes neither the model's initialisation nor the shuffles.
    augmentation = torch.Generator(device or "cpu").manual_seed(args.seed + 7919) if args.augment else None
    sampler = client = None
    if args.strategy != "shuffle":
        client = SamplerClient(target)
        name = args.name or f"fmnist-{args.strategy}-s{args.seed}-{os.getpid()}-{time.time_ns()}"
        sampler = RecencyBatchSampler(
            client, name=name, dataset_size=len(data), num_classes=10, batch_size=args.batch_size, epochs=args.epochs,
            strategy=args.strategy, window=args.window, warmup_epochs=args.warmup_epochs,
            initial_pressure=args.initial_pressure, seed=args.seed, active_bias_mode=args.active_bias_mode,
            noisy_labels=args.noisy_labels)
    # Reports carry the targets when the service needs them: the baselines learn from losses and
    # probabilities, noisy_labels compares predictions with the dataset labels. Recency Bias alone
    # needs only the predictions (half the report's bytes).
    send_targets = args.strategy in ("online_batch", "active_bias") or args.noisy_labels != "ignore"
    steps = served_steps(args, data, train_set, sampler, device)
    wall = 0.0
    for epoch in range(args.epochs):
        if sampler:
            sampler.set_epoch(epoch)
        started = time.perf_counter()
        total = torch.zeros((), dtype=torch.float64, device=device or "cpu")
        count = 0
        for batch, x, y in tqdm(steps(), desc=f"{args.strategy} epoch {epoch}", leave=False, disable=args.quiet):
            logits = model(augment(x, augmentation) if augmentation is not None else x)
            # noisy_labels="refurbish": suspected samples train with their predicted class.
            losses = F.cross_entropy(logits, sampler.labels(batch, y) if sampler else y, reduction="none")
            weights = sampler.loss_weights(batch) if sampler else None  # Active Bias, reweight mode
            loss = (losses * weights).mean() if weights is not None else losses.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if sampler:
                sampler.report(batch, logits, y if send_targets else None)  # the dataset labels, never refurbished ones
            total += losses.detach().sum().double()  # unweighted, comparable across strategies; no device sync per step
            count += len(y)
        if sampler:
            sampler.flush()
        train_loss = total.item() / count
        seconds = time.perf_counter() - started
        wall += seconds
        schedule.step()
        served = client.next_batch(sampler.stream.name, epoch * len(sampler)) if sampler else None
        record = EpochRecord(args.strategy, args.seed, epoch, seconds, wall, train_loss,
                             evaluate(model, test, device),
                             served.phase if served else "SHUFFLE", served.selection_pressure if served else 1.0)
        if not args.quiet:
            print(f"{args.strategy} seed {args.seed} epoch {epoch}: {seconds:.1f} s, train loss {record.train_loss:.4f}, "
                  f"test error {record.test_error:.4f} ({record.phase}, s_e = {record.selection_pressure:.1f})", flush=True)
        yield record
    if sampler:
        sampler.close()
        client.close()


def served_steps(args: argparse.Namespace, data: IndexedDataset, train_set: TensorDataset,
                 sampler: Optional[RecencyBatchSampler], device: Optional[torch.device]):
    """A function giving one epoch's (batch, x, y) steps. Without a device: a DataLoader over the
    served indices (the README's usage). With one: the training set resident on it, indexed by
    sampler.batches() (the GPU path), or by slices of a device permutation for the shuffle control."""
    if device is None:
        loader = DataLoader(data, batch_sampler=sampler) if sampler else DataLoader(
            data, batch_size=args.batch_size, shuffle=True, generator=torch.Generator().manual_seed(args.seed))
        return lambda: ((indices, x, y) for indices, x, y in loader)
    images, labels = (t.to(device) for t in train_set.tensors)
    if sampler:
        return lambda: ((b, images[b.indices], labels[b.indices]) for b in sampler.batches(device))
    shuffles = torch.Generator(device).manual_seed(args.seed)
    def shuffled():
        order = torch.randperm(len(labels), device=device, generator=shuffles)
        for i in range(0, len(order), args.batch_size):
            rows = order[i:i + args.batch_size]
            yield rows, images[rows], labels[rows]
    return shuffled


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
    p.add_argument("--noisy-labels", choices=["ignore", "exclude", "refurbish"], default="ignore",
                   help="recency_bias: samples whose recent predictions agree but not with their label are kept out "
                        "of the uncertain set (exclude), or also trained with their predicted class (refurbish)")
    p.add_argument("--label-noise", type=float, default=0.0, help="fraction of training labels flipped (e.g. 0.2)")
    p.add_argument("--imbalance", type=float, default=1.0, help="long-tail ratio of largest to smallest class (e.g. 10)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum; 0: plain SGD")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum")
    p.add_argument("--model", choices=["small_cnn", "resnet"], default="small_cnn",
                   help="small_cnn: 2 conv + 2 fully connected layers; resnet: a ResNet-8 with batch norm")
    p.add_argument("--augment", action="store_true", help="random crop (2-pixel zero padding) and horizontal flip")
    p.add_argument("--device", default=None,
                   help="keep the data on this device (cpu, cuda) and index it with sampler.batches(); "
                        "default: a DataLoader on the CPU")
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
