"""Turning numpy arrays, torch tensors and lists into plain integer / float lists, without
importing torch or TensorFlow."""
from typing import Any, List, Optional, Tuple

import numpy as np


def to_numpy(values: Any) -> np.ndarray:
    """A numpy view of a list, numpy array, torch tensor (any device) or TensorFlow tensor."""
    if hasattr(values, "detach"):  # torch.Tensor
        values = values.detach().cpu().numpy()
    elif hasattr(values, "numpy") and not isinstance(values, np.ndarray):  # tf.Tensor
        values = values.numpy()
    return np.asarray(values)


def to_index_list(values: Any, name: str) -> List[int]:
    array = to_numpy(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64).tolist()


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


def optional_floats(values: Optional[Any]) -> Optional[List[float]]:
    return None if values is None else to_numpy(values).astype(np.float64).ravel().tolist()
