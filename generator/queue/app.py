"""The Celery application: how jobs travel through Redis, and the task that makes one set.

Every message is acknowledged only once its task has finished (``acks_late``), and
given back when the worker process running it dies (``reject_on_worker_lost``): a
job killed with its worker is redelivered to another. A worker takes one job at a
time (prefetch 1); Redis gives an unacknowledged job to another worker after the
visibility timeout, which must exceed the longest job. A job that kills its worker
every time (a poison job) is not redelivered forever: each delivery is counted in
Redis under the job's id, and beyond :data:`ATTEMPTS_MAX` the task reports it
failed without running it.

The set is written by the worker straight into the folder the job names, a folder
every worker and the sender share (NFS, a cluster file system, or one machine's
disk), atomically as the local batch writes it, and recorded in the worker's
ledger in the same step; what travels back through the result backend is the
row's outcome (status, folder, what the ledger did), never the files.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from ..batch import Options

__all__ = [
    "ATTEMPTS_MAX",
    "ATTEMPTS_TTL",
    "LEDGER_BACKOFF",
    "LEDGER_PATIENCE",
    "OUTCOMES",
    "QUEUE",
    "QUEUE_BACKOFF",
    "QUEUE_PATIENCE",
    "SOCKET_SECONDS",
    "TASK_MAKE",
    "TRACE_HEADER",
    "UNACKED",
    "VISIBILITY_TIMEOUT",
    "celery_app",
    "known_jobs",
    "options_from",
    "options_to",
    "out_path",
    "queue_keys",
    "stored_states",
    "trace_headers",
]

#: the name of the task that makes one contract's set
TASK_MAKE = "contractgen.make"
#: the queue contractgen's jobs go through
QUEUE = "contractgen"
#: deliveries of one job before it is reported as one that kills its worker
ATTEMPTS_MAX = 3
#: how long a job's delivery count is kept (seconds)
ATTEMPTS_TTL = 7 * 24 * 3600
#: seconds before Redis gives an unacknowledged job to another worker (above any job's time)
VISIBILITY_TIMEOUT = 3600
#: seconds a worker keeps trying to record a set while the ledger cannot be reached
LEDGER_PATIENCE = 60.0
#: the first and the longest wait between two tries of an unreachable ledger (doubling)
LEDGER_BACKOFF = (0.5, 8.0)
#: seconds a worker keeps trying to read or write a job's state while Redis cannot be reached
#: (restarted, failing over): its delivery count, its start, its outcome
QUEUE_PATIENCE = 30.0
#: the first and the longest wait between two tries of an unreachable Redis (doubling)
QUEUE_BACKOFF = (0.25, 2.0)
#: the Redis hash the workers count their jobs' outcomes in (``made`` or the failure's code)
OUTCOMES = "contractgen:worker-outcomes"
#: the message header that names what a job is about in the workers' log lines
TRACE_HEADER = "contractgen_trace"
#: kombu's Redis transport: the hash of the jobs workers have taken and not acknowledged
UNACKED = "unacked"
#: kombu's Redis transport: a queue's priority lists are ``<queue>\x06\x16<step>`` (0: the name)
_PRIORITY_STEPS = (0, 3, 6, 9)


#: how a sender (the service, a batch) that must answer soon tries Redis: once more, at once
_IMPATIENT = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
#: seconds a sender waits for Redis to connect or answer before it counts as unreachable
SOCKET_SECONDS = 2.0
#: how a worker stores a job's start and outcome while Redis is away: for about QUEUE_PATIENCE
#: (Celery's writes, and its reads before a write, each with its own back-off)
_PATIENT = {"max_retries": 31, "interval_start": 0, "interval_step": 0.5, "interval_max": 1.0}


def celery_app(
    broker: str, visibility_timeout: float = VISIBILITY_TIMEOUT, *, impatient: bool = False
) -> Celery:
    """Return a Celery application on ``broker`` (Redis), its results kept there too.

    ``impatient`` (the service's, which must answer within seconds): Redis away fails a
    send or a read within about :data:`SOCKET_SECONDS` instead of Celery's retries of
    some twenty seconds. Otherwise (a worker's, a batch's) a job's start and outcome
    are stored, Redis away, with back-off for about :data:`QUEUE_PATIENCE` seconds.
    """
    app = Celery("contractgen", broker=broker, backend=broker, set_as_current=False)
    transport: dict[str, Any] = {"visibility_timeout": visibility_timeout}
    results = {**transport, "retry_policy": _PATIENT}
    if not impatient:  # a worker: a job's start and outcome are stored while Redis comes back
        app.conf.update(
            result_backend_always_retry=True,
            result_backend_max_retries=_PATIENT["max_retries"],
            result_backend_base_sleep_between_retries_ms=200,
            result_backend_max_sleep_between_retries_ms=2000,
        )
    else:
        transport["retry_policy"] = results["retry_policy"] = _IMPATIENT
        app.conf.update(
            broker_connection_timeout=SOCKET_SECONDS,
            task_publish_retry_policy=_IMPATIENT,
            redis_socket_timeout=SOCKET_SECONDS,
            redis_socket_connect_timeout=SOCKET_SECONDS,
        )
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        # a job says it started itself, with since when and where (see worker.make_job)
        task_track_started=False,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_default_queue=QUEUE,
        broker_transport_options=transport,
        result_backend_transport_options=results,
        result_expires=dt.timedelta(days=7),
        broker_connection_retry_on_startup=False,
        broker_connection_max_retries=3,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        enable_utc=True,
    )
    return app


def trace_headers(
    contract_no: str, request_id: str | None = None, job_id: str | None = None
) -> dict[str, Any]:
    """Return the headers a job is sent with so that the worker's lines say what it is about."""
    trace = {"contract_no": contract_no, "request_id": request_id, "job_id": job_id}
    return {TRACE_HEADER: {name: value for name, value in trace.items() if value}}


def queue_keys(queue: str = QUEUE) -> list[str]:
    """Return the Redis lists a queue's waiting jobs are in (one per priority step)."""
    return [queue if step == 0 else f"{queue}\x06\x16{step}" for step in _PRIORITY_STEPS]


def stored_states(app: Celery, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return what the result backend holds of each job that has anything there.

    ``{"status": "STARTED" | "SUCCESS" | "FAILURE" | …, "result": …}`` by job id, read
    a thousand jobs a round trip (MGET); a job still queued (or lost) is absent.
    """
    backend = app.backend
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(job_ids), 1000):
        chunk = job_ids[start : start + 1000]
        values = backend.mget([backend.get_key_for_task(job_id) for job_id in chunk])
        for job_id, value in zip(chunk, values, strict=True):
            if value is not None:
                found[job_id] = dict(backend.decode_result(value))
    return found


def _task_of(raw: bytes, held: bool = False) -> str | None:
    """Return the task id of a queued message (Celery's protocol 2), or of a held one.

    A held one (kombu's :data:`UNACKED` hash) is ``[message, exchange, routing key]``.
    """
    try:
        said = json.loads(raw)
        message = said[0] if held else said
        task = message.get("headers", {}).get("id")
    except (ValueError, LookupError, TypeError, AttributeError):
        return None
    return str(task) if task else None


def known_jobs(client: redis.Redis, app: Celery, job_ids: list[str]) -> set[str]:
    """Return which of ``job_ids`` Redis knows of: queued, taken by a worker, or with a state.

    A job is known when it waits in the queue (any priority list), is held by a worker
    (kombu's :data:`UNACKED` hash: taken, not yet acknowledged) or has anything in the
    result backend (started, made, failed). All of it is read in one MULTI/EXEC, so a
    job that moves on meanwhile (queue → worker → result) is seen in one place or the
    next, never in none. A job none of them holds is lost: a Redis restarted without
    persistence forgot it (or the job was taken in the instant before kombu records it).
    """
    backend = app.backend
    with client.pipeline(transaction=True) as pipe:
        for key in queue_keys():
            pipe.lrange(key, 0, -1)
        pipe.hvals(UNACKED)
        for start in range(0, len(job_ids), 1000):
            chunk = job_ids[start : start + 1000]
            pipe.mget([backend.get_key_for_task(job_id) for job_id in chunk])
        answers = pipe.execute()
    steps = len(queue_keys())
    found = {_task_of(raw) for listed in answers[:steps] for raw in listed}
    found |= {_task_of(raw, held=True) for raw in answers[steps]}
    stored = [value for chunk in answers[steps + 1 :] for value in chunk]
    found |= {job_id for job_id, value in zip(job_ids, stored, strict=True) if value}
    return {job_id for job_id in job_ids if job_id in found}


def options_to(options: Options) -> dict[str, Any]:
    """Return a batch's options as JSON for a job (templates and ledger are the worker's)."""
    data = asdict(options)
    data["formats"] = list(options.formats)
    data["published_on"] = options.published_on.isoformat() if options.published_on else None
    data["templates"] = None
    data["ledger"] = None
    return data


def options_from(data: dict[str, Any]) -> Options:
    """Return the options a job was sent with."""
    day = data.get("published_on")
    return Options(
        formats=tuple(data.get("formats", ("docx", "pdf"))),
        pdfa=bool(data.get("pdfa", False)),
        force=bool(data.get("force", False)),
        publish=bool(data.get("publish", False)),
        published_on=dt.date.fromisoformat(day) if day else None,
        # a job sent before 0.3.0 knew no drafts: it issued
        issue=bool(data.get("issue", True)),
    )


def out_path(text: str) -> Path:
    """Return the folder a job writes to, which must be absolute (shared by every worker)."""
    path = Path(text)
    if not path.is_absolute():
        raise ValueError(f"a job's folder must be absolute: {text!r}")
    return path
