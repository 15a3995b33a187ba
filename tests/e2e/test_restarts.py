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


def _second_running(broker: RedisServer, worker: Worker) -> str:
    """Wait until one set is made and the next job runs (its delivery counted); return its id."""
    worker.wait_for(MADE)
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
        _second_running(broker, worker)  # one set made, one running, three queued
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
