"""The OpenAPI description of the asynchronous jobs' routes: their body and answers."""

from __future__ import annotations

from typing import Any

from .openapi import problem_responses

__all__ = ["JOB_BODY", "JOB_CREATED_RESPONSES", "JOB_SET_RESPONSES", "JOB_STATUS_RESPONSES"]

#: the 404 of every job route of a service without a broker
_NO_JOBS = "The service runs without a broker (code jobs.disabled: serve --broker)"
_ROUND_MEDIA = (
    "application/jsonl",
    "application/x-ndjson",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
#: the 410 of a job Redis lost
_LOST = (
    "The job was lost with a Redis restarted without persistence (code job.lost_with_queue); "
    "made (contract numbers) and folder say which sets were made and where they are"
)
#: the request body of ``POST /v1/jobs``: one contract, or a round
JOB_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One contract as JSON (the Contract schema), or a round: JSON lines "
        "(one contract a line), CSV or a workbook in the batch layout (contractgen init "
        "--xlsx), at most the service's body limit.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Contract"}},
            **{media: {"schema": {"type": "string", "format": "binary"}} for media in _ROUND_MEDIA},
        },
    }
}
_JOB_JSON: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "description": "id, status (queued, running, done), created, progress {done, "
            "total}, counts by row status, rows [{where, contract_no, status (queued, "
            "running, made, failed), task, started and worker (running), ledger, folder, "
            "errors}], callback {state, tries}",
            "required": ["id", "status", "progress", "rows"],
        }
    }
}
JOB_CREATED_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Taken: its status at once; Location says where to follow it",
        "headers": {"Location": {"schema": {"type": "string"}}},
        "content": _JOB_JSON,
    },
    200: {
        "description": "The job an earlier request with the same Idempotency-Key made",
        "headers": {"Location": {"schema": {"type": "string"}}},
        "content": _JOB_JSON,
    },
    **problem_responses(
        400,
        404,
        408,
        413,
        415,
        422,
        503,
        s400="A callback that is not an http(s) URL or that cannot be signed, a bad "
        "Idempotency-Key, malformed JSON, or a round that cannot be read",
        s404=_NO_JOBS,
        s415="Body neither JSON nor a round (JSON lines, CSV, workbook)",
        s422="Invalid contract data, or an Idempotency-Key used with another body",
        s503="The broker is unavailable (code queue.unreachable); Retry-After says when to retry",
    ),
}
JOB_STATUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The job's status", "content": _JOB_JSON},
    **problem_responses(
        404,
        410,
        503,
        s404=_NO_JOBS + ", or no such job",
        s410=_LOST,
        s503="The broker is unavailable (code queue.unreachable); Retry-After says when to retry",
    ),
}
JOB_SET_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The set's folder as a zip",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    },
    **problem_responses(
        404,
        410,
        503,
        s404=_NO_JOBS + ", or no such set",
        s410=_LOST,
        s503="The broker is unavailable (code queue.unreachable); Retry-After says when to retry",
    ),
}
