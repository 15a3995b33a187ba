"""What Redis knows of a job, read for real, and what the jobs folder keeps of a lost one.

A real redis-server on 127.0.0.1 (no worker: nothing consumes): a job sent through
Celery is queued; one moved into kombu's ``unacked`` hash, as a worker taking it
does, is held; one with a stored outcome has a state; any other is lost. A job's
outline, written when it is made, says which of its sets are in the shared folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ..brokers import RedisServer, redis_bin

pytestmark = pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    made = RedisServer(tmp_path)
    try:
        yield made
    finally:
        made.kill()


# Celery's Redis backend stores results with SETEX, which redis-py 8 calls deprecated
@pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")
def test_a_job_is_known_queued_held_or_with_a_state_and_lost_otherwise(
    server: RedisServer,
) -> None:
    from generator.queue.app import QUEUE, TASK_MAKE, UNACKED, celery_app, known_jobs

    app = celery_app(server.url)
    client = redis.Redis.from_url(server.url)
    try:
        for job in ("queued-1", "held-1"):
            app.send_task(TASK_MAKE, args=[{}, "/srv/jobs", {}], task_id=job)
        # a worker takes the oldest (the list's right end) and records it as unacknowledged
        raw = client.rpop(QUEUE)
        assert raw is not None and json.loads(raw)["headers"]["id"] == "queued-1"
        client.hset(UNACKED, "tag-1", json.dumps([json.loads(raw), "", QUEUE]))
        app.backend.store_result("done-1", {"status": "made"}, "SUCCESS")
        app.backend.store_result("running-1", {"worker": "vm:1"}, "STARTED")
        asked = ["queued-1", "held-1", "done-1", "running-1", "lost-1"]
        assert known_jobs(client, app, asked) == {"queued-1", "held-1", "done-1", "running-1"}
        # garbage in the queue is no job, and breaks nothing
        client.lpush(QUEUE, b"not json")
        assert known_jobs(client, app, ["lost-1", "held-1"]) == {"held-1"}
    finally:
        client.close()


def test_a_lost_job_s_outline_names_the_sets_made_and_where(tmp_path: Path) -> None:
    from generator.queue.lost import RECORDS, lost_job, write_outline

    job_id = "a" * 32
    rows = [
        {"contract_no": "HT-1", "task": "t1"},
        {"contract_no": "HT-2", "task": "t2"},
        {"contract_no": "HT-3", "task": None},  # not valid: never sent
    ]
    write_outline(tmp_path, {"id": job_id, "created": "2027-01-04T01:00:00+00:00", "rows": rows})
    assert [p.name for p in (tmp_path / RECORDS).iterdir()] == [f"{job_id}.json"]
    (tmp_path / job_id / "HT-2").mkdir(parents=True)
    (tmp_path / job_id / "HT-2" / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / job_id / ".staging-HT-1").mkdir()  # half made: not a set
    assert lost_job(tmp_path, job_id) == {
        "id": job_id,
        "created": "2027-01-04T01:00:00+00:00",
        "folder": str(tmp_path / job_id),
        "made": ["HT-2"],
        "total": 2,
    }
    assert lost_job(tmp_path, "b" * 32) is None  # no outline: never a job here
    assert lost_job(tmp_path, "../" + "a" * 29) is None  # not a job id
