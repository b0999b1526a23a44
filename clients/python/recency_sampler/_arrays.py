"""Numpy views of lists, arrays and tensors, the host-side checks and arithmetic of reports, and
the packed fields' encoding, without importing torch or TensorFlow."""
from typing import Any, Optional, Tuple

import numpy as np


def to_numpy(values: Any) -> np.ndarray:
    """A numpy view of a list, numpy array, torch tensor (any device) or TensorFlow tensor."""
    if hasattr(values, "detach"):  # torch.Tensor
        values = values.detach().cpu().numpy()
    elif hasattr(values, "numpy") and not isinstance(values, np.ndarray):  # tf.Tensor
        values = values.numpy()
    return np.asarray(values)


def predicted_labels(outputs: Any) -> np.ndarray:
    """Argmax labels from logits or probabilities [n, k], or labels [n] as they are."""
    array = to_numpy(outputs)
    if array.ndim == 2:
        return array.argmax(axis=1)
    if array.ndim == 1 and (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        return array
    raise ValueError(
        f"outputs must be logits or probabilities of shape [n, num_classes] or integer labels of shape [n], "
        f"got shape {array.shape} and dtype {array.dtype}"
    )


def loss_and_true_class_prob(outputs: Any, targets: Any) -> Tuple[np.ndarray, np.ndarray]:
    """Per-sample cross-entropy and predicted probability of the true class, from logits or
    probabilities [n, k] (rows of non-negative values summing to 1 are taken as probabilities)."""
    scores = to_numpy(outputs).astype(np.float64)
    labels = to_numpy(targets)
    if scores.ndim != 2:
        raise ValueError(f"losses need outputs of shape [n, num_classes] (logits or probabilities), got shape {scores.shape}")
    if labels.shape != (scores.shape[0],) or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"targets must be {scores.shape[0]} integer class labels, got shape {labels.shape} "
                         f"and dtype {labels.dtype}")
    rows = np.arange(scores.shape[0])
    if scores.size and scores.min() >= 0 and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
        prob = scores[rows, labels]
        return -np.log(np.maximum(prob, 1e-30)), prob
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_prob = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    true = log_prob[rows, labels]
    return -true, np.exp(true)


# -- packed fields: little-endian uint32 / float32 arrays as bytes (see the .proto) -------------
_U32 = np.dtype("<u4")
_F32 = np.dtype("<f4")


def unpack_indices(packed: bytes) -> np.ndarray:
    """The int64 indices of a packed field: one vectorized conversion, no object per element."""
    return np.frombuffer(packed, dtype=_U32).astype(np.int64)


def pack_indices(values: Any, name: str, bound: Optional[int] = None) -> bytes:
    """uint32 LE bytes of integer values, each checked to be in [0, bound) (or [0, 2^32))."""
    array = to_numpy(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not array.size:
        return b""
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    low, high = int(array.min()), int(array.max())
    limit = bound if bound is not None else 2 ** 32
    if low < 0 or high >= limit:
        bad = low if low < 0 else high
        where = int(np.flatnonzero(array == bad)[0])
        raise ValueError(f"{name}[{where}] must be in [0, {limit}), got {bad}")
    return array.astype(_U32, copy=False).tobytes()


def pack_floats(values: Any) -> bytes:
    return to_numpy(values).astype(_F32, copy=False).ravel().tobytes()


def check_host_outputs(outputs: Any, n: int, num_classes: int, targets: Any) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Shape and dtype checks of host outputs (and targets), from metadata only: the arithmetic
    runs later, in the sender thread. Returns numpy arrays."""
    array = to_numpy(outputs)
    if array.ndim == 2:
        if array.shape != (n, num_classes):
            raise ValueError(f"outputs: expected logits or probabilities of shape [{n}, {num_classes}], got {list(array.shape)}")
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise ValueError(f"outputs: logits or probabilities must be numbers, got dtype {array.dtype}")
    elif array.ndim == 1:
        if array.shape[0] != n or (array.size and not np.issubdtype(array.dtype, np.integer)):
            raise ValueError(f"outputs: predicted labels must be {n} integers, got shape {list(array.shape)} "
                             f"and dtype {array.dtype}")
    else:
        raise ValueError(f"outputs: expected shape [{n}, {num_classes}] (logits or probabilities) or [{n}] (labels), "
                         f"got {list(array.shape)}")
    if targets is None:
        return array, None
    labels = to_numpy(targets)
    if array.ndim != 2:
        raise ValueError("outputs: losses need logits or probabilities of shape [n, num_classes], got labels")
    if labels.shape != (n,) or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"targets: must be {n} integer class labels, got shape {list(labels.shape)} and dtype {labels.dtype}")
    return array, labels


def host_predictions(outputs: np.ndarray, targets: Optional[np.ndarray]
                     ) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]:
    """Labels, and with targets losses, true-class probabilities and the targets themselves (the
    dataset labels, as uint32), of checked host outputs."""
    labels = predicted_labels(outputs)
    if targets is None:
        return labels, None, None, None
    losses, probs = loss_and_true_class_prob(outputs, targets)
    return labels, losses, probs, targets.astype(_U32)
