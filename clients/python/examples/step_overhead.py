"""Per-step cost of the served sampler in a loop that is as tight as a fast GPU trainer's.

A launch-bound GPU loop spends its step in Python, holding the GIL while it enqueues kernels.
The default workload stands in for it on any machine: each step holds the GIL for --step-ms of
the training thread's CPU time (a spin; background threads that take the GIL delay it). `--workload cnn` trains a small CNN instead, on data resident on --device (synthetic
Fashion-MNIST-shaped tensors: only the time matters). Epochs through the service alternate with
epochs of an in-process permutation (same loop, same step), so every ratio compares runs
seconds apart; the first pair is a warm-up and not counted. Each served epoch is followed by an
untimed pause (--pause-ms, as a loop's evaluation between epochs), so that what the sampler and
the service do at an epoch's end (the next epoch's first fetch, the freeze of its P) does not run
during the baseline epoch and flatter the ratio. With --back-to-back the served epochs run one
after another (after all the baseline ones), as in a loop with nothing between its epochs.

    python examples/step_overhead.py                       # 1 process, both APIs, 1 and 2.5 ms
    python examples/step_overhead.py --ranks 8             # 8 gloo processes, fan-out and per-rank
    python examples/step_overhead.py --workload cnn --device cuda --batch 128 512 --api device
    python examples/step_overhead.py --workload cnn --device cuda --ranks 8 --width 64 --batch 512

APIs: "loader" is the DataLoader role (lists of indices, report(indices, outputs), against
torch's BatchSampler(RandomSampler)); "device" is sampler.batches() with report(batch, outputs),
against slices of torch.randperm; with --workers N the loader role runs both loops through a
DataLoader with N persistent workers, which fetch batches ahead of the loop (their indices come
back as a tensor). With --ranks each step also all-reduces a small tensor (the
stand-in for DDP's gradient sync) in both loops. Prints microseconds added per step, the CPU the
training process's other threads ran per served step (Linux; rank 0's with --ranks; the relay's
helper process's own CPU is not in it; --no-relay makes the calls from threads), the epoch
boundary's two parts (`first ms`, the wait for an epoch's first batch; `end ms`, the time from
its last report() to the end: the reports' flush, where the epoch's end waits for one), `wait ms`
(the time the loop spent getting the epoch's other batches from the sampler: chunks read, or
waited for), `loop cpu us/step` (the training thread's own CPU inside the sampler's calls,
iterating and report(): the part of the cost that no idle core hides; with --workers the
DataLoader's own next() is in it too), `svc cpu ms` and `helper cpu ms` (the CPU the service
process, when started here or named by --service-pid, and the relay's helper ran per served
epoch: what they take from a loop on a machine without cores to spare) and the ratio of epoch
times (medians over pairs), and writes them to --csv if given.
"""
import argparse
import csv
import os
import statistics
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

from fashion_mnist import LocalService
from recency_sampler import RecencyBatchSampler, SamplerClient

NUM_CLASSES = 10


def spin(seconds: float) -> None:
    """`seconds` of this thread's CPU time holding the GIL, as a Python loop launching kernels
    does. Measured in thread CPU time, not wall time: whatever takes the GIL (or the core) away
    meanwhile delays the step, as it delays a real loop's fixed amount of work."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class Spin:
    """The stand-in step: holds the GIL for `step_ms`, then returns fixed logits."""

    def __init__(self, step_ms: float, share: int, world: int):
        self.seconds = step_ms / 1000
        self.outputs = torch.randn(share, NUM_CLASSES)
        self.sync = (lambda t=torch.zeros(1): dist.all_reduce(t)) if world > 1 else (lambda: None)  # DDP's sync

    def __call__(self, indices: Any) -> torch.Tensor:
        spin(self.seconds)
        self.sync()
        return self.outputs[:len(indices)]

    def label(self) -> str:
        return f"spin {self.seconds * 1000:g} ms"


class Cnn:
    """A real training step of a small CNN (--width channels) on data resident on `device`."""

    def __init__(self, width: int, n: int, device: torch.device, world: int):
        g = torch.Generator().manual_seed(0)
        self.device = device
        self.x = torch.randn(n, 1, 28, 28, generator=g).to(device)
        self.y = torch.randint(0, NUM_CLASSES, (n,), generator=g).to(device)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(width, 2 * width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(2 * width * 49, 128), torch.nn.ReLU(), torch.nn.Linear(128, NUM_CLASSES),
        ).to(device)
        if world > 1:
            model = torch.nn.parallel.DistributedDataParallel(model)
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        self.width = width

    def __call__(self, indices: Any) -> torch.Tensor:
        if not isinstance(indices, torch.Tensor):  # the loader API's lists, as a loop would move them
            indices = torch.as_tensor(indices, device=self.device)
        logits = self.model(self.x[indices])
        loss = torch.nn.functional.cross_entropy(logits, self.y[indices])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return logits

    def label(self) -> str:
        return f"cnn width {self.width}"


def finish(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # an epoch's time includes its queued GPU work


def background_cpu() -> float:
    """Seconds of CPU the training process's threads other than this one have run (Linux's
    per-thread schedstat; 0 elsewhere): what the sampler's background threads take from a loop
    that holds the GIL."""
    total, main = 0, threading.get_native_id()
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return 0.0
    for tid in tids:
        if int(tid) == main:
            continue
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):  # a thread that ended meanwhile
            pass
    return total / 1e9


def process_cpu(pid: Optional[int]) -> Optional[float]:
    """Seconds of CPU process ``pid`` has run, all its threads (Linux); None if unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Indices(Dataset):
    """A dataset whose items are their own indices: a DataLoader over it, with workers, hands the
    loop each batch's indices as a tensor, through the workers, as a real loader hands data."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


def loader_over(batch_sampler: Any, n: int, workers: int) -> DataLoader:
    return DataLoader(Indices(n), batch_sampler=batch_sampler, num_workers=workers, persistent_workers=True)


def served_epoch(sampler: RecencyBatchSampler, api: str, step: Any, device: torch.device,
                 loader: Optional[DataLoader] = None) -> Tuple[float, float, float, float, float]:
    """Seconds for the epoch; the two parts of the epoch boundary, in ms: the wait for the first
    batch, and the time from the last report() to the end (the reports' flush); the ms the loop
    spent getting its other batches from the sampler (chunks read, or waited for); and the
    seconds of this thread's CPU spent inside the sampler's calls (iterating and report())."""
    clock, cpu = time.perf_counter, time.thread_time
    started = clock()
    first, last, waited, in_sampler = None, started, 0.0, 0.0
    batches = iter(loader if loader is not None else sampler if api == "loader" else sampler.batches(device))
    while True:
        asked, asked_cpu = clock(), cpu()
        item = next(batches, None)
        got, got_cpu = clock(), cpu()
        in_sampler += got_cpu - asked_cpu
        if item is None:
            break
        if first is None:
            first = got
        else:
            waited += got - asked
        outputs = step(item if api == "loader" else item.indices)
        reporting = cpu()
        sampler.report(item, outputs)
        in_sampler += cpu() - reporting
        last = clock()
    finish(device)
    ended = clock()
    return ended - started, ((first or ended) - started) * 1e3, (ended - last) * 1e3, waited * 1e3, in_sampler


def baseline_epoch(n: int, batch: int, steps: int, api: str, step: Any, epoch: int, device: torch.device,
                   loader: Optional[Tuple[DataLoader, torch.Generator]] = None) -> float:
    started = time.perf_counter()
    if loader is not None:  # --workers: the same DataLoader each epoch, its sampler's generator reseeded
        loader[1].manual_seed(epoch)
        for i, indices in enumerate(loader[0]):
            if i == steps:
                break
            step(indices)
    elif api == "loader":
        g = torch.Generator().manual_seed(epoch)
        for i, indices in enumerate(BatchSampler(RandomSampler(range(n), generator=g), batch, drop_last=False)):
            if i == steps:
                break
            step(indices)
    else:
        perm = torch.randperm(n, device=device)
        for i in range(steps):
            step(perm[i * batch:(i + 1) * batch])
    finish(device)
    return time.perf_counter() - started


def measure(args: argparse.Namespace, target: str, rank: int, world: int, mode: str) -> List[Dict[str, Any]]:
    """Every (api, batch, step) configuration on one sampler each; returns rows (rank 0's matter)."""
    rows = []
    device = torch.device(args.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", 0)  # every rank on one GPU, as measured
    for batch_size in args.batch:
        share = -(-batch_size // world)
        n = batch_size * args.steps
        steps = ([Spin(ms, share, world) for ms in args.step_ms] if args.workload == "spin"
                 else [Cnn(w, n, device, world) for w in args.width])
        for step in steps:
            for api in args.api:
                name = f"overhead-{api}-{batch_size}-{step.label()}-{mode}-w{world}-{os.getpid() if world == 1 else 'job'}"
                name = name.replace(" ", "_")
                with SamplerClient(target) as client:
                    sampler = RecencyBatchSampler(client, name=name, dataset_size=n, num_classes=NUM_CLASSES,
                                                  batch_size=batch_size, epochs=args.pairs + 1, warmup_epochs=1,
                                                  mode=mode if world > 1 else None, relay=args.relay)
                    base, served, background, firsts, ends, waits = [], [], [], [], [], []
                    in_sampler, service_cpu, helper_cpu = [], [], []
                    relay = getattr(sampler.stream, "_relay", None) if world == 1 else None
                    helper = getattr(getattr(relay, "_process", None), "pid", None)
                    base_loader, served_loader = None, None
                    if args.workers and api == "loader":
                        g = torch.Generator()
                        base_loader = (loader_over(BatchSampler(RandomSampler(range(n // world), generator=g), share,
                                                                drop_last=False), n // world, args.workers), g)
                        served_loader = loader_over(sampler, n, args.workers)

                    def baseline(epoch: int) -> float:
                        # Each rank's baseline: its share of a permutation of its part of the data.
                        return baseline_epoch(n // world, share, args.steps, api, step, epoch, device, base_loader)

                    # --back-to-back: every baseline epoch, then every served one (as a loop with
                    # nothing between its epochs); else each served epoch after a baseline one.
                    bases = [baseline(epoch) for epoch in range(args.pairs + 1)] if args.back_to_back else []
                    for epoch in range(args.pairs + 1):
                        sampler.set_epoch(epoch)
                        b = bases[epoch] if args.back_to_back else baseline(epoch)
                        cpu = background_cpu()
                        others = (process_cpu(args.service_pid), process_cpu(helper))
                        s, first_ms, end_ms, wait_ms, own = served_epoch(sampler, api, step, device, served_loader)
                        if not args.back_to_back:
                            # Untimed, as a loop's evaluation between epochs: what the sampler does
                            # at an epoch's end (the next one's first fetch, the service's freeze)
                            # runs here, not during the baseline epoch that follows. Its CPU counts.
                            time.sleep(args.pause_ms / 1000)
                        cpu = background_cpu() - cpu
                        others = [None if a is None or b is None else (b - a) * 1e3
                                  for a, b in zip(others, (process_cpu(args.service_pid), process_cpu(helper)))]
                        if epoch > 0:  # the first pair warms up
                            base.append(b)
                            served.append(s)
                            background.append(cpu / args.steps * 1e6)
                            firsts.append(first_ms)
                            ends.append(end_ms)
                            waits.append(wait_ms)
                            in_sampler.append(own / args.steps * 1e6)
                            service_cpu.append(others[0])
                            helper_cpu.append(others[1])
                    del base_loader, served_loader  # their persistent workers exit
                    sampler.close()
                ratios = [s / b for s, b in zip(served, base)]
                added = [(s - b) / args.steps * 1e6 for s, b in zip(served, base)]
                rows.append({"ranks": world, "mode": (mode if world > 1 else "single") + ("" if args.relay else "+threads")
                             + (f"+w{args.workers}" if args.workers and api == "loader" else ""),
                             "api": api, "step": step.label(), "order": "back-to-back" if args.back_to_back else "alternated",
                             "batch": batch_size, "base_ms_per_step": statistics.median(base) / args.steps * 1e3,
                             "ratio": statistics.median(ratios), "added_us_per_step": statistics.median(added),
                             "ratio_min": min(ratios), "ratio_max": max(ratios), "pairs": len(ratios),
                             "background_cpu_us_per_step": statistics.median(background),
                             "first_batch_ms": statistics.median(firsts), "epoch_end_ms": statistics.median(ends),
                             "in_epoch_wait_ms": statistics.median(waits),
                             "sampler_cpu_us_per_step": statistics.median(in_sampler),
                             "service_cpu_ms_per_epoch": _median_or_none(service_cpu),
                             "helper_cpu_ms_per_epoch": _median_or_none(helper_cpu)})
    return rows


def _median_or_none(values: List[Optional[float]]) -> Optional[float]:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def rank_main(rank: int, world: int, init: str, target: str, args: argparse.Namespace, mode: str, out: str) -> None:
    torch.set_num_threads(1)
    # gloo, also with every rank on one GPU (NCCL wants a GPU per rank).
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world)
    rows = measure(args, target, rank, world, mode)
    if rank == 0:
        with open(out, "w") as f:
            f.write(repr(rows))
    dist.destroy_process_group()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=["spin", "cnn"], default="spin")
    p.add_argument("--step-ms", type=float, nargs="+", default=[1.0, 2.5], help="spin: GIL held per step")
    p.add_argument("--width", type=int, nargs="+", default=[32], help="cnn: channels of the first layer")
    p.add_argument("--device", default="cpu", help="cnn (and the device API's indices): cpu or cuda")
    p.add_argument("--batch", type=int, nargs="+", default=[256], help="global batch size(s)")
    p.add_argument("--steps", type=int, default=300, help="steps per epoch")
    p.add_argument("--pairs", type=int, default=5, help="epoch pairs counted (one more warms up)")
    p.add_argument("--api", nargs="+", choices=["loader", "device"], default=["loader", "device"])
    p.add_argument("--workers", type=int, default=0,
                   help="loader: a DataLoader with this many (persistent) workers in both loops, which fetch "
                        "batches ahead of the loop")
    p.add_argument("--ranks", type=int, default=1, help="processes (gloo) sharing one sampler")
    p.add_argument("--modes", nargs="+", choices=["fan_out", "per_rank"], default=["fan_out", "per_rank"])
    p.add_argument("--relay", action=argparse.BooleanOptionalAction, default=True,
                   help="the sampler's per-step calls from its helper process (relay=True, the default); "
                        "--no-relay: from threads of the training process")
    p.add_argument("--pause-ms", type=float, default=300.0,
                   help="alternated: an untimed pause after each served epoch, as a loop's evaluation between epochs")
    p.add_argument("--back-to-back", action="store_true",
                   help="run the baseline epochs first, then the served ones one after another, as a loop with "
                        "nothing between epochs (default: alternated, a baseline epoch before each served one)")
    p.add_argument("--target", help="a running service (default: start one from dist/)")
    p.add_argument("--service-pid", type=int, help="with --target: the service's process id, for its CPU per epoch")
    p.add_argument("--csv", help="append the rows to this CSV file")
    args = p.parse_args()
    torch.set_num_threads(1)
    service = None if args.target else LocalService()
    target = args.target or service.target
    if service is not None:
        args.service_pid = service.process.pid
    rows: List[Dict[str, Any]] = []
    try:
        if args.ranks == 1:
            rows = measure(args, target, 0, 1, "single")
        else:
            for mode in args.modes:
                with tempfile.TemporaryDirectory() as tmp:
                    out = os.path.join(tmp, "rows")
                    mp.spawn(rank_main, args=(args.ranks, os.path.join(tmp, "init"), target, args, mode, out),
                             nprocs=args.ranks, join=True)
                    with open(out) as f:
                        rows += eval(f.read())  # written by rank 0 above: a list of plain dicts
    finally:
        if service:
            service.close()
    print(f"{'ranks':>5} {'mode':>12} {'api':>6} {'step':>14} {'batch':>5} {'base ms/step':>12} {'us/step added':>13} "
          f"{'bg cpu us/step':>14} {'first ms':>8} {'end ms':>6} {'wait ms':>7} {'loop cpu us/step':>16} "
          f"{'svc cpu ms':>10} {'helper cpu ms':>13} {'ratio':>6}  (min..max over pairs)")
    na = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
    for r in rows:
        print(f"{r['ranks']:>5} {r['mode']:>12} {r['api']:>6} {r['step']:>14} {r['batch']:>5} {r['base_ms_per_step']:>12.2f} "
              f"{r['added_us_per_step']:>13.0f} {r['background_cpu_us_per_step']:>14.0f} {r['first_batch_ms']:>8.1f} "
              f"{r['epoch_end_ms']:>6.1f} {r['in_epoch_wait_ms']:>7.1f} {r['sampler_cpu_us_per_step']:>16.1f} "
              f"{na(r['service_cpu_ms_per_epoch']):>10} {na(r['helper_cpu_ms_per_epoch']):>13} {r['ratio']:>6.3f}  "
              f"({r['ratio_min']:.3f}..{r['ratio_max']:.3f}, {r['pairs']} pairs)")
    if args.csv:
        new = not os.path.exists(args.csv)
        with open(args.csv, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            if new:
                writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
