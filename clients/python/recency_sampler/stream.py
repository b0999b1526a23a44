"""BatchStream: one rank's view of a served sampler, with no deep-learning framework in sight.

It creates (or joins) the sampler, yields this rank's indices step after step with a few steps
fetched ahead, sends reports from a bounded background queue, and can resume mid-epoch. The
PyTorch sampler and the TensorFlow helpers wrap it.
"""
import queue
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple

from ._arrays import loss_and_true_class_prob, predicted_labels, to_index_list
from .client import SamplerClient, SamplerInfo

_STOP = object()
_FLUSH = object()  # put by flush(): sends what is queued without waiting out REPORT_DELAY
# Every call costs both processes CPU that training would otherwise use, so reports share calls:
# one may wait up to REPORT_DELAY for others (flush() and the epoch's end cut the wait short).
REPORT_CHUNK = 64  # reports per call at most
REPORT_DELAY = 1.0  # seconds


class BatchStream:
    def __init__(self, client: SamplerClient, name: str, *, dataset_size: int, num_classes: int,
                 batch_size: int, epochs: int, window: Optional[int] = None,
                 warmup_epochs: Optional[int] = None, initial_pressure: Optional[float] = None,
                 seed: int = 0, strategy: str = "recency_bias", drop_last: bool = False,
                 active_bias_epsilon: Optional[float] = None, active_bias_mode: str = "sample",
                 rank: int = 0, world_size: int = 1, prefetch: int = 16, report_queue: int = 256):
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
            seed=seed, drop_last=drop_last, active_bias_epsilon=active_bias_epsilon, active_bias_mode=active_bias_mode)
        self.strategy = self.info.config.strategy
        self.steps_per_epoch = self.info.steps_per_epoch
        self.epochs = epochs
        self._epoch = 0
        self._resume_at = 0  # step within the epoch where the next iteration starts
        self._yielded_in_epoch = 0
        self._reported_until = -1  # highest global step reported in the current epoch
        self._prefetch = prefetch
        self._fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recency-fetch")
        # Recently yielded batches, so report() can find a batch's step (and loss weights) from its indices.
        self._step_of: "OrderedDict[Tuple[int, ...], int]" = OrderedDict()
        self._weights_of: Dict[Tuple[int, ...], List[float]] = {}
        self._reports: "queue.Queue[Any]" = queue.Queue(maxsize=report_queue)
        self._error: Optional[BaseException] = None
        self._reporter = threading.Thread(target=self._send_reports, name="recency-report", daemon=True)
        self._reporter.start()
        self.before_epoch: Optional[Callable[[], None]] = None
        self._closed = False

    # -- epochs ---------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch the next iteration serves (as DistributedSampler.set_epoch)."""
        if not 0 <= epoch < self.epochs:
            raise ValueError(f"epoch must be in [0, epochs = {self.epochs}), got {epoch}")
        if epoch != self._epoch:
            self._epoch = epoch
            self._resume_at = 0

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __iter__(self) -> Iterator[List[int]]:
        """This rank's indices for each remaining step of the current epoch, in step order. At
        the end the epoch advances, so a loop without set_epoch() still moves on."""
        self._raise_if_failed()
        self.flush()  # the last epoch's reports must be in before this epoch's P is frozen
        if self.before_epoch is not None:
            self.before_epoch()
        epoch = self._epoch
        first = epoch * self.steps_per_epoch
        start = first + self._resume_at
        end = first + self.steps_per_epoch
        self._yielded_in_epoch = self._resume_at
        self._reported_until = start - 1
        # Chunks of `prefetch` steps per call (one call costs the service about what one step
        # does), the next chunk in flight while this one is consumed; never past the epoch.
        pending: Deque[Future] = deque()
        next_step = start

        def fetch_more() -> None:
            nonlocal next_step
            while next_step < end and len(pending) < 2:
                count = min(self._prefetch, end - next_step)
                pending.append(self._fetcher.submit(self.client.next_batches, self.name, next_step, count,
                                                    rank=self.rank, world_size=self.world_size))
                next_step += count

        fetch_more()
        while pending:
            chunk = pending.popleft().result()
            fetch_more()
            for batch in chunk:
                self._remember(batch.indices, batch.step, batch.loss_weights)
                self._yielded_in_epoch += 1
                yield batch.indices
        # The loop asks for the next batch only after reporting the last one: the epoch's reports
        # are all queued now (with prefetching loader workers, the next iteration's flush catches up).
        self.flush()
        self._resume_at = 0
        if epoch + 1 < self.epochs:
            self._epoch = epoch + 1

    # -- reports --------------------------------------------------------------------------
    def loss_weights(self, indices: Any) -> Optional[List[float]]:
        """The per-sample loss weights the service sent with the batch that held ``indices``
        (Active Bias in reweight mode, after warm-up); None when the batch has none."""
        return self._weights_of.get(tuple(to_index_list(indices, "indices")))

    def report(self, indices: Any, outputs: Any, targets: Any = None) -> None:
        """Queues the predictions for the batch that held ``indices``; returns at once.

        ``outputs`` are logits or probabilities [n, num_classes], or predicted labels [n]. With
        ``targets`` (the true labels) the per-sample loss and true-class probability are sent too,
        which Online Batch and Active Bias need (and the dashboard shows).
        Raises the error of an earlier report that failed (never a silent drop)."""
        self._raise_if_failed()
        keys = to_index_list(indices, "indices")
        step = self._step_of.get(tuple(keys))
        if step is None:
            raise ValueError("indices do not match a batch this sampler served recently; report the indices of a "
                             "batch as the loader gave them (IndexedDataset returns them), before many later batches")
        labels = predicted_labels(outputs)
        if len(labels) != len(keys):
            raise ValueError(f"outputs have {len(labels)} rows for {len(keys)} indices")
        losses = probs = None
        if targets is not None:
            loss_array, prob_array = loss_and_true_class_prob(outputs, targets)
            losses, probs = loss_array.tolist(), prob_array.tolist()
        elif self.strategy in ("online_batch", "active_bias"):
            needed = "losses" if self.strategy == "online_batch" else "true-class probabilities"
            raise ValueError(f"the {self.strategy} strategy needs {needed}: pass targets (the true labels) to report()")
        self._reports.put((step, keys, labels.tolist(), losses, probs))
        epoch_first = self._epoch * self.steps_per_epoch
        if step >= epoch_first:
            self._reported_until = max(self._reported_until, step)

    def flush(self) -> None:
        """Waits until every queued report is acknowledged; raises if one failed."""
        self._reports.put(_FLUSH)
        self._reports.join()
        self._raise_if_failed()

    # -- resuming -------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, Any]:
        """Where training stands: after the last reported batch of the epoch (or, with no reports,
        the last yielded one, exact when the loader does not prefetch)."""
        first = self._epoch * self.steps_per_epoch
        done = self._reported_until - first + 1 if self._reported_until >= first else self._yielded_in_epoch
        return {"name": self.name, "epoch": self._epoch, "step_in_epoch": done}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ValueError(f"state is of sampler {state.get('name')!r}, not {self.name!r}")
        epoch, done = int(state["epoch"]), int(state["step_in_epoch"])
        if done >= self.steps_per_epoch:
            epoch, done = epoch + 1, 0
        self.set_epoch(epoch)
        self._resume_at = done

    def close(self) -> None:
        """Flushes reports and stops the background threads."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        finally:
            self._reports.put(_STOP)
            self._reporter.join()
            self._fetcher.shutdown(wait=True)

    # -- plumbing -------------------------------------------------------------------------
    def _remember(self, indices: List[int], step: int, weights: Optional[List[float]]) -> None:
        key = tuple(indices)
        self._step_of[key] = step
        if weights is not None:
            self._weights_of[key] = weights
        while len(self._step_of) > 4 * self._prefetch + 256:
            old, _ = self._step_of.popitem(last=False)
            self._weights_of.pop(old, None)

    def _send_reports(self) -> None:
        """Sends queued reports, several per call: waits up to REPORT_DELAY seconds (or until
        flush()) for more after the first, up to REPORT_CHUNK per call."""
        while True:
            # Blocks without polling: a thread waking often would take the GIL from training.
            items = [self._reports.get()]
            deadline = time.monotonic() + REPORT_DELAY
            while items[-1] is not _STOP and items[-1] is not _FLUSH and len(items) < REPORT_CHUNK:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    items.append(self._reports.get(timeout=remaining))
                except queue.Empty:
                    break
            reports = [item for item in items if item is not _STOP and item is not _FLUSH]
            try:
                if reports and self._error is None:
                    self.client.report_many(self.name, reports, rank=self.rank, world_size=self.world_size)
            except BaseException as error:  # surfaced at the next call
                self._error = error
            finally:
                for _ in items:
                    self._reports.task_done()
            if items[-1] is _STOP:
                return

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"a report to sampler {self.name!r} failed: {self._error}") from self._error
