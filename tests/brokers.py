"""A real Redis for the queue's tests: Debian's redis-server on a free 127.0.0.1 port.

No persistence (nothing saved, no append-only file) unless a test asks for it
(``persistent=True``: ``--appendonly yes``, the append-only files in the server's own
folder, as production runs it); the server is killed with the test process
(PR_SET_PDEATHSIG) and can be restarted on the same port and folder, as a broker that
crashed would come back: empty without persistence, with what it had written with it.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import redis

__all__ = ["RedisServer", "die_with_parent", "redis_bin"]


def redis_bin() -> str | None:
    """Return the redis-server program, or None when it is not installed."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:
    """Have this child process killed (SIGKILL) when the process that started it ends."""
    # PR_SET_PDEATHSIG = 1: the server gets SIGKILL when the test process ends, however.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class RedisServer:
    """One redis-server process the tests own."""

    def __init__(self, folder: Path, *, persistent: bool = False) -> None:
        self.folder = folder
        self.persistent = persistent
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        """Start the server (again, on the same port and folder) and wait until it answers.

        Empty without persistence; with it, what its append-only file holds is loaded
        first (Redis answers PING only once it has).
        """
        program = redis_bin()
        assert program is not None, "redis-server is not installed"
        with (self.folder / f"redis-{self.port}.log").open("ab") as log:
            self.proc = self._popen(program, log)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            self._wait_ready(client)
        finally:
            client.close()

    def _popen(self, program: str, log: Any) -> subprocess.Popen[bytes]:
        kept = ("--appendonly", "yes", "--appenddirname", f"redis-{self.port}.aof")
        return subprocess.Popen(
            [
                program,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--dir", str(self.folder)),
                *(kept if self.persistent else ("--appendonly", "no")),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    def _wait_ready(self, client: redis.Redis) -> None:
        assert self.proc is not None
        give_up = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, (self.folder / f"redis-{self.port}.log").read_text()
            try:
                if client.ping():
                    return
            except redis.ConnectionError:  # refused, or still loading its file
                assert time.monotonic() < give_up, "redis-server did not answer in 30 s"
                time.sleep(0.02)  # the poll's interval, within its deadline

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): what it held in memory is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
