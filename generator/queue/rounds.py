"""The workbench's rounds with a broker: kept in Redis for every replica, made as jobs.

A round uploaded to the workbench of ``serve --broker`` is checked by the replica
that took the upload (the batch's validation) and stored here
(``contractgen:round:<id>``, kept :data:`~.jobs.JOB_TTL`): its source, options, who
uploaded it, every row's report line and the good rows' contracts. 生成 (on any
replica) makes it a job of the :class:`~.jobs.JobStore` — its record, the same
workers, the same shared folder ``<jobs folder>/<job id>/`` — under an idempotency
key of the round's own, so a second press on any replica, or a retry after a
replica died mid-send, finds and completes the same job. The replica that first
sees the job done writes the batch's report (a short lock: one writes, the others
wait a poll); the round then says how long it took.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from ..batch import Line, Options
from ..kinds import Contract, parse
from .jobs import JOB_TTL, IdempotencyConflict, JobStore
from .reach import reaching

__all__ = ["ROUNDS_LISTED", "SharedRounds", "round_id_ok"]

#: rounds the upload page lists (the newest first)
ROUNDS_LISTED = 10
#: seconds one replica holds a round's report to write it
REPORT_LOCK = 120
#: the Redis sorted set of rounds by when they were uploaded
_INDEX = "contractgen:rounds"
#: a round's id (secrets.token_urlsafe(9)): what a key may be built from
_ID = re.compile(r"[A-Za-z0-9_-]{12}")


def round_id_ok(round_id: str) -> bool:
    """Tell whether ``round_id`` has the shape of a round's id."""
    return _ID.fullmatch(round_id) is not None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class SharedRounds:
    """The workbench's rounds, in the job store's Redis; their sets made by the workers."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs
        self.redis = jobs.redis
        self.broker = jobs.broker  # named in a QueueError when Redis cannot be reached

    def _key(self, round_id: str) -> str:
        return f"contractgen:round:{round_id}"

    def _idempotency(self, round_id: str) -> str:
        return hashlib.sha256(f"workbench round\n{round_id}".encode()).hexdigest()

    @reaching
    def save(
        self,
        round_id: str,
        source: str,
        options: Options,
        lines: list[Line],
        valid: list[tuple[Line, Contract]],
        actor: str,
    ) -> None:
        """Store a round just checked: every row's line, the good ones' contracts."""
        index = {id(line): n for n, line in enumerate(lines)}
        uploaded = time.time()
        record = {
            "id": round_id,
            "source": source,
            "uploaded": uploaded,
            "uploaded_by": actor,
            "publish": options.publish,
            "kind": options.kind,
            "lines": [line.__dict__ for line in lines],
            "valid": [[index[id(line)], c.model_dump(mode="json")] for line, c in valid],
        }
        with self.redis.pipeline() as pipe:
            pipe.set(self._key(round_id), json.dumps(record, ensure_ascii=False), ex=JOB_TTL)
            pipe.zadd(_INDEX, {round_id: uploaded})
            pipe.zremrangebyscore(_INDEX, 0, time.time() - JOB_TTL)
            pipe.execute()

    @reaching
    def get(self, round_id: str) -> dict[str, Any] | None:
        """Return a round's record, or None when Redis holds no such round."""
        if not round_id_ok(round_id):
            return None
        raw = self.redis.get(self._key(round_id))
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        if "job" not in record:  # a replica died between the job and saying so here
            held = self.redis.get(f"contractgen:idem:{self._idempotency(round_id)}")
            if held is not None:
                record["job"] = _text(held).partition(" ")[0]
        return record

    @reaching
    def recent(self, count: int = ROUNDS_LISTED) -> list[str]:
        """Return the ids of the newest rounds, the newest first."""
        return [_text(raw) for raw in self.redis.zrevrange(_INDEX, 0, count - 1)]

    @reaching
    def start(self, round_id: str, issuing: bool, actor: str, request_id: str | None) -> str:
        """Send a round's good rows to the workers as one job; say how it went.

        ``started`` (or started before the same way: the same job, its sending completed
        if it was cut short), ``missing`` (no such round) or ``other_way`` (started
        before as drafts when now issuing, or the reverse). ``actor`` (who pressed 生成)
        is who the workers record as acting.
        """
        record = self.get(round_id)
        if record is None:
            return "missing"
        lines = [Line(**line) for line in record["lines"]]
        valid = [(lines[n], parse(data)) for n, data in record["valid"]]
        options = Options(publish=record["publish"], kind=record["kind"], issue=issuing)
        try:
            job_id, new = self.jobs.create(
                lines,
                valid,
                options,
                idempotency=self._idempotency(round_id),
                body_digest=f"issue={int(issuing)}",
                request_id=request_id,
                actor=actor,
            )
        except IdempotencyConflict:
            return "other_way"
        if new or "started_by" not in record:
            record.update(job=job_id, issue=issuing, started_by=actor, started=time.time())
            self._put(record)
        return "started"

    def _put(self, record: dict[str, Any]) -> None:
        self.redis.set(self._key(record["id"]), json.dumps(record, ensure_ascii=False), ex=JOB_TTL)

    @reaching
    def claim_report(self, round_id: str) -> bool:
        """Tell whether this replica is the one to write a finished round's report."""
        lock = f"contractgen:round-report:{round_id}"
        return bool(self.redis.set(lock, "1", nx=True, ex=REPORT_LOCK))

    @reaching
    def finish(self, record: dict[str, Any], seconds: float, report_failed: str) -> None:
        """Say a round's report is written (or why not), and how long the round took."""
        record.update(seconds=seconds, report_failed=report_failed)
        self._put(record)
