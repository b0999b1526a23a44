"""relay=True: the per-step calls are made from a helper process that the training thread drives
(the training process runs no thread of its own for them). The batches and reports are the same
as without it, host outputs pass through shared memory and land as predicted, errors come back
with their type and fields at the next call, and the helper never outlives the process that
started it."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
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


def test_a_refused_last_report_surfaces_at_the_next_iteration_as_itself(client, name):
    """The epoch's end does not wait for its last reports; one the service refused is raised at
    the next call, as it was (not as the asked-ahead fetch the helper then did not make)."""
    stream = BatchStream(client, name, relay=True, **CONFIG)
    for batch in stream.batches():
        if batch.step == stream.steps_per_epoch - 1:
            client.delete_sampler(name)  # gone under the running stream: its last report is refused
        stream.report(batch, np.zeros(len(batch), dtype=np.int64))
    assert stream._ahead is not None
    with pytest.raises(NotFound) as raised:
        next(stream.batches())
    assert raised.value.method == "ReportPredictionsBulk"
    stream._calls.close()


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


def _stored(service, name, index):
    import urllib.request

    url = f"http://127.0.0.1:{service.http_port}/v1/samplers/{name}/samples/{index}"
    return json.loads(urllib.request.urlopen(url, timeout=10).read())


def test_relayed_host_outputs_pass_through_the_ring_and_land_as_predicted(service, client, name):
    """Logits of several dtypes and layouts, numpy and torch, more bytes than the shared ring
    holds (it wraps): each sample's stored label and loss are those of its last report (bfloat16,
    which numpy cannot view, is reduced by torch instead)."""
    torch = pytest.importorskip("torch")
    import threading

    from recency_sampler import RecencyBatchSampler
    from recency_sampler._relay import Ring

    config = dict(dataset_size=64 * 60, num_classes=100, batch_size=64, epochs=4, warmup_epochs=1, window=2, seed=3)
    before = set(threading.enumerate())
    sampler = RecencyBatchSampler(client, name=name, relay=True, **config)
    relay = sampler.stream._relay
    assert relay.ring is not None, "Linux has memfd_create"
    g = torch.Generator().manual_seed(11)
    expected = {}
    for epoch in range(4):
        for i, batch in enumerate(sampler.batches("cpu")):
            logits = torch.randn(len(batch), 100, generator=g) * 3
            targets = torch.randint(0, 100, (len(batch),), generator=g)
            kind = i % 5
            if kind == 0:
                outputs = logits  # float32, contiguous
            elif kind == 1:
                outputs = logits.half()
                logits = outputs.double()  # what the helper will see
            elif kind == 2:
                outputs = logits.t().contiguous().t()  # not C-contiguous
            elif kind == 3:
                outputs = logits.numpy()
            else:
                outputs = logits.bfloat16()  # numpy has none: reduced by torch on this thread instead
                logits = outputs.double()
            if i % 2:
                sampler.report(batch, outputs, targets if kind != 3 else targets.numpy())
                losses = torch.nn.functional.cross_entropy(logits.double(), targets, reduction="none").tolist()
            else:
                sampler.report(batch, outputs)
                losses = [None] * len(batch)
            for index, label, loss in zip(batch.indices.tolist(), logits.argmax(1).tolist(), losses):
                expected[index] = (label, loss if loss is not None else expected.get(index, (None, None))[1])
        # Threads of earlier tests may end meanwhile (a stopped queue feeder): only new ones count.
        assert set(threading.enumerate()) - before == set(), "no thread of this process makes the calls"
    sampler.flush()
    assert relay.ring.head > Ring.SIZE, "the ring wrapped"
    for index in list(expected)[::37]:
        label, loss = expected[index]
        sample = _stored(service, name, index)
        assert sample["window"][-1] == label
        if loss is not None:
            assert sample["latestLoss"] == pytest.approx(loss, rel=1e-4, abs=1e-5)
    info = client.get_sampler(name)
    assert info.reports_received == 4 * 60
    sampler.close()
    assert relay.ring is None, "close() unmaps the ring"


def test_cpu_tensor_reports_are_copied_into_the_ring_once_per_group_and_land_as_predicted(service, client, name):
    """report() of a CPU tensor only checks and holds it: the training thread copies nothing per
    step, and every LAUNCH_CHUNK reports it joins the group into the ring in one block (outputs
    that need grad included). Each report still lands as its own prediction."""
    torch = pytest.importorskip("torch")
    from recency_sampler import RecencyBatchSampler
    from recency_sampler.stream import LAUNCH_CHUNK

    config = dict(dataset_size=16 * 150, num_classes=10, batch_size=16, epochs=2, warmup_epochs=1, window=2, seed=5)
    sampler = RecencyBatchSampler(client, name=name, relay=True, **config)
    ring = sampler.stream._relay.ring
    weights = torch.randn(4, 10, requires_grad=True)
    g = torch.Generator().manual_seed(2)
    expected, heads = {}, []
    for batch in sampler.batches("cpu"):
        logits = torch.randn(16, 4, generator=g) @ weights  # needs grad, as a model's output does
        sampler.report(batch, logits)
        heads.append(ring.head)
        expected.update(zip(batch.indices.tolist(), logits.argmax(1).tolist()))
        assert torch.is_grad_enabled(), "joining a group leaves the loop's gradient mode as it was"
    group = LAUNCH_CHUNK * 16 * 10 * 4  # float32 logits of a group's reports
    assert heads[:LAUNCH_CHUNK - 1] == [0] * (LAUNCH_CHUNK - 1), "nothing is copied at the call"
    assert heads[LAUNCH_CHUNK - 1] == group and heads[2 * LAUNCH_CHUNK - 1] == 2 * group, "one block per group"
    sampler.flush()
    for index in list(expected)[::29]:
        assert _stored(service, name, index)["window"][-1] == expected[index]
    assert client.get_sampler(name).reports_received == 150
    sampler.close()


def test_the_helper_calls_once_a_call_worth_of_reports_waits_counting_those_in_groups(client, name, monkeypatch):
    """The helper sends a call as soon as REPORT_CHUNK reports wait (without waiting out
    REPORT_DELAY), counting each report of a group the training thread joined."""
    import pickle
    import socket
    import threading

    from recency_sampler import _relay, stream as stream_module

    monkeypatch.setattr(stream_module, "REPORT_DELAY", 60.0)
    chunk = stream_module.REPORT_CHUNK
    source = BatchStream(client, name, relay=False, **{**CONFIG, "dataset_size": 16 * (chunk + 80), "epochs": 2})
    batches = [b for _, b in zip(range(chunk), source.batches())]
    ours, helpers = socket.socketpair()
    helper_side = _relay.Frames(helpers)
    worker = threading.Thread(target=_relay._serve_reports, args=(client, helper_side, None), daemon=True)
    worker.start()
    frames = _relay.Frames(ours)
    for start in range(0, chunk, 32):
        group = batches[start:start + 32]
        outputs = np.zeros((16 * len(group), 5), dtype=np.float32)
        heads = [(b.step, b.packed, len(b)) for b in group]
        frames.send(pickle.dumps((name, 0, 1, False, [("rows", heads, outputs, None)])))  # none urgent
    started = time.monotonic()
    ack = frames.next(timeout=20.0)
    assert ack is not None and time.monotonic() - started < 20.0, "no call until REPORT_DELAY (60 s)"
    assert pickle.loads(ack)[:2] == ("ack", chunk // 32)
    assert client.get_sampler(name).reports_received == chunk
    ours.close()
    worker.join(timeout=10)
    source.close()


def test_without_a_helper_the_stream_warns_and_makes_its_calls_from_threads(client, name, monkeypatch):
    """The relay is the default: where its helper cannot start (here an interpreter that exits at
    once), the stream says so and works from threads; asked for explicitly, it raises."""
    from recency_sampler._relay import RelayNotStarted

    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(RelayNotStarted, match="did not start"):
        BatchStream(client, name, relay=True, **CONFIG)
    with pytest.warns(RuntimeWarning, match="made from threads of this process"):
        stream = BatchStream(client, name, **CONFIG)
    assert stream._relay is None and stream._calls is client
    for batch in stream.batches():
        stream.report(batch, np.zeros(len(batch), dtype=np.int64))
    stream.close()
    assert client.get_sampler(name).reports_received == 13


@pytest.mark.parametrize("relay", [True, False])
def test_the_next_epochs_first_batches_asked_at_an_epochs_end_see_its_last_report(client, name, relay):
    """At the end of a fully reported epoch the next one's first calls are asked at once (the
    relay's helper makes them once the last reports are in). The service freezes the next
    epoch's P at its first fetch, so that P must see the last report: here the last step's
    report alone makes its samples uncertain (window 2: label 0 in epoch 0, then 1)."""
    config = {**CONFIG, "epochs": 4}
    stream = BatchStream(client, name, relay=relay, **config)
    served = {}
    for epoch in range(2):
        for batch in stream.batches():
            served[batch.step] = batch.array.copy()
            last = epoch == 1 and batch.step == 2 * stream.steps_per_epoch - 1
            stream.report(batch, np.full(len(batch), int(last), dtype=np.int64))
    assert stream._ahead is not None and stream._ahead[0][0] == 2 * stream.steps_per_epoch, "asked ahead"
    for batch in stream.batches():  # epoch 2, its first chunks as asked ahead
        served[batch.step] = batch.array.copy()
        stream.report(batch, np.zeros(len(batch), dtype=np.int64))
    stream.close()
    last_batch = served[2 * stream.steps_per_epoch - 1]
    diagnostics = {d.epoch: d for d in client.get_sampler(name).epochs}
    assert diagnostics[2].uncertain_share == pytest.approx(len(set(last_batch.tolist())) / config["dataset_size"])
    for step, indices in served.items():  # what the service serves to anyone for that step
        np.testing.assert_array_equal(indices, client.next_batch(name, step).array)


def test_an_epoch_asked_ahead_ends_without_waiting_for_its_acknowledgements_and_state_dict_waits(tmp_path, name):
    """With the relay, an iteration that asked ahead ends as soon as its last reports are handed
    to the helper, not when the service acknowledges them (the helper makes the next epoch's
    first fetch after them); state_dict() waits for them, so a checkpoint loses none. The
    service is stopped (SIGSTOP) across the last report and resumed 3 s later."""
    from .service import ServiceProcess

    own = ServiceProcess(tmp_path / "paused.db").start()
    timer = None
    try:
        with SamplerClient(own.target, retry_timeout=30.0) as paused_client:
            stream = BatchStream(paused_client, name, relay=True, **CONFIG)
            batches = stream.batches()
            for batch in batches:
                last = batch.step == stream.steps_per_epoch - 1
                if last:
                    own.process.send_signal(signal.SIGSTOP)
                    timer = threading.Timer(3.0, own.process.send_signal, args=(signal.SIGCONT,))
                    stopped = time.monotonic()
                    timer.start()
                stream.report(batch, np.zeros(len(batch), dtype=np.int64))
            ended = time.monotonic() - stopped
            assert stream._ahead is not None, "the next epoch was asked ahead"
            assert ended < 1.5, f"the iteration waited {ended:.1f} s for the paused service"
            state = stream.state_dict()
            waited = time.monotonic() - stopped
            assert waited >= 2.9, f"state_dict() returned after {waited:.1f} s, before the service resumed"
            assert (state["epoch"], state["step_in_epoch"]) == (1, 0)
            assert paused_client.get_sampler(name).reports_received == stream.steps_per_epoch
            steps = [batch.step for batch in stream.batches()]  # epoch 1 from the calls asked ahead
            assert steps == list(range(stream.steps_per_epoch, 2 * stream.steps_per_epoch))
            stream.close()
    finally:
        if timer is not None:
            timer.join()
        own.process.send_signal(signal.SIGCONT)
        assert own.stop() == 0


def test_batches_asked_ahead_for_another_start_are_dropped(client, name):
    """An iteration that does not start where the asked-ahead calls do (set_epoch to another
    epoch, a resumed state) serves its own steps; the answers asked ahead are dropped."""
    stream = BatchStream(client, name, relay=True, **CONFIG)
    for batch in stream.batches():
        stream.report(batch, np.zeros(len(batch), dtype=np.int64))
    assert stream._ahead is not None
    stream.set_epoch(2)  # epoch 1 was asked ahead
    steps = []
    for batch in stream.batches():
        steps.append(batch.step)
        np.testing.assert_array_equal(batch.array, client.next_batch(name, batch.step).array)
        stream.report(batch, np.zeros(len(batch), dtype=np.int64))
    assert steps == list(range(2 * stream.steps_per_epoch, 3 * stream.steps_per_epoch))
    assert stream._calls._answers == {} and stream._calls._discarded == set(), "nothing asked ahead is kept"
    stream.close()


def test_a_call_asked_to_follow_reports_waits_for_them_and_is_not_made_after_a_refused_one(client, name, monkeypatch):
    """The helper makes a call marked to follow the report messages sent before it only once
    their call has returned (here held back by REPORT_DELAY), and not at all if it was refused."""
    import pickle
    import socket
    import threading

    from recency_sampler import _proto as pb, _relay, stream as stream_module

    monkeypatch.setattr(stream_module, "REPORT_DELAY", 1.0)
    source = BatchStream(client, name, relay=False, **CONFIG)
    batch = next(source.batches())
    progress = _relay.ReportProgress()
    pairs = [socket.socketpair() for _ in range(2)]
    threads = [threading.Thread(target=_relay._serve_reports, args=(client, _relay.Frames(pairs[0][1]), None, progress),
                                daemon=True),
               threading.Thread(target=_relay._serve_calls, args=(client, _relay.Frames(pairs[1][1]), progress),
                                daemon=True)]
    for thread in threads:
        thread.start()
    reports, calls = _relay.Frames(pairs[0][0]), _relay.Frames(pairs[1][0])
    ask = pb.NextBatchesRequest(sampler=name, step=1, count=1, packed=True).SerializeToString()
    heads = [(batch.step, batch.packed, len(batch))]
    reports.send(pickle.dumps((name, 0, 1, False, [("rows", heads, np.zeros((len(batch), 5), np.float32), None)])))
    started = time.monotonic()
    calls.send(b"NextBatches@1\0" + ask)
    answer = calls.next(timeout=20.0)
    answered = time.monotonic() - started
    ack = reports.next(timeout=0)
    assert answer is not None and answer[:1] == _relay._OK and ack is not None and pickle.loads(ack)[:2] == ("ack", 1)
    assert answered >= 0.9, "made once the report's call (held back 1 s) had returned"
    assert client.get_sampler(name).reports_received == 1
    # A refused report message (a step out of range), then a call asked to follow it: not made.
    reports.send(pickle.dumps((name, 0, 1, True, [("rows", [(10 ** 6, batch.packed, len(batch))],
                                                   np.zeros((len(batch), 5), np.float32), None)])))
    calls.send(b"NextBatches@2\0" + ask)
    answer = calls.next(timeout=20.0)
    assert answer is not None and answer[:1] == _relay._ERROR
    assert isinstance(pickle.loads(answer[1:]), _relay.NotAskedAhead)
    for ours, _ in pairs:
        ours.close()
    for thread in threads:
        thread.join(timeout=10)
    source.close()
