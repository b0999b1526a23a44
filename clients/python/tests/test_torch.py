"""RecencyBatchSampler and IndexedDataset in real DataLoader loops, and 2 gloo ranks sharing one
sampler, against the real service."""
import json
import os
import pathlib

import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from recency_sampler import IndexedDataset, RecencyBatchSampler, SamplerClient  # noqa: E402

CONFIG = dict(dataset_size=120, num_classes=4, batch_size=12, epochs=3, warmup_epochs=1, window=2, seed=3)


def dataset():
    g = torch.Generator().manual_seed(0)
    return IndexedDataset(TensorDataset(torch.randn(120, 5, generator=g), torch.randint(0, 4, (120,), generator=g)))


def test_indexed_dataset_returns_the_index_first():
    ds = dataset()
    index, x, y = ds[7]
    assert index == 7 and x.shape == (5,) and len(ds) == 120
    assert IndexedDataset([10, 20])[1] == (1, 20)


def test_the_loader_yields_the_servers_batches_and_reports_land(client, name):
    sampler = RecencyBatchSampler(client, name=name, **CONFIG)
    assert len(sampler) == 10 and sampler.rank == 0 and sampler.world_size == 1
    loader = DataLoader(dataset(), batch_sampler=sampler)
    model = torch.nn.Linear(5, 4)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        seen = []
        for indices, x, y in loader:
            seen.append(indices.tolist())
            sampler.report(indices, model(x))  # logits: argmax is taken
        assert seen == [client.next_batch(name, epoch * 10 + s).indices for s in range(10)]
    sampler.flush()
    info = client.get_sampler(name)
    assert (info.reports_received, info.predictions_received) == (30, 360)
    assert sampler.diagnostics() == info.epochs and [d.epoch for d in info.epochs] == [0, 1, 2]
    sampler.close()


def test_workers_and_prefetching_loaders_work_too(client, name):
    sampler = RecencyBatchSampler(client, name=name, **CONFIG)
    loader = DataLoader(dataset(), batch_sampler=sampler, num_workers=2, prefetch_factor=2)
    batches = 0
    for indices, x, _ in loader:
        sampler.report(indices, torch.zeros(len(indices), dtype=torch.long))  # labels work as outputs
        batches += 1
    assert batches == 10
    sampler.flush()
    assert client.get_sampler(name).reports_received == 10
    sampler.close()


def test_with_prefetching_workers_the_next_epoch_is_asked_once_the_loop_reports_its_last_batch(client, name):
    """A DataLoader's workers fetch batches ahead, so the sampler's iteration ends before the loop
    has reported them. With the relay the next epoch's first calls are asked once the loop has
    reported the last one, after it: the next epoch takes them, and its P sees that report (here
    it alone makes its samples uncertain: window 2, label 0 in epoch 0 and 1, then 1)."""
    config = {**CONFIG, "epochs": 4}
    sampler = RecencyBatchSampler(client, name=name, relay=True, **config)
    loader = DataLoader(dataset(), batch_sampler=sampler, num_workers=2, prefetch_factor=2)
    spe = len(sampler)
    last_batch = None
    for epoch in range(3):
        for i, (indices, *_) in enumerate(loader):
            last = epoch == 1 and i == spe - 1
            if last:
                last_batch = indices.tolist()
            sampler.report(indices, torch.full((len(indices),), int(last), dtype=torch.long))
        if epoch < 2:
            ahead = sampler.stream._ahead
            assert ahead is not None and ahead[0][:2] == ((epoch + 1) * spe, (epoch + 2) * spe), \
                f"epoch {epoch + 1} asked ahead at the last report"
    sampler.flush()
    assert last_batch is not None
    diagnostics = {d.epoch: d for d in sampler.diagnostics()}
    assert diagnostics[2].uncertain_share == pytest.approx(len(set(last_batch)) / config["dataset_size"])
    assert client.get_sampler(name).reports_received == 3 * spe
    sampler.close()


def test_a_state_dict_saved_while_workers_have_fetched_to_the_epochs_end_names_the_loops_position(client, name):
    """With prefetching workers the sampler's iteration is over a few batches before the loop is:
    a checkpoint there must resume at the loop's next batch of that epoch, not at the next epoch."""
    sampler = RecencyBatchSampler(client, name=name, **CONFIG)
    loader = DataLoader(dataset(), batch_sampler=sampler, num_workers=2, prefetch_factor=2)
    spe = len(sampler)
    state = None
    for i, (indices, *_) in enumerate(loader):
        if i == spe - 2:  # the workers have fetched every batch of the epoch by now (4 ahead)
            state = sampler.state_dict()
        sampler.report(indices, torch.zeros(len(indices), dtype=torch.long))
    assert state is not None and (state["epoch"], state["step_in_epoch"]) == (0, spe - 2)
    sampler.close()
    resumed = RecencyBatchSampler(client, name=name, **CONFIG)
    resumed.load_state_dict(state)
    rest = [indices.tolist() for indices, *_ in DataLoader(dataset(), batch_sampler=resumed)]
    assert rest == [client.next_batch(name, s).indices for s in (spe - 2, spe - 1)]
    resumed.close()


def test_state_dict_resumes_mid_epoch_exactly(client, name):
    sampler = RecencyBatchSampler(client, name=name, **CONFIG)
    loader = DataLoader(dataset(), batch_sampler=sampler)
    for indices, *_ in loader:  # epoch 0
        sampler.report(indices, torch.zeros(len(indices), dtype=torch.long))
    for i, (indices, *_) in enumerate(loader):  # epoch 1: stop after 4 batches ("crash")
        sampler.report(indices, torch.zeros(len(indices), dtype=torch.long))
        if i == 3:
            break
    state = sampler.state_dict()
    sampler.close()
    resumed = RecencyBatchSampler(client, name=name, **CONFIG)
    resumed.load_state_dict(state)
    rest = [indices.tolist() for indices, *_ in DataLoader(dataset(), batch_sampler=resumed)]
    assert rest == [client.next_batch(name, 10 + s).indices for s in range(4, 10)]
    assert resumed.epoch == 2
    resumed.close()


def test_a_state_dict_saved_between_epochs_resumes_at_the_next_epochs_first_step(client, name):
    """The usual checkpoint: after each epoch's loop, without set_epoch() on resuming. The
    iteration has moved the sampler to the next epoch, so the state names its step 0 (an epoch
    is neither skipped nor served twice); after the last epoch, nothing is left to serve."""
    sampler = RecencyBatchSampler(client, name=name, **CONFIG)
    loader = DataLoader(dataset(), batch_sampler=sampler)
    for indices, *_ in loader:  # epoch 0
        sampler.report(indices, torch.zeros(len(indices), dtype=torch.long))
    state = sampler.state_dict()
    assert (state["epoch"], state["step_in_epoch"]) == (1, 0)
    resumed = RecencyBatchSampler(client, name=name, **CONFIG)
    resumed.load_state_dict(state)
    resumed_loader = DataLoader(dataset(), batch_sampler=resumed)
    for epoch in (1, 2):
        seen = []
        for indices, *_ in resumed_loader:
            seen.append(indices.tolist())
            resumed.report(indices, torch.zeros(len(indices), dtype=torch.long))
        assert seen == [client.next_batch(name, epoch * 10 + s).indices for s in range(10)]
    final = resumed.state_dict()
    assert (final["epoch"], final["step_in_epoch"]) == (2, 10)
    sampler.close()
    resumed.close()
    done = RecencyBatchSampler(client, name=name, **CONFIG)
    done.load_state_dict(final)
    assert list(DataLoader(dataset(), batch_sampler=done)) == [] and done.epoch == 2
    done.close()


def _rank_main(rank, world_size, init_file, target, out_dir, mode, name):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    with SamplerClient(target) as client:
        # rank and world size from torch.distributed; mode None is the default (fan-out)
        sampler = RecencyBatchSampler(client, name=name, mode=mode, **CONFIG)
        shares = {}
        for epoch in range(2):
            for indices, x, _ in DataLoader(dataset(), batch_sampler=sampler):
                shares[len(shares)] = indices.tolist()
                sampler.report(indices, torch.zeros(len(indices), dtype=torch.long))
        sampler.close()
    result = {"rank": sampler.rank, "world": sampler.world_size, "mode": sampler.mode, "shares": shares}
    pathlib.Path(out_dir, f"rank{rank}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


@pytest.mark.parametrize("mode", [None, "per_rank"])
def test_two_gloo_ranks_get_disjoint_shares_that_form_each_global_batch(service, client, tmp_path, mode):
    name = f"ddp-{mode or 'default'}"
    mp.spawn(_rank_main, args=(2, str(tmp_path / "init"), service.target, str(tmp_path), mode, name), nprocs=2, join=True)
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(r["rank"], r["world"], r["mode"]) for r in results] == [(0, 2, mode or "fan_out"), (1, 2, mode or "fan_out")]
    for step in range(20):
        a, b = (r["shares"][str(step)] for r in results)
        assert len(a) == len(b) == 6 and not set(a) & set(b), f"step {step}: shares overlap"
        if mode == "per_rank":  # every rank asked the service for its own share
            served = [client.next_batch(name, step, rank=r, world_size=2) for r in (0, 1)]
            assert [a, b] == [s.indices for s in served] and served[0].global_batch_size == 12
        else:  # rank 0 asked for the global batch and split it as the service would
            assert a + b == client.next_batch(name, step).indices
    # Per rank: one report per rank and step. Fan-out: rank 0 sent one report per step holding both shares.
    info = client.get_sampler(name)
    assert (info.reports_received, info.predictions_received) == ((40 if mode == "per_rank" else 20), 240)
