"""Per-step cost of going through the service: trains the Fashion-MNIST example with Recency Bias
through the service and with in-process shuffling (same model, seed and data path), alternating
A/B over rounds in one run, and prints the ratio of median epoch times.

    python examples/overhead.py --epochs 3 --rounds 2
"""
import argparse
import statistics
import sys

import fashion_mnist


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DATA)
    args = p.parse_args()
    service = fashion_mnist.LocalService()
    times = {"shuffle": [], "recency_bias": []}
    try:
        for round_ in range(args.rounds):
            for strategy in ("shuffle", "recency_bias"):
                run = fashion_mnist.parser().parse_args([
                    "--strategy", strategy, "--epochs", str(args.epochs), "--seed", "0", "--quiet",
                    "--data-dir", args.data_dir, "--warmup-epochs", "1",
                    *(["--limit-train", str(args.limit_train)] if args.limit_train else [])])
                records = fashion_mnist.train(run, service.target)
                # The first epoch of each run warms caches and allocators up: dropped.
                times[strategy] += [r.epoch_seconds for r in records[1:]]
                print(f"round {round_} {strategy:>12}: " + ", ".join(f"{r.epoch_seconds:.2f} s" for r in records), flush=True)
    finally:
        service.close()
    base, served = statistics.median(times["shuffle"]), statistics.median(times["recency_bias"])
    print(f"median epoch: in-process shuffle {base:.2f} s, through the service {served:.2f} s, "
          f"ratio {served / base:.3f} (target <= 1.03)")


if __name__ == "__main__":
    sys.exit(main())
