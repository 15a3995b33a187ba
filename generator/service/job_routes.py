"""The asynchronous jobs of the service (``serve --broker``): made by the Celery workers.

::

    POST /v1/jobs                          one contract (JSON), or a round (JSON lines,
                                           CSV or a workbook) → 202, Location
    GET  /v1/jobs/{id}                     its status, progress and every row's outcome
    GET  /v1/jobs/{id}/sets/{number}.zip   a set it made

A job Redis lost (restarted without persistence) is ``410`` with the code
``job.lost_with_queue``, naming the sets already made and where they are
(:mod:`generator.queue.lost`); one never made is ``404``.

A round's rows are validated here, as ``contractgen batch`` validates them; the
good ones are sent, the others are in the job as failed rows. One contract that
is not valid is refused at once (422), as ``POST /v1/contracts`` refuses it. The
job's record lives in Redis (:class:`generator.queue.JobStore`), so any replica
answers for any job. As in :mod:`generator.service.routes`, the handlers are
introduced by comments: FastAPI would publish a docstring as the description.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from .. import logs
from ..batch import Line, Options, validate_rows
from ..errors import InputError
from ..inputs import read_batch
from ..kinds import Contract, parse
from ..pipeline import folder_zip
from . import job_problems, problems
from .admission import runtime_of
from .answers import disposition
from .bodies import decode, raw_body
from .issuing import ISSUE_DESCRIPTION, issue_chosen
from .job_docs import JOB_BODY, JOB_CREATED_RESPONSES, JOB_SET_RESPONSES, JOB_STATUS_RESPONSES

if TYPE_CHECKING:  # the job queue is an extra (contractgen[queue]), used with --broker only
    from ..queue import JobStore

__all__ = ["ROUND_TYPES", "add_job_routes", "create_job", "job_set", "job_status"]

#: a round's media types, and the file suffix its reader knows it by
ROUND_TYPES = {
    "application/jsonl": ".jsonl",
    "application/x-ndjson": ".jsonl",
    "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
#: the longest Idempotency-Key taken
KEY_MAX = 200
_log = logging.getLogger("contractgen.jobs")


def _jobs(request: Request) -> JobStore:
    jobs = runtime_of(request).jobs
    if jobs is None:
        raise job_problems.jobs_disabled()
    return jobs


def _callback(url: str | None, jobs: JobStore) -> str | None:
    """Return a job's callback URL once checked (scheme, host, every address it resolves to).

    Refused with 422 before the job is made and before any connection: an internal
    address never hears from the service, so no job's state can tell which answer.
    """
    if url is None:
        return None
    from ..queue.callbacks import KEY_VARIABLE, CallbackRefused, resolve

    if jobs.callback_key is None:
        message = f"本服务没有回调签名密钥（{KEY_VARIABLE} 或 --callback-key-file），不能回调"
        raise job_problems.bad_callback(message, "jobs.callback_key")
    try:
        resolve(url)
    except CallbackRefused as exc:
        raise job_problems.bad_callback(str(exc), exc.code) from None
    return url


def _one(body: bytes) -> tuple[list[Line], list[tuple[Line, Contract]]]:
    """Return the one contract of a JSON body as a job's row; 422 when it is not valid."""
    contract = parse(decode(body))  # 422 with every issue when it is not valid
    line = Line("请求体", contract.envelope.contract_no)
    return [line], [(line, contract)]


def _round(
    body: bytes, suffix: str, scratch: Path
) -> tuple[list[Line], list[tuple[Line, Contract]]]:
    """Return a round's rows validated as the batch validates them (blocking: in a thread)."""
    path = scratch / f"job-{secrets.token_hex(8)}{suffix}"
    try:
        path.write_bytes(body)
        try:
            records = read_batch(path)
        except InputError as exc:
            message = str(exc).replace(str(path), "请求体")
            raise job_problems.bad_job_request(message, "input.file") from None
        return validate_rows(records, Options())
    finally:
        path.unlink(missing_ok=True)


def _created(
    request: Request, job_id: str, new: bool, lines: list[Line], sent: int, one: bool
) -> None:
    """Log and count a job created (or found again by its Idempotency-Key)."""
    logs.add(job_id=job_id, contract_no=lines[0].contract_no if one and lines else None)
    if not new:
        _log.info("job found again by its Idempotency-Key")
        return
    request.app.state.metrics.jobs.labels("contract" if one else "round").inc()
    _log.info("job created: %d rows, %d sent to the workers", len(lines), sent)


# ``POST /v1/jobs``: one contract, or a round, made by the workers; 202 and where to look.
async def create_job(
    request: Request,
    callback: Annotated[
        str | None, Query(description="URL called (POST, signed) once the job is done")
    ] = None,
    idempotency_key: Annotated[
        str | None, Header(description="a repeated POST with the same key gets the same job")
    ] = None,
    issue: Annotated[bool | None, Query(description=ISSUE_DESCRIPTION)] = None,
) -> JSONResponse:
    jobs = _jobs(request)
    runtime = runtime_of(request)
    issuing = issue_chosen(issue)
    url = await anyio.to_thread.run_sync(_callback, callback, jobs)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and media not in ROUND_TYPES:
        encoding = request.headers.get("content-encoding", "identity")
        accepted = ("application/json", *ROUND_TYPES)
        raise problems.unsupported_file_type(media, encoding, accepted)
    body = await raw_body(request, runtime.settings, runtime.deadline())
    if idempotency_key is not None and not 0 < len(idempotency_key) <= KEY_MAX:
        message = f"Idempotency-Key 应为 1 到 {KEY_MAX} 个字符"
        raise job_problems.bad_job_request(message, "jobs.idempotency_key")
    if media == "application/json":
        lines, valid = await anyio.to_thread.run_sync(_one, body)
    else:
        assert runtime.scratch is not None  # the lifespan's folder
        suffix = ROUND_TYPES[media]
        lines, valid = await anyio.to_thread.run_sync(_round, body, suffix, runtime.scratch)
    key = None
    if idempotency_key is not None:
        key = hashlib.sha256(f"{runtime.actor}\n{idempotency_key}".encode()).hexdigest()

    def send() -> tuple[str, bool, dict[str, Any] | None]:
        job_id, new = jobs.create(
            lines,
            valid,
            Options(issue=issuing),
            callback=url,
            idempotency=key,
            # the callback and the choice to issue are part of what the key stands for
            body_digest=hashlib.sha256(
                f"issue={int(issuing)}\n{url or ''}\n".encode() + body
            ).hexdigest(),
            request_id=logs.current().get("request_id"),
            actor=runtime.actor,
        )
        return job_id, new, jobs.status(job_id)

    from ..queue import IdempotencyConflict  # jobs are on: the queue is installed

    try:
        job_id, new, status = await anyio.to_thread.run_sync(send)
    except IdempotencyConflict as exc:
        raise job_problems.idempotency_conflict(str(exc)) from None
    _created(request, job_id, new, lines, len(valid), media == "application/json")
    headers = {"Location": f"/v1/jobs/{job_id}"}
    return JSONResponse(status, status_code=202 if new else 200, headers=headers)


# ``GET /v1/jobs/{job_id}``: the job's status, progress and every row's outcome.
async def job_status(request: Request, job_id: str) -> JSONResponse:
    jobs = _jobs(request)
    status = await anyio.to_thread.run_sync(jobs.status, job_id)
    if status is None:
        lost = await anyio.to_thread.run_sync(jobs.lost, job_id)
        raise job_problems.job_lost(lost) if lost else job_problems.job_not_found(job_id)
    return JSONResponse(status)


# ``GET /v1/jobs/{job_id}/sets/{contract_no}.zip``: a set the job made, as a zip.
async def job_set(request: Request, job_id: str, contract_no: str) -> Response:
    jobs = _jobs(request)

    def read() -> bytes | None:
        folder = jobs.set_folder(job_id, contract_no)
        if folder is None:
            return None
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        return folder_zip(contract_no, files)

    body = await anyio.to_thread.run_sync(read)
    if body is None:
        lost = await anyio.to_thread.run_sync(jobs.lost, job_id)
        if lost and await anyio.to_thread.run_sync(jobs.record, job_id) is None:
            raise job_problems.job_lost(lost)
        raise job_problems.job_not_found(f"{job_id}/{contract_no}")
    headers = {"Content-Disposition": disposition("attachment", f"{contract_no}.zip")}
    return Response(body, media_type="application/zip", headers=headers)


def add_job_routes(app: FastAPI) -> None:
    """Add the routes of the asynchronous jobs."""
    app.add_api_route(
        "/v1/jobs",
        create_job,
        methods=["POST"],
        summary="Send one contract or a round to the workers",
        status_code=202,
        openapi_extra=JOB_BODY,
        responses=JOB_CREATED_RESPONSES,
    )
    app.add_api_route(
        "/v1/jobs/{job_id}",
        job_status,
        methods=["GET"],
        summary="A job's status and rows",
        responses=JOB_STATUS_RESPONSES,
    )
    app.add_api_route(
        "/v1/jobs/{job_id}/sets/{contract_no}.zip",
        job_set,
        methods=["GET"],
        summary="A set a job made",
        response_class=Response,
        responses=JOB_SET_RESPONSES,
    )
