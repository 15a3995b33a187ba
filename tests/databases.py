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

__all__ = ["postgres_bin", "postgres_server"]


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


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Run a fresh server; yield the SQLAlchemy URL of its ``postgres`` database."""
    programs = postgres_bin()
    if programs is None:
        raise RuntimeError("PostgreSQL is not installed: run bash tools/setup.sh")
    root = os.geteuid() == 0
    user = "postgres" if root else pwd.getpwuid(os.geteuid()).pw_name
    folder = Path(tempfile.mkdtemp(prefix="contractgen-pg-"))
    data = folder / "data"
    if root:
        shutil.chown(folder, user)
    as_user = {"user": user} if root else {}
    subprocess.run(
        [str(programs / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=folder,
        **as_user,  # type: ignore[arg-type]
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            str(programs / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(folder),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=folder,
        preexec_fn=_die_with_parent,
        **as_user,  # type: ignore[arg-type]
    )
    try:
        _wait_ready(programs, port, server)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        server.send_signal(signal.SIGINT)  # fast shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)


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
