"""The data plane: packed arrays both ways, the GPU-resident path (exercised here on the CPU), a
report() that never reads the device and checks its input at the call, the old contract still
served, and a sender thread that batches without polling."""
import os
import threading
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from recency_sampler import BatchStream, RecencyBatchSampler, SamplerClient  # noqa: E402
from recency_sampler import _proto as pb  # noqa: E402
from recency_sampler import _torch_reports as device_reports  # noqa: E402
from recency_sampler._arrays import loss_and_true_class_prob  # noqa: E402
from recency_sampler.client import _batch  # noqa: E402
from recency_sampler.stream import FIRST_CHUNK, REPORT_CHUNK, Outbox, chunk_plan  # noqa: E402
from recency_sampler.torch import StepBatch  # noqa: E402

from .devices import DEVICES  # noqa: E402

CONFIG = dict(dataset_size=200, num_classes=5, batch_size=16, epochs=3, warmup_epochs=1, window=2, seed=7)


def test_packed_batches_equal_the_repeated_ones_and_old_clients_are_served_as_before(client, name):
    client.create_sampler(name, **CONFIG)
    for step in (0, 5, 12, 13, 30):
        old = client._call("NextBatch", pb.NextBatchRequest(sampler=name, step=step, rank=1, world_size=2))
        assert len(old.indices) and not old.packed_indices, "a request without `packed` is answered as before"
        new = client.next_batch(name, step, rank=1, world_size=2)
        assert new.array.dtype == np.int64 and new.indices == list(old.indices)
        assert _batch(old).indices == new.indices, "a response of a server without packed fields decodes alike"
    # An old-style report (repeated fields) is accepted and counted as a packed one would be.
    batch = client.next_batch(name, 1)
    old_report = pb.ReportPredictionsRequest(sampler=name, step=1, indices=batch.indices, predicted_labels=[1] * 16)
    assert client._call("ReportPredictions", old_report).accepted == 16
    assert client.report(name, 1, batch.array, np.ones(16, dtype=np.int64)).duplicate


@pytest.mark.parametrize("start,end,size", [(0, 235, 64), (940, 1175, 64), (5, 235, 64), (0, 1000, 16), (0, 10, 64),
                                            (0, 3, 1), (0, 60, 64)])
def test_an_epochs_fetches_cover_its_steps_once_starting_short_and_growing_by_at_most_double(start, end, size):
    plan = chunk_plan(start, end, size)
    steps = [s for first, count in plan for s in range(first, first + count)]
    assert steps == list(range(start, end)), "every step once, in order, in calls of consecutive steps"
    counts = [count for _, count in plan]
    assert counts[0] <= FIRST_CHUNK and max(counts) <= size
    # Each call is drawn while the steps before it train: one at most twice the one before keeps
    # the loop from waiting on a large call right after the short first one (8 then 64 did).
    assert all(b <= 2 * a for a, b in zip(counts, counts[1:])), counts
    if end - start >= 4 * size:
        assert size in counts, "the calls grow to the full size: few calls per epoch"


def test_a_negative_index_is_refused_at_the_call_naming_the_field(client, name):
    client.create_sampler(name, **CONFIG)
    batch = client.next_batch(name, 0)
    indices = batch.array.copy()
    indices[3] = -1
    with pytest.raises(ValueError, match=r"indices\[3\] must be in \[0, 4294967296\), got -1"):
        client.report(name, 0, indices, np.zeros(16, dtype=np.int64))


@pytest.mark.parametrize("device", DEVICES)
def test_gpu_path_batches_are_int64_tensors_of_the_served_steps_and_reports_land(client, name, device):
    sampler = RecencyBatchSampler(client, name=name, **CONFIG, strategy="online_batch")
    x = torch.randn(200, 3, device=device)
    model = torch.nn.Linear(3, 5).to(device)
    y = torch.arange(200, device=device) % 5
    for epoch in range(3):
        steps = []
        for batch in sampler.batches(device):
            assert isinstance(batch, StepBatch) and batch.indices.dtype == torch.int64
            assert batch.indices.device.type == device
            logits = model(x[batch.indices])
            sampler.report(batch, logits, y[batch.indices])
            steps.append((batch.step, batch.indices.tolist()))
        assert [s for s, _ in steps] == list(range(epoch * 13, epoch * 13 + 13))
        assert [i for _, i in steps] == [client.next_batch(name, s).indices for s, _ in steps]
    sampler.flush()
    info = client.get_sampler(name)
    assert (info.reports_received, info.predictions_received) == (39, 200 + 2 * 13 * 16)  # warm-up: a permutation; adaptive steps: b each
    sampler.close()


@pytest.mark.parametrize("device", DEVICES)
def test_device_side_losses_and_probabilities_equal_the_host_reference(device):
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(64, 7, generator=g) * 4
    targets = torch.randint(0, 7, (64,), generator=g)
    for outputs in (logits, torch.softmax(logits, 1)):  # logits, and rows already probabilities
        checked = device_reports.check_outputs(outputs.to(device), 64, 7, targets.to(device))
        stats = device_reports.stats_of(outputs.to(device), checked)
        labels, losses, probs, given = device_reports.split(device_reports.to_host(stats)())
        ref_loss, ref_prob = loss_and_true_class_prob(outputs.numpy(), targets.numpy())
        np.testing.assert_array_equal(labels, outputs.argmax(1).numpy())
        np.testing.assert_array_equal(given, targets.numpy())  # the dataset labels ride along
        np.testing.assert_allclose(probs, ref_prob, rtol=2e-5, atol=1e-7)  # float32 on the device, float64 on the host
        np.testing.assert_allclose(losses, ref_loss, rtol=2e-4, atol=1e-5)
    labels, losses, probs, given = device_reports.split(device_reports.to_host(device_reports.stats_of(targets, None))())
    np.testing.assert_array_equal(labels, targets.numpy())
    assert losses is None and probs is None and given is None


def test_bad_reports_raise_value_error_at_the_call_naming_the_argument_and_change_nothing(client, name):
    sampler = RecencyBatchSampler(client, name=name, **CONFIG)
    other = RecencyBatchSampler(client, name=name + "-other", **CONFIG)
    batches = sampler.batches("cpu")
    batch = next(batches)
    foreign = next(other.batches("cpu"))
    n = len(batch)
    cases = [
        ((foreign, torch.randn(n, 5)), r"^batch: step 0 is not a batch that sampler .* served"),
        ((batch, torch.randn(n + 1, 5)), r"^outputs: expected logits or probabilities of shape \[16, 5\], got \[17, 5\]"),
        ((batch, torch.randn(n, 4)), r"^outputs: expected logits or probabilities of shape \[16, 5\]"),
        ((batch, torch.zeros(n, 5, dtype=torch.int64)), r"^outputs: logits or probabilities must be floating point"),
        ((batch, torch.randn(n)), r"^outputs: predicted labels must be 16 integers"),
        ((batch, torch.randn(n, 5, 2)), r"^outputs: expected shape"),
        ((batch, torch.randn(n, 5), torch.zeros(n, dtype=torch.long, device="meta")), r"^targets: must be on the outputs' device cpu, got meta"),
        ((batch, torch.randn(n, 5), torch.zeros(n - 1, dtype=torch.long)), r"^targets: must be 16 integer class labels"),
    ]
    for args, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            sampler.report(*args)
    sampler.report(batch, torch.randn(n, 5))  # the batch is still reportable: nothing was consumed
    for step_batch in batches:
        sampler.report(step_batch, torch.randn(len(step_batch), 5))
    with pytest.raises(ValueError, match=r"^batch: step 0 is not a batch"):
        next(iter(sampler.batches("cpu")))  # a new epoch begins ...
        sampler.report(batch, torch.randn(n, 5))  # ... and a batch of the last one is refused
    sampler.flush()
    assert client.get_sampler(name).reports_received == 13
    sampler.close()
    other.close()


def test_the_sender_batches_reports_into_few_calls_and_does_not_run_while_idle():
    calls = []
    outbox = Outbox(lambda items: calls.append(len(items)), capacity=256, name="test")
    try:
        for i in range(2 * REPORT_CHUNK):
            outbox.put(i)
        outbox.flush()
        assert calls == [REPORT_CHUNK, REPORT_CHUNK]
        for i in range(3):
            outbox.put(i)
        outbox.flush()
        assert calls[-1] == 3, "flush() sends what is queued without waiting out the delay"
        # Idle: the thread sleeps on a condition. Its CPU time over 1.5 s stays at the clock tick.
        tid = outbox._thread.native_id
        before = _thread_cpu_ticks(tid)
        time.sleep(1.5)
        assert _thread_cpu_ticks(tid) - before <= 1
    finally:
        outbox.close()


def _thread_cpu_ticks(tid):
    with open(f"/proc/self/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_a_training_thread_reporting_every_step_wakes_the_sender_about_once_per_call(client, name):
    stream = BatchStream(client, name, relay=False, **CONFIG)  # the sender thread of relay=False
    woken = []
    original = stream._outbox._cond.wait

    def counting_wait(timeout=None):
        if threading.current_thread() is stream._outbox._thread:
            woken.append(1)
        return original(timeout)

    stream._outbox._cond.wait = counting_wait
    for epoch in range(2):
        for batch in stream.batches():
            stream.report(batch, np.zeros(len(batch), dtype=np.int64))
    stream.flush()
    # 26 reports over the two epochs; at the epoch ends flush() cuts the wait: a few calls, each
    # with at most three waits (for the first report, for more, and the flush).
    assert client.get_sampler(name).reports_received == 26
    assert len(woken) <= 3 * 4, f"sender waited {len(woken)} times for 26 reports"
    stream.close()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("num_classes", [5, 5000])  # reduced in launched groups; large outputs reduced at the call
def test_the_service_stores_the_labels_and_losses_of_the_outputs(service, client, name, num_classes, device):
    import json
    import urllib.request

    assert (16 * num_classes > device_reports.DEFER_ELEMENTS) == (num_classes == 5000)
    sampler = RecencyBatchSampler(client, name=name, **{**CONFIG, "num_classes": num_classes}, strategy="online_batch")
    g = torch.Generator().manual_seed(5)
    expected = {}
    for batch in sampler.batches(device):
        logits = torch.randn(len(batch), num_classes, generator=g) * 3
        targets = torch.randint(0, num_classes, (len(batch),), generator=g)
        sampler.report(batch, logits.to(device), targets.to(device))
        losses = torch.nn.functional.cross_entropy(logits.double(), targets, reduction="none")
        for i, label, loss in zip(batch.indices.tolist(), logits.argmax(1).tolist(), losses.tolist()):
            expected[i] = (label, loss)
    sampler.flush()
    for index in list(expected)[::23]:
        url = f"http://127.0.0.1:{service.http_port}/v1/samplers/{name}/samples/{index}"
        sample = json.loads(urllib.request.urlopen(url, timeout=10).read())
        label, loss = expected[index]
        assert sample["window"][-1] == label
        assert sample["latestLoss"] == pytest.approx(loss, rel=1e-4, abs=1e-5)
    sampler.close()


def test_a_lost_service_surfaces_at_the_next_call_as_unavailable(tmp_path):
    from recency_sampler import Unavailable

    from .service import ServiceProcess

    service = ServiceProcess(tmp_path / "sampler.db").start()
    client = SamplerClient(service.target, retry_timeout=1.0, timeout=2.0)
    try:
        sampler = RecencyBatchSampler(client, name="lost", **CONFIG)
        batches = sampler.batches("cpu")
        batch = next(batches)
        service.kill()  # gone for good: the queued report cannot be delivered
        sampler.report(batch, torch.randn(len(batch), 5))
        with pytest.raises(Unavailable, match=r"ReportPredictionsBulk"):
            sampler.flush()
        with pytest.raises(Unavailable):  # and again at the next call, not swallowed
            sampler.report(next(batches), torch.randn(len(batch), 5))
    finally:
        service.kill()
        client.close()


@pytest.mark.parametrize("device", DEVICES)
def test_loss_weights_of_a_step_batch_are_the_served_ones_on_its_device(client, name, device):
    config = {**CONFIG, "strategy": "active_bias", "active_bias_mode": "reweight"}
    sampler = RecencyBatchSampler(client, name=name, **config)
    x = torch.randn(200, 3, device=device)
    y = torch.arange(200, device=device) % 5
    model = torch.nn.Linear(3, 5).to(device)
    adaptive = 0
    for epoch in range(3):
        for batch in sampler.batches(device):
            weights = sampler.loss_weights(batch)
            served = client.next_batch(name, batch.step).weights  # what the service sent for that step
            if served is None:
                assert weights is None and epoch < config["warmup_epochs"]
            else:
                adaptive += 1
                assert weights.device.type == device and weights.dtype == torch.float32
                np.testing.assert_allclose(weights.cpu().numpy(), served, rtol=0, atol=0)
            sampler.report(batch, model(x[batch.indices]), y[batch.indices])
    assert adaptive == 2 * 13, "every step of the two adaptive epochs carried weights"
    sampler.close()


@pytest.mark.parametrize("device", DEVICES)
def test_labels_of_logits_and_of_integer_labels_land_as_predicted(service, client, name, device):
    """Without targets a group of torch reports is reduced to its labels alone (one op): logits
    by argmax, integer labels of any width as they are."""
    import json
    import urllib.request

    sampler = RecencyBatchSampler(client, name=name, **CONFIG)
    g = torch.Generator().manual_seed(3)
    expected = {}
    for i, batch in enumerate(sampler.batches(device)):
        logits = torch.randn(len(batch), CONFIG["num_classes"], generator=g)
        outputs = logits if i % 3 == 0 else logits.argmax(1).to(torch.int32 if i % 3 == 1 else torch.int64)
        sampler.report(batch, outputs.to(device))
        expected.update(zip(batch.indices.tolist(), logits.argmax(1).tolist()))
    sampler.flush()
    for index in list(expected)[::7]:
        url = f"http://127.0.0.1:{service.http_port}/v1/samplers/{name}/samples/{index}"
        assert json.loads(urllib.request.urlopen(url, timeout=10).read())["window"][-1] == expected[index]
    sampler.close()


@pytest.mark.parametrize("relay", [False, True])
def test_torch_reports_from_several_threads_all_land_once(service, client, name, relay):
    """report() may be called from more than one thread: the reports waiting to be launched in a
    group (or sent to the relay's helper, their outputs through its shared ring) are neither lost,
    nor sent twice, nor mixed up: each sample's stored label is its own report's."""
    import json
    import urllib.request

    classes = CONFIG["num_classes"]
    sampler = RecencyBatchSampler(client, name=name, relay=relay, **{**CONFIG, "dataset_size": 4000, "batch_size": 8})
    batches = list(sampler.batches("cpu"))
    # Each step's logits point at its own class (step mod classes), so a report whose outputs
    # landed under another step's indices shows.
    outputs = {b.step: torch.nn.functional.one_hot(torch.full((8,), b.step % classes), classes).float() for b in batches}
    threads = [threading.Thread(target=lambda part=batches[k::4]: [sampler.report(b, outputs[b.step]) for b in part])
               for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sampler.flush()
    info = client.get_sampler(name)
    assert (info.reports_received, info.predictions_received) == (len(batches), 8 * len(batches))
    for batch in batches[::23]:
        for index in batch.indices.tolist()[:2]:
            url = f"http://127.0.0.1:{service.http_port}/v1/samplers/{name}/samples/{index}"
            assert json.loads(urllib.request.urlopen(url, timeout=10).read())["window"][-1] == batch.step % classes
    sampler.close()
