"""The benchmark's data scenarios and the paper's measures (spec section 8), on small exact inputs."""
import pathlib
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("tqdm")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples"))

import benchmark  # noqa: E402
import fashion_mnist as fm  # noqa: E402


def test_symmetric_noise_flips_the_stated_fraction_to_other_classes_the_same_way_every_time():
    labels = np.repeat(np.arange(10), 500)
    noisy = fm.symmetric_noise(labels, 0.2)
    flipped = noisy != labels
    assert flipped.sum() == 1000  # exactly 20%, every flip to a different class
    assert np.array_equal(noisy, fm.symmetric_noise(labels, 0.2))  # deterministic
    # Flips go to the other nine classes about evenly (1000 flips: 111 expected each, +-5 sigma).
    targets = np.bincount((noisy[flipped] - labels[flipped]) % 10, minlength=10)
    assert targets[0] == 0 and all(60 < t < 165 for t in targets[1:])


def test_long_tail_keeps_n_max_times_ratio_to_the_minus_c_over_k_minus_1():
    labels = np.repeat(np.arange(10), 600)
    keep = fm.long_tail(labels, 10.0)
    counts = np.bincount(labels[keep], minlength=10)
    assert counts[0] == 600 and counts[9] == 60
    assert list(counts) == [round(600 * 10 ** (-c / 9)) for c in range(10)]
    assert np.array_equal(keep, np.sort(keep))


def test_best_error_within_a_budget_and_time_reduction_follow_the_paper():
    baseline = [(10.0, 0.30), (20.0, 0.20), (30.0, 0.15), (40.0, 0.16)]
    faster = [(10.0, 0.25), (20.0, 0.15), (30.0, 0.14), (40.0, 0.14)]
    assert benchmark.best_within(baseline, 25.0) == 0.20
    assert benchmark.time_to_best(baseline) == (0.15, 30.0)
    # The baseline's best (0.15) came at 30 s; the method reached it at 20 s: a third less time.
    assert benchmark.time_reduction(faster, baseline) == pytest.approx(1 / 3)
    assert benchmark.time_reduction(baseline, faster) is None  # the faster one's best (0.14) is never reached
    never = [(10.0, 0.5), (40.0, 0.4)]
    assert benchmark.time_reduction(never, baseline) is None


def test_the_regime_table_gives_each_seeds_best_error_and_its_reduction_against_random(tmp_path):
    import regime_table  # noqa: E402

    regime = tmp_path / "cnn-augment-sgd"
    regime.mkdir()
    rows = [("random", 0, 0.20), ("random", 0, 0.10), ("random", 1, 0.12), ("recency_bias", 0, 0.09),
            ("recency_bias", 0, 0.095), ("recency_bias", 1, 0.126)]
    with open(regime / "runs.csv", "w") as f:
        f.write("scenario,method,seed,test_error\n")
        f.writelines(f"clean,{m},{s},{e}\n" for m, s, e in rows)
    lines = regime_table.table([regime])
    # Best per seed: random 10.00 and 12.00, recency_bias 9.00 and 12.60; reductions +10% and -5%.
    assert lines[2] == "| cnn-augment-sgd | clean | random | 11.00 ± 1.41 | 10.00, 12.00 |  |"
    assert lines[3] == "| cnn-augment-sgd | clean | recency_bias | 10.80 ± 2.55 | 9.00, 12.60 | +10.0%, -5.0% |"
