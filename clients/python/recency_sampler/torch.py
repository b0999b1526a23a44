"""PyTorch integration: a batch sampler served by recency-sampler, and a dataset wrapper that
returns each sample's index so the loop can report on it.

Two ways to consume it:
- as a DataLoader ``batch_sampler`` (lists of indices, one per step), or
- for data already on the GPU, ``sampler.batches(device)``: each step's indices as a device
  tensor (one non-blocking copy per fetched chunk) with its step; ``report(batch, logits)``
  never synchronizes the device.

With torch.distributed initialised and world_size > 1 the default is fan-out mode: rank 0 alone
talks to the service, broadcasts each chunk of global batches to every rank in one collective,
and sends the ranks' predictions, gathered once per chunk, in bulk.
"""
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Dataset, Sampler

from . import _torch_reports as reports
from .client import Batch, SamplerClient
from .stream import BatchStream, Deferred

MODES = ("fan_out", "per_rank")


class IndexedDataset(Dataset):
    """Wraps a map-style dataset so that item i is ``(i, *dataset[i])``."""

    def __init__(self, dataset: Any):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        item = self.dataset[index]
        return (index, *item) if isinstance(item, tuple) else (index, item)


class StepBatch:
    """One step's indices on the training device, from ``RecencyBatchSampler.batches(device)``:
    ``indices`` (int64 tensor), ``step``, ``epoch``; ``batch`` is the served record report() uses.
    ``weights`` (float32) and ``refurbished`` (int32, -1: keep the label) are the step's per-index
    loss weights and refurbished labels on the same device when the service sent them, else None:
    ``loss_weights()`` and ``labels()`` read them without a copy per step."""
    __slots__ = ("step", "epoch", "indices", "batch", "weights", "refurbished")

    def __init__(self, step: int, epoch: int, indices: torch.Tensor, batch: Any,
                 weights: Optional[torch.Tensor] = None, refurbished: Optional[torch.Tensor] = None):
        self.step, self.epoch, self.indices, self.batch = step, epoch, indices, batch
        self.weights, self.refurbished = weights, refurbished

    def __len__(self) -> int:
        return len(self.batch)

    def __repr__(self) -> str:
        return f"StepBatch(step={self.step}, epoch={self.epoch}, indices={len(self.batch)} on {self.indices.device})"


def device_rows(arrays: Sequence[Optional[np.ndarray]], device: torch.device,
                dtype: torch.dtype = torch.int64) -> List[Optional[torch.Tensor]]:
    """A chunk's per-step arrays (indices, or a per-index field: None where a step has none) on
    ``device``, a row per step: one host block, one transfer (non-blocking, from pinned memory,
    when the device is a GPU), rows cut once per chunk."""
    present = [a for a in arrays if a is not None]
    if not present:
        return [None] * len(arrays)
    width = max(len(a) for a in present)
    host = torch.zeros((len(arrays), width), dtype=dtype, pin_memory=device.type == "cuda")
    view = host.numpy()
    if len(present) == len(arrays) and all(len(a) == width for a in present):
        np.stack(arrays, out=view)
    else:
        for row, array in enumerate(arrays):
            if array is not None:
                view[row, :len(array)] = array
    block = host.to(device, non_blocking=True) if device.type != "cpu" else host
    return [None if a is None else row if len(a) == width else row[:len(a)] for row, a in zip(block.unbind(0), arrays)]


def on_device(values: np.ndarray, device: torch.device) -> torch.Tensor:
    """Host values on ``device``: through pinned memory for a GPU, so that the copy does not wait
    for the device (a copy from pageable memory may synchronize with the stream)."""
    tensor = torch.from_numpy(np.ascontiguousarray(values))
    if device.type == "cuda":
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True) if device.type != "cpu" else tensor


class RecencyBatchSampler(Sampler[List[int]]):
    """A ``batch_sampler`` for ``DataLoader`` whose batches come from the service.

    ``batch_size`` is the global batch size; each rank gets its share. ``rank`` and
    ``world_size`` default to torch.distributed's when it is initialised. ``len()`` is this
    rank's steps per epoch. Call ``report(indices, outputs)`` after each forward pass.

    ``mode``: "fan_out" (the default with torch.distributed and world_size > 1: rank 0 alone
    calls the service; ``flush()``, ``close()`` and iteration are then collective, so every
    rank calls them, as DDP loops do) or "per_rank" (every rank calls the service itself, e.g.
    without torch.distributed). ``group``: the process group of fan-out mode.

    ``relay``: the per-step calls (NextBatches, ReportPredictionsBulk) are made by a helper
    process that the training thread drives, so no thread of the training process takes its GIL
    (the default where os.name is "posix", for one process and for rank 0 in fan-out mode; in
    per-rank mode only when True). False makes them from threads of this process, as does a
    client given a ``channel``. See clients/python/README.md.
    """

    def __init__(self, client: SamplerClient, *, name: str, dataset_size: int, num_classes: int, batch_size: int,
                 epochs: int, window: Optional[int] = None, warmup_epochs: Optional[int] = None,
                 initial_pressure: Optional[float] = None, seed: int = 0, strategy: str = "recency_bias",
                 drop_last: bool = False, rank: Optional[int] = None, world_size: Optional[int] = None,
                 prefetch: int = 64, active_bias_epsilon: Optional[float] = None, active_bias_mode: str = "sample",
                 noisy_labels: str = "ignore", mode: Optional[str] = None, group: Optional[Any] = None,
                 relay: Optional[bool] = None):
        super().__init__()
        distributed = dist.is_available() and dist.is_initialized()
        if world_size is None:
            world_size = dist.get_world_size(group) if distributed else 1
        if rank is None:
            rank = dist.get_rank(group) if distributed else 0
        mode = mode or ("fan_out" if distributed and world_size > 1 else "per_rank")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "fan_out" and not distributed:
            raise ValueError("mode: fan_out needs torch.distributed initialised (init_process_group)")
        self.mode = mode
        self.num_classes = num_classes
        config = dict(dataset_size=dataset_size, num_classes=num_classes, batch_size=batch_size, epochs=epochs,
                      window=window, warmup_epochs=warmup_epochs, initial_pressure=initial_pressure, seed=seed,
                      strategy=strategy, drop_last=drop_last, prefetch=prefetch,
                      active_bias_epsilon=active_bias_epsilon, active_bias_mode=active_bias_mode,
                      noisy_labels=noisy_labels, relay=relay)
        if mode == "fan_out":
            from ._fan_out import FanOut

            self._fan_out: Optional[Any] = FanOut(client, name, config, rank=rank, world_size=world_size, group=group)
            self.stream: Any = None
            self.ledger = self._fan_out.ledger
        else:
            self._fan_out = None
            self.stream = BatchStream(client, name, rank=rank, world_size=world_size, **config)
            self.ledger = self.stream.ledger
            self._relayed = self.stream.relayed
            self._targets_needed = self.stream.targets_needed
            if distributed and world_size > 1:
                # Every rank's reports of the last epoch are in before any rank asks for the next.
                self.stream.before_epoch = dist.barrier
        self._rank, self._world_size = rank, world_size
        self._client = client

    @property
    def name(self) -> str:
        return self.ledger.name

    def diagnostics(self) -> Any:
        """Whether selection does anything, per epoch served so far: a tuple of EpochDiagnostics
        (effective sample size of P relative to N, share of samples with F > 0, share of draws to
        the top tenth of P, and ``uniform``). One call to the service."""
        return self._client.get_sampler(self.name).epochs

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def world_size(self) -> int:
        return self._world_size

    @property
    def epoch(self) -> int:
        return self.ledger.epoch

    def __len__(self) -> int:
        return self.ledger.steps_per_epoch

    def __iter__(self) -> Iterator[List[int]]:
        """This rank's indices for each step of the epoch, as lists (the DataLoader role)."""
        if self._fan_out is not None:
            for share in self._fan_out.shares(None):
                yield share.array.tolist()
            return
        # The stream's chunks without the generators it stacks on them (each resumption between
        # two steps of a busy loop costs about a microsecond).
        served = self.ledger.served
        for chunk in self.stream.chunks():
            for batch in chunk:
                served(batch)
                yield batch.array.tolist()

    def batches(self, device: Union[str, torch.device, None] = None) -> Iterator[StepBatch]:
        """Each step's indices as an int64 tensor on ``device`` (default: the current CUDA device
        if there is one, else the CPU), with the step. For data already on the device::

            for batch in sampler.batches():
                logits = model(x_train[batch.indices])
                sampler.report(batch, logits, y_train[batch.indices])
        """
        target = torch.device(device) if device is not None else (
            torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu"))
        if self._fan_out is not None:
            for share in self._fan_out.shares(target):
                yield StepBatch(share.step, share.epoch, share.device_indices, share, share.device_weights,
                                share.device_refurbished)
            return
        served = self.ledger.served
        for chunk in self.stream.chunks():
            block = getattr(chunk, "block", None)
            if block is not None and target.type == "cpu":  # the rows of the chunk's decoded block: no copy
                rows: List[Optional[torch.Tensor]] = list(torch.from_numpy(block).unbind(0))
            else:
                rows = device_rows([b.array for b in chunk], target)
            weights = device_rows([b.weights for b in chunk], target, torch.float32)
            refurbished = device_rows([b.refurbished for b in chunk], target, torch.int32)
            for batch, row, w, r in zip(chunk, rows, weights, refurbished):
                served(batch)
                yield StepBatch(batch.step, batch.epoch, row, batch, w, r)

    def set_epoch(self, epoch: int) -> None:
        self.ledger.set_epoch(epoch)

    def report(self, batch: Any, outputs: Any, targets: Any = None) -> None:
        """Queues the batch's predictions; non-blocking, and never synchronizes the device.

        ``batch``: a StepBatch from ``batches()``, or the indices as the loader gave them.
        ``outputs``: logits or probabilities [n, num_classes], or labels [n] (tensors on any
        device, numpy arrays). Pass ``targets`` (true labels) to send per-sample losses and
        true-class probabilities too: ONLINE_BATCH and ACTIVE_BIAS need them."""
        key = batch.batch if type(batch) is StepBatch else batch
        if self._fan_out is not None:
            self._fan_out.report(key, outputs, targets)
            return
        stream = self.stream
        if not isinstance(outputs, torch.Tensor):
            stream.report(key, outputs, targets)
            return
        # Metadata checks and an append; every LAUNCH_CHUNK reports a few ops (stream.send). This
        # runs between two steps of a loop whose caches the step has just filled: each call and
        # attribute read here costs about a microsecond (measured), so there are few.
        stream.raise_if_failed()
        ledger = self.ledger
        served = ledger.find(key)
        checked = reports.check_outputs(outputs, served.array.shape[0], self.num_classes, targets)
        if checked is None and self._targets_needed:
            stream.check_targets_given()
        if self._relayed and outputs.is_cpu and outputs.dtype is not torch.bfloat16 and outputs.numel() <= reports.DEFER_ELEMENTS:
            # Held as they are (with their autograd graph, if any, until the group is joined: 32
            # steps at most): the training thread copies a group of them into the relay's ring at
            # once (one join; a numpy view per report cost ~20 us of a cold cache each), and the
            # helper reduces them. numpy has no bfloat16: those take the torch path.
            stream.hold(Deferred(served.step, served.packed, outputs, checked, reports.HOST, False), served.step)
        else:
            stream.hold(Deferred(served.step, served.packed, *reports.held(outputs, checked)), served.step)
        ledger.reported(served)

    def loss_weights(self, batch: Any) -> Optional[torch.Tensor]:
        """Per-sample loss weights of a served batch (Active Bias in reweight mode after warm-up:
        std_hat + eps, mean 1 over the global batch), else None. On the batch's device for a
        StepBatch::

            weights = sampler.loss_weights(indices)
            losses = F.cross_entropy(logits, y, reduction="none")
            loss = (losses * weights).mean() if weights is not None else losses.mean()
        """
        if type(batch) is StepBatch:
            self.ledger.find(batch.batch)  # a batch of this sampler and iteration, or ValueError
            return batch.weights  # on the device since the chunk arrived
        served = self.ledger.find(batch)
        if served.weights is None:  # fan-out over NCCL keeps them on the device only
            return getattr(served, "device_weights", None)
        return torch.as_tensor(served.weights, dtype=torch.float32)

    def labels(self, batch: Any, targets: Any) -> Any:
        """The labels to train a served batch with: ``targets`` (the dataset labels), except where
        the service refurbished a sample (``noisy_labels="refurbish"``, adaptive epochs): there its
        predicted class. Same type, dtype and device as ``targets``. report() still takes the
        dataset labels, which the service compares the predictions with::

            loss = F.cross_entropy(logits, sampler.labels(batch, y))
            sampler.report(batch, logits, y)
        """
        step_batch = batch if type(batch) is StepBatch else None
        served = self.ledger.find(batch.batch if step_batch else batch)
        # The host copy (None only in fan-out mode over NCCL, where the chunk stays on the GPU).
        refurbished = served.refurbished
        on_device_labels = step_batch.refurbished if step_batch else getattr(served, "device_refurbished", None)
        if on_device_labels is None and refurbished is None:
            return targets
        if refurbished is not None and not (refurbished >= 0).any():  # b host integers: no device work
            return targets
        if isinstance(targets, torch.Tensor):
            corrected = (on_device_labels if on_device_labels is not None and on_device_labels.device == targets.device
                         else on_device(refurbished, targets.device))
            return torch.where(corrected >= 0, corrected.to(targets.dtype), targets)
        array = np.asarray(targets)
        host = refurbished if refurbished is not None else on_device_labels.cpu().numpy()
        return np.where(host >= 0, host, array).astype(array.dtype)

    def flush(self) -> None:
        """Waits until every queued report is acknowledged (collective in fan-out mode)."""
        if self._fan_out is not None:
            self._fan_out.flush()
        else:
            self.stream.flush()

    def state_dict(self) -> Dict[str, Any]:
        """Where training stands (after the last reported batch). Waits first until the service
        has acknowledged every report it counts, so a checkpoint holding it loses none. In fan-out
        mode (where it may be called on rank 0 alone) that is every report rank 0 has gathered:
        all of them after an epoch's loop; mid-epoch, the chunk in progress is gathered at its
        last step, so call flush(), which is collective, on every rank first for those."""
        if self._fan_out is not None:
            self._fan_out.flush_gathered()
            return self.ledger.state_dict()
        return self.stream.state_dict()

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.ledger.load_state_dict(state)

    def close(self) -> None:
        if self._fan_out is not None:
            self._fan_out.close()
        else:
            self.stream.close()


__all__ = ["RecencyBatchSampler", "IndexedDataset", "StepBatch", "Batch"]
