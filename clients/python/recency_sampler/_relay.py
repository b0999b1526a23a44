"""The hot calls (NextBatches, ReportPredictionsBulk) made by a helper process, driven from the
training thread: the training process runs no thread of its own for them.

A launch-bound training loop holds the GIL almost all the time. Any other thread of its process
that runs Python (a fetch thread, a sender thread, grpc's callbacks) must take the GIL from it,
and each time waits up to the interpreter's switch interval (5 ms) and then holds it: measured
on the CPU stand-in, 100 to 200 us per step of a 1 ms step. Here the training thread itself
writes each request to a socket (a fetch asks for a chunk of steps; a report message carries a
group of reports) and reads the answers when it needs them or when they are there (a poll of the
socket, about a microsecond). The helper, a child process with its own interpreter and its own
core where the machine has one, makes the gRPC calls, coalesces report messages into calls
(as the in-process sender does: up to REPORT_DELAY unless one is urgent, up to REPORT_CHUNK
reports) and does the host arithmetic (argmax, losses) of host arrays.

Each connection answers in order: the fetch one each call it was asked, the report one a count
of messages acknowledged (or the error that refused them), written once the call that carried
them has returned. An exception raised in the helper (a SamplerError with its status and method,
a ValueError naming a field) is raised again, of the same type, at the training thread's next
call. The helper is started with ``subprocess`` (fork and exec: safe after CUDA is initialised,
and nothing of the parent's ``__main__`` runs in it) and exits when its sockets close, so it does
not outlive its parent, even after ``kill -9``.
"""
import math
import mmap
import os
import pickle
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

import numpy as np

from . import _proto as pb
from .client import SamplerClient, _batch_columns, _batches_from_columns, _info

_HEADER = struct.Struct("<I")  # each frame: its length, then its bytes
_OK, _ERROR = b"\0", b"\1"
_READ = 1 << 18  # bytes per read
# The package's parent folder: the child imports this package from where the parent did, also
# when that folder was added to sys.path at run time rather than through PYTHONPATH.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from recency_sampler._relay import main; main()"
# A forked child (DataLoader workers) would hold the parent's ends of the sockets open, so the
# helper would not see them close: forked children close them at once.
_LIVE: "weakref.WeakSet[Relay]" = weakref.WeakSet()


def _close_in_forked_child() -> None:
    for relay in list(_LIVE):
        relay._fetch.sock.close()
        relay._report.sock.close()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_close_in_forked_child)


# Seconds a helper may take to start (an interpreter importing grpc, numpy and this package; many
# ranks starting at once on few cores take longest).
START_TIMEOUT = 60.0


class RelayNotStarted(OSError):
    """The helper process did not start (the stream then makes its calls from threads)."""


class Frames:
    """Length-prefixed frames over a stream socket: whole frames out, whole frames in."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.frames: Deque[bytes] = deque()
        self.eof = False
        self._buffer = bytearray()
        self._chunk = bytearray(_READ)
        self._view = memoryview(self._chunk)
        # Waiting is a poll for input, never a blocking recv: the kernel wakes a thread blocked in
        # recv also when its peer *reads* (the read frees send-buffer space), and a wake-up of
        # another process costs the waker ~30 us of CPU on a VM (an inter-processor interrupt).
        # A poll waiter is woken only by what it polls for, so the training thread's reads of
        # answers and acknowledgements do not wake the helper (measured: 35 against 5 us a read).
        self._readable = select.poll()
        self._readable.register(sock, select.POLLIN)

    def send(self, payload: bytes) -> None:
        header = _HEADER.pack(len(payload))
        if len(payload) < 1 << 16:
            self.sock.sendall(header + payload)
        else:  # no copy of a large payload to join the header
            self.sock.sendall(header)
            self.sock.sendall(payload)

    def read(self, block: bool) -> None:
        """Reads what has arrived into whole frames; with ``block``, waits for at least one byte
        (or the end of the stream) first."""
        sock = self.sock
        if block:
            self._readable.poll()  # input, a hang-up or an error: the recv below tells which
        while not self.eof:
            try:
                n = sock.recv_into(self._chunk, _READ, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError:  # reset, or closed here
                n = 0
            if n == 0:
                self.eof = True
                break
            self._buffer += self._view[:n]  # then whatever else is there, without waiting
        self._split()

    def next(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """The next frame, waiting up to ``timeout`` seconds (None: until one comes); None on
        timeout or at the end of the stream."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.frames and not self.eof:
            if deadline is not None:
                left = max(0.0, deadline - time.monotonic())
                if not self._readable.poll(math.ceil(left * 1000)):
                    return None
            self.read(block=True)
        return self.frames.popleft() if self.frames else None

    def _split(self) -> None:
        buffer, start = self._buffer, 0
        while len(buffer) - start >= 4:
            (size,) = _HEADER.unpack_from(buffer, start)
            if len(buffer) - start - 4 < size:
                break
            self.frames.append(bytes(buffer[start + 4:start + 4 + size]))
            start += 4 + size
        if start:
            del buffer[:start]


class Ring:
    """Host outputs on their way to the helper, in memory both processes map (a memfd): the
    training thread copies a numpy array's logits in, or joins a group of CPU tensors' straight
    into a reserved block (torch.cat into a view of the map: _torch_reports.host_blocks), and sends
    only where they are; the helper copies them out, frees the bytes and does the argmax.
    Positions count bytes written since the start, so ``pos % size`` is where they are."""

    SIZE = 1 << 22  # the copies wait there for a few ms at most: the helper copies them out as they come
    ALIGN = 64

    def __init__(self) -> None:
        self.fd = os.memfd_create("recency-sampler-reports")
        os.ftruncate(self.fd, self.SIZE)
        self.map = mmap.mmap(self.fd, self.SIZE)
        self.map.write(bytes(self.SIZE))  # the pages now, not a fault per page in the training loop
        self.head = 0  # the next byte to write
        self.tail = 0  # bytes before this the helper has freed
        self.views: Dict[Any, Any] = {}  # the map as another library's array (Relay.ring_view), made once

    def reserve(self, n: int) -> Optional[Tuple[int, int]]:
        """The next ``n`` bytes, for the caller to write: (position, offset in the map), or None
        when they do not fit now."""
        size = self.SIZE
        pos = self.head
        offset = pos % size
        if offset + n > size:  # no wrapping inside an array: skip to the start
            pos += size - offset
            offset = 0
        if pos + n - self.tail > size:
            return None
        self.head = pos + -(-n // self.ALIGN) * self.ALIGN
        return pos, offset

    def close(self) -> None:
        self.views.clear()  # views of the map (ring_view) hold it: let them go first
        self.map.close()
        os.close(self.fd)


def _ring_or_none() -> Optional[Ring]:
    try:
        return Ring() if hasattr(os, "memfd_create") else None
    except OSError:  # no memfd here (an old kernel, a sandbox): reports go through the socket
        return None


class Ticket:
    """A call's answer to come: done() without waiting, result() waiting (as a Future)."""

    def __init__(self, relay: "Relay", seq: int, method: str, convert: Callable[[bytes], Any]):
        self._relay, self._seq, self.method, self._convert = relay, seq, method, convert

    def done(self) -> bool:
        return self._relay._answered(self._seq, block=False)

    def result(self) -> Any:
        self._relay._answered(self._seq, block=True)
        answer = self._relay._answers.pop(self._seq)
        if answer[:1] == _OK:
            return self._convert(answer[1:])
        raise pickle.loads(answer[1:])


class Relay:
    """The calls of one stream, made by a helper process, driven by whichever thread calls (the
    training loop's, usually alone: the point is that no other thread of this process runs).
    The fetch side serves one iterating thread; report messages go through RelayedOutbox,
    which serializes them."""

    def __init__(self, client: SamplerClient):
        fetch, fetch_child = socket.socketpair()
        report, report_child = socket.socketpair()
        self.ring = _ring_or_none()
        fds = (fetch_child.fileno(), report_child.fileno(), *(() if self.ring is None else (self.ring.fd,)))
        self._process = subprocess.Popen([sys.executable, "-c", _BOOT, _ROOT, *map(str, fds)], pass_fds=fds,
                                         stdin=subprocess.DEVNULL)
        fetch_child.close()
        report_child.close()
        self._fetch, self._report = Frames(fetch), Frames(report)
        try:
            # The client's options (the token among them) go over the socket, not the command line.
            self._report.send(pickle.dumps(client.options))
            ready = self._report.next(timeout=START_TIMEOUT)
        except OSError:
            ready = None
        if ready != b"ready":  # an interpreter that cannot import this package, or did not start
            self._process.kill()
            self._process.wait()
            fetch.close()
            report.close()
            if self.ring is not None:
                self.ring.close()
            raise RelayNotStarted(f"the relay's helper process ({sys.executable}) did not start within "
                                  f"{START_TIMEOUT:g} s (exit status {self._process.returncode})")
        self._asked = 0  # calls asked on the fetch connection
        self._answers: Dict[int, bytes] = {}
        self._discarded: Set[int] = set()  # calls whose answers are dropped when they come (discard())
        self._answered_count = 0
        self._sent = 0  # report messages sent
        self._acked = 0  # and acknowledged
        self._poll = select.poll()
        self._poll.register(report, select.POLLIN)
        self.error: Optional[BaseException] = None  # the first refused report, raised at every call after
        self._lock = threading.Lock()  # close() against a second close()
        _LIVE.add(self)

    # -- calls answered in order ------------------------------------------------------------
    def call(self, method: str, request: Any, convert: Callable[[bytes], Any], after_reports: bool = False) -> Ticket:
        """Asks for a call; its answer comes through the returned Ticket. ``after_reports``: the
        helper makes it only once every report message sent so far has been through its call
        (none refused; else the ticket raises NotAskedAhead), with no round trip through here."""
        head = method.encode() + (b"@%d" % self._sent if after_reports else b"")
        self._write(self._fetch, head + b"\0" + request.SerializeToString(), method)
        self._asked += 1
        return Ticket(self, self._asked - 1, method, convert)

    def next_batches(self, sampler: str, step: int, count: int, *, rank: int = 0, world_size: int = 1,
                     after_reports: bool = False) -> Ticket:
        request = pb.NextBatchesRequest(sampler=sampler, step=step, count=count, rank=rank, world_size=world_size,
                                        packed=True)
        return self.call("NextBatches", request, lambda data: _batches_from_columns(pickle.loads(data)), after_reports)

    def discard(self, ticket: Ticket) -> None:
        """Drops a ticket's answer, now or when it comes (answers come in order, so it is read anyway)."""
        if self._answers.pop(ticket._seq, None) is None and ticket._seq >= self._answered_count:
            self._discarded.add(ticket._seq)

    def get_sampler(self, name: str, convert: Callable[[Any], Any] = lambda info: info) -> Ticket:
        """The sampler's SamplerInfo (passed through ``convert``) to come."""
        return self.call("GetSampler", pb.GetSamplerRequest(name=name),
                         lambda data: convert(_info(pb.Sampler.FromString(data))))

    def _answered(self, seq: int, block: bool) -> bool:
        frames = self._fetch
        while seq not in self._answers:
            frames.read(block=block and not frames.frames)
            while frames.frames:
                answer = frames.frames.popleft()
                if self._answered_count in self._discarded:
                    self._discarded.discard(self._answered_count)
                else:
                    self._answers[self._answered_count] = answer
                self._answered_count += 1
            if seq in self._answers or not block:
                break
            if frames.eof:
                raise _gone("NextBatches")
        return seq in self._answers

    # -- reports ----------------------------------------------------------------------------
    def send_reports(self, sampler: str, items: List[Tuple[Any, ...]], *, rank: int, world_size: int,
                     urgent: bool) -> None:
        """Queues a message of reports with the helper: ("host", step, packed, outputs, targets)
        for host arrays it reduces, ("ring", step, packed, (position, bytes, dtype, shape),
        targets) for host outputs copied into the ring (see place()), or ("report", report) for
        finished ones. ``urgent``: the helper sends it without waiting for more."""
        self._write(self._report, pickle.dumps((sampler, rank, world_size, urgent, items), protocol=5),
                    "ReportPredictionsBulk")
        self._sent += 1
        self.poll_acks()

    # The most bytes one placement in the ring may take (place(), reserve()).
    block_bytes = Ring.SIZE // 8

    def place(self, array: np.ndarray, send_queued: Callable[[], None]) -> Optional[Tuple[int, int, str, Tuple[int, ...]]]:
        """Copies host outputs into the ring: where they are, for a "ring" item; None when there
        is no ring or they take more than an eighth of it (send them as they are). When the ring
        is full, sends what is queued (``send_queued``) and waits for the helper to free bytes."""
        if array.dtype.hasobject:
            return None
        where = self.reserve(array.nbytes, send_queued)
        if where is None:
            return None
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
        assert self.ring is not None
        self.ring.map[where[1]:where[1] + array.nbytes] = memoryview(array).cast("B")
        return (where[0], array.nbytes, array.dtype.str, array.shape)

    def reserve(self, size: int, send_queued: Callable[[], None]) -> Optional[Tuple[int, int]]:
        """``size`` bytes of the ring for the caller to fill: (position, offset in the map); None
        without a ring, or when they take more than block_bytes. When the ring is full, sends
        what is queued (``send_queued``) and waits for the helper to free bytes."""
        ring = self.ring
        if ring is None or size > self.block_bytes:
            return None
        where = ring.reserve(size)
        while where is None:
            send_queued()
            if self._sent == self._acked:  # nothing more will be freed
                return None
            self._take_acks(block=True)
            where = ring.reserve(size)
        return where

    def ring_view(self, view: Callable[[Any], Any]) -> Any:
        """``view(map)``, made once per ``view`` (torch.frombuffer: a tensor over the ring's bytes)."""
        assert self.ring is not None
        views = self.ring.views
        made = views.get(view)
        if made is None:
            made = views[view] = view(self.ring.map)
        return made

    def poll_acks(self) -> None:
        """Reads the acknowledgements that have arrived, without waiting (a poll when none has)."""
        if self._sent > self._acked and self._poll.poll(0):
            self._take_acks(block=False)

    def wait_acks(self) -> None:
        """Waits until every report message sent is acknowledged (or refused: see ``error``)."""
        while self._sent > self._acked:
            self._take_acks(block=True)

    def _take_acks(self, block: bool) -> None:
        frames = self._report
        frames.read(block=block and not frames.frames)
        while frames.frames:
            kind, value, error = pickle.loads(frames.frames.popleft())
            if kind == "free":  # the helper has copied the ring's bytes before ``value`` out
                if self.ring is not None:
                    self.ring.tail = max(self.ring.tail, value)
                continue
            self._acked += value
            if error is not None and self.error is None:
                self.error = pickle.loads(error)
        if frames.eof and self._sent > self._acked:
            self._acked = self._sent  # nothing more will come
            if self.error is None:
                self.error = _gone("ReportPredictionsBulk")

    def _write(self, frames: Frames, payload: bytes, method: str) -> None:
        try:
            frames.send(payload)
        except OSError:
            raise _gone(method) from None

    def close(self) -> None:
        with self._lock:
            if self._process.poll() is None or self._fetch.sock.fileno() >= 0:
                self._fetch.sock.close()
                self._report.sock.close()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
                if self.ring is not None:
                    self.ring.close()
                    self.ring = None


def _gone(method: str) -> BaseException:
    from .errors import Unavailable

    return Unavailable("the relay process that makes the calls has exited", method=method)


# -- the child --------------------------------------------------------------------------------
_REQUESTS = {"NextBatches": pb.NextBatchesRequest, "GetSampler": pb.GetSamplerRequest}
# How the helper sends each answer: a chunk's batches as plain values (most of their decoding
# done here), the rest as the message.
_ANSWERS: Dict[str, Callable[[Any], bytes]] = {
    "NextBatches": lambda answer: pickle.dumps(_batch_columns(answer.batches), protocol=pickle.HIGHEST_PROTOCOL),
    "GetSampler": lambda answer: answer.SerializeToString(),
}


class NotAskedAhead(RuntimeError):
    """A call asked to follow report messages (Relay.call's ``after_reports``) that was not made:
    one of those messages was refused, or the report connection closed first."""


class ReportProgress:
    """How far the helper's report thread has come, for calls that must follow report messages:
    an epoch's first fetch is asked for as its last reports go out, and the service freezes the
    next epoch's P at that fetch, so it must see them all."""

    def __init__(self) -> None:
        self._done = threading.Condition()
        self.through = 0  # report messages whose call has returned (or was refused)
        self.refused_from: Optional[int] = None  # the first message of the first refused call
        self.closed = False

    def settle(self, count: int, refused: bool) -> None:
        with self._done:
            if refused and self.refused_from is None:
                self.refused_from = self.through + 1
            self.through += count
            self._done.notify_all()

    def close(self) -> None:
        with self._done:
            self.closed = True
            self._done.notify_all()

    def wait_through(self, message: int) -> Optional[str]:
        """Waits until the first ``message`` report messages are through; why not, or None."""
        with self._done:
            self._done.wait_for(lambda: self.through >= message or self.closed)
            if self.refused_from is not None and self.refused_from <= message:
                return "a report sent before it was refused"
            if self.through < message:
                return "the report connection closed first"
            return None


def _serve_calls(client: SamplerClient, frames: Frames, progress: ReportProgress) -> None:
    """Answers the fetch connection's calls, in order, until it closes. A call marked
    ``method@k`` waits until the first k report messages are through."""
    while True:
        frame = frames.next()
        if frame is None:
            return
        head, _, payload = frame.partition(b"\0")
        method, _, after = head.partition(b"@")
        name = method.decode()
        try:
            why = progress.wait_through(int(after)) if after else None
            if why is not None:
                raise NotAskedAhead(f"{name} asked to follow reports was not made: {why}")
            answer = _OK + _ANSWERS[name](client._call(name, _REQUESTS[name].FromString(payload)))
        except BaseException as error:  # raised again in the parent, as it was raised here
            answer = _ERROR + _pickled(error)
        try:
            frames.send(answer)
        except OSError:
            return


def _serve_reports(client: SamplerClient, frames: Frames, ring: Optional[mmap.mmap],
                   progress: Optional[ReportProgress] = None) -> None:
    """Makes the report messages into calls until the connection closes: a call carries what
    arrived while the one before was in flight, and waits up to REPORT_DELAY for REPORT_CHUNK
    reports unless a message is urgent (an epoch's tail, a flush). Host outputs in the ring are
    copied out (and their bytes freed) as each message arrives."""
    from .stream import REPORT_CHUNK, REPORT_DELAY

    progress = progress or ReportProgress()

    def receive(frame: bytes) -> Tuple[Any, ...]:
        message = pickle.loads(frame)
        freed = _copy_out(message[4], ring)
        if freed is not None:
            frames.send(pickle.dumps(("free", freed, None)))
        return message

    while True:
        frame = frames.next()
        if frame is None:
            return
        try:
            messages = [receive(frame)]
            deadline = time.monotonic() + REPORT_DELAY
            while not any(m[3] for m in messages) and sum(_count(m[4]) for m in messages) < REPORT_CHUNK:
                frame = frames.next(timeout=deadline - time.monotonic())
                if frame is None:
                    break
                messages.append(receive(frame))
            while True:  # and whatever else is there
                frame = frames.next(timeout=0)
                if frame is None:
                    break
                messages.append(receive(frame))
        except OSError:
            return
        error = None
        try:
            calls: Dict[Tuple[str, int, int], List[Any]] = {}
            for sampler, rank, world_size, _, items in messages:
                calls.setdefault((sampler, rank, world_size), []).extend(_reports(items))
            for (sampler, rank, world_size), reports in calls.items():
                client.report_many(sampler, reports, rank=rank, world_size=world_size)
        except BaseException as e:
            error = e
        progress.settle(len(messages), refused=error is not None)
        try:
            frames.send(pickle.dumps(("ack", len(messages), None if error is None else _pickled(error))))
        except OSError:
            return


def _count(items: List[Any]) -> int:
    """Reports in a message's items ("rows" and "ring-rows" items carry several)."""
    return sum(len(item[1]) if item[0] in ("rows", "ring-rows") else 1 for item in items)


def _copy_out(items: List[Any], ring: Optional[mmap.mmap]) -> Optional[int]:
    """Replaces the message's "ring" and "ring-rows" items by "host" and "rows" ones holding
    copies; returns the position up to which the ring's bytes may be reused (None if it had none)."""
    freed = None
    for i, item in enumerate(items):
        kind = item[0]
        if kind == "ring" or kind == "ring-rows":
            head, (pos, n, dtype, shape), targets = item[1:-2], item[-2], item[-1]
            assert ring is not None
            offset = pos % len(ring)
            outputs = np.frombuffer(ring, dtype=np.dtype(dtype), count=math.prod(shape), offset=offset).reshape(shape).copy()
            items[i] = ("host" if kind == "ring" else "rows", *head, outputs, targets)
            freed = pos + n
    return freed


def _reports(items: List[Any]) -> List[Tuple[Any, ...]]:
    from ._arrays import host_predictions

    reports = []
    for item in items:
        kind = item[0]
        if kind == "host":
            _, step, packed, outputs, targets = item
            reports.append((step, packed, *host_predictions(outputs, targets)))
        elif kind == "rows":  # each report reduced from its own rows, as if sent alone
            _, heads, outputs, targets = item
            start = 0
            for step, packed, rows in heads:
                end = start + rows
                reports.append((step, packed, *host_predictions(outputs[start:end],
                                                                None if targets is None else targets[start:end])))
                start = end
        else:
            reports.append(item[1])
    return reports


def _pickled(error: BaseException) -> bytes:
    try:
        data = pickle.dumps(error)
        pickle.loads(data)  # an exception whose constructor takes other arguments than its args
        return data
    except Exception:
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))


def main() -> None:
    fetch, report = (Frames(socket.socket(fileno=int(fd))) for fd in sys.argv[2:4])
    ring = mmap.mmap(int(sys.argv[4]), Ring.SIZE) if len(sys.argv) > 4 else None
    for frames in (fetch, report):
        frames.sock.setblocking(True)
    options: Dict[str, Optional[Any]] = pickle.loads(report.next() or pickle.dumps(None))
    if options is None:
        return
    reached = options.pop("reached", False)
    client = SamplerClient(options.pop("target"), **options)
    client._reached = bool(reached)  # the parent reached the service: ride out restarts from the start
    report.send(b"ready")
    progress = ReportProgress()
    worker = threading.Thread(target=_serve_calls, args=(client, fetch, progress), daemon=True)
    worker.start()
    try:
        _serve_reports(client, report, ring, progress)
    finally:
        progress.close()
    worker.join()
    client.close()
