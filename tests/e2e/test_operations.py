"""Operations for real: a service configured by CONTRACTGEN_* alone, its /readyz as Redis and
PostgreSQL go away and come back, its JSON log lines; a variable that is not valid refused.

The service runs on a free 127.0.0.1 port named only by ``CONTRACTGEN_PORT``, with
Redis (started here, no persistence) as its broker and a PostgreSQL (started here) as
its ledger, both also given by variables. Redis is killed and started again; PostgreSQL
is stopped (SIGSTOP: it accepts connections and answers nothing, the case a timeout is
for) and continued. Every answer of ``/readyz`` must come within about two seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..brokers import RedisServer, redis_bin
from ..conftest import ROOT
from ..databases import postgres_bin, postgres_server
from .test_service import Server, descendants, free_port, stop_server, wait_until_up

pytestmark = [
    pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed"),
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed"),
]

#: the longest a readiness probe may take to answer, its checks' 1.5 s and the round trip
PROBE_SECONDS = 2.5


def _environment(**variables: str) -> dict[str, str]:
    """Return this process's environment without any CONTRACTGEN_* but the ``variables``.

    The session's ledger key stays: a service with a ledger issues, and signs.
    """
    kept = {"CONTRACTGEN_LEDGER_KEY_FILE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACTGEN_") or k in kept}
    return {**env, **{f"CONTRACTGEN_{name}": value for name, value in variables.items()}}


def _start(folder: Path, env: dict[str, str]) -> Server:
    """Start ``python -m generator serve`` with no option at all; wait for /healthz."""
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return wait_until_up(proc, f"http://127.0.0.1:{env['CONTRACTGEN_PORT']}", log)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _ready(server: Server) -> tuple[int, dict[str, Any]]:
    """Return /readyz's status and body, asserting it answered in time."""
    start = time.monotonic()
    answer = httpx.get(f"{server.url}/readyz", timeout=10)
    assert time.monotonic() - start < PROBE_SECONDS, answer.text
    assert answer.headers["x-request-id"]
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def _until(server: Server, status: int, seconds: float = 30) -> dict[str, Any]:
    """Poll /readyz until it answers ``status`` (with a deadline); return its body."""
    give_up = time.monotonic() + seconds
    while True:
        got, body = _ready(server)
        if got == status:
            return body
        assert time.monotonic() < give_up, (got, body)
        time.sleep(0.1)  # the poll's interval, within its deadline


def _postgres_processes(url: str) -> list[int]:
    """Return the pids of the PostgreSQL server listening on the URL's port: all of it."""
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    mine = descendants(os.getpid())
    (postmaster,) = [pid for pid, cmd in mine.items() if f"-p {port} " in f"{cmd} "]
    return [postmaster, *descendants(postmaster)]


@pytest.mark.slow
def test_readyz_follows_the_broker_and_the_ledger_of_a_service_set_by_its_environment(
    tmp_path: Path, postgres: str
) -> None:
    broker = RedisServer(tmp_path)
    env = _environment(
        PORT=str(free_port()),
        WORKERS="1",
        BROKER=broker.url,
        LEDGER=postgres,
        JOBS_DIR=str(tmp_path / "jobs"),
        LOG_FORMAT="json",
    )
    server = _start(tmp_path, env)
    try:
        body = _until(server, 200)
        assert set(body["checks"]) == {"broker", "ledger", "office"}
        broker.kill()
        body = _until(server, 503)
        assert body["status"] == "unavailable"
        assert not body["checks"]["broker"]["ok"] and body["checks"]["ledger"]["ok"]
        assert "Redis" in body["checks"]["broker"]["error"]
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive all the same
        broker.start()  # on the same port, empty
        _until(server, 200)
        stopped = _postgres_processes(postgres)
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        try:
            status, body = _ready(server)  # a ledger that answers nothing: the timeout
            assert status == 503 and not body["checks"]["ledger"]["ok"], body
            assert body["checks"]["broker"]["ok"] and body["checks"]["office"]["ok"]
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
        _until(server, 200)
    finally:
        stop_server(server)
        broker.kill()
    entries = [json.loads(line) for line in server.log.read_text().splitlines()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    failed = [e["message"] for e in entries if e["message"].startswith("readiness:")]
    assert any(m.startswith("readiness: broker failed") for m in failed), failed
    assert any("ledger failed: no answer within 1.5 s" in m for m in failed), failed
    access = [e for e in entries if e["logger"] == "contractgen.access"]
    assert access and all(len(e["request_id"]) == 32 for e in access)


def test_a_variable_that_is_not_valid_stops_the_command_naming_it(tmp_path: Path) -> None:
    for command, variables, named in [
        ("serve", {"PORT": "eighty"}, "CONTRACTGEN_PORT"),
        ("worker", {"BROKER": "redis://127.0.0.1:1/0", "TIMEOUT": "-1"}, "CONTRACTGEN_TIMEOUT"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "generator", command],
            cwd=ROOT,
            env=_environment(**variables),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert f"错误：环境变量 {named} 的值无效" in done.stderr, done.stderr
