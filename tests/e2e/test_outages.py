"""The queue when its parts fail for real: PostgreSQL stopped, Redis killed, a replica killed
mid-request, a worker machine lost, an office that cannot start.

Everything runs on 127.0.0.1: Redis and PostgreSQL started here, real worker
processes (each in a process group of its own, as a machine's), real service
replicas. Each test breaks one part on purpose and checks what issue 24 asks:
the work is finished, or the failure is said plainly and at once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis

from generator.inputs.load import load_data

from ..brokers import RedisServer, redis_bin
from ..conftest import SAMPLES
from ..databases import PostgresServer, postgres_bin
from .test_jobs import TOKEN
from .test_queue import NUMBERS, ROUND_SECONDS, Worker, _batch, _versions, _wait_running, _whole
from .test_service import alive, descendants, start_server, stop_server

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
            assert health.status_code == 200  # liveness: restarting would not bring Redis back
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


def _round_of(count: int) -> bytes:
    """Return a round of ``count`` contracts as JSON lines (the seed, numbered apart)."""
    seed = {**load_data(SAMPLES / "seed.yaml")}
    lines = [
        json.dumps({**seed, "contract_no": f"CRASH-2026-{n:04d}"}, ensure_ascii=False, default=str)
        for n in range(count)
    ]
    return "\n".join(lines).encode() + b"\n"


def _queued_ids(client: redis.Redis) -> list[str]:
    """Return the task id of every message waiting in the queue."""
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange("contractgen", 0, -1)]


@pytest.mark.slow  # a round of 400 validated twice, by two replicas
def test_a_replica_killed_while_sending_a_job_leaves_one_that_the_same_key_completes(
    tmp_path: Path,
) -> None:
    broker = RedisServer(tmp_path)
    count = 400
    options = ("--workers", "1", "--no-ledger", "--broker", broker.url, "--max-body", "8000000")
    options += ("--jobs-dir", str(tmp_path / "jobs"))
    replicas = [start_server(tmp_path, *options, token=TOKEN) for _ in range(2)]
    body = _round_of(count)
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/jsonl",
        "Idempotency-Key": "round-crash-1",
    }
    queue = redis.Redis.from_url(broker.url)
    answers: list[object] = []

    def post_to_a() -> None:
        try:
            answers.append(
                httpx.post(
                    f"{replicas[0].url}/v1/jobs?issue=false",
                    content=body,
                    headers=headers,
                    timeout=120,
                )
            )
        except httpx.TransportError as exc:  # the replica died under the request
            answers.append(exc)

    try:
        poster = threading.Thread(target=post_to_a)
        poster.start()
        give_up = time.monotonic() + 120
        while not queue.llen("contractgen"):  # the first task sent: kill the replica now
            assert poster.is_alive(), answers
            assert time.monotonic() < give_up, "no task was ever sent"
            time.sleep(0.001)  # the poll's interval, within its deadline
        family = list(descendants(replicas[0].proc.pid))
        replicas[0].proc.kill()
        replicas[0].proc.wait()
        poster.join(timeout=60)
        sent_before = queue.llen("contractgen")
        assert 0 < sent_before < count, sent_before
        assert isinstance(answers[0], httpx.TransportError), answers
        again = httpx.post(
            f"{replicas[1].url}/v1/jobs?issue=false", content=body, headers=headers, timeout=120
        )
        assert again.status_code == 200, again.text
        status = httpx.get(
            f"{replicas[1].url}{again.headers['location']}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
        assert status.status_code == 200, status.text
        rows = status.json()["rows"]
        assert len(rows) == count and status.json()["progress"]["total"] == count
        tasks = {row["task"] for row in rows}
        queued = _queued_ids(queue)
        # every task is sent, none lost; one may be sent twice (killed between its send
        # and its count), under its own id: its set would be made twice, the same
        assert set(queued) == tasks, (len(set(queued)), len(tasks))
        assert count <= len(queued) <= count + 1
        give_up = time.monotonic() + 30
        while alive(family):  # the killed replica's office follows it
            assert time.monotonic() < give_up, alive(family)
            time.sleep(0.05)  # the poll's interval, within its deadline
    finally:
        queue.close()
        for replica in replicas[1:]:
            stop_server(replica)
        broker.kill()


@pytest.mark.slow  # waits out the bound on purpose
def test_a_lost_worker_s_job_runs_again_within_the_bound_made_once_and_not_poison(
    tmp_path: Path,
) -> None:
    from generator.queue.keeper import HEARTBEAT_SECONDS, LOST_SECONDS

    broker = RedisServer(tmp_path)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    lost = Worker(tmp_path, broker.url, ledger, concurrency=1)
    left = Worker(tmp_path, broker.url, ledger, concurrency=1)
    try:
        sent = _batch(broker.url, tmp_path / "out")
        job = lost.first_received()
        _wait_running(broker.url, job, 1, lost)
        family = list(descendants(lost.proc.pid))
        os.killpg(lost.proc.pid, signal.SIGKILL)  # the whole machine, as it were
        killed = time.monotonic()
        lost.proc.wait()
        left.wait_for(rf"Task contractgen\.make\[{job}\] received", seconds=120)
        requeued = time.monotonic() - killed
        _, err = sent.communicate(timeout=ROUND_SECONDS)
        assert sent.returncode == 0, err
        log = left.text()
    finally:
        left.stop()
        broker.kill()
    print(f"a lost worker's job running again after {requeued:.1f} s")
    assert requeued <= LOST_SECONDS + 2 * HEARTBEAT_SECONDS + 5, requeued
    assert f"job {job} given back to the queue" in log, log
    assert not alive(family)
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in report["rows"]] == ["made"] * 5
    _whole(tmp_path / "out")
    assert _versions(ledger) == {number: [1] for number in NUMBERS}
    # the delivery after the loss is not counted toward the poison limit
    assert "'attempt': 1" in log and "'attempt': 2" not in log, log


@pytest.mark.slow  # three jobs of an office that tries and fails to start
def test_a_worker_whose_office_cannot_start_stops_taking_jobs_and_says_so(
    tmp_path: Path,
) -> None:
    from generator.queue.worker import EXIT_BROKEN, OFFICE_FAILURES_MAX

    broker = RedisServer(tmp_path)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    broken = Worker(tmp_path, broker.url, ledger, env={"CONTRACTGEN_SOFFICE": "/bin/false"})
    try:
        sent = _batch(broker.url, tmp_path / "out")
        give_up = time.monotonic() + ROUND_SECONDS
        while broken.proc.poll() is None:  # it stops itself
            assert time.monotonic() < give_up, broken.text()
            time.sleep(0.1)  # the poll's interval, within its deadline
        assert broken.proc.returncode == EXIT_BROKEN, broken.text()
        said = broken.text()
        # the two jobs it did not take are left to the others: one that works finishes them
        healthy = Worker(tmp_path, broker.url, ledger)
        try:
            _, err = sent.communicate(timeout=ROUND_SECONDS)
        finally:
            healthy.stop()
    finally:
        broker.kill()
    assert f"the office failed {OFFICE_FAILURES_MAX} jobs in a row" in said, said
    assert "this worker stops taking jobs" in said
    # a failure is logged as one, never as Celery's "succeeded"
    assert len(re.findall(r"Task contractgen\.make\[[^\]]+\] failed in", said)) == 3, said
    assert "succeeded in" not in said and "WARNING" in said
    assert sent.returncode == 1, err
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8"))
    statuses = [r["status"] for r in report["rows"]]
    assert statuses.count("failed") == OFFICE_FAILURES_MAX and statuses.count("made") == 2
