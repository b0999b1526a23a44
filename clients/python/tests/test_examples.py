"""The examples run end to end: Fashion-MNIST training to CSV, the plot, and torchrun with two
gloo ranks sharing one sampler. Needs the Fashion-MNIST IDX files (apt-get install
dataset-fashion-mnist)."""
import csv
import os
import pathlib
import subprocess
import sys
import time

import pytest

pytest.importorskip("torch")
pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")

HERE = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = HERE / "examples"
DATA = pathlib.Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
if not DATA.exists():
    if "data" not in os.environ.get("RS_TEST_SKIP", "").split(","):
        raise RuntimeError(f"no Fashion-MNIST in {DATA}: run scripts/setup.sh (apt-get install dataset-fashion-mnist), "
                           f"point FASHION_MNIST_DIR at the IDX files, or set RS_TEST_SKIP=data")
    pytest.skip(f"no Fashion-MNIST in {DATA} (RS_TEST_SKIP=data)", allow_module_level=True)
ENV = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{EXAMPLES}"}


def run(*args: str, timeout: float = 600) -> str:
    done = subprocess.run([*args], cwd=HERE, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_fashion_mnist_trains_through_the_service_and_the_plot_draws_it(service, tmp_path):
    for strategy in ("recency_bias", "shuffle"):
        run(sys.executable, "examples/fashion_mnist.py", "--strategy", strategy, "--epochs", "2", "--limit-train", "1024",
            "--target", service.target, "--csv", str(tmp_path / f"{strategy}.csv"), "--quiet")
        rows = list(csv.DictReader(open(tmp_path / f"{strategy}.csv")))
        assert [int(r["epoch"]) for r in rows] == [0, 1]
        assert all(0 <= float(r["test_error"]) <= 1 and float(r["wall_clock"]) > 0 for r in rows)
    assert [r["phase"] for r in csv.DictReader(open(tmp_path / "recency_bias.csv"))] == ["WARMUP", "ADAPTIVE"]
    out = run(sys.executable, "examples/plot.py", str(tmp_path / "recency_bias.csv"), str(tmp_path / "shuffle.csv"),
              "--out", str(tmp_path / "curves.png"))
    assert "wrote" in out and (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_data_loader_says_how_to_get_missing_data(tmp_path):
    done = subprocess.run([sys.executable, "examples/fashion_mnist.py", "--strategy", "shuffle", "--data-dir", str(tmp_path)],
                          cwd=HERE, env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "apt-get install dataset-fashion-mnist" in done.stderr


@pytest.mark.slow
def test_torchrun_with_two_ranks_shares_one_sampler(service, client):
    torchrun = pathlib.Path(sys.executable).with_name("torchrun")
    out = run(str(torchrun), "--nproc_per_node", "2", "examples/distributed.py", "--target", service.target,
              "--name", "example-ddp", "--epochs", "2", "--limit-train", "1024")
    assert "epoch 1: rank 0 trained on 512 samples of 8 steps" in out
    info = client.get_sampler("example-ddp")
    # Fan-out (the default under torch.distributed): rank 0 sent one report per step holding both
    # ranks' predictions; every prediction of both epochs arrived, none twice.
    assert (info.reports_received, info.predictions_received) == (2 * 8, 2 * 1024)


@pytest.mark.slow
def test_the_benchmark_quick_mode_runs_every_strategy_and_scenario_and_writes_the_report(service, tmp_path):
    # 15 runs of 35 to 45 s on the 2-core machine: 600 s was cut once (a guard against a hang, not a target).
    out = run(sys.executable, "examples/benchmark.py", "--quick", "--target", service.target, "--out", str(tmp_path),
              timeout=1500)
    rows = list(csv.DictReader(open(tmp_path / "runs.csv")))
    runs = {(r["scenario"], r["method"]) for r in rows}
    methods = {"random", "recency_bias", "online_batch", "active_bias", "recency_bias s0=10"}
    assert runs == ({("clean", m) for m in methods} | {(s, m) for s in ("noisy", "imbalanced") for m in methods
                                                       if m != "recency_bias s0=10"}
                    | {("noisy", "recency_bias exclude"), ("noisy", "recency_bias refurbish")})
    assert len(rows) == 3 * len(runs)  # 3 epochs each
    report = (tmp_path / "results.md").read_text()
    for scenario in ("clean", "noisy", "imbalanced"):
        assert f"## {scenario}" in report and (tmp_path / f"{scenario}.png").read_bytes()[:4] == b"\x89PNG"
    assert "| online_batch |" in report and "Recency Bias against each baseline" in report and "wrote" in out
    assert "Time axis: epochs completed" in report and (tmp_path / "clean-epochs.png").exists()
    # Started again, it finds every run done and only rewrites the report.
    again = run(sys.executable, "examples/benchmark.py", "--quick", "--target", service.target, "--out", str(tmp_path))
    assert "[1/" not in again and len(list(csv.DictReader(open(tmp_path / "runs.csv")))) == len(rows)


@pytest.mark.slow
def test_the_benchmark_regime_options_train_a_resnet_with_augmentation_and_plain_sgd_on_a_device(service, tmp_path):
    out = run(sys.executable, "examples/benchmark.py", "--quick", "--scenarios", "clean", "--strategies", "random",
              "recency_bias", "--sensitivity", "--model", "resnet", "--augment", "--momentum", "0", "--lr", "0.1",
              "--device", "cpu", "--target", service.target, "--out", str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / "runs.csv")))
    assert {r["method"] for r in rows} == {"random", "recency_bias"} and len(rows) == 6
    best = {m: min(float(r["test_error"]) for r in rows if r["method"] == m) for m in ("random", "recency_bias")}
    assert all(e < 0.85 for e in best.values()), f"a ResNet trained on 1,000 images beats chance: {best}"
    assert "a ResNet-8, random crop and flip, plain SGD, on cpu" in (tmp_path / "results.md").read_text() and "wrote" in out


def test_the_example_runs_without_tqdm_and_the_service_it_starts_prints_its_dashboard(capsys):
    # Without tqdm (a plain `pip install ./clients/python[torch]`) the example still imports and runs.
    code = ("import sys, runpy; sys.modules['tqdm'] = None; sys.argv = ['fashion_mnist.py', '--help']; "
            "runpy.run_path('examples/fashion_mnist.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=HERE, env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--strategy" in done.stdout, done.stderr
    sys.path.insert(0, str(EXAMPLES))
    import urllib.request

    from fashion_mnist import LocalService

    service = LocalService()
    try:
        line = capsys.readouterr().out
        assert f"service started: gRPC {service.target}, dashboard {service.dashboard}" in line
        assert urllib.request.urlopen(service.dashboard, timeout=10).status == 200
    finally:
        service.close()


def test_the_step_overhead_benchmark_measures_both_apis_with_and_without_the_relay_and_workers(service, tmp_path):
    out = tmp_path / "overhead.csv"
    for options in ([], ["--no-relay"], ["--back-to-back", "--api", "device"], ["--workers", "1", "--api", "loader"]):
        run(sys.executable, "examples/step_overhead.py", "--target", service.target, "--steps", "12", "--pairs", "1",
            "--step-ms", "0.2", "--batch", "32", "--csv", str(out), *options)
    rows = list(csv.DictReader(open(out)))
    assert [(r["mode"], r["api"], r["order"]) for r in rows] == [
        ("single", "loader", "alternated"), ("single", "device", "alternated"),
        ("single+threads", "loader", "alternated"), ("single+threads", "device", "alternated"),
        ("single", "device", "back-to-back"), ("single+w1", "loader", "alternated")]
    for r in rows:
        assert float(r["base_ms_per_step"]) >= 0.2 and float(r["ratio"]) > 0 and int(r["pairs"]) == 1
        if r["mode"] == "single+threads":
            assert float(r["background_cpu_us_per_step"]) > 0, "the sender and fetch threads ran"
        assert float(r["first_batch_ms"]) > 0 and float(r["epoch_end_ms"]) > 0, "the epoch boundary's two parts"
        assert 0 < float(r["in_epoch_wait_ms"]) < float(r["base_ms_per_step"]) * 12 * float(r["ratio"]), \
            "the time spent getting the epoch's other batches: some, and less than the epoch"


def test_a_script_that_forgets_to_close_its_local_service_does_not_leave_it_running():
    # Ends without close(): the service stops at exit (else it would hold the script's output open).
    out = subprocess.run([sys.executable, "-c", "from fashion_mnist import LocalService; "
                          "print(LocalService().process.pid, flush=True)"],
                         cwd=EXAMPLES, env=ENV, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.strip().splitlines()[-1])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        time.sleep(0.05)
    os.kill(pid, 9)
    raise AssertionError("the service outlived the script")
