"""noisy_labels against the real service: reports carry the dataset labels, samples whose recent
predictions agree with each other but not with their label are suspected, and with "refurbish"
the sampler hands back their predicted class to train with: per rank, through a DataLoader, and
in fan-out mode over torch.distributed (gloo)."""
import json
import pathlib
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from recency_sampler import IndexedDataset, RecencyBatchSampler, SamplerClient  # noqa: E402

from .devices import DEVICES  # noqa: E402
from .service import ServiceProcess  # noqa: E402

N = 64
CONFIG = dict(dataset_size=N, num_classes=4, batch_size=16, epochs=5, window=2, warmup_epochs=2, seed=5)
LABELS = torch.arange(N) % 4  # the data set's labels
MISLABELED = torch.arange(N) % 8 == 0  # labelled 0, but the images show class 3: the model predicts 3


def outputs_for(indices: torch.Tensor) -> torch.Tensor:
    """Logits of a model that predicts the true class: 3 for the mislabeled samples, else the label."""
    predicted = torch.where(MISLABELED[indices], torch.tensor(3), LABELS[indices])
    return torch.nn.functional.one_hot(predicted, 4).float() * 5


def expected_labels(indices: torch.Tensor, epoch: int) -> torch.Tensor:
    """From the first adaptive epoch on, the mislabeled samples train with their predicted class."""
    labels = LABELS[indices]
    return torch.where(MISLABELED[indices], torch.tensor(3), labels) if epoch >= CONFIG["warmup_epochs"] else labels


@pytest.mark.parametrize("device", DEVICES)
def test_refurbished_labels_replace_the_suspected_samples_labels_and_the_service_counts_them(client, name, device):
    sampler = RecencyBatchSampler(client, name=name, noisy_labels="refurbish", **CONFIG)
    assert client.get_sampler(name).config.noisy_labels == "refurbish"
    labels = LABELS.to(device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # every window agrees with itself: P is uniform
        for epoch in range(4):
            sampler.set_epoch(epoch)
            for batch in sampler.batches(device):
                y = labels[batch.indices]
                trained_with = sampler.labels(batch, y)
                assert trained_with.device == y.device and trained_with.dtype == y.dtype
                assert torch.equal(trained_with.cpu(), expected_labels(batch.indices.cpu(), epoch)), f"epoch {epoch}"
                assert torch.equal(y, labels[batch.indices]), "targets are not changed"
                sampler.report(batch, outputs_for(batch.indices.cpu()).to(device), y)
    sampler.flush()
    shares = {d.epoch: d.suspected_mislabeled_share for d in sampler.diagnostics()}
    assert shares[0] == 0 and shares[2] == pytest.approx(MISLABELED.sum().item() / N)
    with pytest.raises(ValueError, match=r"^targets: noisy_labels='refurbish' compares predictions with the dataset labels"):
        sampler.report(batch, outputs_for(batch.indices.cpu()).to(device))
    sampler.close()


def test_the_dataloader_path_gets_the_same_labels_as_numpy_and_lists(client, name):
    sampler = RecencyBatchSampler(client, name=name, noisy_labels="refurbish", **CONFIG)
    loader = DataLoader(IndexedDataset(TensorDataset(torch.zeros(N, 1), LABELS)), batch_sampler=sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for epoch in range(3):
            sampler.set_epoch(epoch)
            for indices, _, y in loader:
                assert torch.equal(sampler.labels(indices, y), expected_labels(indices, epoch))
                as_numpy = sampler.labels(indices, y.numpy())
                assert isinstance(as_numpy, np.ndarray) and as_numpy.tolist() == expected_labels(indices, epoch).tolist()
                sampler.report(indices, outputs_for(indices).numpy(), y.numpy())
    sampler.close()


def test_the_client_sends_dataset_labels_and_names_a_bad_option(client, name):
    with pytest.raises(ValueError, match="noisy_labels must be one of ignore, exclude, refurbish"):
        client.create_sampler(name, noisy_labels="sometimes", **CONFIG)
    client.create_sampler(name, noisy_labels="exclude", **CONFIG)
    batch = client.next_batch(name, 0)
    result = client.report(name, 0, batch.array, LABELS[batch.array].numpy(), dataset_labels=LABELS[batch.array].numpy())
    assert result.accepted == len(batch)


def _job(rank, world_size, init_file, target, out_dir, name):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    with SamplerClient(target) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sampler = RecencyBatchSampler(client, name=name, prefetch=4, noisy_labels="refurbish", **CONFIG)
        seen = {}
        for epoch in range(4):
            sampler.set_epoch(epoch)
            for batch in sampler.batches("cpu"):
                y = LABELS[batch.indices]
                seen[batch.step] = {"indices": batch.indices.tolist(), "labels": sampler.labels(batch, y).tolist()}
                sampler.report(batch, outputs_for(batch.indices), y)
        sampler.close()
    pathlib.Path(out_dir, f"rank{rank}.json").write_text(json.dumps({"mode": sampler.mode, "seen": seen}))
    dist.destroy_process_group()


def test_fan_out_ranks_get_their_shares_refurbished_labels(tmp_path):
    service = ServiceProcess(tmp_path / "sampler.db").start()
    try:
        mp.spawn(_job, args=(2, str(tmp_path / "init"), service.target, str(tmp_path), "fan-out-refurbish"),
                 nprocs=2, join=True)
        results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
        assert all(r["mode"] == "fan_out" for r in results)
        steps_per_epoch = N // CONFIG["batch_size"]
        adaptive = 0
        for rank, result in enumerate(results):
            for step, got in result["seen"].items():
                indices = torch.tensor(got["indices"])
                assert got["labels"] == expected_labels(indices, int(step) // steps_per_epoch).tolist(), f"rank {rank}, step {step}"
                adaptive += int(step) // steps_per_epoch >= CONFIG["warmup_epochs"] and bool(MISLABELED[indices].any())
        assert adaptive > 0, "some adaptive share held a mislabeled sample"
    finally:
        assert service.stop() == 0
