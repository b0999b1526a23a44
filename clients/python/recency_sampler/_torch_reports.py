"""Predictions of torch outputs without synchronizing the training thread with its device.

report() only checks metadata (shape, dtype, device) and holds the detached outputs. Every few
dozen reports the training thread concatenates compatible outputs and launches their labels (and,
with targets, the true-class score, logsumexp, row sum and row min that losses and
probabilities are made from, and the targets) where they are, on the stream that made them, and a
non-blocking copy into pinned host memory. With the relay (the default) the training thread
sends the reports once the copy's CUDA event says it is done, asked without waiting at its next
calls; with relay=False the sender thread waits on the event, with the GIL released.
"""
import contextlib
import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

# Rows of the stats block: labels, true-class score, logsumexp, row sum, row min, targets (the
# dataset labels; float32 holds class ids exactly up to 2^24).
STATS_ROWS = 6
# Outputs up to this many elements are held until the sender reduces them, many at once; larger
# ones (many classes) are reduced at the call, so that what waits in the queue stays small.
DEFER_ELEMENTS = 1 << 16


_FLOATS = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64})


def check_outputs(outputs: torch.Tensor, n: int, num_classes: int, targets: Any) -> Optional[torch.Tensor]:
    """Shapes, dtypes and devices, from tensor metadata only (nothing is read from the device).
    Returns the targets as a tensor on the outputs' device, or None."""
    shape = outputs.shape
    if shape == (n, num_classes):  # the common case first: logits of the batch
        if outputs.dtype not in _FLOATS:
            raise ValueError(f"outputs: logits or probabilities must be floating point, got {outputs.dtype}")
    elif len(shape) == 2:
        raise ValueError(f"outputs: expected logits or probabilities of shape [{n}, {num_classes}], got {list(shape)}")
    elif len(shape) == 1:
        if shape[0] != n or outputs.is_floating_point() or outputs.is_complex():
            raise ValueError(f"outputs: predicted labels must be {n} integers, got shape {list(shape)} "
                             f"and dtype {outputs.dtype}")
    else:
        raise ValueError(f"outputs: expected shape [{n}, {num_classes}] (logits or probabilities) or [{n}] (labels), "
                         f"got {list(shape)}")
    if targets is None:
        return None
    if len(shape) != 2:
        raise ValueError("outputs: losses need logits or probabilities of shape [n, num_classes], got labels")
    if not isinstance(targets, torch.Tensor):
        if outputs.device.type != "cpu":
            raise ValueError(f"targets: must be a tensor on {outputs.device} like the outputs, got a host array")
        targets = torch.as_tensor(np.asarray(targets))
    if targets.device != outputs.device:
        raise ValueError(f"targets: must be on the outputs' device {outputs.device}, got {targets.device}")
    if tuple(targets.shape) != (n,) or targets.is_floating_point():
        raise ValueError(f"targets: must be {n} integer class labels, got shape {list(targets.shape)} and dtype {targets.dtype}")
    return targets


def stats_of(outputs: torch.Tensor, targets: Optional[torch.Tensor]) -> torch.Tensor:
    """[1, n] labels, or [STATS_ROWS, n] with targets, as float32 where the outputs are."""
    with torch.no_grad():
        labels = outputs.argmax(1) if outputs.dim() == 2 else outputs
        if targets is None:
            return labels.to(torch.float32).unsqueeze(0)
        x = outputs.float()
        true = x.gather(1, targets.long().unsqueeze(1)).squeeze(1)
        return torch.stack((labels.to(torch.float32), true, torch.logsumexp(x, 1), x.sum(1), x.amin(1),
                            targets.to(torch.float32)))


# outputs (or their stats when the last is True), targets, CUDA stream or None, is_stats
Item = Tuple[torch.Tensor, Optional[torch.Tensor], Any, bool]


def held(outputs: torch.Tensor, targets: Optional[torch.Tensor]) -> Item:
    """What a checked report keeps until it is reduced with others: the detached outputs, or for
    large ones (many classes) their stats, reduced now on the device so that little is held. With
    the CUDA stream that made them, so that their reduction is ordered after it."""
    cuda = torch.cuda.current_stream(outputs.device) if outputs.is_cuda else None
    if math.prod(outputs.shape) <= DEFER_ELEMENTS:
        return outputs.detach(), targets, cuda, False
    return stats_of(outputs, targets), None, cuda, True


def joined(items: Sequence[Item]) -> List[Tuple[List[int], Any, bool, torch.Tensor, Optional[torch.Tensor]]]:
    """Compatible items (device, stream, dtype, width, targets or not) concatenated: (positions
    in ``items``, CUDA stream, is_stats, outputs, targets) per group."""
    groups: Dict[Any, List[int]] = {}
    for i, (outputs, targets, stream, is_stats) in enumerate(items):
        key = (outputs.device, stream, outputs.dtype, tuple(outputs.shape[1:]), targets is None, is_stats)
        groups.setdefault(key, []).append(i)
    out = []
    for (_, stream, *_, is_stats), positions in groups.items():
        with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
            outputs = [items[i][0] for i in positions]
            joined_outputs = torch.cat(outputs, 1 if is_stats else 0) if len(outputs) > 1 else outputs[0]
            targets = None if is_stats or items[positions[0]][1] is None else [items[i][1] for i in positions]
            joined_targets = None if targets is None else (torch.cat(targets) if len(targets) > 1 else targets[0])
        out.append((positions, stream, is_stats, joined_outputs, joined_targets))
    return out


def stats_many(items: Sequence[Item]) -> List[Tuple[List[int], torch.Tensor]]:
    """Stats of many reports in few passes: (positions in ``items``, [rows, sum of n]) per group
    of compatible items."""
    out = []
    for positions, stream, is_stats, outputs, targets in joined(items):
        with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
            out.append((positions, outputs if is_stats else stats_of(outputs, targets)))
    return out


def to_host(stats: torch.Tensor) -> Callable[[], np.ndarray]:
    """Starts the copy of ``stats`` to the host; the returned function waits for it and gives a
    numpy array. On the CPU there is nothing to wait for."""
    if stats.device.type != "cuda":
        array = stats.numpy()

        def copied() -> np.ndarray:
            return array

        copied.ready = _ready  # type: ignore[attr-defined]
        return copied
    # The caching host allocator keeps a pinned block until the copies using it are done.
    host = torch.empty(stats.shape, dtype=stats.dtype, pin_memory=True)
    host.copy_(stats, non_blocking=True)
    done = torch.cuda.Event(blocking=True)  # the waiting thread sleeps; it does not spin
    done.record()

    def wait() -> np.ndarray:
        done.synchronize()  # releases the GIL
        return host.numpy()

    wait.ready = done.query  # type: ignore[attr-defined]  # without waiting (the relay's training thread asks)
    return wait


def _ready() -> bool:
    return True


def losses_and_probs(stats: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """From the stats rows: rows that are probabilities (non-negative, summing to 1) give the
    true-class probability directly, logits give it through logsumexp, as _arrays does."""
    true, lse, row_sum, row_min = (stats[i].astype(np.float64) for i in range(1, 5))
    if true.size and row_min.min() >= 0 and np.allclose(row_sum, 1.0, atol=1e-3):
        return -np.log(np.maximum(true, 1e-30)), true
    loss = lse - true
    return loss, np.exp(-loss)


def split(stats: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]:
    """Predicted labels, and with targets losses, true-class probabilities and dataset labels."""
    labels = stats[0].astype(np.int64)
    if stats.shape[0] == 1:
        return labels, None, None, None
    losses, probs = losses_and_probs(stats)
    return labels, losses, probs, stats[5].astype("<u4")


# Deferred.stream of a report that the relay's helper reduces: CPU outputs numpy can view (not
# bfloat16), held as they are (torch.py report()).
HOST = "host"
_NUMPY_DTYPES: Dict[torch.dtype, str] = {}


def host_blocks(items: Sequence[Any], relay: Any) -> List[Any]:
    """The relay's held torch reports in order, as what its outbox takes: each run of HOST items
    (all with targets, or all without) as HostRows, their outputs joined by one op straight into
    the helper's shared ring (no copy, no numpy view per report: each cost ~20 us of a cold cache
    between two steps); any other run as a list of items for launch_deferred."""
    out: List[Any] = []
    run: List[Any] = []
    run_key: Any = None
    for d in items:
        key = (d.stream is HOST, d.targets is None)
        if key != run_key and run:
            out.extend(_host_rows(run, relay) if run_key[0] else [run])
            run = []
        run_key = key
        run.append(d)
    if run:
        out.extend(_host_rows(run, relay) if run_key[0] else [run])
    return out


def _byte_tensor(buffer: Any) -> torch.Tensor:
    return torch.frombuffer(buffer, dtype=torch.uint8)


def _host_rows(run: List[Any], relay: Any) -> List[Any]:
    """HostRows of a run of HOST items: one per block that fits the ring's limit (all of a group
    of a few classes), split where dtypes or widths differ."""
    from .stream import HostRows

    first = run[0].outputs
    dtype, width = first.dtype, first.shape[1:]
    heads, rows, row_bytes = [], 0, math.prod(width) * first.element_size()
    for i, d in enumerate(run):
        outputs = d.outputs
        n = outputs.shape[0]
        if outputs.dtype is not dtype or outputs.shape[1:] != width or (i and (rows + n) * row_bytes > relay.block_bytes):
            return _host_rows(run[:i], relay) + _host_rows(run[i:], relay)
        heads.append((d.step, d.packed, n))
        rows += n
    shape = (rows, *width)
    numpy_dtype = _NUMPY_DTYPES.get(dtype)
    if numpy_dtype is None:
        numpy_dtype = _NUMPY_DTYPES[dtype] = torch.empty((), dtype=dtype).numpy().dtype.str
    outputs = [d.outputs for d in run]
    with torch.no_grad():
        where = relay.reserve(rows * row_bytes)
        if where is None:  # no ring here: joined, and sent through the socket
            joined = torch.cat(outputs).numpy() if len(outputs) > 1 else outputs[0].detach().numpy()
        else:
            ring = relay.ring_view(_byte_tensor)
            torch.cat(outputs, out=ring[where[1]:where[1] + rows * row_bytes].view(dtype).view(shape))
            joined = None
        targets = None if run[0].targets is None else (
            torch.cat([d.targets for d in run]) if len(run) > 1 else run[0].targets).numpy()
    return [HostRows(heads, joined, targets, None if where is None else (where[0], rows * row_bytes, numpy_dtype, shape))]


def launch_deferred(items: Sequence[Any]) -> Callable[[], List[Any]]:
    """On the training thread: launches the arithmetic of queued Deferred items holding torch
    tensors (a few ops for all of them, and a non-blocking copy to the host). Returns what the
    sender thread calls to wait for the copy and make the reports. Launching here, not in the
    sender, matters on a busy training thread: each torch op releases the GIL, and a thread that
    must take it back behind a training loop waits up to the switch interval (5 ms) every time."""
    launched = []
    for positions, stream, is_stats, outputs, targets in joined([(d.outputs, d.targets, d.stream, d.is_stats) for d in items]):
        # On a device: a few kernels and a copy, all asynchronous. On the CPU the arithmetic is
        # the work itself (an argmax is about 40 ns a row); left to the sender, its few ops cost
        # a GIL hand-over each and made an epoch's last reports wait (measured: 45 against 10 ms).
        # Labels alone are made by one op, kept as they come (int64) and cast on the host: each
        # torch op releases the GIL, and the training thread may then wait to take it back.
        with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
            if is_stats:
                stats = outputs
            elif targets is None:
                with torch.no_grad():
                    stats = outputs.argmax(1) if outputs.dim() == 2 else outputs  # [n]: labels only
            else:
                stats = stats_of(outputs, targets)
            launched.append((positions, to_host(stats)))
    waits = [wait for _, wait in launched]
    sizes = [d.outputs.shape[1] if d.is_stats else d.outputs.shape[0] for d in items]
    heads = [(d.step, d.packed) for d in items]  # the outputs themselves are not held past the launch

    def finish() -> List[Any]:
        reports = []
        for positions, wait in launched:
            stats = wait()
            # argmax results: in range by construction, packed as they are
            labels = (stats if stats.ndim == 1 else stats[0]).astype("<u4")
            start = 0
            for i in positions:
                n = sizes[i]
                losses = probs = given = None
                if stats.ndim == 2 and stats.shape[0] > 1:
                    loss_array, prob_array = losses_and_probs(stats[:, start:start + n])
                    losses, probs = loss_array.astype("<f4").tobytes(), prob_array.astype("<f4").tobytes()
                    given = stats[5, start:start + n].astype("<u4").tobytes()
                reports.append((*heads[i], labels[start:start + n].tobytes(), losses, probs, given))
                start += n
        return reports

    finish.ready = lambda: all(wait.ready() for wait in waits)  # type: ignore[attr-defined]
    return finish
