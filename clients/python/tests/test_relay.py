"""relay=True: the per-step calls are made from a helper process. The batches and reports are
the same as without it, errors come back with their type and fields at the next call, and the
helper never outlives the process that started it."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from recency_sampler import BatchStream, NotFound, SamplerClient

CONFIG = dict(dataset_size=200, num_classes=5, batch_size=16, epochs=3, warmup_epochs=1, window=2, seed=3)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie has exited
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_relayed_batches_and_reports_equal_the_direct_ones_and_the_helper_exits_on_close(client, name):
    relayed = BatchStream(client, name, relay=True, **CONFIG)
    helper = relayed._calls._process.pid
    assert helper != os.getpid() and _alive(helper)
    served = {}
    for epoch in range(3):
        for batch in relayed.batches():
            served[batch.step] = batch.array.copy()
            relayed.report(batch, (batch.array % 5).astype(np.int64))
    relayed.close()
    assert _wait_gone(helper), "the helper exits when the stream is closed"
    info = client.get_sampler(name)
    assert info.reports_received == len(served) == info.total_steps
    for step, indices in served.items():  # what the service serves to anyone for that step
        np.testing.assert_array_equal(indices, client.next_batch(name, step).array)


def test_an_error_in_the_helper_is_raised_with_its_type_and_fields_at_the_next_call(client, name):
    stream = BatchStream(client, name, relay=True, **CONFIG)
    batches = stream.batches()
    batch = next(batches)
    client.delete_sampler(name)  # gone under the running stream: the next calls are refused
    stream.report(batch, np.zeros(len(batch), dtype=np.int64))
    with pytest.raises(NotFound) as raised:
        stream.flush()
    assert raised.value.method == "ReportPredictionsBulk" and "sampler" in raised.value.details
    with pytest.raises(NotFound):  # and again at the next call, not swallowed
        stream.report(next(batches), np.zeros(len(batch), dtype=np.int64))


def test_a_refused_fetch_surfaces_from_the_iteration_with_its_type(client, name):
    stream = BatchStream(client, name, relay=True, **CONFIG)
    client.delete_sampler(name)
    with pytest.raises(NotFound) as raised:
        next(stream.batches())
    assert raised.value.method == "NextBatches"
    stream._calls.close()


def test_the_helper_exits_when_its_parent_is_killed(service, tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {ROOT!r})
        from recency_sampler import BatchStream, SamplerClient
        client = SamplerClient({service.target!r})
        stream = BatchStream(client, "killed-parent", relay=True, dataset_size=64, num_classes=4, batch_size=8,
                             epochs=2, warmup_epochs=1)
        next(stream.batches())
        print(stream._calls._process.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        helper = int(parent.stdout.readline())
        assert _alive(helper)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _wait_gone(helper), "the helper exits once its parent's sockets close"
    finally:
        parent.kill()


def test_a_client_given_a_channel_keeps_its_calls_in_process(service, name):
    import grpc

    with SamplerClient(service.target, channel=grpc.insecure_channel(service.target)) as client:
        stream = BatchStream(client, name, relay=True, **CONFIG)
        assert stream._calls is client and client.options is None
        for batch in stream.batches():
            stream.report(batch, np.zeros(len(batch), dtype=np.int64))
        stream.close()
        assert client.get_sampler(name).reports_received == 13


def test_the_options_carry_what_an_equal_client_needs(service):
    with SamplerClient(service.target, timeout=7.0, retry_timeout=9.0, token="t0k") as client:
        options = client.options
        assert json.loads(json.dumps(options)) == options
        assert options["target"] == service.target and options["timeout"] == 7.0 and options["retry_timeout"] == 9.0
        assert options["token"] == "t0k" and options["reached"] is False


def test_forked_dataloader_workers_do_not_keep_the_helper_alive(client, name):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    from recency_sampler import IndexedDataset, RecencyBatchSampler

    sampler = RecencyBatchSampler(client, name=name, relay=True, dataset_size=64, num_classes=4, batch_size=8,
                                  epochs=2, warmup_epochs=1)
    # Persistent workers are forked from this process while the relay's sockets are open.
    loader = DataLoader(IndexedDataset(TensorDataset(torch.zeros(64, 1))), batch_sampler=sampler, num_workers=2,
                        persistent_workers=True, multiprocessing_context="fork")
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for indices, _ in loader:
            sampler.report(indices, torch.randn(len(indices), 4))
    helper = sampler.stream._calls._process
    sampler.close()  # the workers are still alive
    assert helper.returncode == 0, "the helper saw its sockets close and exited by itself (not killed after a timeout)"
    assert client.get_sampler(name).reports_received == 16
