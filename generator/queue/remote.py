"""``contractgen batch --broker``: a round's contracts made by Celery workers, reported here.

The rows are read, validated and checked for resume here, exactly as the local
batch does (:func:`generator.batch.run_batch` with a :class:`Sender` as its
maker); each good row goes to the queue as one job naming the output folder by
its absolute path, which the workers must see at the same path (a shared
directory). Outcomes come back through the result backend and fill the same
report.

A Redis restart is noticed by its run id changing. A new run id alone is no loss:
with persistence (``--appendonly yes``) Redis comes back with its queue, the jobs
its workers hold and its results, and nothing is sent again. So after a restart
every job not settled yet is looked for (:func:`~generator.queue.app.known_jobs`:
queued, held by a worker, or with a state), and only one Redis knows nowhere, in
two looks at least :data:`LOST_AFTER` seconds apart (a job a worker takes is
briefly in none), is sent again under its id, its delivery counted as lost
(``contractgen:lost:<id>``, as the keeper's), so that it never counts toward the
poison limit. Without persistence that is every job still queued, and the one
running if its worker had not stored its outcome yet: a set made twice writes the
same folder and records the same version, and a delivery of a job whose outcome is
stored returns that outcome without making it again (see
:func:`generator.queue.worker.make_job`). The batch says on its progress stream
how many it sent again. A job with no outcome within ``job_timeout`` of being sent
is reported failed (``queue.lost``), never waited for forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from celery.states import READY_STATES

from ..batch import Line, Options, Progress, Summary, run_batch
from ..errors import Issue
from ..kinds import Contract
from ..ledger import default_actor
from .app import TASK_MAKE, celery_app, known_jobs, options_to, stored_states, trace_headers
from .keeper import count_lost
from .worker import check_broker

__all__ = ["JOB_TIMEOUT", "LOST_AFTER", "POLL_SECONDS", "Sender", "run_remote_batch"]

#: seconds a job may take from being sent to its outcome, queueing included
JOB_TIMEOUT = 3600.0
#: seconds between two looks at the outcomes (the result backend is polled)
POLL_SECONDS = 0.2
#: seconds a job must stay unknown to a restarted Redis before it counts as lost
LOST_AFTER = 1.0
#: the broker errors a sender rides out (until the job timeout) rather than fails on
_TRANSIENT = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)


class Sender:
    """A batch's maker that sends each contract to the queue and collects the outcomes."""

    def __init__(
        self,
        app: Celery,
        broker: str,
        out_dir: Path,
        options: Options,
        job_timeout: float = JOB_TIMEOUT,
        wait: Callable[[float], None] = time.sleep,
    ) -> None:
        self.app = app
        self.redis = redis.Redis.from_url(broker, socket_timeout=10, socket_connect_timeout=5)
        self.out_dir = out_dir.resolve()
        # the workers record who runs the batch, not their own OS user
        self.options = {**options_to(options), "actor": default_actor()}
        self.job_timeout = job_timeout
        self.wait = wait
        #: job id → (line, contract, when sent)
        self.pending: dict[str, tuple[Line, Contract, float]] = {}
        self.run_id: str | None = None
        #: how many times Redis restarted during the round, and how many jobs it lost
        self.restarts = 0
        self.resent = self.lost_now = 0
        #: after a restart: the jobs still to be looked for, and since when each was not found
        self.unsure: set[str] = set()
        self.missing: dict[str, float] = {}

    def _send(self, job_id: str | None, contract: Contract) -> str:
        data = contract.model_dump(mode="json")
        result = self.app.send_task(
            TASK_MAKE,
            args=[data, str(self.out_dir), self.options],
            task_id=job_id,
            headers=trace_headers(contract.envelope.contract_no),
        )
        return str(result.id)

    def _redis_run_id(self) -> str:
        info: dict[str, Any] = self.redis.info("server")
        return str(info["run_id"])

    def __call__(self, todo: list[tuple[Line, Contract]], progress: Progress) -> bool:
        """Send every contract, then collect every outcome; True when interrupted (Ctrl-C)."""
        try:
            self.run_id = self._redis_run_id()
            for line, contract in todo:
                self.pending[self._send(None, contract)] = (line, contract, time.monotonic())
            while self.pending:
                self._collect(progress)
                if self.pending:
                    self.wait(POLL_SECONDS)
        except KeyboardInterrupt:
            for job_id, (line, _, _) in self.pending.items():
                self.app.control.revoke(job_id)
                line.status = "interrupted"
            return True
        return False

    def _collect(self, progress: Progress) -> None:
        """Settle the jobs that have an outcome; resend those Redis lost; fail the overdue."""
        try:
            run_id = self._redis_run_id()
            if run_id != self.run_id:  # restarted: every unsettled job to be looked for
                self.run_id, self.restarts, self.lost_now = run_id, self.restarts + 1, 0
                self.unsure, self.missing = set(self.pending), {}
            for job_id, outcome in self._outcomes(list(self.pending)):
                self._settle(job_id, outcome, progress)
            if self.unsure:
                self._resend_lost(progress)
        except _TRANSIENT:
            pass  # Redis away: looked for again at the next turn; the deadlines below still run
        now = time.monotonic()
        for job_id, (line, _, sent) in list(self.pending.items()):
            if now - sent > self.job_timeout:
                del self.pending[job_id]
                message = (
                    f"任务 {job_id} 在 {self.job_timeout:.0f} 秒内没有结果"
                    "（消息代理或工作进程丢失了它）"
                )
                line.fail([Issue("", "queue.lost", message)])
                progress.step(line)

    def _outcomes(self, job_ids: list[str]) -> Iterator[tuple[str, Any]]:
        """Yield (id, outcome) of the jobs that are done."""
        for job_id, meta in stored_states(self.app, job_ids).items():
            if meta["status"] in READY_STATES:
                yield job_id, meta["result"]

    def _resend_lost(self, progress: Progress) -> None:
        """Send again, under their ids, the jobs a restarted Redis knows nowhere (see above)."""
        looked = [job_id for job_id in self.unsure if job_id in self.pending]
        known = known_jobs(self.redis, self.app, looked)
        now, again = time.monotonic(), []
        for job_id in looked:
            if job_id in known:
                self.unsure.discard(job_id)
                self.missing.pop(job_id, None)
            elif now - self.missing.setdefault(job_id, now) >= LOST_AFTER:
                again.append(job_id)
        for job_id in again:
            _, contract, _ = self.pending[job_id]
            count_lost(self.redis, job_id)  # a delivery the job is not to blame for
            self._send(job_id, contract)
            self.resent += 1
            self.lost_now += 1
            self.unsure.discard(job_id)
            self.missing.pop(job_id, None)
        self.unsure &= set(self.pending)
        if not self.unsure:
            self._say_restart(progress)

    def _say_restart(self, progress: Progress) -> None:
        """Say on the progress stream what the last restart of Redis cost the round."""
        if self.lost_now:
            said = f"{self.lost_now} 份任务随之丢失，已按原任务号重新提交"
        else:
            said = "队列完好，未重新提交任何任务"
        progress.stream.write(f"消息代理（Redis）已重启：{said}\n")
        progress.stream.flush()

    def _settle(self, job_id: str, outcome: Any, progress: Progress) -> None:
        line, _, _ = self.pending.pop(job_id)
        if isinstance(outcome, dict) and outcome.get("status") == "made":
            line.status, line.folder, line.ledger = "made", outcome["folder"], outcome["ledger"]
        elif isinstance(outcome, dict) and outcome.get("status") == "failed":
            line.fail([Issue("", str(outcome["code"]), str(outcome["message"]))])
        else:  # the task raised (it should not): its error is the row's
            line.fail([Issue("", "generate.failed", f"任务失败：{outcome!r}"[:2000])])
        progress.step(line)


def run_remote_batch(
    source: Path,
    out_dir: Path,
    options: Options,
    broker: str,
    stream: Any = None,
    job_timeout: float = JOB_TIMEOUT,
) -> Summary:
    """Run a batch whose contracts Celery workers make (see the module's description)."""
    app = celery_app(broker)
    check_broker(app, broker)
    sender = Sender(app, broker, out_dir, options, job_timeout)
    return run_batch(source, out_dir, options, stream, maker=sender)
