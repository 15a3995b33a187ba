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

import pytest

from ..brokers import RedisServer, redis_bin
from ..databases import PostgresServer, postgres_bin
from .test_queue import NUMBERS, ROUND_SECONDS, Worker, _batch, _versions, _whole

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
