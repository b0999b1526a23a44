"""BatchStream: one rank's view of a served sampler, with no deep-learning framework in sight.

It creates (or joins) the sampler, yields this rank's indices step after step with a few steps
fetched ahead, sends reports in groups, and can resume mid-epoch. The PyTorch sampler and the
TensorFlow helpers wrap it.

Per step, the training thread does no Python work that grows with the batch: indices arrive as
one packed array per step, and report() finds its batch by position (not by hashing indices).
The calls are made by the relay's helper process, which the training thread drives with no
thread of its own (RelayedOutbox, _relay); with relay=False, by a fetch thread and a sender
thread that wakes a bounded number of times per call it makes, never polling (Outbox).
"""
import os
import threading
import time
import warnings
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Deque, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ._arrays import check_host_outputs, host_predictions, to_numpy
from .client import Batch, EpochDiagnostics, SamplerClient, SamplerInfo

# Every call costs both processes CPU that training would otherwise use, so reports share calls:
# one may wait up to REPORT_DELAY for others (flush() and the epoch's end cut the wait short).
REPORT_CHUNK = 256  # reports per call at most (the service's limit): each call costs ~1 ms of Python
REPORT_DELAY = 1.0  # seconds
# Steps per NextBatches call after an epoch's first: a call costs both processes far more than a
# step's indices, so few large calls. The first call of an epoch is short: it is on the critical
# path of the epoch boundary (the service freezes P, then draws).
FIRST_CHUNK = 8
# The last TAIL_STEPS steps of an epoch are reported without delay (each call takes what arrived
# while the one before was in flight): the next epoch's P waits for them, so the tail stays short.
TAIL_STEPS = 64
# Torch reports are reduced in groups the training thread launches (_torch_reports.launch_deferred):
# LAUNCH_CHUNK at a time, TAIL_LAUNCH at a time in an epoch's tail, the rest at flush().
LAUNCH_CHUNK = 32
TAIL_LAUNCH = 8
STRATEGIES_NEEDING_TARGETS = {"online_batch": "losses", "active_bias": "true-class probabilities"}

# What a report becomes in the sender thread: (step, packed indices, labels, losses, probs, dataset labels).
Report = Tuple[int, bytes, Any, Optional[Any], Optional[Any], Optional[Any]]
# A queued item that is not a Deferred: called in the sender thread (where it may wait for a
# device), it returns reports.
Resolve = Callable[[], Sequence[Report]]


class HostRows(NamedTuple):
    """Several reports' host outputs joined row-wise, in report order (a group of the relay's torch
    CPU reports): ``heads`` holds (step, packed indices, rows) per report; the outputs are in the
    relay's ring at ``where`` (position, bytes, dtype, shape), or ``outputs`` when there is none."""
    heads: List[Tuple[int, bytes, int]]
    outputs: Optional[np.ndarray]
    targets: Optional[np.ndarray]
    where: Optional[Tuple[int, int, str, Tuple[int, ...]]]


def check_targets_given(strategy: str, noisy_labels: str = "ignore") -> None:
    """A report without targets, for a strategy that learns from losses or probabilities, or a
    sampler that compares predictions with the dataset labels."""
    needed = STRATEGIES_NEEDING_TARGETS.get(strategy)
    if needed:
        raise ValueError(f"targets: the {strategy} strategy needs {needed}: pass targets (the true labels) to report()")
    if noisy_labels != "ignore":
        raise ValueError(f"targets: noisy_labels={noisy_labels!r} compares predictions with the dataset labels: pass "
                         "targets (the labels the data set gives, not refurbished ones) to report()")


class Deferred(NamedTuple):
    """A checked report whose arithmetic (argmax, losses) is done later for many reports at once:
    the relay's helper's (or the sender thread's) for host arrays, launched by the training
    thread in groups for torch tensors (BatchStream.send). report() stays a few attribute reads
    and an append. ``outputs`` must not be modified in place afterwards."""
    step: int
    packed: bytes
    outputs: Any  # a numpy array, or a detached torch tensor (or its stats, see is_stats)
    targets: Any  # the same kind, or None
    stream: Any = None  # the CUDA stream that made a device tensor (its work is ordered after it)
    is_stats: bool = False  # outputs are already _torch_reports.stats_of(...) (large outputs)


def chunk_plan(start: int, end: int, size: int) -> List[Tuple[int, int]]:
    """(first step, count) of each NextBatches call for steps [start, end): short at the start
    (the epoch boundary waits for it), then doubling up to ``size`` (each call is drawn while the
    steps before it train: a call of 64 right after the first 8 kept the loop waiting at the 9th
    step, the service drawing 64 batches of a distribution it had just frozen), halving towards
    the end (fan-out mode gathers a chunk's reports when it is done: the last ones are then small)."""
    plan, step, count = [], start, FIRST_CHUNK // 2
    while step < end:
        left = end - step
        count = min(2 * count, size, left if left < 2 * FIRST_CHUNK else max(FIRST_CHUNK, left // 2))
        plan.append((step, count))
        step += count
    return plan


class Ledger:
    """Where an iteration stands: the epoch, the batches yielded and not yet reported (so that
    report() finds a batch's step by position instead of a table keyed by indices), and what
    state_dict() saves. Items are Batch-like: ``step``, ``array`` (or None) and ``len()``."""

    def __init__(self, name: str, steps_per_epoch: int, epochs: int, keep: int):
        self.name = name
        self.steps_per_epoch = steps_per_epoch
        self.epochs = epochs
        self.epoch = 0
        self.resume_at = 0  # step within the epoch where the next iteration starts
        self.yielded_in_epoch = 0
        self.reported_until = -1  # highest global step reported in the current epoch
        self._keep = keep
        # Called once when an iteration that has ended is left with no unreported batch (the
        # loop reported the batches a loader's workers had fetched ahead); see BatchStream.chunks.
        self.on_drained: Optional[Callable[[], None]] = None
        # (epoch, last reported step) of an iteration that ended with batches still unreported:
        # until they are, the loop is in that epoch, and state_dict() says where in it.
        self._ended: Optional[Tuple[int, int]] = None
        self._unreported: Deque[Any] = deque()
        self._reported: Deque[Any] = deque(maxlen=64)  # for repeated reports, which the service counts once

    def set_epoch(self, epoch: int) -> None:
        if not 0 <= epoch < self.epochs:
            raise ValueError(f"epoch must be in [0, epochs = {self.epochs}), got {epoch}")
        if epoch != self.epoch:
            self.epoch = epoch
            self.resume_at = 0

    def begin(self) -> Tuple[int, int]:
        """The steps [start, end) the next iteration serves; forgets the last epoch's batches."""
        first = self.epoch * self.steps_per_epoch
        self.yielded_in_epoch = self.resume_at
        self.reported_until = first + self.resume_at - 1
        self._unreported.clear()
        self._reported.clear()
        self.on_drained = None
        self._ended = None
        return first + self.resume_at, first + self.steps_per_epoch

    def end(self, epoch: int) -> None:
        self._ended = (epoch, self.reported_until) if self._unreported else None
        self.resume_at = 0
        if epoch + 1 < self.epochs:  # the next epoch, nothing of it served yet (what state_dict() says)
            self.epoch = epoch + 1
            self.yielded_in_epoch = 0
            self.reported_until = self.epoch * self.steps_per_epoch - 1

    def complete(self) -> bool:
        """Whether this iteration served every step of the epoch left and all were reported."""
        return self.yielded_in_epoch == self.steps_per_epoch and not self._unreported

    def drained(self) -> bool:
        """Whether every batch served in this iteration has been reported."""
        return not self._unreported

    def served(self, batch: Any) -> None:
        self._unreported.append(batch)
        self.yielded_in_epoch += 1
        if len(self._unreported) > self._keep:
            self._unreported.popleft()

    def find(self, key: Any) -> Any:
        """The served batch a report is about: ``key`` is the batch itself, or its indices (a
        list, array or tensor). Indices on an accelerator are matched by length alone (reading
        them would synchronize the device). Changes nothing: see reported()."""
        unreported = self._unreported
        if unreported:  # the common cases first: reports in step order, of the batch or its list
            head = unreported[0]
            if head is key:
                return key
            if type(key) is list and key:
                array = head.array
                if array is not None and len(key) == len(array) and key[0] == array[0] and key[-1] == array[-1]:
                    return head
        if hasattr(key, "step") and hasattr(key, "array"):
            if any(batch is key for batch in unreported):
                return key
            if any(batch is key for batch in self._reported):
                return key
            raise ValueError(f"batch: step {key.step} is not a batch that sampler {self.name!r} served in this "
                             f"iteration (a batch of another sampler, or of an epoch already over?)")
        n = len(key)
        values = None if _on_accelerator(key) else _ends(key)
        for batch in self._unreported:
            if _matches(batch, n, values):
                return batch
        for batch in reversed(self._reported):
            if values is not None and _matches(batch, n, values):
                return batch
        raise ValueError("indices do not match a batch this sampler served in this iteration; report the indices of a "
                         "batch as the loader gave them (IndexedDataset returns them), or the batch itself")

    def reported(self, batch: Any) -> None:
        """Marks a found batch reported: call once the report is known to be well formed."""
        unreported = self._unreported
        if unreported and unreported[0] is batch:
            unreported.popleft()
        else:
            for i, pending in enumerate(unreported):
                if pending is batch:
                    del unreported[i]
                    break
        self._reported.append(batch)
        if batch.step > self.reported_until and batch.step >= self.epoch * self.steps_per_epoch:
            self.reported_until = batch.step
        if self._ended is not None:  # after an iteration that ended with batches unreported (only then)
            if unreported:
                self._ended = (self._ended[0], max(self._ended[1], batch.step))
            else:
                self._ended = None
                drained, self.on_drained = self.on_drained, None  # set only with _ended (chunks, end)
                if drained is not None:
                    drained()

    def state_dict(self) -> Dict[str, Any]:
        if self._ended is not None:  # a loader's workers fetched to the epoch's end; the loop is not there yet
            epoch, reported_until = self._ended
            first = epoch * self.steps_per_epoch
            return {"name": self.name, "epoch": epoch, "step_in_epoch": max(reported_until - first + 1, 0)}
        first = self.epoch * self.steps_per_epoch
        done = self.reported_until - first + 1 if self.reported_until >= first else self.yielded_in_epoch
        return {"name": self.name, "epoch": self.epoch, "step_in_epoch": done}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ValueError(f"state is of sampler {state.get('name')!r}, not {self.name!r}")
        epoch, done = int(state["epoch"]), int(state["step_in_epoch"])
        if done >= self.steps_per_epoch and epoch + 1 < self.epochs:
            epoch, done = epoch + 1, 0
        self.set_epoch(epoch)
        self.resume_at = min(done, self.steps_per_epoch)  # the last epoch done: nothing left to serve


def _on_accelerator(values: Any) -> bool:
    device = getattr(values, "device", None)
    return device is not None and getattr(device, "type", "cpu") != "cpu"


def _ends(values: Any) -> Optional[Tuple[int, int]]:
    """The first and last index, read without converting the rest (a list stays a list)."""
    if isinstance(values, list):
        return (int(values[0]), int(values[-1])) if values else None
    array = to_numpy(values)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"indices must be one-dimensional integers, got shape {array.shape} and dtype {array.dtype}")
    return (int(array[0]), int(array[-1])) if array.size else None


def _matches(batch: Any, n: int, ends: Optional[Tuple[int, int]]) -> bool:
    """Same length and the same first and last index: enough to tell the batches in flight apart."""
    if len(batch) != n:
        return False
    array = batch.array
    return ends is None or array is None or (array[0] == ends[0] and array[-1] == ends[-1])


class Outbox:
    """The report queue and its sender thread. The training thread only appends; the sender is
    woken when the first report of a call arrives, when REPORT_CHUNK are waiting, and by
    flush(): a bounded number of wake-ups per call, and none while idle."""

    def __init__(self, send: Callable[[List[Any]], None], *, capacity: int, name: str):
        self._send = send
        self._capacity = capacity
        self._items: Deque[Any] = deque()
        self._cond = threading.Condition()
        self._busy = False  # a call is in flight
        self._flushes = 0  # flush() callers waiting: send without waiting out REPORT_DELAY
        self._urgent = False  # an item that should not wait for others is queued
        self._stopping = False
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name=f"recency-report-{name}", daemon=True)
        self._thread.start()

    def put(self, item: Any, urgent: bool = False) -> None:
        """Queues an item; ``urgent`` ones are sent as soon as the sender is free."""
        items = self._items
        if len(items) >= self._capacity:  # back-pressure: wait for the sender
            with self._cond:
                while len(items) >= self._capacity:
                    self._cond.wait()
        items.append(item)  # deque.append is atomic: no lock on the common path
        waiting = len(items)
        if urgent and not self._urgent:
            with self._cond:
                self._urgent = True
                self._cond.notify_all()
        elif waiting == 1 or waiting == REPORT_CHUNK:
            # The sender checks for items under the lock before it waits: notifying under the
            # lock cannot be missed.
            with self._cond:
                self._cond.notify_all()

    def flush(self) -> None:
        with self._cond:
            self._flushes += 1
            self._cond.notify_all()
            while self._items or self._busy:
                self._cond.wait()
            self._flushes -= 1

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._stopping:
                    self._cond.wait()
                if not self._items:
                    return
                deadline = time.monotonic() + REPORT_DELAY
                while len(self._items) < REPORT_CHUNK and not (self._flushes or self._urgent or self._stopping):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                items = [self._items.popleft() for _ in range(min(REPORT_CHUNK, len(self._items)))]
                self._urgent = False
                self._busy = True
                self._cond.notify_all()  # producers held back by a full queue
            try:
                if self.error is None:
                    self._send(items)
            except BaseException as error:  # surfaced at the next call, as it was raised
                self.error = error
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


class RelayedOutbox:
    """The report queue of a stream whose calls a Relay makes, with no thread: the training
    thread sends reports in groups (the helper coalesces them into calls and does the host
    arithmetic) and reads the acknowledgements when they have arrived. Items that wait for a
    device (a Resolve with a ``ready()``) are sent once ready, checked at each report."""

    def __init__(self, relay: Any, name: str, rank: int, world_size: int):
        self._relay = relay
        self._name, self._rank, self._world_size = name, rank, world_size
        self._queue: Deque[Any] = deque()  # the relay's report items (see send_reports) and Resolves
        self._hosts = 0  # report items in the queue
        self._resolves = 0  # Resolves in the queue
        # report() may come from several threads; uncontended (the usual case) it costs ~0.1 us.
        self._lock = threading.RLock()

    @property
    def error(self) -> Optional[BaseException]:
        """The first refused report's error, as read so far: acknowledgements are read at each group
        sent and at flush(), not per call (a poll of a cold socket costs a few microseconds a step).
        Reports waiting for a device are sent here once it is done (asked without waiting)."""
        if self._resolves:
            with self._lock:
                self._send(force=False, urgent=False)
        return self._relay.error

    def put(self, item: Any, urgent: bool = False) -> None:
        with self._lock:
            self._put(item, urgent)

    def _put(self, item: Any, urgent: bool) -> None:
        if type(item) is HostRows:  # a group already, its outputs in the ring: sent now
            self._queue.append(("rows", item.heads, item.outputs, item.targets) if item.where is None
                               else ("ring-rows", item.heads, item.where, item.targets))
            self._hosts += 1  # tuples in the queue (see _send)
            self._send(force=False, urgent=urgent)
        elif isinstance(item, Deferred):
            # Copied into the ring the helper maps (a microsecond, where an argmax here would
            # take several); the helper does the arithmetic.
            where = self._relay.place(item.outputs, self._send_queued)
            self._queue.append(("host", item.step, item.packed, item.outputs, item.targets) if where is None
                               else ("ring", item.step, item.packed, where, item.targets))
            self._hosts += 1
            if self._hosts >= (TAIL_LAUNCH if urgent else LAUNCH_CHUNK):
                self._send(force=False, urgent=urgent)
        else:
            self._queue.append(item)
            self._resolves += 1
            self._send(force=False, urgent=urgent)

    # What host_blocks needs of the relay, with this outbox's queue sent while the ring is full.
    @property
    def lock(self) -> Any:
        return self._lock

    @property
    def block_bytes(self) -> int:
        return self._relay.block_bytes

    def reserve(self, size: int) -> Optional[Tuple[int, int]]:
        with self._lock:
            return self._relay.reserve(size, self._send_queued)

    def ring_view(self, view: Callable[[Any], Any]) -> Any:
        return self._relay.ring_view(view)

    def _send_queued(self) -> None:
        self._send(force=False, urgent=False)

    def _send(self, force: bool, urgent: bool) -> None:
        """Sends the queue's items up to the first that is not ready (all with ``force``, which
        may wait for a device)."""
        items: List[Any] = []
        queue = self._queue
        while queue:
            head = queue[0]
            if type(head) is tuple:  # ("host", ...) or ("report", report)
                items.append(head)
                self._hosts -= 1
            elif force or getattr(head, "ready", _always)():
                items.extend(("report", report) for report in head())
                self._resolves -= 1
            else:
                break
            queue.popleft()
        if items:
            self._relay.send_reports(self._name, items, rank=self._rank, world_size=self._world_size, urgent=urgent)

    def send_all(self) -> None:
        """Sends every queued item now (waiting for a device where one must), without waiting
        for the acknowledgements."""
        with self._lock:
            self._send(force=True, urgent=True)

    def flush(self) -> None:
        with self._lock:
            self._send(force=True, urgent=True)
            self._relay.wait_acks()

    def close(self) -> None:
        self.flush()


def _always() -> bool:
    return True


def uniform_throughout(c: Any) -> Optional[str]:
    """Why a sampler's batches are plain shuffles throughout, or None (as the service says in its
    log): s_e reaches 1 at the last epoch, so Recency Bias and Online Batch need an adaptive epoch
    before it; Active Bias needs one at all."""
    if c.strategy == "random":
        return None
    last_pressured = c.epochs - 1 if c.strategy == "active_bias" else c.epochs - 2
    if c.warmup_epochs <= last_pressured:
        return None
    why = "every epoch is warm-up" if c.strategy == "active_bias" else "every epoch is warm-up or the last (where s_e = 1)"
    return (f"{why} with epochs = {c.epochs} and warmup_epochs = {c.warmup_epochs}: the batches are plain shuffles; "
            f"lower warmup_epochs or train for more epochs to select")


class BatchStream:
    def __init__(self, client: SamplerClient, name: str, *, dataset_size: int, num_classes: int,
                 batch_size: int, epochs: int, window: Optional[int] = None,
                 warmup_epochs: Optional[int] = None, initial_pressure: Optional[float] = None,
                 seed: int = 0, strategy: str = "recency_bias", drop_last: bool = False,
                 active_bias_epsilon: Optional[float] = None, active_bias_mode: str = "sample",
                 noisy_labels: str = "ignore",
                 rank: int = 0, world_size: int = 1, prefetch: int = 64, report_queue: int = 1024,
                 relay: Optional[bool] = None):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size = {world_size}), got {rank}")
        if not 1 <= prefetch <= 64:
            raise ValueError(f"prefetch must be in [1, 64] (steps fetched per call), got {prefetch}")
        self.client = client
        self.name = name
        self.rank = rank
        self.world_size = world_size
        self.info: SamplerInfo = client.create_sampler(
            name, dataset_size=dataset_size, num_classes=num_classes, batch_size=batch_size, epochs=epochs,
            strategy=strategy, window=window, initial_pressure=initial_pressure, warmup_epochs=warmup_epochs,
            seed=seed, drop_last=drop_last, active_bias_epsilon=active_bias_epsilon, active_bias_mode=active_bias_mode,
            noisy_labels=noisy_labels)
        self.strategy = self.info.config.strategy
        self.noisy_labels = self.info.config.noisy_labels
        uniform = uniform_throughout(self.info.config)
        if uniform:
            warnings.warn(f"sampler {name!r} will not select: {uniform}", RuntimeWarning, stacklevel=3)
        self.num_classes = num_classes
        self.steps_per_epoch = self.info.steps_per_epoch
        self.epochs = epochs
        self.prefetch = prefetch
        self.ledger = Ledger(name, self.steps_per_epoch, epochs, keep=4 * prefetch + 256)
        # The per-step calls are made by a helper process the training thread drives (see
        # _relay), unless relay=False, the client cannot be copied there (it was given a
        # channel), or the helper cannot start (where it was not asked for explicitly). One of W
        # ranks in per-rank mode makes them from threads unless asked: W helpers more measured
        # slower on 2 cores (1.33x against 1.24x with 8 ranks at 1 ms steps).
        self._calls: Any = client
        self._relay: Any = None
        self._fetcher: Optional[ThreadPoolExecutor] = None
        self._outbox: Any
        if (relay if relay is not None else os.name == "posix" and world_size == 1) and client.options is not None:
            from ._relay import Relay, RelayNotStarted

            try:
                self._calls = self._relay = Relay(client)
            except RelayNotStarted as error:
                if relay:
                    raise
                warnings.warn(f"sampler {name!r}: {error}; its calls are made from threads of this process instead",
                              RuntimeWarning, stacklevel=3)
        if self._relay is not None:
            self._outbox = RelayedOutbox(self._relay, name, rank, world_size)
        else:
            self._fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recency-fetch")
            self._outbox = Outbox(self._send, capacity=report_queue, name=name)
        self._pending: List[Deferred] = []  # torch reports not launched yet
        self._pending_lock = threading.Lock()
        self.before_epoch: Optional[Callable[[], None]] = None
        # The next epoch's first calls, asked at the end of an iteration: ((start, end, rank,
        # world_size), calls in flight, the rest of the plan); see ask_ahead.
        self._ahead: Optional[Tuple[Tuple[int, int, int, int], Deque[Any], Deque[Tuple[int, int]]]] = None
        self._closed = False
        self._warned_uniform = False

    # -- epochs ---------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.ledger.epoch

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch the next iteration serves (as DistributedSampler.set_epoch)."""
        self.ledger.set_epoch(epoch)

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __iter__(self) -> Iterator[List[int]]:
        """This rank's indices for each remaining step of the current epoch, in step order, as
        lists. At the end the epoch advances, so a loop without set_epoch() still moves on."""
        for batch in self.batches():
            yield batch.indices

    def arrays(self) -> Iterator[np.ndarray]:
        """As iterating, with each step's indices as an int64 numpy array."""
        for batch in self.batches():
            yield batch.array

    def batches(self) -> Iterator[Batch]:
        """As iterating, with each step's Batch (its ``array``, ``step``, ``epoch``); report(batch, ...)."""
        for chunk in self.chunks():
            for batch in chunk:
                self.ledger.served(batch)
                yield batch

    def chunks(self) -> Iterator[List[Batch]]:
        """The epoch's remaining batches as fetched, a chunk per call; the caller passes each
        batch to ``ledger.served`` as it hands it out."""
        self.raise_if_failed()
        relayed_ahead = self.flush_unless_asked_ahead()
        if self.before_epoch is not None:
            self.before_epoch()
        epoch = self.ledger.epoch
        start, end = self.ledger.begin()
        if relayed_ahead:
            self.flush_unless_asked_ahead((start, end, self.rank, self.world_size))
        check: Optional[Tuple[int, Future]] = None
        for i, chunk in enumerate(self.fetch(start, end, rank=self.rank, world_size=self.world_size)):
            if i == 0 and chunk and chunk[0].phase == "ADAPTIVE" and not self._warned_uniform:
                # Asked from the fetch thread (or of the relay's helper), not on the epoch
                # boundary's critical path; the warning comes once the answer is in (at the latest
                # when the epoch ends).
                check = (chunk[0].epoch, self._ask_diagnostics())
            if check is not None and check[1].done():
                self.warn_if_uniform(check[0], check[1].result())
                check = None
            yield chunk
        if check is not None:
            self.warn_if_uniform(check[0], check[1].result())
        # The loop asks for the next batch only after reporting the last one: the epoch's reports
        # are all queued now, unless a loader's workers fetched batches ahead of the loop.
        following = self._next_epoch(epoch)
        if following is not None and self.ledger.complete():
            # With the relay the epoch ends without waiting for the reports' acknowledgement (the
            # helper orders the next epoch's first fetch after them; flush(), state_dict() and
            # close() wait for it); without it, ask_ahead flushes first.
            self.ask_ahead(*following)
        elif following is not None and self._relay is not None and self.ledger.yielded_in_epoch == self.steps_per_epoch:
            # A loader's workers fetched ahead of the loop, whose last reports are still to come:
            # the next epoch's first calls are asked once they are queued (Ledger.on_drained).
            self.ledger.on_drained = lambda: self.ask_ahead(*following)
        else:
            self.flush()
        self.ledger.end(epoch)

    def flush_unless_asked_ahead(self, key: Optional[Tuple[int, int, int, int]] = None) -> bool:
        """Before an iteration's first fetch: every report queued so far must be in (the service
        freezes an epoch's P at its first fetch). Calls asked ahead through the relay already
        follow them (ask_ahead), so an iteration that takes those need not wait for the
        acknowledgements. Flushes unless such calls are there (for ``key``: (start, end, rank,
        world_size), once the iteration knows it); returns whether they were."""
        ahead = self._ahead
        if self._relay is not None and ahead is not None and (key is None or ahead[0] == key):
            return True
        self.flush()
        return False

    def _next_epoch(self, epoch: int) -> Optional[Tuple[int, int]]:
        """The steps [start, end) of the epoch after ``epoch`` when its first calls may be asked
        for once every step of this one is reported (the service freezes the next epoch's P at
        its first fetch): it is not the last, and no other rank's reports are waited for. Else
        None."""
        if self.world_size != 1 or self.before_epoch is not None or epoch + 1 >= self.epochs:
            return None
        start = (epoch + 1) * self.steps_per_epoch
        return start, start + self.steps_per_epoch

    def ask_ahead(self, start: int, end: int) -> None:
        """Asks now for the first chunks of steps [start, end) (the next epoch's), after every
        report queued so far: with the relay those go out first and the helper makes the calls
        once they are in, with no round trip through this thread; without it, after a flush. The
        iteration that serves [start, end) from its start takes them (fetch), any other drops
        them. The time between two epochs (an evaluation, a checkpoint) then hides the next one's
        first fetch."""
        if self._relay is not None:
            self._launch_pending(urgent=True)
            self._outbox.send_all()
            self._ask_ahead(start, end, after_reports=True)
        else:
            self.flush()
            self._ask_ahead(start, end)

    def _ask_ahead(self, start: int, end: int, after_reports: bool = False) -> None:
        plan = deque(chunk_plan(start, end, self.prefetch))
        pending: Deque[Any] = deque()
        self._ask(pending, plan, self.rank, self.world_size, after_reports)
        self._drop_ahead()
        self._ahead = ((start, end, self.rank, self.world_size), pending, plan)

    def _drop_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            for ticket in ahead[1]:
                if self._relay is not None:
                    self._relay.discard(ticket)
                else:
                    ticket.cancel()

    def _ask(self, pending: Deque[Any], plan: Deque[Tuple[int, int]], rank: int, world_size: int,
             after_reports: bool = False) -> None:
        """Asks for the plan's next chunks until three are in flight."""
        while plan and len(pending) < 3:
            first, count = plan.popleft()
            if self._relay is not None:  # asked now, read when needed: no thread
                pending.append(self._relay.next_batches(self.name, first, count, rank=rank, world_size=world_size,
                                                        after_reports=after_reports))
            else:
                pending.append(self._fetcher.submit(self._calls.next_batches, self.name, first, count,
                                                    rank=rank, world_size=world_size))

    def fetch(self, start: int, end: int, *, rank: int, world_size: int) -> Iterator[List[Batch]]:
        """Steps [start, end) in the chunks of chunk_plan, one call each, the next two in flight
        while one is consumed; the first ones asked ahead at the last epoch's end (ask_ahead) if
        they were these."""
        ahead = self._ahead
        if ahead is not None and ahead[0] == (start, end, rank, world_size):
            self._ahead = None
            _, pending, plan = ahead
        else:
            self._drop_ahead()
            pending, plan = deque(), deque(chunk_plan(start, end, self.prefetch))
        self._ask(pending, plan, rank, world_size)
        while pending:
            try:
                chunk = pending.popleft().result()
            except Exception as error:
                if self._relay is not None:
                    from ._relay import NotAskedAhead

                    if isinstance(error, NotAskedAhead):  # a report the call was to follow failed
                        self.flush()  # raises that report's own error, as it was raised
                raise
            self._ask(pending, plan, rank, world_size)
            yield chunk

    def _ask_diagnostics(self) -> Any:
        """The diagnostics, asked without waiting: a Future-like whose result() is them."""
        if self._relay is not None:
            return self._relay.get_sampler(self.name, lambda info: info.epochs)
        return self._fetcher.submit(self.diagnostics)

    def diagnostics(self) -> Tuple[EpochDiagnostics, ...]:
        """Whether selection does anything, per epoch served so far (one call to the service)."""
        return self.client.get_sampler(self.name).epochs

    def warn_if_uniform(self, epoch: int, diagnostics: Optional[Sequence[EpochDiagnostics]] = None) -> None:
        """Once per run: warns when an adaptive epoch started with a uniform P (one call per
        epoch, unless its ``diagnostics`` are given)."""
        if self._warned_uniform:
            return
        found = [d for d in (self.diagnostics() if diagnostics is None else diagnostics) if d.epoch == epoch]
        if found and found[0].uniform:
            self._warned_uniform = True
            warnings.warn(
                f"sampler {self.name!r}: selection has become uniform in epoch {epoch}: no sample is more uncertain "
                "than another, so its batches are plain shuffles. Recency Bias needs predictions that keep changing "
                "(augmentation, a model that does not memorize the training set); see diagnostics()",
                RuntimeWarning, stacklevel=2)

    # -- reports --------------------------------------------------------------------------
    def loss_weights(self, key: Any) -> Optional[List[float]]:
        """The per-sample loss weights the service sent with the batch ``key`` (the batch or its
        indices): Active Bias in reweight mode, after warm-up; None when the batch has none."""
        return self.ledger.find(key).loss_weights

    def report(self, key: Any, outputs: Any, targets: Any = None) -> None:
        """Queues the predictions for a served batch; returns at once.

        ``key`` is the batch (from ``batches()``) or its indices as the loader gave them.
        ``outputs`` are logits or probabilities [n, num_classes], or predicted labels [n]. With
        ``targets`` (the true labels) the per-sample loss and true-class probability are sent too,
        which Online Batch and Active Bias need (and the dashboard shows).
        Raises the error of an earlier report that failed (never a silent drop)."""
        self.raise_if_failed()
        batch = self.ledger.find(key)
        array, labels = check_host_outputs(outputs, len(batch), self.num_classes, targets)
        if labels is None:
            self.check_targets_given()
        self.send(Deferred(batch.step, batch.packed, array, labels), batch.step)
        self.ledger.reported(batch)

    def refurbished_labels(self, key: Any) -> Optional[np.ndarray]:
        """Per index of the batch ``key``: the class to train with instead of its dataset label, or
        -1 to keep it (noisy_labels="refurbish", adaptive epochs); None when the batch has none."""
        return self.ledger.find(key).refurbished

    def check_targets_given(self) -> None:
        check_targets_given(self.strategy, self.noisy_labels)

    @property
    def targets_needed(self) -> bool:
        """Whether a report must carry targets (check_targets_given raises without them)."""
        return self.strategy in STRATEGIES_NEEDING_TARGETS or self.noisy_labels != "ignore"

    def send(self, item: Any, step: int) -> None:
        """Queues a Deferred report, or a Resolve that makes reports in the sender thread, for
        ``step`` (the last, for several): in an epoch's tail it goes without delay. Deferred torch
        reports wait on this thread until a group of them is launched."""
        if isinstance(item, Deferred) and not isinstance(item.outputs, np.ndarray):
            self.hold(item, step)
            return
        urgent = step % self.steps_per_epoch >= self.steps_per_epoch - TAIL_STEPS
        if self._pending:  # reports land in the order they were made: those waiting go first
            self._launch_pending(urgent)
        self._outbox.put(item, urgent=urgent)

    def hold(self, item: Deferred, step: int) -> None:
        """Queues a Deferred torch report on this thread until a group of them is launched:
        LAUNCH_CHUNK, or TAIL_LAUNCH in the epoch's tail (urgent then)."""
        with self._pending_lock:  # uncontended unless reports come from several threads
            pending = self._pending
            pending.append(item)
            waiting = len(pending)
        if waiting >= TAIL_LAUNCH:
            spe = self.steps_per_epoch
            urgent = step % spe >= spe - TAIL_STEPS
            if urgent or waiting >= LAUNCH_CHUNK:
                self._launch_pending(urgent)

    def _launch_pending(self, urgent: bool) -> None:
        with self._pending_lock:
            items, self._pending = self._pending, []
        if not items:
            return
        from ._torch_reports import host_blocks, launch_deferred  # only reached when torch tensors were reported

        if self._relay is None:
            self._outbox.put(launch_deferred(items), urgent=urgent)
            return
        # Under the outbox's lock from reserving a block of the ring to queueing it: positions reach
        # the helper in order (it frees the ring up to the last it copied), also when several
        # threads report.
        with self._outbox.lock:
            for block in host_blocks(items, self._outbox):
                self._outbox.put(block if type(block) is HostRows else launch_deferred(block), urgent=urgent)

    def flush(self) -> None:
        """Waits until every queued report is acknowledged; raises if one failed."""
        self._launch_pending(urgent=True)
        self._outbox.flush()
        self.raise_if_failed()

    # -- resuming -------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, Any]:
        """Where training stands: after the last reported batch of the epoch (or, with no reports,
        the last yielded one, exact when the loader does not prefetch). Flushes first, so every
        report it counts has been acknowledged: a checkpoint holding it loses none."""
        self.flush()
        return self.ledger.state_dict()

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.ledger.load_state_dict(state)

    def close(self) -> None:
        """Flushes reports and stops the background threads."""
        if self._closed:
            return
        self._closed = True
        try:
            self._drop_ahead()
            self.flush()
        finally:
            self._outbox.close()
            if self._fetcher is not None:
                self._fetcher.shutdown(wait=True)
            if self._relay is not None:
                self._relay.close()

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, items: List[Any]) -> None:
        """In the sender thread: the arithmetic of the queued reports, then the calls."""
        reports: List[Report] = []
        for item in items:
            if isinstance(item, Deferred):  # host arrays; torch ones arrive launched, as a Resolve
                reports.append((item.step, item.packed, *host_predictions(item.outputs, item.targets)))
            else:
                reports.extend(item())
        # report_many splits them into calls the service accepts (256 reports, 1 MiB).
        self._calls.report_many(self.name, reports, rank=self.rank, world_size=self.world_size)

    @property
    def relayed(self) -> bool:
        """Whether a helper process makes this stream's calls (see _relay.py)."""
        return self._relay is not None

    def raise_if_failed(self) -> None:
        error = self._outbox.error
        if error is not None:
            raise error
