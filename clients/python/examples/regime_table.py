"""One table across benchmark outputs: per regime (a benchmark --out directory) and method, the best
test error of each seed, its mean and spread, and the relative error reduction against random
batches of the same seed (positive: lower error than random). Epoch axis: every run of a regime
trains the same epochs, so the best error of the whole run is compared.

    python examples/regime_table.py ../../docs/results/regimes/* ../../docs/results/noisy-labels
"""
import argparse
import csv
import pathlib
import statistics
from collections import defaultdict
from typing import Dict, List, Sequence


def best_errors(runs_csv: pathlib.Path) -> Dict[str, Dict[str, Dict[int, float]]]:
    """scenario -> method -> seed -> best test error (%) over the run."""
    best: Dict[str, Dict[str, Dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    with open(runs_csv, newline="") as f:
        for row in csv.DictReader(f):
            seeds = best[row["scenario"]][row["method"]]
            seed, error = int(row["seed"]), 100 * float(row["test_error"])
            seeds[seed] = min(seeds.get(seed, error), error)
    return best


def spread(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def table(directories: Sequence[pathlib.Path]) -> List[str]:
    lines = ["| regime | scenario | method | best test error (%), mean ± std | per seed | vs random, per seed |",
             "|---|---|---|---|---|---|"]
    for directory in directories:
        for scenario, methods in best_errors(directory / "runs.csv").items():
            random = methods.get("random", {})
            for method, seeds in methods.items():
                order = sorted(seeds)
                per_seed = ", ".join(f"{seeds[s]:.2f}" for s in order)
                versus = "" if method == "random" else ", ".join(
                    f"{100 * (random[s] - seeds[s]) / random[s]:+.1f}%" for s in order if s in random)
                lines.append(f"| {directory.name} | {scenario} | {method} | {spread([seeds[s] for s in order])} | "
                             f"{per_seed} | {versus} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("directories", nargs="+", type=pathlib.Path, help="benchmark --out directories (each with runs.csv)")
    args = p.parse_args()
    print("\n".join(table(args.directories)))
    for directory in args.directories:
        command = directory / "command.txt"
        if command.exists():
            print(f"\n{directory.name}: `{command.read_text().strip()}`", end="")
    print()


if __name__ == "__main__":
    main()
