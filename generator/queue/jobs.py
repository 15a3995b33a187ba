"""Asynchronous jobs of the service: one contract or a round, sent to the workers, kept in Redis.

A job is a record in Redis (``contractgen:job:<id>``, kept :data:`JOB_TTL`): its
rows, each with the issues that kept it from being sent or the id of the task that
makes it; its status is read from the tasks' results whenever it is asked for, so
any replica of the service answers for any job, and none holds state of its own.
Sets are written by the workers under ``<jobs folder>/<job id>/``, a folder the
workers and the service replicas share.

``Idempotency-Key``: the first request with a key stores the job's id under it
(with the body's digest) before anything is sent; a request repeating the key gets
that job, and one repeating it with another body is refused.

A callback URL is called once the job is done, with the job's status as JSON and
``X-Contractgen-Signature: t=<unix time>,sha256=<hex>``, the HMAC-SHA256 of
``<t>.<body>`` under the service's callback key; a failed call is retried with
exponential back-off (:data:`CALLBACK_DELAYS`), by whichever replica takes the
job's lock first, and given up after the last delay (recorded in the job).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
from celery import Celery
from celery.states import READY_STATES

from .. import logs
from ..batch import Line, Options
from ..errors import QueueError
from ..kinds import Contract
from .app import (
    OUTCOMES,
    SOCKET_SECONDS,
    TASK_MAKE,
    celery_app,
    known_jobs,
    options_to,
    queue_keys,
    stored_states,
    trace_headers,
)
from .callbacks import CallbackRefused, pinned, resolve
from .lost import lost_job, write_outline
from .reach import reaching

__all__ = [
    "CALLBACK_DELAYS",
    "CALLBACK_TIMEOUT",
    "JOB_TTL",
    "PROBE_TIMEOUT",
    "SENDING_LOCK",
    "IdempotencyConflict",
    "JobStore",
    "default_jobs_dir",
    "sign",
]

#: seconds a job's record (and its idempotency key) is kept
JOB_TTL = 7 * 24 * 3600
#: seconds between a failed callback and the next try; after the last, it is given up
CALLBACK_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
#: seconds one callback request may take
CALLBACK_TIMEOUT = 10.0
#: seconds a replica holds a job's sending lock unless it renews it (it does while it sends)
SENDING_LOCK = 10
#: seconds a readiness probe or a metrics scrape waits for Redis
PROBE_TIMEOUT = 1.0
#: the Redis set of jobs whose callback is still to be made
_CALLBACKS = "contractgen:callbacks"
_log = logging.getLogger("contractgen.jobs")


class IdempotencyConflict(ValueError):
    """An ``Idempotency-Key`` used before with another body."""


def default_jobs_dir() -> Path:
    """Return where jobs' sets go by default: the user's data folder (one machine's)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "contractgen" / "jobs"


def sign(key: bytes, timestamp: int, body: bytes) -> str:
    """Return the signature header's value of a callback body."""
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={digest}"


def _text(value: Any) -> str:
    """Return what Redis answered as text (redis-py gives bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class _Row:
    where: str
    contract_no: str
    task: str | None
    errors: list[dict[str, str]]


class JobStore:
    """Jobs kept in Redis, their contracts sent to the workers through Celery."""

    def __init__(self, broker: str, folder: Path, callback_key: bytes | None = None) -> None:
        self.app: Celery = celery_app(broker, impatient=True)
        self.broker = broker
        self.redis = redis.Redis.from_url(
            broker, socket_timeout=SOCKET_SECONDS, socket_connect_timeout=SOCKET_SECONDS
        )
        #: for the probes and the scrapes, which must answer at once or not at all
        self.probe = redis.Redis.from_url(
            broker, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT
        )
        self.folder = folder.resolve()
        self.callback_key = callback_key

    def close(self) -> None:
        """Close the connections."""
        self.redis.close()
        self.probe.close()

    def ping(self) -> None:
        """Raise unless Redis answers a PING within :data:`PROBE_TIMEOUT`."""
        self.probe.ping()

    def queue_state(self) -> dict[str, Any]:
        """Return what Redis holds of the work: every replica's and every worker's, read at once.

        ``waiting`` jobs in the queue, ``unacknowledged`` ones (taken by a worker, not yet
        done), ``callbacks`` still to be made, and the workers' ``outcomes`` by code.
        """
        with self.probe.pipeline(transaction=False) as pipe:
            for key in queue_keys():
                pipe.llen(key)
            pipe.hlen("unacked")
            pipe.zcard(_CALLBACKS)
            pipe.hgetall(OUTCOMES)
            *waiting, unacked, callbacks, outcomes = pipe.execute()
        return {
            "waiting": sum(int(n) for n in waiting),
            "unacknowledged": int(unacked),
            "callbacks": int(callbacks),
            "outcomes": {_text(k): int(v) for k, v in outcomes.items()},
        }

    def _key(self, job_id: str) -> str:
        return f"contractgen:job:{job_id}"

    @reaching
    def create(
        self,
        lines: list[Line],
        valid: list[tuple[Line, Contract]],
        options: Options,
        *,
        callback: str | None = None,
        idempotency: str | None = None,
        body_digest: str = "",
        request_id: str | None = None,
        actor: str | None = None,
    ) -> tuple[str, bool]:
        """Send a job's good rows; return its id and whether it is new (False: the key's job).

        ``request_id`` (the request that asked for the job) is in the workers' log lines;
        ``actor`` (who asked: the API's user) is who the workers record as acting.
        """
        job_id, new = uuid.uuid4().hex, True
        if idempotency is not None:
            slot = f"contractgen:idem:{idempotency}"
            claimed = self.redis.set(slot, f"{job_id} {body_digest}", nx=True, ex=JOB_TTL)
            if not claimed:
                held = _text(self.redis.get(slot) or b"")
                job_id, _, digest = held.partition(" ")
                if digest != body_digest:
                    raise IdempotencyConflict(job_id)
                new = False
        # the record first, every task's id in it, then the tasks: a replica that dies
        # sending leaves a job that the same request, sent again anywhere, completes
        record = self.record(job_id) if not new else None
        if record is None:
            record = self._record_of(job_id, lines, valid, callback, actor)
            self.redis.set(self._key(job_id), json.dumps(record, ensure_ascii=False), ex=JOB_TTL)
            if callback:
                self.redis.zadd(_CALLBACKS, {job_id: time.time()})
        # before any task, again for a job a dead replica left: says it was lost, should
        # Redis forget it
        write_outline(self.folder, record)
        self._send_rest(record, valid, options, request_id, actor)
        return job_id, new

    def _record_of(
        self,
        job_id: str,
        lines: list[Line],
        valid: list[tuple[Line, Contract]],
        callback: str | None,
        actor: str | None,
    ) -> dict[str, Any]:
        """Return a new job's record: its rows, each good one with the id its task will have."""
        tasks = {id(line): str(uuid.uuid4()) for line, _ in valid}
        rows = [
            _Row(line.where, line.contract_no, tasks.get(id(line)), line.errors).__dict__
            for line in lines
        ]
        return {
            "id": job_id,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows": rows,
            "callback": callback,
            "callback_state": "pending" if callback else None,
            "callback_tries": 0,
            "actor": actor,
        }

    def _send_rest(
        self,
        record: dict[str, Any],
        valid: list[tuple[Line, Contract]],
        options: Options,
        request_id: str | None,
        actor: str | None,
    ) -> None:
        """Send the job's tasks not sent yet, in order, counting each in Redis once sent.

        One replica sends at a time (a lock it renews while it sends, given up when it
        dies within :data:`SENDING_LOCK` seconds: another request waits that long at
        most). A replica killed between a send and its count leaves that one task to be
        sent again, under its id: its set is made twice, the same folder, the same version.
        """
        job_id = record["id"]
        tasks = [row["task"] for row in record["rows"] if row["task"] is not None]
        if len(tasks) != len(valid):  # the same body (its digest checked): never
            raise RuntimeError(f"job {job_id}: {len(tasks)} tasks recorded, {len(valid)} rows")
        counter, lock = f"contractgen:job-sent:{job_id}", f"contractgen:job-sending:{job_id}"
        mine = uuid.uuid4().hex
        give_up = time.monotonic() + SENDING_LOCK + 2
        while not self.redis.set(lock, mine, nx=True, ex=SENDING_LOCK):
            if int(self.redis.get(counter) or 0) >= len(tasks):
                return  # sent by the other request meanwhile
            if time.monotonic() > give_up:
                raise QueueError("该任务正由另一请求提交，请稍后重试", code="queue.busy")
            time.sleep(0.1)  # a poll of the other sender's lock, within its deadline
        try:
            done = int(self.redis.get(counter) or 0)
            out_dir = self.folder / job_id
            trace = {"request_id": request_id, "job_id": job_id}
            renewed = time.monotonic()
            for task, (_, contract) in list(zip(tasks, valid, strict=True))[done:]:
                args = self._args(contract, out_dir, options, actor)
                # kept for an operator's requeue (contractgen jobs requeue), as long as the job
                self.redis.hset(self._args_key(job_id), task, json.dumps(args, ensure_ascii=False))
                self._send(task, args, trace)
                self.redis.incr(counter)
                if time.monotonic() - renewed > SENDING_LOCK / 4:
                    self.redis.set(lock, mine, xx=True, ex=SENDING_LOCK)
                    renewed = time.monotonic()
            self.redis.expire(counter, JOB_TTL)
            self.redis.expire(self._args_key(job_id), JOB_TTL)
        finally:
            if _text(self.redis.get(lock) or b"") == mine:
                self.redis.delete(lock)

    def _args_key(self, job_id: str) -> str:
        return f"contractgen:job-args:{job_id}"

    def _args(
        self, contract: Contract, out_dir: Path, options: Options, actor: str | None
    ) -> list[Any]:
        """Return a task's arguments: the contract, the folder, the options and who asked."""
        sent = {**options_to(options), "actor": actor}
        return [contract.model_dump(mode="json"), str(out_dir), sent]

    def _send(self, task_id: str, args: list[Any], trace: dict[str, str | None]) -> None:
        headers = trace_headers(str(args[0].get("contract_no", "")), **trace)
        self.app.send_task(TASK_MAKE, args=args, task_id=task_id, headers=headers)

    @reaching
    def record(self, job_id: str) -> dict[str, Any] | None:
        """Return a job's stored record, or None when there is no such job (or it expired)."""
        if not job_id.isalnum() or len(job_id) != 32:
            return None
        raw = self.redis.get(self._key(job_id))
        return None if raw is None else dict(json.loads(raw))

    def lost(self, job_id: str) -> dict[str, Any] | None:
        """Return what the jobs folder holds of a job Redis forgot (see :mod:`.lost`), or None."""
        return lost_job(self.folder, job_id)

    @reaching
    def status(self, job_id: str) -> dict[str, Any] | None:
        """Return a job's status: every row's, the counts, and the job's (queued/running/done)."""
        record = self.record(job_id)
        if record is None:
            return None
        tasks = [row["task"] for row in record["rows"] if row["task"] is not None]
        states = stored_states(self.app, tasks)
        rows = [self._row_status(row, states.get(row["task"] or "")) for row in record["rows"]]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        settled = counts.get("made", 0) + counts.get("failed", 0)
        if settled == len(rows):
            state = "done"
        elif counts.get("queued", 0) + settled == len(rows) and not settled:
            state = "queued"
        else:
            state = "running"
        return {
            "id": job_id,
            "status": state,
            "created": record["created"],
            "progress": {"done": settled, "total": len(rows)},
            "counts": counts,
            "rows": rows,
            "callback": {"state": record["callback_state"], "tries": record["callback_tries"]}
            if record["callback"]
            else None,
        }

    def _row_status(self, row: dict[str, Any], meta: dict[str, Any] | None) -> dict[str, Any]:
        out = {"where": row["where"], "contract_no": row["contract_no"]}
        if row["task"] is None:
            return {**out, "status": "failed", "errors": row["errors"]}
        out["task"] = row["task"]
        if meta is None or meta["status"] not in READY_STATES:
            if meta is None or meta["status"] != "STARTED":
                return {**out, "status": "queued"}
            said = meta["result"] if isinstance(meta["result"], dict) else {}
            where = {k: said[k] for k in ("started", "worker") if k in said}
            return {**out, "status": "running", **where}
        outcome = meta["result"] if isinstance(meta["result"], dict) else {}
        if meta["status"] == "SUCCESS" and outcome.get("status") == "made":
            folder = Path(str(outcome["folder"])).name
            return {**out, "status": "made", "ledger": outcome.get("ledger", ""), "folder": folder}
        error = {
            "place": row["where"],
            "path": "",
            "code": str(outcome.get("code", "generate.failed")),
            "message": str(outcome.get("message", repr(meta["result"])))[:2000],
        }
        return {**out, "status": "failed", "errors": [error]}

    @reaching
    def set_folder(self, job_id: str, contract_no: str) -> Path | None:
        """Return the folder of a set a job made, or None when it made no such set."""
        record = self.record(job_id)
        rows = [r for r in (record or {}).get("rows", []) if r["contract_no"] == contract_no]
        if len(rows) != 1 or rows[0]["task"] is None:
            return None
        said = self._row_status(
            rows[0], stored_states(self.app, [rows[0]["task"]]).get(rows[0]["task"])
        )
        if said["status"] != "made":
            return None
        folder = self.folder / job_id / said["folder"]
        return folder if folder.is_dir() else None

    @reaching
    def listed(self) -> list[dict[str, Any]]:
        """Return every job Redis holds, the newest first: id, created, status, progress."""
        found = []
        for key in self.redis.scan_iter(match=self._key("*"), count=1000):
            status = self.status(_text(key).rsplit(":", 1)[1])
            if status is not None:
                status.pop("rows")
                found.append(status)
        return sorted(found, key=lambda job: (job["created"], job["id"]), reverse=True)

    @reaching
    def requeue(self, job_id: str) -> list[str] | None:
        """Send again a job's rows that failed or were lost; return their contract numbers.

        A lost row is queued as far as its job knows, but neither waiting in Redis nor
        held by a worker (a broker that forgot it, a send cut short). A row running is
        left alone (a lost worker's job comes back by itself: :mod:`.keeper`). The
        rows go again under their ids, their delivery count reset: an operator asked.
        None when there is no such job.
        """
        status = self.status(job_id)
        if status is None:
            return None
        tasks = [row["task"] for row in status["rows"] if row.get("task")]
        present = known_jobs(self.redis, self.app, tasks)
        stored = self.redis.hgetall(self._args_key(job_id))
        args = {_text(k): json.loads(v) for k, v in stored.items()}
        trace = {"request_id": None, "job_id": job_id}
        again: list[str] = []
        for row in status["rows"]:
            task = row.get("task")
            if task is None or task not in args:
                continue  # never sent: a row that was not valid
            lost = row["status"] == "queued" and task not in present
            if row["status"] == "failed" or lost:
                self.app.backend.forget(task)
                self.redis.delete(f"contractgen:attempts:{task}", f"contractgen:lost:{task}")
                self._send(task, args[task], trace)
                again.append(row["contract_no"])
        if again:
            _log.info("job requeued: %d rows sent again", len(again))
        return again

    def deliver_callbacks(self, client: httpx.Client) -> list[str]:
        """Call the callbacks of the jobs that are done and due; return each try's outcome.

        An outcome is ``delivered``, ``retrying`` (tried again after its delay) or ``failed``
        (given up after the last delay).
        """
        outcomes: list[str] = []
        for raw_id in self.redis.zrangebyscore(_CALLBACKS, 0, time.time()):
            job_id = _text(raw_id)
            if not self.redis.set(f"contractgen:callback-lock:{job_id}", "1", nx=True, ex=60):
                continue  # another replica has it
            try:
                with logs.bound(job_id=job_id):
                    outcome = self._deliver(client, job_id)
                if outcome is not None:
                    outcomes.append(outcome)
            finally:
                self.redis.delete(f"contractgen:callback-lock:{job_id}")
        return outcomes

    def _deliver(self, client: httpx.Client, job_id: str) -> str | None:
        record, status = self.record(job_id), self.status(job_id)
        if record is None or status is None:
            self.redis.zrem(_CALLBACKS, job_id)
            return None
        if status["status"] != "done":
            self.redis.zadd(_CALLBACKS, {job_id: time.time() + 1.0})
            return None
        status["callback"] = None
        body = json.dumps(status, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Contractgen-Job": job_id}
        if self.callback_key is not None:
            headers["X-Contractgen-Signature"] = sign(self.callback_key, int(time.time()), body)
        try:
            # checked again now (a name may resolve elsewhere than at the job's creation),
            # and called at the address checked, never following a redirect
            url, host, extensions = pinned(resolve(record["callback"]))
            answer = client.post(
                url,
                content=body,
                headers={**headers, **host},
                extensions=extensions,
                follow_redirects=False,
            )
            said = f"HTTP {answer.status_code}"
            delivered = 200 <= answer.status_code < 300
        except CallbackRefused as exc:
            said, delivered = exc.code, False
        except httpx.HTTPError as exc:
            said, delivered = type(exc).__name__, False  # its text may hold the URL: not logged
        record["callback_tries"] += 1
        tries = record["callback_tries"]
        if delivered:
            outcome = record["callback_state"] = "delivered"
            self.redis.zrem(_CALLBACKS, job_id)
            _log.info("callback delivered (try %d, %s)", tries, said)
        elif tries > len(CALLBACK_DELAYS):
            outcome = record["callback_state"] = "failed"
            self.redis.zrem(_CALLBACKS, job_id)
            _log.warning("callback given up after %d tries (last: %s)", tries, said)
        else:
            outcome, delay = "retrying", CALLBACK_DELAYS[tries - 1]
            self.redis.zadd(_CALLBACKS, {job_id: time.time() + delay})
            _log.info("callback not delivered (try %d, %s): again in %g s", tries, said, delay)
        self.redis.set(self._key(job_id), json.dumps(record, ensure_ascii=False), ex=JOB_TTL)
        return outcome
