"""Python client for recency-sampler, the served Recency Bias batch selector.

The core (SamplerClient, BatchStream) imports neither torch nor TensorFlow; the PyTorch pieces
are loaded on first use, so ``from recency_sampler import RecencyBatchSampler`` needs torch only
then.
"""
from typing import Any

from .client import Batch, EpochDiagnostics, ReportResult, SamplerClient, SamplerConfig, SamplerInfo
from .errors import (AlreadyExists, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, SamplerError,
                     StorageFull, Unauthenticated, Unavailable, Unimplemented)
from .stream import BatchStream

__version__ = "0.1.0"

__all__ = [
    "SamplerClient", "SamplerInfo", "SamplerConfig", "EpochDiagnostics", "Batch", "ReportResult", "BatchStream",
    "RecencyBatchSampler", "IndexedDataset",
    "SamplerError", "InvalidArgument", "NotFound", "AlreadyExists", "FailedPrecondition", "Unimplemented",
    "Unauthenticated", "Unavailable", "StorageFull", "DeadlineExceeded",
]


def __getattr__(name: str) -> Any:
    if name in ("RecencyBatchSampler", "IndexedDataset"):
        from . import torch as _torch

        return getattr(_torch, name)
    raise AttributeError(f"module 'recency_sampler' has no attribute {name!r}")
