"""A job Redis lost (restarted without persistence): what the shared folder still says of it.

A job lives in Redis (:mod:`.jobs`). A Redis restarted without persistence comes
back empty: the job's record, its queued contracts and its results are gone,
while the sets its workers had written stay in the jobs folder, under
``<jobs folder>/<job id>/``. So that the service can say so, rather than "no such
job", each job's outline (its id, when it was made, its rows' contract numbers;
never its callback, whose URL may hold a secret) is also written, when the job is
made, to ``<jobs folder>/job-records/<job id>.json``, whole or not at all. A job
Redis does not know but whose outline is there was lost with Redis: :func:`lost_job`
says which of its sets were made (their folders whole: a manifest) and where.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["LOST_CODE", "RECORDS", "lost_job", "lost_message", "write_outline"]

#: the stable code of a job lost with Redis
LOST_CODE = "job.lost_with_queue"

#: the folder, in the jobs folder, of every job's outline
RECORDS = "job-records"
_log = logging.getLogger("contractgen.jobs")


def _outline_path(folder: Path, job_id: str) -> Path:
    return folder / RECORDS / f"{job_id}.json"


def write_outline(folder: Path, record: dict[str, Any]) -> None:
    """Write a job's outline beside its sets, whole or not at all (unless it is there).

    A folder that cannot be written is logged, not fatal: the job is in Redis; only a
    Redis lost without persistence would then say "no such job" of it.
    """
    outline = {
        "id": record["id"],
        "created": record["created"],
        "rows": [row["contract_no"] for row in record["rows"] if row["task"] is not None],
    }
    path = _outline_path(folder, str(record["id"]))
    if path.is_file():
        return  # the same job sent again (its Idempotency-Key): the same outline
    staging = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging.write_text(json.dumps(outline, ensure_ascii=False), encoding="utf-8")
        os.replace(staging, path)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        _log.warning("job outline not written (%s): %r", path.parent, exc)


def lost_job(folder: Path, job_id: str) -> dict[str, Any] | None:
    """Return what the shared folder holds of a job Redis no longer knows, or None.

    ``{"id", "created", "folder", "made": [contract numbers], "total"}``: ``made`` are
    the sets whose folders are whole (a manifest is written last), in the job's order.
    None when the job left no outline (never made here, or not a job id).
    """
    if not job_id.isalnum() or len(job_id) != 32:
        return None
    try:
        outline = json.loads(_outline_path(folder, job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sets = folder / job_id
    rows = [str(number) for number in outline.get("rows", [])]
    made = [number for number in rows if (sets / number / "manifest.json").is_file()]
    return {
        "id": job_id,
        "created": outline.get("created"),
        "folder": str(sets),
        "made": made,
        "total": len(rows),
    }


def lost_message(lost: dict[str, Any]) -> str:
    """Return what a clerk reads of a job lost with Redis: which sets are left, where."""
    made, total = list(lost["made"]), int(lost["total"])
    kept = (
        f"已生成的 {len(made)} 份合同仍在共享目录 {lost['folder']} 中（{'、'.join(made)}）"
        if made
        else "尚未生成任何合同"
    )
    return (
        f"任务 {lost['id']} 已随消息代理（Redis）丢失：Redis 重启时未开启持久化，"
        f"任务记录与排队中的合同都已不在。{kept}；其余 {total - len(made)} 份请重新提交"
    )
