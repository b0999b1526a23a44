"""Fan-out mode: many ranks, one sampler, over torch.distributed.

Rank 0 alone talks to the service. It fetches a chunk of k global batches (one call) and
broadcasts them to every rank in one collective, over whatever backend the process group uses
(NCCL: the block lives on the GPU; gloo: in host memory). Each rank takes its contiguous share
of each step, as the service would have split it. Each rank keeps its outputs until it has
reported every step of a chunk; then it reduces them on the device (labels, and with targets the
rest of the stats) into one block, the blocks are gathered (one all-gather per chunk), and rank 0
sends the chunk's reports in bulk. Service calls per job no longer grow with the world size.

Collectives run in the training thread, at points every rank reaches in the same order: the
start of an iteration (which also gathers any chunk left incomplete), each chunk's first batch,
and the report that completes a chunk. So in this mode every rank must report every step (DDP
loops do), and flush()/close() are collective.
"""
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
import torch.distributed as dist

from . import _torch_reports as reports
from ._arrays import pack_indices, to_numpy
from .client import Batch, SamplerClient
from .stream import BatchStream, Ledger, Report, check_targets_given, chunk_plan


def share_bounds(length: int, rank: int, world_size: int) -> Tuple[int, int]:
    """[start, start + size) of a rank's share, as the service splits: ranks below r = b mod W get one more."""
    q, r = divmod(length, world_size)
    return rank * q + min(rank, r), q + (1 if rank < r else 0)


@dataclass(eq=False)
class Share:
    """One rank's part of a step's global batch; what the ledger and report() work with."""
    step: int
    epoch: int
    window: "Window"
    row: int
    size: int
    array: Optional[np.ndarray]  # host indices (None on NCCL when only device indices were asked for)
    device_indices: Optional[torch.Tensor]
    weights: Optional[np.ndarray] = None  # host copies: None over NCCL when only device ones were asked for
    refurbished: Optional[np.ndarray] = None  # int32: a class to train with, or -1 (noisy_labels="refurbish")
    device_weights: Optional[torch.Tensor] = None  # the same on the device batches() was asked for
    device_refurbished: Optional[torch.Tensor] = None

    def __len__(self) -> int:
        return self.size

    @property
    def loss_weights(self) -> Optional[List[float]]:
        return None if self.weights is None else self.weights.tolist()


@dataclass(eq=False)
class Window:
    """A chunk of consecutive steps: what was broadcast, and this rank's predictions for it."""
    first: int
    count: int
    batches: Optional[List[Batch]]  # the global batches (rank 0 only)
    # Per step: this rank's (outputs, targets, CUDA stream), kept until the chunk is gathered.
    pending: List[Optional[reports.Item]] = field(default_factory=list)
    reported: int = 0  # steps of the chunk this rank has reported

    @property
    def complete(self) -> bool:
        return self.reported == self.count


def _rows(block: torch.Tensor, bounds: List[Tuple[int, int]], convert: Any) -> List[Any]:
    if all(b == bounds[0] for b in bounds):
        lo, size = bounds[0]
        return [convert(r) for r in block[:, lo:lo + size].unbind(0)]
    return [convert(block[row, lo:lo + size]) for row, (lo, size) in enumerate(bounds)]


class FanOut:
    def __init__(self, client: SamplerClient, name: str, config: Dict[str, Any], *, rank: int, world_size: int,
                 group: Optional[Any]):
        self.rank, self.world_size, self.group = rank, world_size, group
        self.comm_device = (torch.device("cuda", torch.cuda.current_device()) if dist.get_backend(group) == "nccl"
                            else torch.device("cpu"))
        config = dict(config)
        self.prefetch = config.pop("prefetch")
        self.stream: Optional[BatchStream] = None
        message: List[Any] = [None]
        if rank == 0:
            try:
                self.stream = BatchStream(client, name, rank=0, world_size=1, prefetch=self.prefetch, **config)
                message = [("ok", self.stream.info)]
            except BaseException as error:
                message = [("error", f"{type(error).__name__}: {error}")]
                dist.broadcast_object_list(message, src=0, group=group)
                raise
        dist.broadcast_object_list(message, src=0, group=group)
        if message[0][0] == "error":
            raise RuntimeError(f"rank 0 could not create sampler {name!r}: {message[0][1]}")
        self.info = message[0][1]
        c = self.info.config
        self.config = c
        self.num_classes = c.num_classes
        self.batch_size = c.batch_size
        self.share_max = -(-c.batch_size // world_size)
        self.weighted_draws = c.strategy in ("recency_bias", "online_batch") or (
            c.strategy == "active_bias" and c.active_bias_mode == "sample")
        self.reweight = c.strategy == "active_bias" and c.active_bias_mode == "reweight"
        self.refurbish = c.noisy_labels == "refurbish"
        self.ledger = Ledger(name, self.info.steps_per_epoch, c.epochs, keep=4 * self.prefetch + 256)
        self._open: Deque[Window] = deque()
        # The next epoch's steps, for rank 0 to ask ahead once the loop has reported the batches a
        # loader's workers fetched before the iteration ended (see report()).
        self._ask_when_reported: Optional[Tuple[int, int]] = None

    def global_length(self, step: int) -> int:
        """Adaptive draws are always b; a permutation epoch's last step holds what is left of N."""
        spe = self.info.steps_per_epoch
        epoch = step // spe
        if (self.weighted_draws and epoch >= self.config.warmup_epochs) or self.config.drop_last or step % spe < spe - 1:
            return self.batch_size
        return self.config.dataset_size - (spe - 1) * self.batch_size

    # -- batches --------------------------------------------------------------------------
    def shares(self, device: Optional[torch.device]) -> Iterator[Share]:
        """This rank's share of each remaining step of the epoch. With ``device`` each share
        carries its indices there (one transfer per chunk); else host indices only."""
        self._ask_when_reported = None
        # Every report of the last epoch is in before rank 0 asks for this one (collective: the
        # chunks still open are gathered); rank 0 need not wait for their acknowledgement when
        # it asked this epoch's first chunks ahead (BatchStream.flush_unless_asked_ahead).
        while self._open:
            self._gather(self._open.popleft())
        relayed_ahead = self.stream is not None and self.stream.flush_unless_asked_ahead()
        epoch = self.ledger.epoch
        start, end = self.ledger.begin()
        if relayed_ahead:
            self.stream.flush_unless_asked_ahead((start, end, 0, 1))
        fetched = self.stream.fetch(start, end, rank=0, world_size=1) if self.stream is not None else None
        for first, count in chunk_plan(start, end, self.prefetch):  # the calls rank 0's fetch makes
            chunk: Optional[List[Batch]] = None
            error: Optional[BaseException] = None
            if fetched is not None:
                try:
                    chunk = next(fetched)
                    self._check_lengths(chunk)
                except BaseException as e:  # the other ranks are told before rank 0 raises
                    error = e
            to_cuda = device is not None and device.type == "cuda"
            block = self._broadcast_indices(chunk, count, error, to_cuda)
            per_index = self._broadcast_per_index
            weights = per_index(chunk, count, "weights", torch.float32, 0.0, to_cuda) if self.reweight else None
            refurbished = per_index(chunk, count, "refurbished", torch.int32, -1, to_cuda) if self.refurbish else None  # -1: keep
            if error is not None:
                raise error
            if block.device.type == "cpu" and int(block[0, -1]) != 0:
                raise RuntimeError(f"rank 0 failed to fetch steps {first}..{first + count - 1} of sampler "
                                   f"{self.ledger.name!r} (its own error says why)")
            window = Window(first, count, chunk, pending=[None] * count)
            self._open.append(window)
            def to_host(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
                """On the host: as broadcast (gloo), or copied when host values were asked for."""
                return None if t is None else t if t.device.type == "cpu" else t.cpu() if device is None else None

            def to_device(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
                return None if t is None or device is None else t if t.device == device else t.to(device, non_blocking=True)

            bounds = [share_bounds(self.global_length(first + row), self.rank, self.world_size) for row in range(count)]

            def rows(t: Optional[torch.Tensor], convert: Any) -> Optional[List[Any]]:
                # This rank's columns, cut once per chunk (every step's share sits at the same
                # columns unless a step is shorter, which only an epoch's last can be).
                return None if t is None else _rows(t, bounds, convert)

            host_rows, device_rows = rows(to_host(block), lambda t: t.numpy()), rows(to_device(block), lambda t: t)
            host_weights, host_refurbished = to_host(weights), to_host(refurbished)
            host_weights = None if host_weights is None else host_weights.numpy()
            host_refurbished = None if host_refurbished is None else host_refurbished.numpy()
            device_weights, device_refurbished = to_device(weights), to_device(refurbished)
            for row, (lo, size) in enumerate(bounds):
                step = first + row
                adaptive = step // self.info.steps_per_epoch >= self.config.warmup_epochs

                def cut(values: Any) -> Any:  # the per-index field of adaptive steps only
                    return values[row, lo:lo + size] if values is not None and adaptive else None

                share = Share(step, epoch, window, row, size,
                              array=None if host_rows is None else host_rows[row],
                              device_indices=None if device_rows is None else device_rows[row],
                              weights=cut(host_weights), refurbished=cut(host_refurbished),
                              device_weights=cut(device_weights), device_refurbished=cut(device_refurbished))
                self.ledger.served(share)
                yield share
        # Every rank reported every step (no chunk left open: each was gathered at its last
        # report, a collective every rank took part in), so rank 0 has all of the epoch's reports
        # queued: it asks for the next epoch's first chunks now, after them (BatchStream.ask_ahead).
        spe = self.info.steps_per_epoch
        if self.stream is not None and epoch + 1 < self.config.epochs:
            following = ((epoch + 1) * spe, (epoch + 2) * spe)
            if not self._open and self.ledger.complete():
                self.stream.ask_ahead(*following)
            elif self.ledger.yielded_in_epoch == spe:  # a loader's workers fetched ahead of the loop
                self._ask_when_reported = following
        self.ledger.end(epoch)

    def _check_lengths(self, chunk: List[Batch]) -> None:
        for batch in chunk:
            if len(batch) != self.global_length(batch.step):
                raise RuntimeError(f"step {batch.step}: the service sent {len(batch)} indices, fan-out mode expected "
                                   f"{self.global_length(batch.step)}")

    def _host_buffer(self, shape: Tuple[int, int], dtype: Any, fill: float, to_cuda: bool) -> torch.Tensor:
        """A host buffer, pinned when it will be copied to a GPU (to the collective's device, or
        to the training device after a gloo broadcast): a copy from pageable memory may wait for
        the device."""
        return torch.full(shape, fill, dtype=dtype, pin_memory=to_cuda or self.comm_device.type == "cuda")

    def _broadcast_filled(self, host: Optional[torch.Tensor], shape: Tuple[int, int], dtype: Any, fill: float,
                          to_cuda: bool) -> torch.Tensor:
        """Broadcasts rank 0's ``host`` block over the collective's device; the other ranks pass None."""
        if self.comm_device.type == "cpu":
            block = host if host is not None else self._host_buffer(shape, dtype, fill, to_cuda)
        elif host is not None:
            block = host.to(self.comm_device, non_blocking=True)
        else:
            block = torch.full(shape, fill, dtype=dtype, device=self.comm_device)
        dist.broadcast(block, src=0, group=self.group)
        return block

    def _broadcast_indices(self, chunk: Optional[List[Batch]], count: int, error: Optional[BaseException],
                           to_cuda: bool) -> torch.Tensor:
        """[count, b + 1] int64: each step's global batch (zero-padded), the last column 1 on error."""
        shape = (count, self.batch_size + 1)
        host = None
        if self.rank == 0:
            host = self._host_buffer(shape, torch.int64, 0, to_cuda)
            view = host.numpy()
            if error is not None or chunk is None:
                view[:, -1] = 1
            else:
                for row, batch in enumerate(chunk):
                    view[row, :len(batch)] = batch.array
        return self._broadcast_filled(host, shape, torch.int64, 0, to_cuda)

    def _broadcast_per_index(self, chunk: Optional[List[Batch]], count: int, field: str, dtype: Any,
                             fill: float, to_cuda: bool) -> torch.Tensor:
        """[count, b] of each step's per-index ``field`` of the Batch (loss weights, refurbished
        labels), ``fill`` where a step has none, broadcast from rank 0."""
        shape = (count, self.batch_size)
        host = None
        if self.rank == 0:
            host = self._host_buffer(shape, dtype, fill, to_cuda)
            view = host.numpy()
            for row, batch in enumerate(chunk or []):
                values = getattr(batch, field)
                if values is not None:
                    view[row, :len(values)] = values
        return self._broadcast_filled(host, shape, dtype, fill, to_cuda)

    # -- reports --------------------------------------------------------------------------
    def report(self, key: Any, outputs: Any, targets: Any) -> None:
        if self.stream is not None:
            self.stream.raise_if_failed()
        share: Share = self.ledger.find(key)
        if not isinstance(outputs, torch.Tensor):
            outputs = torch.from_numpy(np.ascontiguousarray(to_numpy(outputs)))
        checked = reports.check_outputs(outputs, share.size, self.num_classes, targets)
        if checked is None:
            check_targets_given(self.config.strategy, self.config.noisy_labels)
        window = share.window
        if window.pending[share.row] is None:
            window.reported += 1
        window.pending[share.row] = reports.held(outputs, checked)  # reduced once per chunk
        self.ledger.reported(share)
        if window.complete:
            while self._open:
                done = self._open.popleft()
                self._gather(done)
                if done is window:
                    break
        if self._ask_when_reported is not None and not self._open and self.ledger.drained():
            # The last of the epoch's batches the workers had fetched ahead, gathered above: rank
            # 0 asks for the next epoch's first chunks now, after its reports.
            following, self._ask_when_reported = self._ask_when_reported, None
            if self.stream is not None:
                self.stream.ask_ahead(*following)

    def _stats_block(self, window: Window) -> torch.Tensor:
        """[count, STATS_ROWS, share_max + 1] on the collective's device: each reported step's
        stats, and in the last column of row 0 how many stats rows it has (0: not reported)."""
        block = torch.zeros((window.count, reports.STATS_ROWS, self.share_max + 1), dtype=torch.float32,
                            device=self.comm_device)
        reported = [(row, p) for row, p in enumerate(window.pending) if p is not None]
        flags = [0.0] * window.count
        on_device = False
        for positions, stats in reports.stats_many([p for _, p in reported]):
            on_device = on_device or stats.is_cuda
            start = 0
            for i in positions:
                row, (outputs, _, _, is_stats) = reported[i]
                n = outputs.shape[1] if is_stats else outputs.shape[0]
                block[row, :stats.shape[0], :n].copy_(stats[:, start:start + n], non_blocking=True)
                flags[row] = float(stats.shape[0])
                start += n
        block[:, 0, -1] = torch.tensor(flags)
        if on_device and block.device.type == "cpu":
            # gloo reads host memory: once per chunk, the training thread waits for the device.
            torch.cuda.current_stream().synchronize()
        return block

    def _gather(self, window: Window) -> None:
        """One collective: every rank's predictions of the chunk to rank 0, which queues them."""
        block = self._stats_block(window)
        # all_gather rather than gather: every backend has it (older NCCL lacks gather), and the
        # blocks are a few kilobytes.
        gathered = [torch.empty_like(block) for _ in range(self.world_size)]
        dist.all_gather(gathered, block, group=self.group)
        if self.rank != 0 or self.stream is None:
            return
        wait = reports.to_host(torch.stack(gathered))
        batches = window.batches or []

        def resolve() -> List[Report]:
            return self._global_reports(wait(), batches)

        resolve.ready = wait.ready  # type: ignore[attr-defined]  # a relay sends it once its copy is done

        self.stream.send(resolve, window.first + window.count - 1)

    def _global_reports(self, stats: np.ndarray, batches: List[Batch]) -> List[Report]:
        """The chunk's reports as one rank would have sent them: each step's global batch (or the
        shares of the ranks that reported it), from the gathered [W, count, rows, share_max + 1]."""
        out: List[Report] = []
        for row, batch in enumerate(batches):
            parts = []
            for rank in range(self.world_size):
                flag = int(stats[rank, row, 0, -1])
                if flag:
                    lo, size = share_bounds(len(batch), rank, self.world_size)
                    parts.append((rank, lo, size, flag))
            if not parts:
                continue
            rows = np.concatenate([stats[rank, row, :, :size] for rank, _, size, _ in parts], axis=1)
            labels, losses, probs, given = reports.split(rows if all(p[3] == reports.STATS_ROWS for p in parts) else rows[:1])
            if len(parts) == self.world_size:
                indices: Any = batch.packed
            else:
                indices = pack_indices(np.concatenate([batch.array[lo:lo + size] for _, lo, size, _ in parts]), "indices")
            out.append((batch.step, indices, labels, losses, probs, given))
        return out

    def flush_gathered(self) -> None:
        """Not collective: rank 0 waits for the acknowledgement of the reports it has gathered."""
        if self.stream is not None:
            self.stream.flush()

    def flush(self) -> None:
        """Collective: gathers every chunk still open, then rank 0 waits for its reports' acknowledgement."""
        while self._open:
            self._gather(self._open.popleft())
        if self.stream is not None:
            self.stream.flush()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self.stream is not None:
                self.stream.close()
