"""The queue when its parts fail for real: PostgreSQL stopped, Redis killed, a replica killed
mid-request, a worker machine lost, an office that cannot start.

Everything runs on 127.0.0.1: Redis and PostgreSQL started here, real worker
processes (each in a process group of its own, as a machine's), real service
replicas. Each test breaks one part on purpose and checks what issue 24 asks:
the work is finished, or the failure is said plainly and at once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from generator.inputs.load import load_data

from ..brokers import RedisServer, redis_bin
from ..conftest import SAMPLES
from ..databases import PostgresServer, postgres_bin
from .test_jobs import TOKEN
from .test_queue import NUMBERS, ROUND_SECONDS, Worker, _batch, _versions, _whole
from .test_service import start_server, stop_server

pytestmark = pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed")

#: how long PostgreSQL is kept down in the outage test (within the workers' patience)
OUTAGE_SECONDS = 15.0


@pytest.mark.slow  # a 15-second outage, on purpose
@pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed")
def test_a_postgresql_outage_mid_round_is_ridden_out_and_every_row_is_made(
    tmp_path: Path,
) -> None:
    database = PostgresServer()
    broker = RedisServer(tmp_path)
    worker = Worker(tmp_path, broker.url, database.url, concurrency=2)
    try:
        sent = _batch(broker.url, tmp_path / "out")
        worker.wait_for(r"contractgen\.worker: set made")
        database.stop()
        stopped = time.monotonic()
        worker.wait_for(r"ledger unreachable \(try 1\)")
        # the outage lasts OUTAGE_SECONDS (the scenario), the round meanwhile unfinished
        while time.monotonic() - stopped < OUTAGE_SECONDS:
            assert sent.poll() is None, sent.communicate()
            time.sleep(0.2)  # the outage's length: what is tested is that it is ridden out
        database.start()
        _, err = sent.communicate(timeout=ROUND_SECONDS)
        assert sent.returncode == 0, err
        log = worker.text()
    finally:
        worker.stop()
        broker.kill()
        try:
            _versions_then = _versions(database.url)
        finally:
            database.remove()
    assert "ledger unreachable (try 2)" in log, log
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in report["rows"]] == ["made"] * 5
    _whole(tmp_path / "out")
    assert _versions_then == {number: [1] for number in NUMBERS}


def test_redis_down_is_503_with_retry_after_at_once_and_healthz_says_degraded(
    tmp_path: Path,
) -> None:
    broker = RedisServer(tmp_path)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    server = start_server(
        tmp_path,
        *("--workers", "1", "--ledger", ledger, "--broker", broker.url),
        *("--jobs-dir", str(tmp_path / "jobs")),
        token=TOKEN,
    )
    body = json.dumps({**load_data(SAMPLES / "seed.yaml")}, ensure_ascii=False, default=str)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            sent = client.post("/v1/jobs?issue=false", content=body.encode())
            assert sent.status_code == 202, sent.text
            location = sent.headers["location"]
            healthy = client.get("/healthz")
            assert healthy.status_code == 200 and healthy.json()["status"] == "ok"
            assert set(healthy.json()["dependencies"]) == {"broker", "ledger"}
            broker.kill()
            for method, path in (("GET", location), ("POST", "/v1/jobs?issue=false")):
                began = time.monotonic()
                answer = client.request(method, path, content=body.encode())
                took = time.monotonic() - began
                assert answer.status_code == 503, (method, answer.text)
                assert answer.headers["retry-after"] == "5"
                problem = answer.json()
                assert problem["code"] == "queue.unreachable", problem
                assert "消息代理" in problem["detail"]
                assert took < 5, (method, took)
            health = client.get("/healthz")
            assert health.status_code == 503
            said = health.json()
            assert said["status"] == "degraded"
            assert said["dependencies"]["broker"]["ok"] is False
            assert said["dependencies"]["ledger"]["ok"] is True
            broker.start()  # back, empty: the service answers again, with no restart
            assert client.get("/healthz").status_code == 200
            again = client.post("/v1/jobs?issue=false", content=body.encode())
            assert again.status_code == 202, again.text
    finally:
        stop_server(server)
        broker.kill()
    assert "Traceback" not in server.log.read_text()
