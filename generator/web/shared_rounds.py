"""A round of a service with a broker: kept in Redis for every replica, made by the workers.

The Redis side is :class:`generator.queue.rounds.SharedRounds` (the runtime's
``rounds``; the queue is an extra, so it is used here without being imported). This
module checks an upload as :func:`~.rounds.open_round` checks it and stores it there,
and turns a stored round and its job's status into the :class:`~.rounds.Round` the
pages show: its rows as the workers left them, in the jobs folder every replica
shares (``<jobs folder>/<job id>/``). Once the job is done, the first replica to look
writes the batch's report beside the sets; the round's zip goes to
``<jobs folder>/rounds/<round id>/``. Every function here blocks: run it in a thread.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from ..batch import Line, Options, Summary, report_summary, write_report
from ..batch.report import failure_text
from .rounds import Round, open_round

__all__ = ["open_shared", "shared_round", "shared_rounds"]

#: what a job's row status is as a round's report line
_STATUS = {"made": "made", "failed": "failed"}


def open_shared(
    store: Any,
    scratch: Path,
    upload: tuple[str, bytes],
    publish: bool,
    kind_id: str | None,
    actor: str,
) -> str:
    """Check an upload's rows and keep the round in Redis; return its id.

    The upload is checked in this replica's scratch folder, which keeps nothing of it.
    """
    filename, content = upload
    made = open_round(scratch, filename, content, publish, kind_id)
    try:
        store.save(made.id, made.source, made.options, made.lines, made.valid, actor)
    finally:
        shutil.rmtree(made.folder, ignore_errors=True)
    return made.id


def shared_round(store: Any, round_id: str) -> Round | None:
    """Return a round Redis keeps, as far as its job is; None when there is no such round."""
    record = store.get(round_id)
    return None if record is None else _view(store, record)


def shared_rounds(store: Any) -> list[Round]:
    """Return the newest rounds Redis keeps, the newest first."""
    found = (shared_round(store, round_id) for round_id in store.recent())
    return [made for made in found if made is not None]


def _view(store: Any, record: dict[str, Any]) -> Round:
    jobs_folder: Path = store.jobs.folder
    job = record.get("job")
    options = Options(
        publish=bool(record["publish"]), kind=record["kind"], issue=bool(record.get("issue"))
    )
    made = Round(
        record["id"],
        record["source"],
        jobs_folder / "rounds" / record["id"],
        options,
        [Line(**line) for line in record["lines"]],
        [],
        out_dir=jobs_folder / (job or "-"),
        planned=len(record["valid"]),
        uploaded_by=str(record.get("uploaded_by", "")),
        started_by=str(record.get("started_by", "")),
    )
    if job is None:
        return made  # checked, nothing made yet
    status = store.jobs.status(job)
    made.state = "running"
    if status is None:  # Redis restarted without persistence, or the job's week is over
        made.state = "done"
        made.report_failed = "消息队列中已没有这一批的任务记录；已生成的合同仍在共享文件夹中。"
        return made
    for line, row in zip(made.lines, status["rows"], strict=True):
        line.status = _STATUS.get(row["status"], "pending")
        line.folder, line.ledger = row.get("folder", ""), row.get("ledger", "")
        line.errors = list(row.get("errors", line.errors))
    made.done = sum(1 for r in status["rows"] if r.get("task") and r["status"] in _STATUS)
    if "seconds" in record:
        made.state, made.seconds = "done", float(record["seconds"])
        made.report_failed = str(record.get("report_failed", ""))
    elif status["status"] == "done" and store.claim_report(made.id):
        _report(store, record, made)
    return made


def _report(store: Any, record: dict[str, Any], made: Round) -> None:
    """Write a finished round's report beside its sets (this replica holds the lock)."""
    made.seconds = time.time() - float(record.get("started", record["uploaded"]))
    fields = report_summary(made.source, Summary(made.lines, made.seconds), made.options)
    try:
        made.out.mkdir(parents=True, exist_ok=True)
        write_report(made.out, made.lines, fields)
    except Exception as exc:  # said on the page, as the in-process round says it
        made.report_failed = failure_text(exc)
    store.finish(record, made.seconds, made.report_failed)
    made.state = "done"
