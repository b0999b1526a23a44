"""Fan-out mode over torch.distributed (gloo, CPU): rank 0 alone calls the service, every rank
gets its share by broadcast, predictions reach the service in bulk from rank 0, and the number
of service calls does not grow with the world size."""
import json
import pathlib
import re
import urllib.request

import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

from recency_sampler import RecencyBatchSampler, SamplerClient  # noqa: E402
from recency_sampler._fan_out import share_bounds  # noqa: E402

from .devices import needs_cuda  # noqa: E402
from .service import ServiceProcess  # noqa: E402

CONFIG = dict(dataset_size=150, num_classes=4, batch_size=24, epochs=3, warmup_epochs=1, window=2, seed=11,
              strategy="active_bias", active_bias_mode="reweight")


def _job(rank, world_size, init_file, target, out_dir, name, device, relay):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    torch.manual_seed(rank)
    with SamplerClient(target) as client:
        sampler = RecencyBatchSampler(client, name=name, prefetch=4, relay=relay, **CONFIG)
        x, y = torch.randn(150, 3, device=device), torch.arange(150, device=device) % 4
        model = torch.nn.Linear(3, 4).to(device)
        seen, asked_ahead = {}, []
        for epoch in range(3):
            for batch in sampler.batches(device):
                assert batch.indices.device.type == device
                weights = sampler.loss_weights(batch)
                outputs = model(x[batch.indices])
                losses = torch.nn.functional.cross_entropy(outputs, y[batch.indices], reduction="none")
                seen[batch.step] = {"indices": batch.indices.tolist(),
                                    "weights": None if weights is None else weights.tolist(),
                                    "labels": outputs.argmax(1).tolist(), "losses": losses.tolist()}
                sampler.report(batch, outputs, y[batch.indices])
            stream = sampler._fan_out.stream  # rank 0's: the next epoch's first chunks asked for
            asked_ahead.append(None if stream is None or stream._ahead is None else stream._ahead[0][:2])
        state = sampler.state_dict()
        sampler.close()
    result = {"mode": sampler.mode, "seen": seen, "state": state, "asked_ahead": asked_ahead}
    pathlib.Path(out_dir, f"rank{rank}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


def _calls(service):
    text = urllib.request.urlopen(f"http://127.0.0.1:{service.http_port}/metrics", timeout=10).read().decode()
    calls = {}
    for method, count in re.findall(r'recency_sampler_grpc_requests_total\{method="(\w+)",code="OK"\} (\d+)', text):
        calls[method] = calls.get(method, 0) + int(count)
    return calls


@pytest.mark.parametrize("world_size,device,relay", [(2, "cpu", False), (4, "cpu", False), (2, "cpu", True),
                                                    pytest.param(2, "cuda", False, marks=needs_cuda)])
def test_rank_zero_alone_calls_the_service_and_every_rank_gets_its_share(tmp_path, world_size, device, relay):
    service = ServiceProcess(tmp_path / "sampler.db").start()
    try:
        name = f"fan-out-{world_size}"
        mp.spawn(_job, args=(world_size, str(tmp_path / "init"), service.target, str(tmp_path), name, device, relay),
                 nprocs=world_size, join=True)
        calls = _calls(service)  # the job's calls, before this test's own
        results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world_size)]
        with SamplerClient(service.target) as client:
            info = client.get_sampler(name)
            steps = info.total_steps
            for step in range(steps):
                served = client.next_batch(name, step)  # the global batch, as rank 0 fetched it
                for rank, result in enumerate(results):
                    lo, size = share_bounds(len(served.array), rank, world_size)
                    got = result["seen"][str(step)]
                    assert got["indices"] == served.indices[lo:lo + size], f"step {step}, rank {rank}"
                    want = None if served.weights is None else served.weights[lo:lo + size].tolist()
                    assert got["weights"] == (None if want is None else pytest.approx(want)), f"weights of step {step}"
            assert any(r["seen"][str(steps - 1)]["weights"] for r in results), "the adaptive epochs carried weights"
            # Every rank's prediction arrived, one report per step (from rank 0), none twice.
            assert (info.reports_received, info.predictions_received) == (steps, 3 * 150)  # reweighting serves permutations
            # ... under its own sample: the last epoch's label and loss of each (gathered per chunk).
            for step in range(steps - info.steps_per_epoch, steps, 2):
                for result in results:
                    got = result["seen"][str(step)]
                    for index, label, loss in list(zip(got["indices"], got["labels"], got["losses"]))[:3]:
                        url = f"http://127.0.0.1:{service.http_port}/v1/samplers/{name}/samples/{index}"
                        stored = json.loads(urllib.request.urlopen(url, timeout=10).read())
                        assert (stored["window"][-1], stored["latestLoss"]) == (label, pytest.approx(loss, rel=1e-4, abs=1e-5))
        assert all(r["mode"] == "fan_out" for r in results)
        assert all(r["state"] == {"name": name, "epoch": 2, "step_in_epoch": 7} for r in results)
        # Rank 0 asked for the next epoch's first chunks as each epoch but the last ended (after
        # its reports: the P of each epoch saw all of them, the reports' test above checks they
        # all landed); those asks are the epoch's own calls, so their number is unchanged.
        assert results[0]["asked_ahead"] == [[7, 14], [14, 21], None]
        assert all(r["asked_ahead"] == [None] * 3 for r in results[1:])
        # Independent of the world size: 3 epochs of 7 steps in chunks of 4 is 6 NextBatches calls;
        # reports go in one bulk call per epoch at most twice (chunk boundaries and the epoch's flush).
        assert calls.get("NextBatches") == 6 and calls.get("NextBatch", 0) == 0
        assert calls.get("ReportPredictionsBulk", 0) <= 6 and calls.get("ReportPredictions", 0) == 0
        assert calls.get("CreateSampler") == 1
    finally:
        service.stop()


class _Indices(torch.utils.data.Dataset):
    def __len__(self):
        return 150

    def __getitem__(self, i):
        return i


def _last_report_job(rank, world_size, init_file, target, name, relay, workers, out_dir):
    """Reports label 0 everywhere except the last step of epoch 1 (label 1), then serves epoch 2;
    with ``workers``, through a DataLoader whose workers fetch batches ahead of the loop."""
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    with SamplerClient(target) as client:
        sampler = RecencyBatchSampler(client, name=name, prefetch=4, relay=relay, dataset_size=150, num_classes=4,
                                      batch_size=24, epochs=4, warmup_epochs=1, window=2, seed=5)
        spe = len(sampler)
        loader = torch.utils.data.DataLoader(_Indices(), batch_sampler=sampler, num_workers=workers,
                                             prefetch_factor=2) if workers else None
        asked_ahead = []
        for epoch in range(3):
            for i, batch in enumerate(loader if loader is not None else sampler.batches("cpu")):
                last = epoch * spe + i == 2 * spe - 1
                sampler.report(batch, torch.full((len(batch if loader is not None else batch.indices),), int(last),
                                                 dtype=torch.int64))
            stream = sampler._fan_out.stream
            asked_ahead.append(None if stream is None or stream._ahead is None else stream._ahead[0][:2])
            if rank == 0 and epoch == 0:  # a checkpoint on rank 0 alone: its state waits for the reports
                state = sampler.state_dict()
                landed = client.get_sampler(name).reports_received
        sampler.close()
    if rank == 0:
        pathlib.Path(out_dir, "state.json").write_text(json.dumps({"state": state, "landed": landed}))
    pathlib.Path(out_dir, f"rank{rank}.json").write_text(json.dumps(asked_ahead))
    dist.destroy_process_group()


@pytest.mark.parametrize("relay,workers", [(True, 0), (False, 0), (True, 2)])
def test_the_next_epochs_first_chunks_asked_by_rank_zero_see_every_ranks_last_report(tmp_path, relay, workers):
    """Rank 0 asks for the next epoch's first chunks as an epoch ends (with a DataLoader whose
    workers fetch ahead: once the loop has reported the last batch); the service freezes that
    epoch's P at its first fetch, so the P must see the last step's reports of every rank: here
    they alone make their samples uncertain (window 2: label 0 in epoch 0, then 1)."""
    service = ServiceProcess(tmp_path / "sampler.db").start()
    try:
        name = f"fan-out-last-report-{relay}-{workers}"
        mp.spawn(_last_report_job, args=(2, str(tmp_path / "init"), service.target, name, relay, workers, str(tmp_path)),
                 nprocs=2, join=True)
        with SamplerClient(service.target) as client:
            info = client.get_sampler(name)
            last_batch = client.next_batch(name, 2 * info.steps_per_epoch - 1).indices
            epoch_2 = [d for d in info.epochs if d.epoch == 2][0]
            assert epoch_2.uncertain_share == pytest.approx(len(set(last_batch)) / 150)
        asked = json.loads((tmp_path / "rank0.json").read_text())
        assert asked == [[7, 14], [14, 21], [21, 28]], "rank 0 asked for each next epoch ahead"
        checkpoint = json.loads((tmp_path / "state.json").read_text())
        assert (checkpoint["state"]["epoch"], checkpoint["state"]["step_in_epoch"]) == (1, 0)
        assert checkpoint["landed"] == 7, "every report of epoch 0 was in when state_dict() returned"
    finally:
        service.stop()
