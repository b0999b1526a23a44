"""Per-step cost of going through the service: trains the Fashion-MNIST example twice in one
process, with Recency Bias through the service and with in-process shuffling (same model, seed
and data path), alternating epoch by epoch so each pair of epochs is timed seconds apart (this
machine's speed drifts by more than the effect over minutes), and prints the median ratio of
paired epoch times.

    python examples/overhead.py --epochs 8
"""
import argparse
import statistics
import sys

import fashion_mnist


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DATA)
    args = p.parse_args()
    service = fashion_mnist.LocalService()
    runs = {}
    try:
        for strategy in ("shuffle", "recency_bias"):
            run = fashion_mnist.parser().parse_args([
                "--strategy", strategy, "--epochs", str(args.epochs), "--seed", "0", "--quiet",
                "--data-dir", args.data_dir, "--warmup-epochs", "1",
                *(["--limit-train", str(args.limit_train)] if args.limit_train else [])])
            runs[strategy] = fashion_mnist.train_epochs(run, service.target)
        ratios = []
        for epoch in range(args.epochs):
            base = next(runs["shuffle"]).epoch_seconds
            served = next(runs["recency_bias"]).epoch_seconds
            # The first pair warms caches, allocators and the JIT up: not counted.
            if epoch > 0:
                ratios.append(served / base)
            print(f"epoch {epoch}: in-process shuffle {base:.2f} s, through the service {served:.2f} s, "
                  f"ratio {served / base:.3f}" + (" (warm-up, not counted)" if epoch == 0 else ""), flush=True)
    finally:
        for run in runs.values():
            run.close()
        service.close()
    print(f"per-epoch time through the service / in-process shuffling: median {statistics.median(ratios):.3f} "
          f"over {len(ratios)} epoch pairs (min {min(ratios):.3f}, max {max(ratios):.3f}; target <= 1.03)")


if __name__ == "__main__":
    sys.exit(main())
