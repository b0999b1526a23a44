"""SamplerClient and BatchStream against the real service. No torch or TensorFlow here: these run
on every supported grpcio/protobuf pair."""
import threading
import time
import warnings

import grpc
import numpy as np
import pytest

from recency_sampler import AlreadyExists, BatchStream, FailedPrecondition, InvalidArgument, NotFound, SamplerClient

from .service import ServiceProcess

CONFIG = dict(dataset_size=200, num_classes=5, batch_size=16, epochs=4, warmup_epochs=1, window=3, seed=7)


def test_samplers_are_created_idempotently_listed_and_deleted(client, name):
    created = client.create_sampler(name, **CONFIG)
    assert created.steps_per_epoch == 13 and created.total_steps == 52
    assert created.config.initial_pressure == 100 and created.config.strategy == "recency_bias"
    assert client.create_sampler(name, **CONFIG) == created
    with pytest.raises(AlreadyExists, match=r"name: .*seed: 7 != 8"):
        client.create_sampler(name, **{**CONFIG, "seed": 8})
    assert name in [s.name for s in client.list_samplers()]
    assert client.get_sampler(name) == created
    client.delete_sampler(name)
    with pytest.raises(NotFound, match=r"^GetSampler: name: no sampler named"):
        client.get_sampler(name)


def test_server_errors_become_exceptions_naming_the_field(client, name):
    with pytest.raises(InvalidArgument, match=r"config\.batch_size: must be <= dataset_size \(200\), got 201") as e:
        client.create_sampler(name, **{**CONFIG, "batch_size": 201})
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and isinstance(e.value, ValueError)
    with pytest.raises(InvalidArgument, match=r"config\.active_bias_epsilon: must be > 0"):
        client.create_sampler(name, **{**CONFIG, "strategy": "active_bias", "active_bias_epsilon": 0.0})
    client.create_sampler(name, **CONFIG)
    with pytest.raises(InvalidArgument, match=r"^NextBatch: step: must be in \[0, 52\)"):
        client.next_batch(name, 52)
    with pytest.raises(FailedPrecondition, match="step 3 has not been served"):
        client.report(name, 3, [1], [0])
    client.next_batch(name, 0)
    with pytest.raises(InvalidArgument, match=r"predicted_labels\[0\]: must be an integer in \[0, num_classes = 5\)"):
        client.report(name, 0, [1], [5])
    with pytest.raises(ValueError, match="strategy must be one of"):
        client.create_sampler(name, **{**CONFIG, "strategy": "bogus"})


def test_batches_and_reports_take_lists_and_numpy_arrays(client, name):
    client.create_sampler(name, **CONFIG)
    shares = [client.next_batch(name, 0, rank=r, world_size=2) for r in (0, 1)]
    assert [s.phase for s in shares] == ["WARMUP", "WARMUP"]
    assert len(set(shares[0].indices) | set(shares[1].indices)) == 16
    logits = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    first = client.report(name, 0, np.asarray(shares[0].indices), logits.argmax(axis=1), rank=0)
    assert (first.accepted, first.duplicate) == (8, False)
    again = client.report(name, 0, shares[0].indices, logits.argmax(axis=1).tolist(), rank=0)
    assert (again.accepted, again.duplicate) == (0, True)
    info = client.get_sampler(name)
    assert (info.reports_received, info.predictions_received) == (1, 8)


def test_stream_yields_the_servers_batches_and_its_reports_land(client, name):
    stream = BatchStream(client, name, **CONFIG)
    assert len(stream) == 13
    rng = np.random.default_rng(1)
    for epoch in range(2):
        batches = list(stream)
        assert batches == [client.next_batch(name, epoch * 13 + s).indices for s in range(13)]
        for indices in batches:
            stream.report(np.asarray(indices), rng.normal(size=(len(indices), 5)))
    assert stream.epoch == 2
    stream.flush()
    assert client.get_sampler(name).reports_received == 26
    stream.close()


def test_stream_resumes_mid_epoch_with_the_same_remaining_batches(client, name):
    first = BatchStream(client, name, **CONFIG)
    list(first)  # epoch 0
    seen = []
    for i, indices in enumerate(first):  # epoch 1, stopped after 5 trained batches
        first.report(indices, [0] * len(indices))
        seen.append(indices)
        if i == 4:
            break
    state = first.state_dict()
    assert state == {"name": name, "epoch": 1, "step_in_epoch": 5}
    first.close()
    second = BatchStream(client, name, **CONFIG)
    second.load_state_dict(state)
    rest = list(second)
    assert rest == [client.next_batch(name, 13 + s).indices for s in range(5, 13)]
    assert second.epoch == 2
    second.close()


def test_a_failed_report_surfaces_at_the_next_call(client, name):
    stream = BatchStream(client, name, **CONFIG)
    batch = next(iter(stream))
    stream.report(batch, [9] * len(batch))  # label 9 >= num_classes: the service refuses it
    # The background sender's error is raised as it came: the service's InvalidArgument.
    with pytest.raises(InvalidArgument, match=r"predicted_labels\[0\]"):
        for _ in range(50):
            time.sleep(0.05)
            stream.report(batch, [0] * len(batch))
    with pytest.raises(ValueError, match="do not match a batch"):
        BatchStream(client, name, **CONFIG).report([0, 1], [0, 0])


def test_a_killed_and_restarted_service_is_ridden_out_with_no_report_lost_or_doubled(tmp_path):
    service = ServiceProcess(tmp_path / "sampler.db").start()
    try:
        client = SamplerClient(service.target, retry_timeout=30.0)
        config = {**CONFIG, "dataset_size": 2000, "batch_size": 20, "epochs": 3}
        stream = BatchStream(client, "restart", **config)
        served = []
        restarted = threading.Event()

        def bounce():
            service.kill()
            time.sleep(0.5)
            service.start()
            restarted.set()

        for i, indices in enumerate(stream):  # epoch 0: 100 steps
            if i == 40:
                threading.Thread(target=bounce).start()
            served.append(indices)
            stream.report(indices, [i % 5] * len(indices))
        stream.flush()
        assert restarted.is_set()
        info = client.get_sampler("restart")
        assert (info.reports_received, info.predictions_received) == (100, 2000)
        assert served == [client.next_batch("restart", s).indices for s in range(100)]
        stream.close()
        client.close()
    finally:
        service.stop()


def test_diagnostics_tell_whether_selection_does_anything_and_warn_once_when_it_does_not(client, name):
    from recency_sampler import EpochDiagnostics

    # A model that never changes its mind: after warm-up every F is 0, so P is uniform.
    settled = BatchStream(client, name + "-settled", **{**CONFIG, "epochs": 4, "window": 2, "warmup_epochs": 1})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            for indices in settled:
                settled.report(indices, [0] * len(indices))
        settled.flush()
    assert len([w for w in caught if "selection has become uniform in epoch 1" in str(w.message)]) == 1
    # Epoch 3 may be there too: its first batches were asked for as epoch 2's iteration ended.
    epochs = [d for d in settled.diagnostics() if d.epoch < 3]
    assert [d.epoch for d in epochs] == [0, 1, 2]
    assert epochs[0] == EpochDiagnostics(0, epochs[0].selection_pressure, 1.0, 1.0, 0.1, False)  # warm-up: all unseen
    assert [(d.effective_sample_size_ratio, d.uncertain_share, d.uniform) for d in epochs[1:]] == [(1.0, 0.0, True)] * 2
    settled.close()

    for relay in (False, True):
        _a_changing_model_is_not_warned_about(client, f"{name}-changing-{relay}", relay)


def _a_changing_model_is_not_warned_about(client, name, relay):
    # A model that keeps changing its mind: after two warm-up epochs most windows disagree.
    rng = np.random.default_rng(3)
    changing = BatchStream(client, name, relay=relay, **{**CONFIG, "epochs": 5, "window": 2, "warmup_epochs": 2})
    # An adaptive epoch's start makes no call of its own that the training thread waits for (it
    # would sit on the epoch boundary's critical path): the check is asked from the fetch thread,
    # or with the relay asked of its helper and read once answered.
    asked_from, relayed = [], []
    ask = changing.diagnostics
    changing.diagnostics = lambda: (asked_from.append(threading.current_thread()), ask())[1]
    if relay:
        ask_helper = changing._relay.get_sampler
        changing._relay.get_sampler = lambda sampler, *rest: (relayed.append(sampler), ask_helper(sampler, *rest))[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            for indices in changing:
                changing.report(indices, rng.integers(0, 5, len(indices)))
        changing.flush()
    assert not [w for w in caught if "uniform" in str(w.message)]
    if relay:
        assert relayed == [name] and asked_from == [], "asked once, of the helper, the only adaptive epoch"
    else:
        assert len(asked_from) == 1 and asked_from[0] is not threading.main_thread(), "asked once, the only adaptive epoch"
    adaptive = changing.diagnostics()[2]
    assert not adaptive.uniform and adaptive.uncertain_share > 0.5
    assert adaptive.effective_sample_size_ratio < 1 and adaptive.top_decile_draw_share > 0.1
    changing.close()


def test_report_many_splits_what_one_request_cannot_carry(client, name):
    # 20 reports of 20,000 predictions: 3.2 MB, past the service's 1.25 MiB request limit.
    client.create_sampler(name, **{**CONFIG, "dataset_size": 100_000, "batch_size": 20_000, "epochs": 5})
    batches = client.next_batches(name, 0, 5) + client.next_batches(name, 5, 5) + client.next_batches(name, 10, 5) \
        + client.next_batches(name, 15, 5)
    results = client.report_many(name, [(b.step, b.packed, np.ones(len(b.array), np.int64)) for b in batches])
    assert [r.accepted for r in results] == [20_000] * 20 and not any(r.duplicate for r in results)
    assert client.get_sampler(name).predictions_received == 400_000


def test_a_full_disk_is_waited_out_and_the_report_lands_once(tmp_path):
    from recency_sampler import StorageFull

    # --max-db-mb caps the file as a full disk would: 0.3 MiB is 76 pages.
    service = ServiceProcess(tmp_path / "sampler.db", ["--max-db-mb", "0.3"]).start()
    try:
        patient = SamplerClient(service.target, retry_timeout=30.0, max_backoff=0.2)
        impatient = SamplerClient(service.target, retry_timeout=0.5)
        patient.create_sampler("job", **{**CONFIG, "dataset_size": 2000, "batch_size": 500})
        job = patient.next_batch("job", 0).indices
        # Fill the rest of the file with another sampler's batches and reports.
        impatient.create_sampler("filler", **{**CONFIG, "dataset_size": 5000, "batch_size": 1000, "epochs": 50})
        with pytest.raises(StorageFull, match="storage: the disk holding the database is full") as full:
            for step in range(250):
                filler = impatient.next_batch("filler", step).indices
                impatient.report("filler", step, filler, [0] * len(filler))
        assert full.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and isinstance(full.value, OSError)

        landed = {}

        def report():  # blocks, retrying, until there is space
            started = time.monotonic()
            landed["result"] = patient.report("job", 0, job, [1] * len(job))
            landed["waited"] = time.monotonic() - started

        worker = threading.Thread(target=report)
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive(), "the report did not wait for space"
        patient.delete_sampler("filler")  # frees space
        worker.join(10)
        assert landed["result"].accepted == len(job) and not landed["result"].duplicate
        assert 1.0 <= landed["waited"] < 5.0
        assert patient.get_sampler("job").reports_received == 1
        patient.close()
        impatient.close()
    finally:
        service.stop()


def test_a_tls_service_is_reached_with_its_certificate_and_refuses_plaintext(tmp_path):
    import subprocess

    from recency_sampler import Unavailable

    from .service import REPO

    # A self-signed certificate for 127.0.0.1, made by the same library the service's tests use.
    script = ("import s from 'selfsigned'; import { writeFileSync } from 'node:fs';"
              "const p = await s.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, extensions: ["
              "{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] });"
              f"writeFileSync('{tmp_path}/cert.pem', p.cert); writeFileSync('{tmp_path}/key.pem', p.private);")
    subprocess.run(["node", "--input-type=module", "-e", script], cwd=REPO, check=True)
    cert = tmp_path / "cert.pem"
    service = ServiceProcess(tmp_path / "sampler.db", ["--tls-cert", str(cert), "--tls-key", str(tmp_path / "key.pem")]).start()
    try:
        with SamplerClient(service.target, tls=True, tls_ca=str(cert)) as client:
            client.create_sampler("job", **CONFIG)
            batch = client.next_batch("job", 0)
            assert client.report("job", 0, batch.array, [0] * len(batch.array)).accepted == CONFIG["batch_size"]
        with SamplerClient(service.target, tls_ca=cert.read_bytes()) as from_bytes:
            assert from_bytes.get_sampler("job").reports_received == 1
        with SamplerClient(service.target, connect_timeout=1.0) as plaintext:
            with pytest.raises(Unavailable):
                plaintext.get_sampler("job")
    finally:
        service.stop()


def test_an_unreachable_service_raises_unavailable_naming_the_target_within_seconds():
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from recency_sampler import Unavailable

    # The defaults: a service never reached is given up on after connect_timeout (5 s), not the
    # 60 s retry budget that rides out restarts of a service that was reachable.
    with SamplerClient(f"127.0.0.1:{port}") as unreachable:
        started = time.monotonic()
        with pytest.raises(Unavailable, match=f"^GetSampler: could not reach the service at 127.0.0.1:{port} ") as e:
            unreachable.get_sampler("anything")
        assert 4.0 < time.monotonic() - started < 8.0
        assert isinstance(e.value, ConnectionError)
        with pytest.raises(Unavailable):  # not retried: delete is not idempotent
            unreachable.delete_sampler("anything")


def test_the_baselines_need_their_report_fields_and_the_stream_computes_them(client, name):
    online = client.create_sampler(name, **{**CONFIG, "strategy": "online_batch"})
    assert online.config.strategy == "online_batch"
    batch = client.next_batch(name, 0)
    with pytest.raises(FailedPrecondition, match=r"losses: the sampler uses ONLINE_BATCH"):
        client.report(name, 0, batch.indices, [0] * 16)
    stream = BatchStream(client, name, **{**CONFIG, "strategy": "online_batch"})
    indices = next(iter(stream))
    logits = np.random.default_rng(1).normal(size=(16, 5))
    with pytest.raises(ValueError, match="online_batch strategy needs losses: pass targets"):
        stream.report(indices, logits)
    targets = np.arange(16) % 5
    stream.report(indices, logits, targets)
    stream.flush()
    assert client.get_sampler(name).predictions_received == 16
    stream.close()


def test_losses_and_true_class_probabilities_come_from_logits_or_probabilities():
    from recency_sampler._arrays import loss_and_true_class_prob
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    loss, prob = loss_and_true_class_prob(logits, np.array([0, 2]))
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(prob, [softmax[0, 0], 1 / 3], rtol=1e-12)
    np.testing.assert_allclose(loss, -np.log(prob), rtol=1e-12)
    loss2, prob2 = loss_and_true_class_prob(softmax, np.array([0, 2]))  # already probabilities
    np.testing.assert_allclose(prob2, prob, rtol=1e-12)
    with pytest.raises(ValueError, match="targets must be 2 integer class labels"):
        loss_and_true_class_prob(logits, np.array([0.5, 1.0]))


def test_active_bias_reweight_sends_loss_weights_after_warm_up(client, name):
    config = {**CONFIG, "strategy": "active_bias", "active_bias_mode": "reweight"}
    stream = BatchStream(client, name, **config)
    assert stream.info.config.active_bias_mode == "reweight" and stream.info.config.active_bias_epsilon == 0.2
    rng = np.random.default_rng(2)
    spread = []
    for epoch in range(3):
        for indices in stream:
            weights = stream.loss_weights(indices)
            if epoch == 0:
                assert weights is None  # warm-up: uniform
            else:
                assert len(weights) == len(indices) and abs(np.mean(weights) - 1) < 1e-5
                spread.append(max(weights) - min(weights))
            stream.report(indices, rng.normal(size=(len(indices), 5)), rng.integers(0, 5, len(indices)))
    # Epoch 1 follows one report per sample (std_hat = 0: equal weights); by epoch 2 they differ.
    assert max(spread[:13]) < 1e-6 and min(spread[13:]) > 0
    stream.close()


def test_a_service_with_a_token_refuses_clients_without_it(tmp_path):
    from recency_sampler import Unauthenticated
    token = "python-test-token-0123456789"
    service = ServiceProcess(tmp_path / "token.db", extra_args=["--token", token]).start()
    try:
        with SamplerClient(service.target, retry_timeout=5.0) as anonymous:
            with pytest.raises(Unauthenticated, match="authorization: a valid bearer token is required"):
                anonymous.list_samplers()
        with SamplerClient(service.target, retry_timeout=5.0, token="wrong-token-wrong-token") as wrong:
            with pytest.raises(Unauthenticated):
                wrong.list_samplers()
        with SamplerClient(service.target, retry_timeout=5.0, token=token) as client:
            assert client.create_sampler("guarded", **CONFIG).name == "guarded"
            assert [s.name for s in client.list_samplers()] == ["guarded"]
    finally:
        assert service.stop() == 0


def test_a_run_that_never_selects_warns_once_and_short_runs_default_to_adaptive_epochs(client, name):
    with pytest.warns(RuntimeWarning, match=r"will not select: every epoch is warm-up or the last .* epochs = 2 and warmup_epochs = 1"):
        BatchStream(client, name + "-2", dataset_size=100, num_classes=5, batch_size=10, epochs=2).close()
    import warnings as w

    with w.catch_warnings():
        w.simplefilter("error")  # no warning: epoch 1 of 3 selects with s_e = 10
        stream = BatchStream(client, name + "-3", dataset_size=100, num_classes=5, batch_size=10, epochs=3)
    assert stream.info.config.warmup_epochs == 1  # min(window, epochs // 2) when not given
    stream.close()
