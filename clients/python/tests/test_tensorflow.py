"""model.fit through the service with TensorFlow, in TensorFlow's own environment."""
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from recency_sampler import BatchStream  # noqa: E402
from recency_sampler.tf import ReportingModel, index_dataset, served_dataset  # noqa: E402

CONFIG = dict(dataset_size=256, num_classes=4, batch_size=32, epochs=3, warmup_epochs=1, window=2, seed=5)


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype(np.float32)
    return x, (x[:, :4].argmax(axis=1)).astype(np.int64)


def test_index_dataset_yields_the_servers_batches(client, name):
    stream = BatchStream(client, name, **CONFIG)
    batches = [b.numpy().tolist() for b in index_dataset(stream)]
    assert batches == [client.next_batch(name, s).indices for s in range(8)]
    stream.close()


@pytest.mark.parametrize("strategy", ["recency_bias", "active_bias"])
def test_model_fit_trains_on_served_batches_and_reports_every_step(client, name, strategy):
    # Active Bias refuses reports without true-class probabilities: fit must send them.
    x, y = data()
    stream = BatchStream(client, name, **CONFIG, strategy=strategy)
    inner = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)])
    model = ReportingModel(inner, stream)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(served_dataset(stream, x, y), epochs=3, shuffle=False, verbose=0)
    stream.flush()
    assert len(history.history["loss"]) == 3 and history.history["loss"][-1] < history.history["loss"][0]
    info = client.get_sampler(name)
    assert (info.reports_received, info.predictions_received) == (24, 768)
    assert stream.epoch == 2  # fit walked the sampler's three epochs
    stream.close()
