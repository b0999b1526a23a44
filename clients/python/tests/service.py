"""Runs the real recency-sampler service (node dist/main.js) for tests: ephemeral port, temporary
SQLite file, killable and restartable on the same port."""
import json
import os
import pathlib
import signal
import subprocess
import threading
from typing import List, Optional

REPO = pathlib.Path(__file__).resolve().parents[3]
MAIN = REPO / "dist" / "main.js"


class ServiceProcess:
    def __init__(self, db: pathlib.Path, extra_args: Optional[List[str]] = None):
        self.db = db
        self.extra_args = extra_args or []
        self.port = 0
        self.http_port = 0
        self.process: Optional[subprocess.Popen] = None
        self.logs: List[dict] = []

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "ServiceProcess":
        if not MAIN.exists():
            raise RuntimeError(f"{MAIN} is missing: run `npm run build` in {REPO} first")
        self.process = subprocess.Popen(
            ["node", str(MAIN), "--grpc-port", str(self.port), "--http-port", "0", "--db", str(self.db), *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        listening = threading.Event()

        def drain(stream):  # keeps reading so the service never blocks on a full pipe
            for line in stream:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                self.logs.append(entry)
                if entry.get("msg") == "listening":
                    self.port = entry["grpcPort"]
                    self.http_port = entry["httpPort"]
                    listening.set()

        threading.Thread(target=drain, args=(self.process.stdout,), daemon=True).start()
        if not listening.wait(timeout):
            self.kill()
            raise RuntimeError(f"service did not start within {timeout} s: {self.logs[-5:]}")
        return self

    def kill(self) -> None:
        """kill -9: no shutdown, no snapshot."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> int:
        """SIGTERM: the clean shutdown; returns the exit code."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            return self.process.wait(timeout=30)
        return self.process.returncode if self.process else 0
