"""Redis restarted for real under a round and under a service job, with and without persistence.

Redis is started here on 127.0.0.1 and killed (``kill -9``) mid-round, then started
again on the same port and folder: with ``--appendonly yes`` it comes back with its
queue, its unacknowledged jobs and its results, and nothing is sent or made again;
without persistence it comes back empty, and what it lost is said plainly. Every
test here restarts Redis: all are slow (their own CI step).
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from ..brokers import RedisServer, redis_bin
from .test_queue import (
    NUMBERS,
    ROUND_SECONDS,
    Worker,
    _batch,
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


def _stderr_until(proc: subprocess.Popen[str], pattern: str) -> str:
    """Read a process's stderr until ``pattern`` appears (a poll with a deadline); return it."""
    assert proc.stderr is not None
    fd, got = proc.stderr.fileno(), b""
    give_up = time.monotonic() + ROUND_SECONDS
    while not re.search(pattern, got.decode("utf-8", errors="replace")):
        assert time.monotonic() < give_up, got.decode("utf-8", errors="replace")
        if select.select([fd], [], [], 1.0)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"the batch ended first:\n{got.decode('utf-8', errors='replace')}"
            got += chunk
    return got.decode("utf-8", errors="replace")


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
