"""The hot calls (NextBatches, ReportPredictionsBulk) made from a helper process.

A launch-bound training loop holds the GIL almost all the time. Every gRPC call made from one of
its threads takes the GIL several times (request, each completion event, the response), and each
time waits up to the interpreter's switch interval (5 ms) for the training thread to let it go, then
holds it while grpc's Python runs: measured here, about 1 ms of the training process's CPU per
call. The relay moves those calls into a child process with its own interpreter; the training
process's threads only write a request to a socket and read back the response's bytes (one GIL
hold each way), and parse it with protobuf's C code.

The child is started with ``subprocess`` (fork and exec: safe after CUDA is initialised, and
nothing of the parent's ``__main__`` runs in it) and exits when its sockets close, so it does not
outlive its parent, even after ``kill -9``. Each of the two connections carries one call at a
time (the fetch thread's and the sender thread's). An exception raised in the child (a
SamplerError with its status and method, a ValueError naming a field) is raised again, of the same
type, in the thread that made the call.
"""
import os
import pickle
import socket
import subprocess
import sys
import threading
import weakref
from multiprocessing.connection import Connection
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _proto as pb
from .client import Batch, ReportResult, SamplerClient, _batches

_OK, _ERROR = b"\0", b"\1"
# The package's parent folder: the child imports this package from where the parent did, also
# when that folder was added to sys.path at run time rather than through PYTHONPATH.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from recency_sampler._relay import main; main()"
# A forked child (DataLoader workers) would hold the parent's ends of the sockets open, so the
# helper would not see them close: forked children close them at once.
_LIVE: "weakref.WeakSet[Relay]" = weakref.WeakSet()


def _close_in_forked_child() -> None:
    for relay in list(_LIVE):
        relay._fetch.close()
        relay._report.close()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_close_in_forked_child)


class Relay:
    """next_batches and report_many of ``client``, made by a child process."""

    def __init__(self, client: SamplerClient):
        fetch, fetch_child = socket.socketpair()
        report, report_child = socket.socketpair()
        fds = (fetch_child.fileno(), report_child.fileno())
        self._process = subprocess.Popen([sys.executable, "-c", _BOOT, _ROOT, *map(str, fds)], pass_fds=fds,
                                         stdin=subprocess.DEVNULL)
        fetch_child.close()
        report_child.close()
        self._fetch = Connection(fetch.detach())
        self._report = Connection(report.detach())
        # The client's options (the token among them) go over the socket, not the command line.
        self._report.send_bytes(pickle.dumps(client.options))
        self._lock = threading.Lock()  # close() against a call in flight
        _LIVE.add(self)

    def next_batches(self, sampler: str, step: int, count: int, *, rank: int = 0, world_size: int = 1) -> List[Batch]:
        request = pb.NextBatchesRequest(sampler=sampler, step=step, count=count, rank=rank, world_size=world_size,
                                        packed=True)
        response = _call(self._fetch, ("NextBatches", request.SerializeToString()))
        return _batches(pb.NextBatchesResponse.FromString(response).batches)

    def report_many(self, sampler: str, reports: Sequence[Tuple[Any, ...]], *, rank: int = 0,
                    world_size: int = 0) -> List[ReportResult]:
        results = pickle.loads(_call(self._report, ("report_many", (sampler, list(reports), rank, world_size))))
        return [ReportResult(accepted, duplicate) for accepted, duplicate in results]

    def close(self) -> None:
        with self._lock:
            if self._process.poll() is None or not self._fetch.closed:
                self._fetch.close()
                self._report.close()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()


def _call(connection: Connection, request: Any) -> bytes:
    try:
        connection.send_bytes(pickle.dumps(request))
        answer = connection.recv_bytes()
    except (EOFError, OSError) as error:
        from .errors import Unavailable

        raise Unavailable(f"the relay process that makes the calls has exited ({error!r})",
                          method=request[0]) from None
    if answer[:1] == _OK:
        return answer[1:]
    raise pickle.loads(answer[1:])


# -- the child --------------------------------------------------------------------------------
def _serve(client: SamplerClient, connection: Connection) -> None:
    """Answers the calls of one connection until it closes."""
    while True:
        try:
            method, payload = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            if method == "NextBatches":
                answer = client._call("NextBatches", pb.NextBatchesRequest.FromString(payload)).SerializeToString()
            else:
                sampler, reports, rank, world_size = payload
                results = client.report_many(sampler, reports, rank=rank, world_size=world_size)
                answer = pickle.dumps([(r.accepted, r.duplicate) for r in results])
            reply = _OK + answer
        except BaseException as error:  # raised again in the parent, as it was raised here
            reply = _ERROR + _pickled(error)
        try:
            connection.send_bytes(reply)
        except OSError:
            return


def _pickled(error: BaseException) -> bytes:
    try:
        data = pickle.dumps(error)
        pickle.loads(data)  # an exception whose constructor takes other arguments than its args
        return data
    except Exception:
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))


def main() -> None:
    fetch, report = (Connection(int(fd)) for fd in sys.argv[2:4])
    options: Dict[str, Optional[Any]] = pickle.loads(report.recv_bytes())
    reached = options.pop("reached", False)
    client = SamplerClient(options.pop("target"), **options)
    client._reached = bool(reached)  # the parent reached the service: ride out restarts from the start
    worker = threading.Thread(target=_serve, args=(client, fetch), daemon=True)
    worker.start()
    _serve(client, report)
    worker.join()
    client.close()
