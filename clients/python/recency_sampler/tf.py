"""TensorFlow / Keras integration: served batches as a tf.data pipeline, and a model wrapper whose
fit() reports the predictions of each training forward pass.

    stream = BatchStream(client, "run", dataset_size=len(x), num_classes=10, batch_size=128, epochs=20)
    model = ReportingModel(keras_model, stream)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(served_dataset(stream, x, y), epochs=20, shuffle=False)

Each pass over the dataset is one epoch of the stream: fit(epochs=E) walks the sampler's epochs.
"""
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .stream import BatchStream


def index_dataset(stream: BatchStream) -> tf.data.Dataset:
    """This rank's batch indices, one int64 vector per step; each iteration is the next epoch.
    Its cardinality is the steps per epoch (so Keras knows an epoch's length), unless the stream
    resumes mid-epoch."""
    dataset = tf.data.Dataset.from_generator(stream.arrays, output_signature=tf.TensorSpec([None], tf.int64))
    if stream.state_dict()["step_in_epoch"] == 0:
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(stream)))
    return dataset


def served_dataset(stream: BatchStream, x: Any, y: Any) -> tf.data.Dataset:
    """(x[batch], y[batch], batch indices) for each served batch of in-memory arrays x and y."""
    xs, ys = tf.constant(x), tf.constant(y)
    return index_dataset(stream).map(lambda i: (tf.gather(xs, i), tf.gather(ys, i), i)).prefetch(2)


class ReportingModel(keras.Model):
    """Wraps a Keras model so that fit() on served_dataset() reports each batch's predictions (the
    outputs of the training forward pass) to the stream, without blocking training.

    Keras's own train_step runs unchanged; the public compute_loss hook, which receives the
    training forward pass's outputs, queues the report."""

    def __init__(self, model: keras.Model, stream: BatchStream, **kwargs: Any):
        super().__init__(**kwargs)
        self.model = model
        self.stream = stream
        self._indices: Any = None

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.model(inputs, training=training)

    def _report(self, indices: tf.Tensor, outputs: tf.Tensor, targets: tf.Tensor) -> np.int64:
        # Sparse integer targets give losses and true-class probabilities (the baselines need them).
        labels = targets.numpy()
        self.stream.report(indices.numpy(), outputs.numpy(), labels if labels.ndim == 1 else None)
        return np.int64(0)

    def train_step(self, data: Any) -> Any:
        x, y, indices = data
        self._indices = indices  # read by compute_loss below, while this step is traced or run
        try:
            return super().train_step((x, y))
        finally:
            self._indices = None

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> Any:
        if training and self._indices is not None:
            # Runs in Python even inside the compiled step; the report itself is only queued.
            tf.py_function(self._report, [self._indices, y_pred, y], tf.int64)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)

    def test_step(self, data: Any) -> Any:
        return super().test_step(data[:2] if isinstance(data, tuple) and len(data) == 3 else data)
