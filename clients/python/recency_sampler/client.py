"""SamplerClient: a typed wrapper over the recency_sampler.v1 gRPC contract. Imports neither torch
nor TensorFlow; takes lists, numpy arrays or tensors."""
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

import grpc

from . import _proto as pb
import numpy as np

from ._arrays import pack_floats, pack_indices, unpack_indices
from .errors import SamplerError, from_rpc_error

_log = logging.getLogger("recency_sampler")

T = TypeVar("T")

STRATEGIES = ("recency_bias", "random", "online_batch", "active_bias")
ACTIVE_BIAS_MODES = ("sample", "reweight")
NOISY_LABELS = ("ignore", "exclude", "refurbish")

# Reconnect quickly after the service restarts instead of grpc's default 1 s .. 120 s backoff.
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]


@dataclass(frozen=True)
class SamplerConfig:
    dataset_size: int
    num_classes: int
    batch_size: int
    epochs: int
    strategy: str
    window: int
    initial_pressure: float
    warmup_epochs: int
    seed: int
    drop_last: bool
    active_bias_epsilon: float
    active_bias_mode: str  # "sample" or "reweight"
    noisy_labels: str = "ignore"  # "ignore", "exclude" or "refurbish" (recency_bias only)


@dataclass(frozen=True)
class EpochDiagnostics:
    """Whether selection did anything in an epoch, as it started. ``effective_sample_size_ratio``:
    (sum P)^2 / sum P^2 / N, 1 when P is uniform; ``uncertain_share``: samples with F > 0;
    ``top_decile_draw_share``: the share of draws expected to go to the tenth of samples with
    the largest P (0.1 when uniform); ``uniform``: an adaptive epoch in which no sample was more
    uncertain than another, so its batches were plain shuffles; ``suspected_mislabeled_share``:
    samples whose last q predictions agree with each other but not with their dataset label (0
    unless reports carry the dataset labels, as they do with ``noisy_labels``)."""
    epoch: int
    selection_pressure: float
    effective_sample_size_ratio: float
    uncertain_share: float
    top_decile_draw_share: float
    uniform: bool
    suspected_mislabeled_share: float = 0.0


@dataclass(frozen=True)
class SamplerInfo:
    name: str
    config: SamplerConfig
    steps_per_epoch: int
    total_steps: int
    created_at: str
    reports_received: int
    predictions_received: int
    #: Each epoch served so far (empty for a service older than the diagnostics).
    epochs: Tuple[EpochDiagnostics, ...] = ()


class Batch:
    """One rank's share of a step's global batch. ``array`` holds the indices as int64 (decoded
    from the packed field in one vectorized step); ``indices`` is the same as a list. ``weights``
    (``loss_weights`` as a list): multiply each sample's loss by these (Active Bias, reweight
    mode), else None. ``refurbished``: int32, per index the class to train with instead of its
    dataset label, or -1 to keep that label (``noisy_labels="refurbish"``, adaptive epochs), else
    None. ``packed``: the indices as the service sent them, which a report sends back."""
    __slots__ = ("array", "step", "epoch", "selection_pressure", "phase", "global_batch_size", "weights", "packed",
                 "refurbished")

    def __init__(self, array: np.ndarray, step: int, epoch: int, selection_pressure: float, phase: str,
                 global_batch_size: int, weights: Optional[np.ndarray] = None, packed: bytes = b"",
                 refurbished: Optional[np.ndarray] = None):
        self.array, self.step, self.epoch = array, step, epoch
        self.selection_pressure, self.phase, self.global_batch_size = selection_pressure, phase, global_batch_size
        self.weights = weights
        self.refurbished = refurbished
        self.packed = packed or array.astype("<u4").tobytes()

    @property
    def indices(self) -> List[int]:
        return self.array.tolist()

    @property
    def loss_weights(self) -> Optional[List[float]]:
        return None if self.weights is None else self.weights.tolist()

    def __len__(self) -> int:
        return len(self.array)

    def __repr__(self) -> str:
        return f"Batch(step={self.step}, epoch={self.epoch}, phase={self.phase}, indices={len(self.array)})"


@dataclass(frozen=True)
class ReportResult:
    accepted: int
    duplicate: bool


def _info(message: Any) -> SamplerInfo:
    c = message.config
    return SamplerInfo(
        name=message.name,
        config=SamplerConfig(
            dataset_size=c.dataset_size,
            num_classes=c.num_classes,
            batch_size=c.batch_size,
            epochs=c.epochs,
            strategy=pb.STRATEGY.values_by_number[c.strategy].name.lower(),
            window=c.window,
            initial_pressure=c.initial_pressure,
            warmup_epochs=c.warmup_epochs,
            seed=c.seed,
            drop_last=c.drop_last,
            active_bias_epsilon=c.active_bias_epsilon,
            active_bias_mode=pb.ACTIVE_BIAS_MODE.values_by_number[c.active_bias_mode].name[len("ACTIVE_BIAS_"):].lower(),
            noisy_labels=pb.NOISY_LABELS.values_by_number[c.noisy_labels].name[len("NOISY_LABELS_"):].lower(),
        ),
        steps_per_epoch=message.steps_per_epoch,
        total_steps=message.total_steps,
        created_at=message.created_at,
        reports_received=message.reports_received,
        predictions_received=message.predictions_received,
        epochs=tuple(EpochDiagnostics(e.epoch, e.selection_pressure, e.effective_sample_size_ratio, e.uncertain_share,
                                      e.top_decile_draw_share, e.uniform, e.suspected_mislabeled_share)
                     for e in getattr(message, "epochs", ())),
    )


_PHASES = {value.number: value.name for value in pb.PHASE.values}


def _batch(b: Any) -> Batch:
    return _batches([b])[0]


def _batches(messages: Sequence[Any]) -> List[Batch]:
    """Decodes a response's batches with one conversion for all their indices (views of it)."""
    return _batches_from_columns(_batch_columns(messages))


def _batch_columns(messages: Sequence[Any]) -> Tuple[bytes, List[int], List[Tuple[Any, ...]]]:
    """A response's batches as plain values: the indices of all, packed and joined, each one's
    length in bytes, and each one's other fields (a service older than the packed fields answers
    in the repeated ones). The relay's helper makes these on its own core and sends them pickled:
    building Batches from them (_batches_from_columns) is what is left to the training thread, a
    third of the cost of decoding the message there."""
    packed, fields = [], []
    for b in messages:
        packed.append(_packed_or(b.packed_indices, b.indices, "<u4") or b"")
        fields.append((b.step, b.epoch, b.selection_pressure, _PHASES.get(b.phase, str(b.phase)), b.global_batch_size,
                       _packed_or(b.packed_loss_weights, b.loss_weights, "<f4"),
                       _packed_or(b.packed_refurbished_labels, b.refurbished_labels, "<i4")))
    return b"".join(packed), [len(p) for p in packed], fields


def _packed_or(packed: bytes, values: Any, dtype: str) -> Optional[bytes]:
    """A packed field's bytes, made from the repeated one for a service older than the packed
    fields; None when both are empty."""
    if packed:
        return packed
    return np.asarray(values, dtype=dtype).tobytes() if len(values) else None


class Chunk(list):
    """The Batches of one NextBatches answer; ``block``: their indices as one [steps, n] int64
    array whose rows are the batches' arrays (None unless every batch has n indices), for a
    caller that wants them as one block (sampler.batches() on the CPU: rows without a copy)."""
    block: Optional[np.ndarray] = None


def _batches_from_columns(columns: Tuple[bytes, List[int], List[Tuple[Any, ...]]]) -> List[Batch]:
    """The Batches of _batch_columns: one conversion of all the indices, a view of it each."""
    joined, lengths, fields = columns
    array = unpack_indices(joined)
    batches, start = Chunk(), 0
    if lengths and lengths[0] and lengths.count(lengths[0]) == len(lengths):
        batches.block = array.reshape(len(lengths), lengths[0] >> 2)
    for length, (step, epoch, pressure, phase, size, weights, refurbished) in zip(lengths, fields):
        end = start + length
        batches.append(Batch(array[start >> 2:end >> 2], step, epoch, pressure, phase, size,
                             None if weights is None else np.frombuffer(weights, dtype="<f4"), joined[start:end],
                             None if refurbished is None else np.frombuffer(refurbished, dtype="<i4")))
        start = end
    return batches


def _fill_report(request: Any, sampler: str, step: int, indices: Any, labels: Any, rank: int, world_size: int,
                 losses: Optional[Any], true_class_probs: Optional[Any], dataset_labels: Optional[Any] = None) -> Any:
    """A report in the packed fields. Arrays are checked and packed; bytes (already packed, as a
    Batch's ``packed`` indices or what the sender computed) are sent as they are."""
    request.sampler, request.step, request.rank, request.world_size = sampler, step, rank, world_size
    request.packed_indices = indices if isinstance(indices, bytes) else pack_indices(indices, "indices")
    request.packed_predicted_labels = labels if isinstance(labels, bytes) else pack_indices(labels, "predicted_labels")
    if losses is not None:
        request.packed_losses = losses if isinstance(losses, bytes) else pack_floats(losses)
    if true_class_probs is not None:
        request.packed_true_class_probs = (true_class_probs if isinstance(true_class_probs, bytes)
                                           else pack_floats(true_class_probs))
    if dataset_labels is not None:
        request.packed_dataset_labels = (dataset_labels if isinstance(dataset_labels, bytes)
                                         else pack_indices(dataset_labels, "dataset_labels"))
    return request


# The service's limits on one ReportPredictionsBulk call: 256 reports, and 1.25 MiB a request.
_MAX_REPORTS_PER_CALL = 256
_MAX_CALL_BYTES = 1 << 20


def _packed_size(values: Any) -> int:
    """Bytes a field takes packed: 4 per element, or the length of bytes already packed."""
    return 0 if values is None else len(values) if isinstance(values, bytes) else 4 * len(values)


def _channel(target: str, tls: bool, ca: Optional[Any]) -> grpc.Channel:
    if not tls and ca is None:
        return grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
    if isinstance(ca, (str, os.PathLike)):
        with open(ca, "rb") as f:
            ca = f.read()
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=ca), options=_CHANNEL_OPTIONS)


def _storage_full(error: grpc.RpcError) -> bool:
    # Only the service's storage: grpc's own RESOURCE_EXHAUSTED (a message over the size limit)
    # would fail the same way every time.
    return error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and (error.details() or "").startswith("storage:")


class SamplerClient:
    """Client of one recency-sampler service.

    Calls that are safe to repeat (all but delete_sampler) are retried on UNAVAILABLE and on a
    full disk (RESOURCE_EXHAUSTED from the service's storage), with exponential backoff up to
    ``max_backoff`` seconds, for up to ``retry_timeout`` seconds, so a service restart or a disk
    being cleared is ridden out; the service's idempotency makes a retried report count once.
    Other errors raise at once, as subclasses of :class:`recency_sampler.errors.SamplerError` naming the offending field.
    """

    def __init__(self, target: str, *, timeout: float = 30.0, retry_timeout: float = 60.0,
                 connect_timeout: float = 5.0, max_backoff: float = 1.0, channel: Optional[grpc.Channel] = None,
                 token: Optional[str] = None, tls: bool = False, tls_ca: Optional[Any] = None):
        """``token``: the service's bearer token (its --token / RS_TOKEN), sent with every call;
        defaults to the RS_TOKEN environment variable. ``connect_timeout``: until a first call
        has reached the service, an unreachable one is given up on after this many seconds (a
        wrong address should not cost a minute); once reached, ``retry_timeout`` rides out restarts.
        ``tls``: connect over TLS (a service started with --tls-cert), trusting the system's roots
        or, given ``tls_ca`` (a PEM file's path, or its bytes), that certificate; defaults to the
        RS_TLS_CA environment variable."""
        self.target = target
        token = token if token is not None else os.environ.get("RS_TOKEN") or None
        # Metadata rather than call credentials: grpc allows those on TLS channels only.
        self._metadata = (("authorization", f"Bearer {token}"),) if token else None
        self.timeout = timeout
        self.retry_timeout = retry_timeout
        self.connect_timeout = connect_timeout
        if not max_backoff > 0:
            raise ValueError(f"max_backoff must be > 0 seconds, got {max_backoff}")
        self.max_backoff = max_backoff
        self._reached = False  # whether any call has got an answer from the service
        ca = tls_ca if tls_ca is not None else os.environ.get("RS_TLS_CA") or None
        # What another process needs to make the same calls (see _relay); a channel given by the
        # caller cannot be handed over.
        self._options = None if channel is not None else dict(
            target=target, timeout=timeout, retry_timeout=retry_timeout, connect_timeout=connect_timeout,
            max_backoff=max_backoff, token=token or "", tls=tls, tls_ca=ca)
        self._channel = channel or _channel(target, tls, ca)
        self._rpc = {
            name: self._channel.unary_unary(
                pb.SERVICE + name, request_serializer=req.SerializeToString, response_deserializer=res.FromString
            )
            for name, req, res in [
                ("CreateSampler", pb.CreateSamplerRequest, pb.Sampler),
                ("GetSampler", pb.GetSamplerRequest, pb.Sampler),
                ("ListSamplers", pb.ListSamplersRequest, pb.ListSamplersResponse),
                ("DeleteSampler", pb.DeleteSamplerRequest, pb.DeleteSamplerResponse),
                ("NextBatch", pb.NextBatchRequest, pb.Batch),
                ("ReportPredictions", pb.ReportPredictionsRequest, pb.ReportPredictionsResponse),
                ("NextBatches", pb.NextBatchesRequest, pb.NextBatchesResponse),
                ("ReportPredictionsBulk", pb.ReportPredictionsBulkRequest, pb.ReportPredictionsBulkResponse),
            ]
        }

    @property
    def options(self) -> Optional[Dict[str, Any]]:
        """The arguments that make an equal client (None when it was given a channel)."""
        return None if self._options is None else {**self._options, "reached": self._reached}

    # -- samplers -------------------------------------------------------------------------
    def create_sampler(self, name: str, *, dataset_size: int, num_classes: int, batch_size: int, epochs: int,
                       strategy: str = "recency_bias", window: Optional[int] = None,
                       initial_pressure: Optional[float] = None, warmup_epochs: Optional[int] = None,
                       seed: int = 0, drop_last: bool = False, active_bias_epsilon: Optional[float] = None,
                       active_bias_mode: str = "sample", noisy_labels: str = "ignore") -> SamplerInfo:
        """Creates the sampler, or returns it if it exists with an equal config (idempotent).
        ``noisy_labels`` (recency_bias only): "exclude" keeps samples whose recent predictions agree
        with each other but not with their label out of the uncertain set; "refurbish" also has the
        batches carry their predicted class to train with. Reports must then carry dataset labels."""
        if strategy.lower() not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if active_bias_mode.lower() not in ACTIVE_BIAS_MODES:
            raise ValueError(f"active_bias_mode must be one of {', '.join(ACTIVE_BIAS_MODES)}, got {active_bias_mode!r}")
        if noisy_labels.lower() not in NOISY_LABELS:
            raise ValueError(f"noisy_labels must be one of {', '.join(NOISY_LABELS)}, got {noisy_labels!r}")
        mode = pb.ACTIVE_BIAS_MODE.values_by_name["ACTIVE_BIAS_" + active_bias_mode.upper()].number
        config = pb.SamplerConfig(dataset_size=dataset_size, num_classes=num_classes, batch_size=batch_size,
                                  epochs=epochs, strategy=pb.STRATEGY.values_by_name[strategy.upper()].number,
                                  seed=seed, drop_last=drop_last, active_bias_mode=mode,
                                  noisy_labels=pb.NOISY_LABELS.values_by_name["NOISY_LABELS_" + noisy_labels.upper()].number)
        if active_bias_epsilon is not None:
            config.active_bias_epsilon = active_bias_epsilon
        if window is not None:
            config.window = window
        if initial_pressure is not None:
            config.initial_pressure = initial_pressure
        if warmup_epochs is not None:
            config.warmup_epochs = warmup_epochs
        return _info(self._call("CreateSampler", pb.CreateSamplerRequest(name=name, config=config)))

    def get_sampler(self, name: str) -> SamplerInfo:
        return _info(self._call("GetSampler", pb.GetSamplerRequest(name=name)))

    def list_samplers(self) -> List[SamplerInfo]:
        return [_info(s) for s in self._call("ListSamplers", pb.ListSamplersRequest()).samplers]

    def delete_sampler(self, name: str) -> None:
        self._call("DeleteSampler", pb.DeleteSamplerRequest(name=name), idempotent=False)

    # -- training steps -------------------------------------------------------------------
    def next_batch(self, sampler: str, step: int, *, rank: int = 0, world_size: int = 1) -> Batch:
        """This rank's share of the global batch of ``step`` (the same on every call)."""
        b = self._call("NextBatch", pb.NextBatchRequest(sampler=sampler, step=step, rank=rank, world_size=world_size,
                                                        packed=True))
        return _batch(b)

    def next_batches(self, sampler: str, step: int, count: int, *, rank: int = 0, world_size: int = 1) -> List[Batch]:
        """Steps [step, step + count) in one call (count <= 64): what next_batch gives for each."""
        response = self._call("NextBatches", pb.NextBatchesRequest(sampler=sampler, step=step, count=count, rank=rank,
                                                                   world_size=world_size, packed=True))
        return _batches(response.batches)

    def report(self, sampler: str, step: int, indices: Any, predicted_labels: Any, *, rank: int = 0,
               world_size: int = 0, losses: Optional[Any] = None,
               true_class_probs: Optional[Any] = None, dataset_labels: Optional[Any] = None) -> ReportResult:
        """Records the predicted labels of the samples a rank trained on at ``step`` (with
        ``dataset_labels``: the labels the data set gives them, which noisy_labels needs)."""
        request = _fill_report(pb.ReportPredictionsRequest(), sampler, step, indices, predicted_labels, rank, world_size,
                               losses, true_class_probs, dataset_labels)
        r = self._call("ReportPredictions", request)
        return ReportResult(accepted=r.accepted, duplicate=r.duplicate)

    def report_many(self, sampler: str, reports: Sequence[Tuple[Any, ...]], *, rank: int = 0,
                    world_size: int = 0) -> List[ReportResult]:
        """Several reports of one rank, each (step, indices, predicted_labels) or (step, indices,
        predicted_labels, losses, true_class_probs[, dataset_labels]) with None for a missing field. Sent in calls of
        at most 256 reports and 1 MiB (the service refuses larger requests unread), each recorded
        whole or not at all."""
        results: List[ReportResult] = []
        request, size = pb.ReportPredictionsBulkRequest(), 0
        for report in reports:  # built in place: no message copied
            step, indices, labels, losses, probs, given = (tuple(report) + (None, None, None))[:6]
            bytes_ = sum(_packed_size(x) for x in (indices, labels, losses, probs, given)) + 64
            if len(request.reports) == _MAX_REPORTS_PER_CALL or (request.reports and size + bytes_ > _MAX_CALL_BYTES):
                results += self._send_reports(request)
                request, size = pb.ReportPredictionsBulkRequest(), 0
            _fill_report(request.reports.add(), sampler, step, indices, labels, rank, world_size, losses, probs, given)
            size += bytes_
        if request.reports:
            results += self._send_reports(request)
        return results

    def _send_reports(self, request: Any) -> List[ReportResult]:
        return [ReportResult(accepted=r.accepted, duplicate=r.duplicate)
                for r in self._call("ReportPredictionsBulk", request).results]

    # -- plumbing -------------------------------------------------------------------------
    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "SamplerClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, method: str, request: Any, *, idempotent: bool = True) -> Any:
        rpc: Callable[..., Any] = self._rpc[method]
        give_up = time.monotonic() + (self.retry_timeout if self._reached else min(self.retry_timeout, self.connect_timeout))
        delay = 0.05
        while True:
            try:
                response = rpc(request, timeout=self.timeout, metadata=self._metadata)
                self._reached = True
                return response
            except grpc.RpcError as error:
                unavailable = error.code() == grpc.StatusCode.UNAVAILABLE
                full = _storage_full(error)
                if not unavailable:
                    self._reached = True  # the service answered, with an error
                retry = idempotent and (unavailable or full) and time.monotonic() + delay < give_up
                if not retry:
                    failure = from_rpc_error(error, method)
                    if unavailable and not self._reached:
                        failure = type(failure)(f"could not reach the service at {self.target} (is it running, and is "
                                                f"that its gRPC address?): {failure.details}", method=method,
                                                code=failure.code)
                    raise failure from None
            if full and delay == 0.05:
                _log.warning("%s: the service's disk is full; retrying for up to %.0f s", method, give_up - time.monotonic())
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, self.max_backoff)


__all__: Sequence[str] = ["SamplerClient", "SamplerInfo", "EpochDiagnostics", "SamplerConfig", "Batch", "ReportResult", "SamplerError"]
