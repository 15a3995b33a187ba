"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, run, remove.

Debian's ``postgresql`` package gives the programs; the server runs as an
unprivileged user (``postgres`` when the tests run as root: initdb refuses
root), listens on 127.0.0.1 on a free port and on a unix socket in its own
folder, trusts local connections, and is killed if the test process dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PostgresServer", "postgres_bin", "postgres_server"]


def postgres_bin() -> Path | None:
    """Return the folder of the newest installed PostgreSQL's programs, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG = 1: the server gets SIGKILL when the test process ends, however.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class PostgresServer:
    """One throwaway server the tests own, which can be stopped and started again (same data).

    ``stop()`` is a fast shutdown (SIGINT), as an operator's restart or a failover
    would do; ``start()`` brings it back on the same port, its data intact.
    """

    def __init__(self) -> None:
        programs = postgres_bin()
        if programs is None:
            raise RuntimeError("PostgreSQL is not installed: run bash tools/setup.sh")
        self.programs = programs
        root = os.geteuid() == 0
        self.user = "postgres" if root else pwd.getpwuid(os.geteuid()).pw_name
        self.folder = Path(tempfile.mkdtemp(prefix="contractgen-pg-"))
        self.data = self.folder / "data"
        if root:
            shutil.chown(self.folder, self.user)
        self.as_user = {"user": self.user} if root else {}
        subprocess.run(
            [
                *(str(programs / "initdb"), "-D", str(self.data)),
                *("-U", "postgres", "--auth=trust", "-E", "UTF8"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=self.folder,
            **self.as_user,  # type: ignore[arg-type]
        )
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.server: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.server = subprocess.Popen(
            [
                str(self.programs / "postgres"),
                *("-D", str(self.data), "-p", str(self.port), "-k", str(self.folder)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.folder,
            preexec_fn=_die_with_parent,
            **self.as_user,  # type: ignore[arg-type]
        )
        _wait_ready(self.programs, self.port, self.server)

    def stop(self) -> None:
        """Stop the server (a fast shutdown: every connection is cut) and wait for it."""
        server, self.server = self.server, None
        if server is None:
            return
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()

    def remove(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Run a fresh server; yield the SQLAlchemy URL of its ``postgres`` database."""
    server = PostgresServer()
    try:
        yield server.url
    finally:
        server.remove()


def _wait_ready(programs: Path, port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            assert server.stderr is not None
            raise RuntimeError("PostgreSQL did not start: " + server.stderr.read().decode())
        ready = subprocess.run(
            [str(programs / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-t", "1"],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)  # a poll with a deadline: the server gives no event to wait on
    raise RuntimeError("PostgreSQL did not accept connections within 60 s")
