"""The benchmark: trains the Fashion-MNIST example through the service for each strategy, seed and
scenario, records every epoch (wall-clock, train loss, test error) and computes the paper's two
measures (docs/recency-bias.md, section 8). Writes runs.csv, a PNG per scenario and results.md.

    python examples/benchmark.py --out ../../docs/results          # the full comparison
    python examples/benchmark.py --quick --out /tmp/bench-quick     # checks the pipeline (< 5 min)

Runs are interleaved (seed by seed, strategy by strategy) so that slow phases of a shared machine
hit every strategy alike, and runs.csv is appended after each run: an interrupted benchmark
resumes where it stopped when started again with the same --out.
"""
import argparse
import csv
import dataclasses
import math
import os
import pathlib
import platform
import statistics
import sys
import time
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch

import fashion_mnist as fm

STRATEGIES = ("random", "recency_bias", "online_batch", "active_bias")
SCENARIOS = {  # name -> (label noise, long-tail ratio)
    "clean": (0.0, 1.0),
    "noisy": (0.2, 1.0),
    "imbalanced": (0.0, 10.0),
}
FIELDS = ["scenario", "method", "strategy", "initial_pressure", "seed", "epoch", "epoch_seconds", "wall_clock",
          "train_loss", "test_error", "phase", "selection_pressure"]


@dataclasses.dataclass(frozen=True)
class Run:
    scenario: str
    strategy: str
    seed: int
    initial_pressure: Optional[float] = None  # None: the service default (100)
    noisy_labels: str = "ignore"

    @property
    def method(self) -> str:
        name = self.strategy if self.initial_pressure is None else f"{self.strategy} s0={self.initial_pressure:g}"
        return name if self.noisy_labels == "ignore" else f"{name} {self.noisy_labels}"


def plan(args: argparse.Namespace) -> List[Run]:
    runs = []
    for scenario in args.scenarios:
        for seed in args.seeds:
            runs += [Run(scenario, strategy, seed) for strategy in args.strategies]
            if scenario in args.sensitivity_scenarios:
                runs += [Run(scenario, "recency_bias", seed, s0) for s0 in args.sensitivity]
            if scenario in args.noisy_labels_scenarios:
                runs += [Run(scenario, "recency_bias", seed, noisy_labels=mode) for mode in args.noisy_labels]
    return runs


def done_runs(path: pathlib.Path) -> Dict[Tuple[str, str, int], int]:
    """(scenario, method, seed) -> epochs recorded."""
    counts: Dict[Tuple[str, str, int], int] = defaultdict(int)
    if path.exists():
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                counts[(row["scenario"], row["method"], int(row["seed"]))] += 1
    return counts


def train_one(run: Run, args: argparse.Namespace, target: str) -> List[dict]:
    noise, imbalance = SCENARIOS[run.scenario]
    train_args = fm.parser().parse_args([])
    train_args.strategy = run.strategy
    train_args.seed = run.seed
    train_args.epochs = args.epochs
    train_args.batch_size = args.batch_size
    train_args.lr = args.lr
    train_args.momentum = args.momentum
    train_args.nesterov = args.nesterov
    train_args.model = args.model
    train_args.augment = args.augment
    train_args.device = args.device
    train_args.window = args.window
    train_args.warmup_epochs = args.warmup_epochs
    train_args.initial_pressure = run.initial_pressure
    train_args.noisy_labels = run.noisy_labels
    train_args.limit_train = args.limit_train
    train_args.label_noise = noise
    train_args.imbalance = imbalance
    train_args.data_dir = args.data_dir
    train_args.quiet = True
    rows = []
    for record in fm.train_epochs(train_args, target):
        row = {"scenario": run.scenario, "method": run.method, "initial_pressure": run.initial_pressure or "",
               **dataclasses.asdict(record)}
        rows.append({key: row[key] for key in FIELDS})
    return rows


# -- the paper's measures (spec section 8) -------------------------------------------------------
Curve = List[Tuple[float, float]]  # (wall-clock seconds, test error) after each epoch


def best_within(curve: Curve, budget: float) -> float:
    """Best test error reached at or before `budget` seconds."""
    errors = [error for t, error in curve if t <= budget]
    return min(errors) if errors else math.nan


def time_to_best(curve: Curve) -> Tuple[float, float]:
    """(best error, first time it was reached)."""
    best = min(error for _, error in curve)
    return best, next(t for t, error in curve if error == best)


def time_reduction(method: Curve, baseline: Curve) -> Optional[float]:
    """(t_base - t_method) / t_base, with t_base the time the baseline reached its best error and
    t_method the first time the method reached that error; None if it never did."""
    target, t_base = time_to_best(baseline)
    t_method = next((t for t, error in method if error <= target), None)
    return None if t_method is None else (t_base - t_method) / t_base


def mean_std(values: Sequence[float]) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


# The paper's time axis is wall-clock. Epochs completed is a second one: every strategy runs the
# same steps per epoch, so it measures the same compute without the machine's noise (and without
# the strategies' small differences in cost per step).
AXES = {"wall-clock": "s", "epochs": "epochs"}


def curves_of(rows: Iterable[dict], axis: str = "wall-clock") -> Dict[str, Dict[str, Dict[int, Curve]]]:
    """scenario -> method -> seed -> curve, epochs in order."""
    curves: Dict[str, Dict[str, Dict[int, Curve]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        curve = curves[row["scenario"]][row["method"]].setdefault(int(row["seed"]), [])
        t = float(row["wall_clock"]) if axis == "wall-clock" else int(row["epoch"]) + 1.0
        curve.append((t, float(row["test_error"])))
    return curves


def scenario_tables(methods: Dict[str, Dict[int, Curve]], baseline_methods: Sequence[str],
                    unit: str = "s") -> Tuple[float, List[str]]:
    """The budget and markdown lines of one scenario's tables; times in `unit`."""
    # The budget is the shortest complete run, so every method is judged on the same time.
    budget = min(curve[-1][0] for seeds in methods.values() for curve in seeds.values())
    lines = [f"Time budget: {budget:.1f} {unit} of training (the shortest complete run).", "",
             "| method | seeds | best test error within budget (%) | best test error, whole run (%) | "
             f"final test error (%) | training time ({unit}) |",
             "|---|---|---|---|---|---|"]
    for method, seeds in methods.items():
        within = [100 * best_within(c, budget) for c in seeds.values()]
        best = [100 * time_to_best(c)[0] for c in seeds.values()]
        final = [100 * c[-1][1] for c in seeds.values()]
        seconds = [c[-1][0] for c in seeds.values()]
        lines.append(f"| {method} | {len(seeds)} | {mean_std(within)} | {mean_std(best)} | {mean_std(final)} | "
                     f"{mean_std(seconds)} |")
    lines += ["", "Recency Bias against each baseline, per seed: **time reduction** to the baseline's best error, "
              "(t_base - t_rb) / t_base in % (negative: Recency Bias was slower; 'never': it did not reach "
              "that error), and **error reduction** at the time budget, (e_base - e_rb) / e_base in % "
              "(negative: Recency Bias was worse):", "",
              "| method | vs | time reduction per seed | mean ± std (seeds that reached it) | "
              "error reduction per seed | mean ± std |", "|---|---|---|---|---|---|"]
    for method in [m for m in methods if m.startswith("recency_bias")]:
        rb = methods[method]
        for baseline in baseline_methods:
            if baseline not in methods:
                continue
            seeds = sorted(set(rb) & set(methods[baseline]))
            times = [time_reduction(rb[s], methods[baseline][s]) for s in seeds]
            errors = []
            for s in seeds:
                base, ours = best_within(methods[baseline][s], budget), best_within(rb[s], budget)
                errors.append(100 * (base - ours) / base)
            shown = ", ".join("never" if r is None else f"{100 * r:+.0f}" for r in times)
            reached = [100 * r for r in times if r is not None]
            lines.append(f"| {method} | {baseline} | {shown} | {mean_std(reached)} ({len(reached)} of {len(times)}) | "
                         f"{', '.join(f'{e:+.1f}' for e in errors)} | {mean_std(errors)} |")
    return budget, lines


def plot(methods: Dict[str, Dict[int, Curve]], title: str, out: pathlib.Path, xlabel: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    for i, (method, seeds) in enumerate(methods.items()):
        color = f"C{i}"
        for n, curve in enumerate(seeds.values()):
            ax.plot([t for t, _ in curve], [100 * e for _, e in curve], color=color, alpha=0.35, lw=0.8)
        epochs = min(len(c) for c in seeds.values())
        mean_t = [statistics.mean(c[e][0] for c in seeds.values()) for e in range(epochs)]
        mean_e = [statistics.mean(100 * c[e][1] for c in seeds.values()) for e in range(epochs)]
        ax.plot(mean_t, mean_e, color=color, lw=2, marker=".", label=f"{method} (mean of {len(seeds)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test error (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    lo = min(100 * e for seeds in methods.values() for c in seeds.values() for _, e in c)
    ax.set_ylim(lo * 0.95, lo * 1.6)  # the interesting part: the last few points of error
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def regime(args: argparse.Namespace) -> str:
    """The training regime in words: model, augmentation, optimizer, device."""
    model = "the example's small CNN" if args.model == "small_cnn" else "a ResNet-8"
    optimizer = "plain SGD" if args.momentum == 0 else (
        f"SGD with {'Nesterov ' if args.nesterov else ''}momentum {args.momentum:g}")
    return (f"{model}, {'random crop and flip' if args.augment else 'no augmentation'}, {optimizer}, "
            f"on {args.device or 'the CPU (DataLoader)'}")


def report(rows: List[dict], args: argparse.Namespace, out: pathlib.Path, command: str) -> str:
    curves = curves_of(rows)
    baselines = [m for m in ("random", "online_batch", "active_bias")]
    lines = ["# Benchmark results", "",
             f"Command: `{command}`  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads, Python {platform.python_version()}.  ",
             f"Setup: Fashion-MNIST, {'first ' + str(args.limit_train) if args.limit_train else 'all 60,000'} training "
             f"images (before the scenario's changes), official 10,000 test images; {regime(args)}; "
             f"batch {args.batch_size}, lr {args.lr} divided by 10 at 50% and 75% of "
             f"{args.epochs} epochs; window q = {args.window}, warm-up g = {args.warmup_epochs} epochs, s0 = 100 "
             f"unless named.", ""]
    by_epochs = curves_of(rows, "epochs")
    for scenario, methods in curves.items():
        noise, imbalance = SCENARIOS[scenario]
        lines += [f"## {scenario} (label noise {noise:.0%}, long-tail ratio {imbalance:g})", "",
                  "### Time axis: training wall-clock (the paper's measure)", ""]
        _, table = scenario_tables(methods, baselines, AXES["wall-clock"])
        png = out / f"{scenario}.png"
        plot(methods, f"Fashion-MNIST, {scenario}: test error against training time", png, "training wall-clock (s)")
        lines += table + ["", f"![{scenario}]({png.name})", "",
                          "### Time axis: epochs completed (same compute, free of the machine's noise)", ""]
        _, table = scenario_tables(by_epochs[scenario], baselines, AXES["epochs"])
        png = out / f"{scenario}-epochs.png"
        plot(by_epochs[scenario], f"Fashion-MNIST, {scenario}: test error by epoch", png, "epochs completed")
        lines += table + ["", f"![{scenario} by epoch]({png.name})", ""]
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="benchmark-results", help="directory for runs.csv, PNGs and results.md")
    p.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES))
    p.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--sensitivity", nargs="*", type=float, default=[10.0],
                   help="extra initial pressures s0 for recency_bias (the default run is s0 = 100)")
    p.add_argument("--sensitivity-scenarios", nargs="*", choices=list(SCENARIOS), default=["clean"])
    p.add_argument("--noisy-labels", nargs="*", choices=["exclude", "refurbish"], default=[],
                   help="extra recency_bias runs with these noisy_labels options (beyond the paper)")
    p.add_argument("--noisy-labels-scenarios", nargs="*", choices=list(SCENARIOS), default=["noisy"])
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--window", type=int, default=4)
    p.add_argument("--warmup-epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum; 0: plain SGD")
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--model", choices=["small_cnn", "resnet"], default="small_cnn")
    p.add_argument("--augment", action="store_true", help="random crop and horizontal flip")
    p.add_argument("--device", default=None, help="data resident on this device, batches from sampler.batches()")
    p.add_argument("--limit-train", type=int, default=20000, help="first N training images (0: all)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--data-dir", default=fm.DEFAULT_DATA)
    p.add_argument("--target", default=None, help="service host:port (default: start one)")
    p.add_argument("--quick", action="store_true",
                   help="a pipeline check: 1 seed, 1,000 images, 3 epochs, q = g = 1, every strategy and scenario, "
                        "and the noisy_labels options")
    p.add_argument("--report-only", action="store_true", help="recompute tables and plots from runs.csv")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    args = parser().parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.window, args.warmup_epochs, args.limit_train = [0], 3, 1, 1, 1000
        args.noisy_labels = args.noisy_labels or ["exclude", "refurbish"]
    args.limit_train = args.limit_train or None
    if args.threads:
        torch.set_num_threads(args.threads)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs_csv = out / "runs.csv"
    command = "python examples/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:])
    recorded = out / "command.txt"  # the command that made runs.csv, quoted by --report-only too
    if args.report_only and recorded.exists():
        command = recorded.read_text().strip()
    if not args.report_only:
        recorded.write_text(command + "\n")
        done = done_runs(runs_csv)
        todo = [r for r in plan(args) if done.get((r.scenario, r.method, r.seed), 0) < args.epochs]
        if any(0 < done.get((r.scenario, r.method, r.seed), 0) for r in todo):
            raise SystemExit(f"{runs_csv} holds a partial run; remove its rows (or the file) and start again")
        service = fm.LocalService() if args.target is None else None
        target = args.target or service.target
        try:
            for n, run in enumerate(todo, 1):
                started = time.perf_counter()
                rows = train_one(run, args, target)
                new_file = not runs_csv.exists()
                with open(runs_csv, "a", newline="") as f:
                    writer = csv.DictWriter(f, fieldnames=FIELDS)
                    if new_file:
                        writer.writeheader()
                    writer.writerows(rows)
                best = min(float(r["test_error"]) for r in rows)
                print(f"[{n}/{len(todo)}] {run.scenario} {run.method} seed {run.seed}: best test error "
                      f"{100 * best:.2f}% in {time.perf_counter() - started:.0f} s", flush=True)
        finally:
            if service:
                service.close()
    with open(runs_csv, newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["scenario"] in args.scenarios]
    markdown = report(rows, args, out, command)
    (out / "results.md").write_text(markdown)
    print(markdown)
    print(f"wrote {out / 'results.md'}")


if __name__ == "__main__":
    main()
