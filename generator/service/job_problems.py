"""The refusals of the job endpoints (``/v1/jobs``): problems of their own."""

from __future__ import annotations

from typing import Any

from .problems import Problem

__all__ = [
    "bad_callback",
    "bad_job_request",
    "idempotency_conflict",
    "job_lost",
    "job_not_found",
    "jobs_disabled",
]


def jobs_disabled() -> Problem:
    """Return the 404 of a job endpoint of a service that runs without a broker."""
    return Problem(
        404,
        "jobs-disabled",
        "Jobs not enabled",
        "本服务未启用异步任务（serve --broker）",
        code="jobs.disabled",
    )


def job_not_found(job_id: str) -> Problem:
    """Return the 404 of a job, or a job's set, that does not exist (or has expired)."""
    return Problem(
        404, "job-not-found", "Not found", f"没有任务 {job_id}（或已过期）", code="jobs.not_found"
    )


def idempotency_conflict(job_id: str) -> Problem:
    """Return the 422 of an ``Idempotency-Key`` used before with another body."""
    return Problem(
        422,
        "idempotency-conflict",
        "Idempotency-Key reused",
        f"该 Idempotency-Key 已用于另一请求体或另一回调地址（任务 {job_id}）；换一个键重新提交",
        code="jobs.idempotency_conflict",
    )


def bad_callback(message: str, code: str) -> Problem:
    """Return the 422 of a job's callback URL that may not be called (scheme, address, key)."""
    return Problem(422, "bad-callback", "Callback refused", message, code=code)


def bad_job_request(message: str, code: str) -> Problem:
    """Return the 400 of a job request that cannot be taken (callback, key, body type)."""
    return Problem(400, "bad-job-request", "Bad request", message, code=code)


def job_lost(lost: dict[str, Any]) -> Problem:
    """Return the 410 of a job Redis lost (restarted without persistence): what is left, where.

    ``made`` (the contract numbers whose sets were written) and ``folder`` (where they
    are, in the jobs folder the workers and the service share) are members of the problem.
    """
    from ..queue.lost import LOST_CODE, lost_message  # jobs are on: the queue is installed

    return Problem(
        410,
        "job-lost-with-queue",
        "Job lost with the queue",
        lost_message(lost),
        code=LOST_CODE,
        folder=lost["folder"],
        made=list(lost["made"]),
        total=int(lost["total"]),
    )
