"""``contractgen worker``: Celery worker processes, each with its own office, making sets.

Each process of the pool (prefork) gets, when it starts, one
:class:`~generator.pipeline.Generator` with one office, and the worker's ledger;
both are closed when it stops. The task is :func:`make_job`: it counts its
delivery, makes the set with :func:`generator.batch.make_set` (the same bytes as
the command line's, written and recorded in one step) and returns the row's
outcome. A process killed mid-job takes its office with it (the office keeper
sees its parent die); billiard starts another process, and the broker gives the
job to a worker again.

Logging is :mod:`generator.logs`'s: Celery's ``setup_logging`` signal is
answered here, so Celery leaves the root logger alone, and every line a job's
run writes (Celery's own ``succeeded`` line too) carries the request, job, task
and contract number its message's :data:`~generator.queue.app.TRACE_HEADER` names.
Each outcome is counted in Redis (:data:`~generator.queue.app.OUTCOMES`), which
the service's ``/metrics`` reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from contextvars import Token
from pathlib import Path
from typing import Any, TypeVar

import redis
from celery import Celery, Task, signals
from celery.app.trace import LOG_SUCCESS
from celery.states import READY_STATES
from kombu.exceptions import OperationalError

from .. import logs
from ..batch import store_set
from ..batch.report import failure_text
from ..errors import (
    ConversionError,
    InvalidContractError,
    LedgerError,
    OutputConflictError,
    QueueError,
    unrenderable,
)
from ..kinds import parse
from ..ledger import Ledger, default_actor, masked
from ..pipeline import Generator
from .app import (
    ATTEMPTS_MAX,
    ATTEMPTS_TTL,
    LEDGER_BACKOFF,
    LEDGER_PATIENCE,
    OUTCOMES,
    QUEUE,
    QUEUE_BACKOFF,
    QUEUE_PATIENCE,
    TASK_MAKE,
    TRACE_HEADER,
    celery_app,
    options_from,
    out_path,
    stored_states,
)
from .keeper import Keeper, lost_count
from .reach import in_words

__all__ = ["WorkerConfig", "check_broker", "make_job", "register", "run_worker"]

_log = logging.getLogger("contractgen.worker")
T = TypeVar("T")
#: what Redis (or Celery on it) raises while it restarts or cannot be reached
_REDIS_AWAY = (redis.ConnectionError, redis.TimeoutError, OperationalError)


class WorkerConfig:
    """What every process of a worker is started with."""

    def __init__(
        self,
        broker: str,
        templates: Path | None = None,
        ledger: str | None = None,
        timeout: float = 120.0,
        log_level: str = "info",
        log_format: str = "plain",
    ) -> None:
        self.broker = broker
        self.templates = templates
        self.ledger = ledger
        self.timeout = timeout
        self.log_level = log_level
        self.log_format = log_format


#: office failures in a row after which a worker stops taking jobs (it cannot make sets)
OFFICE_FAILURES_MAX = 3
#: the exit status of a worker that stopped because its office could not make sets
EXIT_BROKEN = 3
#: shared by the worker's processes (made before they are forked): failures in a row, and
#: whether the worker was stopped for them
_office_failures = multiprocessing.Value("i", 0)
_broken = multiprocessing.Value("i", 0, lock=False)
#: this process's configuration, generator, ledger and Redis connection (set when it starts)
_config: WorkerConfig | None = None
_generator: Generator | None = None
_ledger: Ledger | None = None
_redis: redis.Redis | None = None
#: the log fields of the job this process runs (bound before it, reset after it)
_job_fields: Token[dict[str, str] | None] | None = None


def _start_process(**_: Any) -> None:
    """Give a new pool process its own generator (one office) and ledger."""
    global _generator, _ledger, _redis
    assert _config is not None
    _generator = Generator(workers=1, timeout=_config.timeout, templates=_config.templates)
    _ledger = Ledger(_config.ledger) if _config.ledger else None
    _redis = redis.Redis.from_url(_config.broker)


def _stop_process(**_: Any) -> None:
    """Close the process's office and ledger."""
    if _generator is not None:
        _generator.close()
    if _ledger is not None:
        _ledger.close()


def _keep_our_logging(**_: Any) -> None:
    """Answer Celery's ``setup_logging``: the logging is :mod:`generator.logs`'s."""
    assert _config is not None
    logs.configure(_config.log_level, _config.log_format)


class _FailuresAsFailures(logging.Filter):
    """Celery's ``succeeded`` line about a job whose set was not made: a warning, ``failed``.

    The task never raises (its outcome, made or failed, is the row's), so Celery would
    say every job succeeded.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        said = record.args if isinstance(record.args, dict) else {}
        if record.msg == LOG_SUCCESS and "'status': 'failed'" in str(said.get("return_value")):
            record.msg = "Task %(name)s[%(id)s] failed in %(runtime)ss: %(return_value)s"
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _say_failures() -> None:
    trace = logging.getLogger("celery.app.trace")
    if not any(isinstance(f, _FailuresAsFailures) for f in trace.filters):
        trace.addFilter(_FailuresAsFailures())


def _bind_job(task: Task | None = None, task_id: str | None = None, **_: Any) -> None:
    """Before a job runs: its lines carry its request, job, task and contract number."""
    global _job_fields
    trace = getattr(task.request, TRACE_HEADER, None) if task is not None else None
    said = trace if isinstance(trace, dict) else {}
    _job_fields = logs.bind(
        request_id=said.get("request_id"),
        job_id=said.get("job_id") or task_id,
        task_id=task_id,
        contract_no=said.get("contract_no"),
    )


def _unbind_job(**_: Any) -> None:
    """After a job (and Celery's line about it): the lines are about no job."""
    global _job_fields
    if _job_fields is not None:
        logs.reset(_job_fields)
        _job_fields = None


def _count(outcome: dict[str, Any]) -> dict[str, Any]:
    """Count a job's outcome in Redis (``made``, or its failure's code); return the outcome."""
    assert _redis is not None
    code = "made" if outcome["status"] == "made" else str(outcome["code"])
    try:
        _redis.hincrby(OUTCOMES, code, 1)
    except redis.RedisError as exc:  # a count lost is no reason to lose the job's outcome
        _log.warning("outcome not counted: %r", exc)
    return outcome


def _attempt(job_id: str) -> int:
    """Count this run of a job; return how many runs it has had (this one included).

    Each run adds its own token to the set ``contractgen:attempts:<id>``: a command
    sent again because Redis went away before answering (redis-py's retries, ours)
    counts the run once, never twice.
    """
    client, key, token = _redis, f"contractgen:attempts:{job_id}", uuid.uuid4().hex
    assert client is not None

    def count() -> int:
        with client.pipeline(transaction=True) as pipe:
            pipe.sadd(key, token)
            pipe.expire(key, ATTEMPTS_TTL)
            pipe.scard(key)
            return int(pipe.execute()[-1])

    return _riding_out("delivery count", count)


def _riding_out(what: str, step: Callable[[], T]) -> T:
    """Return what ``step`` returns, tried again while Redis cannot be reached.

    The waits double from :data:`QUEUE_BACKOFF`'s first to its longest, for up to
    :data:`QUEUE_PATIENCE` seconds (a Redis restarted, failing over); then the last
    error is raised.
    """
    give_up = time.monotonic() + QUEUE_PATIENCE
    delay, longest = QUEUE_BACKOFF
    tries = 0
    while True:
        try:
            return step()
        except _REDIS_AWAY as exc:
            tries += 1
            if time.monotonic() + delay > give_up:
                raise
            _log.warning(
                "Redis unreachable (%s, try %d): trying again in %.2f s", what, tries, delay
            )
            _log.debug("Redis unreachable: %r", exc)
            time.sleep(delay)  # the back-off: Redis gives no event to wait on
            delay = min(delay * 2, longest)


def _stored_outcome(task: Task) -> dict[str, Any] | None:
    """Return the outcome a job already has in the result backend (made or failed), if any.

    A job delivered again once it is done (its acknowledgement lost with a restarted
    Redis, kombu giving it back as its channel closed, a reaper that did not see the
    end) is done: it is not made again, and its outcome is not overwritten.
    """
    meta = stored_states(task.app, [task.request.id]).get(task.request.id)
    if meta is None or meta["status"] not in READY_STATES:
        return None
    outcome = meta["result"]
    if not isinstance(outcome, dict) or outcome.get("status") not in {"made", "failed"}:
        return None  # a task that raised (it should not): run it again
    return dict(outcome)


def make_job(
    task: Task, data: dict[str, Any], out_dir: str, options: dict[str, Any]
) -> dict[str, Any]:
    """Make one contract's set into ``out_dir``; return the row's outcome (never raise).

    ``{"status": "made", "folder", "ledger", "attempt", "worker"}``, or
    ``{"status": "failed", "code", "message", "attempt", "worker"}``. A job whose
    outcome is stored already returns it, made again by nobody. Its reads and writes
    of Redis ride out a Redis away for :data:`QUEUE_PATIENCE` seconds.
    """
    started = time.monotonic()
    done = _riding_out("outcome read", lambda: _stored_outcome(task))
    if done is not None:
        _log.info("already done (delivered again): its outcome kept, nothing made again")
        return done
    # a running row says since when, and where (GET /v1/jobs/{id}, contractgen jobs show)
    begun = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    _riding_out("start", lambda: task.update_state(state="STARTED", meta=begun))
    assert _redis is not None
    client = _redis
    attempt = _attempt(task.request.id)
    # deliveries after a whole worker (or a restarted Redis) lost the job are not its doing
    attempt = max(
        1, attempt - _riding_out("lost count", lambda: lost_count(client, task.request.id))
    )
    outcome = _count(_make(data, out_dir, options, attempt))
    seconds = time.monotonic() - started
    if outcome["status"] == "made":
        _log.info("set made in %.1f s (attempt %d)", seconds, attempt)
    else:
        _log.info("set not made: %s (attempt %d)", outcome["code"], attempt)
    return outcome


def _make(
    data: dict[str, Any], out_dir: str, options: dict[str, Any], attempt: int
) -> dict[str, Any]:
    """Return the outcome of a job's ``attempt``-th run (see :func:`make_job`)."""
    where = f"{socket.gethostname()}:{os.getpid()}"
    said: dict[str, Any] = {"attempt": attempt, "worker": where}
    if attempt > ATTEMPTS_MAX:
        message = f"该合同已使工作进程意外退出 {attempt - 1} 次，不再重试"
        return {**said, "status": "failed", "code": "job.poison", "message": message}
    assert _generator is not None
    try:
        contract = parse(data)
        # who asked (the service's user, or the batch's CONTRACTGEN_USER), else this worker
        actor = str(options.get("actor") or default_actor())
        chosen, folder_of = options_from(options), out_path(out_dir)
        made = _generator.render(contract, formats=chosen.formats, pdfa=chosen.pdfa)
        generator, ledger = _generator, _ledger
        folder, note = _patiently(
            lambda: store_set(generator, ledger, made, folder_of, chosen, actor)
        )
    except InvalidContractError as exc:
        return {**said, "status": "failed", "code": "validate.failed", "message": str(exc)}
    except OutputConflictError as exc:
        return {**said, "status": "failed", "code": "output.exists", "message": failure_text(exc)}
    except Exception as exc:  # one job's failure is its row's alone
        _log.warning("job failed: %r", exc)
        if isinstance(exc, ConversionError):
            _office_failed()
        refusal = unrenderable(exc)
        code = refusal.code if refusal is not None else "generate.failed"
        if isinstance(exc, LedgerError):
            code = exc.code
        return {**said, "status": "failed", "code": code, "message": failure_text(exc)}
    _office_failures.value = 0
    return {**said, "status": "made", "folder": folder, "ledger": note}


def _office_failed() -> None:
    """Count an office failure; at :data:`OFFICE_FAILURES_MAX` in a row, stop the worker.

    The count is the whole worker's (shared by its processes); a set made resets it.
    The worker is told to stop (SIGTERM to its main process: the jobs running finish,
    those it holds go back to the queue for the others) and exits with status 3.
    """
    with _office_failures.get_lock():
        _office_failures.value += 1
        failures = _office_failures.value
    if failures >= OFFICE_FAILURES_MAX and not _broken.value:
        _broken.value = 1
        _log.error("the office failed %d jobs in a row: this worker stops taking jobs", failures)
        os.kill(os.getppid(), signal.SIGTERM)


def _patiently(store: Callable[[], tuple[str, str]]) -> tuple[str, str]:
    """Return what ``store`` returns, tried again while the ledger cannot be reached.

    The waits double from :data:`LEDGER_BACKOFF`'s first to its longest; once
    :data:`LEDGER_PATIENCE` seconds have gone by, the last error is raised, saying
    how long it was tried. A failed try leaves nothing (see :func:`store_set`).
    """
    give_up = time.monotonic() + LEDGER_PATIENCE
    delay, longest = LEDGER_BACKOFF
    tries = 0
    while True:
        try:
            return store()
        except LedgerError as exc:
            tries += 1
            if exc.code != "ledger.unreachable":
                raise
            if time.monotonic() + delay > give_up:
                message = f"{exc.detail}（{LEDGER_PATIENCE:g} 秒内重试 {tries} 次仍无法连接）"
                raise LedgerError(message, code=exc.code, url=exc.url) from exc
            _log.warning("ledger unreachable (try %d): trying again in %.1f s", tries, delay)
            time.sleep(delay)  # the back-off: the ledger gives no event to wait on
            delay = min(delay * 2, longest)


def register(app: Celery) -> Any:
    """Register the task on an application; return it."""
    return app.task(name=TASK_MAKE, bind=True)(make_job)


def check_broker(app: Celery, url: str) -> None:
    """Raise :class:`QueueError` (``queue.unreachable``) unless the broker answers now."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=5
            )
    except Exception as exc:
        raise QueueError(
            f"无法连接消息代理 {masked(url)}：{in_words(exc)}",
            code="queue.unreachable",
            url=masked(url),
        ) from exc


def run_worker(config: WorkerConfig, concurrency: int, name: str | None = None) -> int:
    """Run a Celery worker of ``concurrency`` processes until it is stopped; return its status.

    0 once stopped (SIGTERM, Ctrl-C), :data:`EXIT_BROKEN` when it stopped itself because
    its office failed :data:`OFFICE_FAILURES_MAX` jobs in a row.
    """
    global _config
    _config = config
    logs.configure(config.log_level, config.log_format)
    # answered: Celery configures no logging of its own (and redirects no output)
    signals.setup_logging.connect(_keep_our_logging, weak=False)
    if config.ledger is not None:
        # reached and migrated once, here, its signing key loaded: a ledger that cannot
        # be used (or written: no key) fails the start
        with Ledger(config.ledger) as ledger:
            ledger.signing_key()
    app = celery_app(config.broker)
    check_broker(app, config.broker)
    register(app)
    keeper = Keeper(app, config.broker)
    signals.worker_ready.connect(lambda **_: keeper.start(), weak=False)
    signals.worker_shutdown.connect(lambda **_: keeper.stop(), weak=False)
    signals.worker_process_init.connect(_start_process, weak=False)
    signals.worker_process_shutdown.connect(_stop_process, weak=False)
    signals.task_prerun.connect(_bind_job, weak=False)
    signals.task_postrun.connect(_unbind_job, weak=False)
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        f"--queues={QUEUE}",
        f"--loglevel={config.log_level.upper()}",
        "--without-gossip",
        "--without-mingle",
        f"--hostname={name or f'contractgen-{os.getpid()}@{socket.gethostname()}'}",
    ]
    _say_failures()
    try:
        app.worker_main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    if _broken.value:
        _log.error(
            "stopped: the office could not make sets (%d failures in a row)", OFFICE_FAILURES_MAX
        )
        return EXIT_BROKEN
    return code
