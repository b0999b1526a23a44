"""Turning numpy arrays, torch tensors and lists into plain integer / float lists, without
importing torch or TensorFlow."""
from typing import Any, List, Optional

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


def optional_floats(values: Optional[Any]) -> Optional[List[float]]:
    return None if values is None else to_numpy(values).astype(np.float64).ravel().tolist()
