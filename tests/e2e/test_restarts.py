"""Redis restarted for real under a round and under a service job, with and without persistence.

Redis is started here on 127.0.0.1 and killed (``kill -9``) mid-round, then started
again on the same port and folder: with ``--appendonly yes`` it comes back with its
queue, its unacknowledged jobs and its results, and nothing is sent or made again;
without persistence it comes back empty, and what it lost is said plainly. Every
test here restarts Redis: all are slow (their own CI step).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import redis

from ..brokers import RedisServer, redis_bin
from ..conftest import SAMPLES, run_cli
from .test_jobs import XLSX, Receiver, Stack
from .test_queue import (
    NUMBERS,
    ROUND_SECONDS,
    Worker,
    _batch,
    _stderr_until,
    _versions,
    _wait_running,
    _whole,
)

pytestmark = [
    pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed"),
    pytest.mark.slow,
]

#: the worker's line for a set it made (one per run of a job that made its set)
MADE = r"contractgen\.worker: set made"
RECEIVED = r"Task contractgen\.make\[([^\]]+)\] received"


def _made(worker: Worker) -> int:
    return len(re.findall(MADE, worker.text()))


def _second_running(broker: RedisServer, worker: Worker, batch: subprocess.Popen[str]) -> str:
    """Wait until one set is made and reported, and the next job runs; return the next's id.

    The batch has its first outcome (its ``[1/5]`` line), so a Redis that forgets it now
    forgets nothing the round still needs; the second job's delivery is counted, so it
    is running, not about to.
    """
    _stderr_until(batch, r"\[1/5\]")
    worker.wait_for(RECEIVED, count=2)
    job = str(re.findall(RECEIVED, worker.text())[1])
    _wait_running(broker.url, job, 1, worker)
    return job


def test_redis_restarted_with_persistence_mid_round_sends_nothing_again_and_makes_each_set_once(
    tmp_path: Path,
) -> None:
    broker = RedisServer(tmp_path, persistent=True)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    worker = Worker(tmp_path, broker.url, ledger, concurrency=1)
    try:
        sent = _batch(broker.url, tmp_path / "out")
        _second_running(broker, worker, sent)  # one set made, one running, three queued
        broker.kill()
        broker.start()  # the same port and folder: its append-only file read back
        _, err = sent.communicate(timeout=ROUND_SECONDS)
        assert sent.returncode == 0, err
        log = worker.text()
    finally:
        worker.stop()
        broker.kill()
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in report["rows"]] == ["made"] * 5
    _whole(tmp_path / "out")
    assert _versions(ledger) == {number: [1] for number in NUMBERS}
    # the queue survived: nothing sent again, every set made once, no delivery counted twice
    assert "消息代理（Redis）已重启：队列完好" in err, err
    assert _made(worker) == 5, log
    assert "'attempt': 2" not in log, log


def test_redis_restarted_without_persistence_mid_round_loses_its_queue_and_the_round_finishes(
    tmp_path: Path,
) -> None:
    broker = RedisServer(tmp_path)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    worker = Worker(tmp_path, broker.url, ledger, concurrency=1)
    try:
        sent = _batch(broker.url, tmp_path / "out")
        head = _second_running(broker, worker, sent)
        broker.kill()  # three jobs queued in its memory, and the running one's state, gone
        worker.wait_for(r"Connection to broker lost")  # the worker saw it go
        broker.start()  # on the same port, empty
        _, rest = sent.communicate(timeout=ROUND_SECONDS)
        err = head + rest
        assert sent.returncode == 0, err
        log = worker.text()
    finally:
        worker.stop()
        broker.kill()
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in report["rows"]] == ["made"] * 5
    _whole(tmp_path / "out")
    assert _versions(ledger) == {number: [1] for number in NUMBERS}
    # the lost ones sent again, said so; none counted toward the poison limit
    assert re.search(r"消息代理（Redis）已重启：[1-4] 份任务随之丢失，已按原任务号重新提交", err), (
        err
    )
    assert "'attempt': 2" not in log, log
    # the running one's set is made once: sent again, its stored outcome is kept
    assert _made(worker) == 5, log


def _running(url: str, worker: Worker) -> str:
    """Wait until a job the worker received runs (its delivery counted) unfinished; its id."""
    counts = redis.Redis.from_url(url)
    try:
        give_up = time.monotonic() + ROUND_SECONDS
        while True:
            text = worker.text()
            for job in re.findall(RECEIVED, text):
                if f"task_id={job}" not in text and counts.exists(f"contractgen:attempts:{job}"):
                    return str(job)
            assert time.monotonic() < give_up, text
            time.sleep(0.01)  # the poll's interval, within its deadline
    finally:
        counts.close()


def _send_round(stack: Stack, callback: str | None = None) -> tuple[str, str]:
    """Send the sample workbook as a job (issued); return its id and its Location."""
    params = {"issue": "true", **({"callback": callback} if callback else {})}
    sent = stack.client.post(
        "/v1/jobs",
        params=params,
        content=(SAMPLES / "batch.xlsx").read_bytes(),
        headers={"Content-Type": XLSX},
    )
    assert sent.status_code == 202, sent.text
    return str(sent.json()["id"]), str(sent.headers["location"])


def test_a_service_job_across_a_persistent_redis_restart_fails_no_row_and_calls_back_all_made(
    tmp_path: Path,
) -> None:
    stack = Stack(tmp_path, persistent=True)
    receiver = Receiver()  # 500 first, then 204
    try:
        _, location = _send_round(stack, receiver.url)
        stack.worker.wait_for(MADE)
        job = _running(stack.redis.url, stack.worker)
        stack.redis.kill()
        # the job running finishes while Redis is away: its outcome waits to be stored
        stack.worker.wait_for(rf"set made in .* task_id={job} ")
        away = stack.client.get(location)
        assert away.status_code == 503 and away.json()["code"] == "queue.unreachable", away.text
        stack.redis.start()  # the same port and folder: the job, its queue and results kept
        status = stack.wait_done(location)
        assert receiver.arrived.wait(timeout=ROUND_SECONDS)
        zips = {
            row["contract_no"]: stack.client.get(f"{location}/sets/{row['contract_no']}.zip")
            for row in status["rows"]
        }
        log = stack.worker.text()
    finally:
        receiver.close()
        stack.close()
    # no row failed for Redis's restart: every set made, downloadable, called back as made
    assert [r["status"] for r in status["rows"]] == ["made"] * 5, status
    assert {number: answer.status_code for number, answer in zips.items()} == dict.fromkeys(
        NUMBERS, 200
    )
    called = json.loads(receiver.calls[-1][1])
    assert called["counts"] == {"made": 5}, called
    assert [r["status"] for r in called["rows"]] == ["made"] * 5
    # made once each, one ledger version each, no run counted twice toward the poison limit
    assert _made(stack.worker) == 5, log
    assert "(attempt 2)" not in log, log
    assert _versions(stack.ledger) == {number: [1] for number in NUMBERS}


def test_a_service_job_lost_with_redis_without_persistence_is_410_and_its_sets_stay(
    tmp_path: Path,
) -> None:
    stack = Stack(tmp_path)
    try:
        job_id, location = _send_round(stack)
        stack.worker.wait_for(MADE)
        stack.redis.kill()
        stack.redis.start()  # empty: the job's record, its queue and its results are gone
        lost = stack.client.get(location)
        first = stack.worker.text()
        number = re.findall(r"set made in .* contract_no=(\S+)", first)[0]
        download = stack.client.get(f"{location}/sets/{number}.zip")
        unknown = stack.client.get("/v1/jobs/" + "0" * 32)
        shown = run_cli(
            "jobs", "show", job_id, "--broker", stack.redis.url, "--jobs-dir", stack.jobs
        )
    finally:
        stack.close()
    assert lost.status_code == 410, lost.text
    problem = lost.json()
    assert problem["code"] == "job.lost_with_queue", problem
    assert "随消息代理（Redis）丢失" in problem["detail"] and "重新提交" in problem["detail"]
    # the sets made are not lost: the shared folder has them, and the problem says where
    assert problem["folder"] == str((stack.jobs / job_id).resolve()), problem
    assert number in problem["made"] and set(problem["made"]) <= set(NUMBERS), problem
    assert problem["total"] == 5 and problem["folder"] in problem["detail"]
    for made in problem["made"]:
        assert (Path(problem["folder"]) / made / "manifest.json").is_file(), made
    assert download.status_code == 410 and download.json()["code"] == "job.lost_with_queue"
    assert unknown.status_code == 404 and unknown.json()["code"] == "jobs.not_found"
    # an operator reads the same
    assert shown.returncode == 1 and "[job.lost_with_queue]" in shown.stderr, shown.stderr
    assert problem["folder"] in shown.stderr
