"""Service capacity: how many rank-steps per second one service sustains, with no training work.

Per-rank mode: W client processes (BatchStream, rank r of W) share one sampler; each fetches its
share of every step and reports it, as fast as it can, epochs separated by a barrier (as
torch.distributed's is). Fan-out mode: one client (what rank 0 does) fetches each global batch
and reports it whole; every global step is W rank-steps, whatever W is, because the collectives
run between the trainers, not through the service.

    python examples/capacity.py                  # W = 1, 8, 32 per rank, and fan-out
    python examples/capacity.py --ranks 1 8 --epochs 3

Prints rank-steps per second (and global steps per second) per configuration.
"""
import argparse
import multiprocessing as mp
import sys
import time
from typing import Any, List, Optional

import numpy as np

from recency_sampler import BatchStream, SamplerClient

NUM_CLASSES = 10


def rank_loop(target: str, name: str, rank: int, world: int, args: argparse.Namespace, barrier: Any, out: Any) -> None:
    with SamplerClient(target) as client:
        # relay=False: each load-generating process makes its own calls, so that W = 32 is 32
        # processes, not 64, on the machine whose service is measured.
        stream = BatchStream(client, name, dataset_size=args.batch * args.steps, num_classes=NUM_CLASSES,
                             batch_size=args.batch, epochs=args.epochs + 1, warmup_epochs=1, rank=rank,
                             world_size=world, relay=False)
        stream.before_epoch = barrier.wait
        labels = np.zeros(-(-args.batch // world), dtype=np.int64)
        for batch in stream.batches():  # warm-up epoch: not counted
            stream.report(batch, labels[:len(batch)])
        started, steps = time.perf_counter(), 0
        for _ in range(args.epochs):
            for batch in stream.batches():
                stream.report(batch, labels[:len(batch)])
                steps += 1
        stream.flush()
        barrier.wait()
        out.put((steps, time.perf_counter() - started))
        stream.close()


def per_rank(target: str, world: int, args: argparse.Namespace) -> float:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(world), ctx.Queue()
    name = f"capacity-w{world}-{time.monotonic_ns()}"
    procs = [ctx.Process(target=rank_loop, args=(target, name, r, world, args, barrier, out)) for r in range(world)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(steps for steps, _ in results) / max(seconds for _, seconds in results)


def fan_out(target: str, args: argparse.Namespace) -> float:
    """Global steps per second through one client: rank 0's share of the work in fan-out mode."""
    barrier = type("NoBarrier", (), {"wait": lambda self: None})()
    out: "mp.Queue[Any]" = mp.get_context("spawn").Queue()
    rank_loop(target, f"capacity-fan-out-{time.monotonic_ns()}", 0, 1, args, barrier, out)
    steps, seconds = out.get()
    return steps / seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--batch", type=int, default=256, help="global batch size")
    p.add_argument("--steps", type=int, default=200, help="steps per epoch")
    p.add_argument("--epochs", type=int, default=3, help="measured epochs (after one warm-up epoch)")
    p.add_argument("--target", help="a running service (default: start one from dist/)")
    args = p.parse_args()
    service: Optional[Any] = None
    if not args.target:
        from fashion_mnist import LocalService  # imports torch: only when this script starts the service

        service = LocalService()
    target = args.target or service.target
    rows: List[str] = []
    try:
        for world in args.ranks:
            rate = per_rank(target, world, args)
            rows.append(f"per-rank  W = {world:>3}: {rate:>8.0f} rank-steps/s ({rate / world:>7.0f} global steps/s)")
            print(rows[-1], flush=True)
        rate = fan_out(target, args)
        for world in args.ranks:
            rows.append(f"fan-out   W = {world:>3}: {rate * world:>8.0f} rank-steps/s ({rate:>7.0f} global steps/s)")
            print(rows[-1], flush=True)
    finally:
        if service:
            service.close()


if __name__ == "__main__":
    sys.exit(main())
