"""Draws test error against training wall-clock for several CSVs written by fashion_mnist.py.

    python examples/plot.py rb.csv random.csv shuffle.csv --out curves.png
"""
import argparse
import csv
import pathlib

try:
    import matplotlib
except ImportError:
    raise SystemExit('plot.py needs matplotlib: pip install "./clients/python[examples]" (or pip install matplotlib)')

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("csv", nargs="+", help="CSV files of fashion_mnist.py --csv")
    p.add_argument("--out", default="curves.png")
    p.add_argument("--title", default="Fashion-MNIST: test error against training time")
    args = p.parse_args()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for path in args.csv:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        label = pathlib.Path(path).stem
        ax.plot([float(r["wall_clock"]) for r in rows], [100 * float(r["test_error"]) for r in rows], marker=".", label=label)
    ax.set_xlabel("training wall-clock (s)")
    ax.set_ylabel("test error (%)")
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
