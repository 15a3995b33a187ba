"""Every error answer: RFC 9457 ``application/problem+json``, and the one map of errors to statuses.

A refusal is raised as a :class:`Problem` made by one of the functions here
(:func:`saturated`, :func:`body_too_large`, ...); the stages' errors are
translated by the handlers :func:`add_error_handlers` installs. Nowhere else
does an error become a status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..errors import (
    AmountError,
    ContractError,
    ConversionError,
    InputError,
    InvalidContractError,
    Issue,
    LedgerError,
    QueueError,
    SealPlacementError,
    TemplateError,
    unrenderable,
)

__all__ = [
    "MAX_ISSUES",
    "MAX_ISSUE_TEXT",
    "PROBLEM_BASE",
    "Problem",
    "add_error_handlers",
    "body_too_large",
    "issue_list",
    "ledger_disabled",
    "malformed_json",
    "not_issued",
    "published_too_early",
    "request_timeout",
    "saturated",
    "signed_refused",
    "signing_unavailable",
    "timed_out",
    "unauthorized",
    "unknown_kind",
    "unpublishable",
    "unreadable_zip",
    "unsupported_file_type",
    "unsupported_media_type",
]

log = logging.getLogger("contractgen.service")

#: base URI of the ``type`` of every problem this service reports
PROBLEM_BASE = "https://contractgen.invalid/problems/"
#: issues listed in an answer; the rest are counted in ``omitted_issues``
MAX_ISSUES = 100
#: characters of an issue's path or message kept in an answer (the rest becomes "…")
MAX_ISSUE_TEXT = 200


class Problem(Exception):
    """An error response in the making: status, title, detail and extension members."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self, path: str) -> JSONResponse:
        """Return the problem as an ``application/problem+json`` response."""
        body = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": path,
            **self.extra,
        }
        return JSONResponse(
            body,
            status_code=self.status,
            headers=self.headers,
            media_type="application/problem+json",
        )


def _cut(text: str, limit: int = MAX_ISSUE_TEXT) -> str:
    """Return ``text``, cut to ``limit`` characters with a "…" when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def issue_list(issues: list[Issue]) -> dict[str, Any]:
    """Return the first :data:`MAX_ISSUES` issues, their texts cut, and the count of the rest."""
    return {
        "issues": [
            {
                "path": _cut(i.path),
                "code": _cut(i.code),
                "message": _cut(i.message),
                **({"title": _cut(i.title)} if i.title else {}),
            }
            for i in issues[:MAX_ISSUES]
        ],
        "omitted_issues": max(0, len(issues) - MAX_ISSUES),
    }


# -- refusals: what the service itself turns away -----------------------------------------


def malformed_json(detail: str, **where: Any) -> Problem:
    """Return the 400 of a body that is not JSON; ``where``: line, column, position."""
    return Problem(400, "malformed-json", "Malformed JSON", detail, **where)


def unauthorized(token_given: bool) -> Problem:
    """Return the 401 of a ``/v1`` request without the bearer token, or with a wrong one."""
    challenge = 'Bearer realm="contractgen"'
    if token_given:
        challenge += ', error="invalid_token"'
    return Problem(
        401,
        "unauthorized",
        "Unauthorized",
        "the bearer token is not valid"
        if token_given
        else "this request needs Authorization: Bearer <token>",
        headers={"WWW-Authenticate": challenge},
    )


def unknown_kind(kind: str, known: Sequence[str]) -> Problem:
    """Return the 404 of a document the contract's set does not have."""
    return Problem(
        404,
        "not-found",
        "Not found",
        f"no document kind {kind!r}; the kinds are {', '.join(known)}",
    )


def request_timeout(seconds: float) -> Problem:
    """Return the 408 of a body that did not arrive within ``seconds``."""
    return Problem(
        408,
        "request-timeout",
        "Request timeout",
        f"the body did not arrive within {seconds:g} s",
        headers={"Connection": "close"},
    )


def body_too_large(limit: int) -> Problem:
    """Return the 413 of a body over ``limit`` bytes (the connection closes after it)."""
    return Problem(
        413,
        "body-too-large",
        "Request body too large",
        f"the body may have at most {limit} bytes",
        headers={"Connection": "close"},
        max_body=limit,
    )


def unsupported_media_type(content_type: str, encoding: str) -> Problem:
    """Return the 415 of a body that is not JSON, or is compressed with ``encoding``."""
    return Problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"the body must be JSON sent as Content-Type: application/json, not {content_type!r}"
        + ("" if encoding == "identity" else f" with Content-Encoding {encoding!r}"),
        headers={"Accept-Post": "application/json"},
    )


def unsupported_file_type(content_type: str, encoding: str, accepted: tuple[str, ...]) -> Problem:
    """Return the 415 of a file to verify sent as none of the ``accepted`` types, or compressed."""
    return Problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"the file must be sent as one of {', '.join(accepted)}, not {content_type!r}"
        + ("" if encoding == "identity" else f" with Content-Encoding {encoding!r}"),
        headers={"Accept-Post": ", ".join(accepted)},
    )


def unreadable_zip(detail: str) -> Problem:
    """Return the 422 of a zip to verify that cannot be read, or holds too much."""
    return Problem(422, "unreadable-zip", "Unreadable zip", detail)


def ledger_disabled() -> Problem:
    """Return the 404 of a ledger endpoint of a service that runs without a ledger."""
    return Problem(
        404, "ledger-disabled", "Ledger not enabled", "本服务未启用合同台账", code="ledger.disabled"
    )


def issue_choice() -> Problem:
    """Return the 400 of a request that makes sets without saying whether it issues them."""
    return Problem(
        400,
        "issue-choice-required",
        "Issue or draft?",
        "请用查询参数 issue=true（签发：登记到合同台账，可核验、计入待公告）或 issue=false"
        "（草稿：不登记）指明；自 0.3.0 起生成不再默认签发",
        code="issue.required",
    )


def issue_without_ledger() -> Problem:
    """Return the 409 of ``issue=true`` sent to a service that has no ledger to issue into."""
    return Problem(
        409,
        "no-ledger-to-issue",
        "No ledger to issue into",
        "本服务未配置合同台账（serve --ledger），不能签发；只生成草稿请用 issue=false",
        code="issue.no_ledger",
    )


def unpublishable(issues: list[Issue]) -> Problem:
    """Return the 422 of valid contract data that cannot be published (no 项目编号 …)."""
    return Problem(
        422,
        "contract-unpublishable",
        "Contract cannot be published",
        f"the contract cannot be published: {len(issues)} issue(s)",
        **issue_list(issues),
    )


def published_too_early(day: date, sign_date: date) -> Problem:
    """Return the 400 of a publication date before the contract's signing date."""
    message = f"合同公告日期 {day} 不能早于合同签订日期 {sign_date}"
    return Problem(
        400,
        "invalid-parameter",
        "Invalid parameter",
        message,
        issues=[{"path": "query.published_on", "code": "before_sign_date", "message": message}],
    )


def not_issued(contract_no: str) -> Problem:
    """Return the 409 of a publication of data the ledger never issued (issue it first)."""
    return Problem(
        409,
        "not-issued",
        "Conflict",
        f"台账中没有合同 {contract_no} 以这份数据生成的现行版本："
        "请先签发合同（POST /v1/contracts?issue=true）再发布",
        code="ledger.not_found",
    )


def signed_refused(code: str, detail: str) -> Problem:
    """Return the 422 of a signed copy the ledger does not take (not issued here, changed …)."""
    return Problem(422, "signed-refused", "签署件不予登记", detail, code=code)


def signing_unavailable(detail: str, code: str = "signing.unavailable") -> Problem:
    """Return the 503 of a signed copy sent to a service that cannot check one."""
    return Problem(503, "signing-unavailable", "无法核验签署件", detail, code=code)


def saturated(slots: int, queue: int, retry_after: int) -> Problem:
    """Return the 503 of a request turned away because every slot and queue place is taken."""
    return Problem(
        503,
        "saturated",
        "Service saturated",
        f"all {slots} rendering slots and {queue} queue places are taken",
        headers={"Retry-After": str(retry_after)},
    )


def timed_out(timeout: float, doing: str) -> Problem:
    """Return the 504 of a request that took more than ``timeout`` seconds ``doing`` something."""
    return Problem(
        504,
        "timeout",
        "Request timed out",
        f"the request took more than {timeout:g} s ({doing})",
    )


# -- the stages' errors, and the framework's ----------------------------------------------


def _own(request: Request, exc: Problem) -> Problem:
    return exc


def _invalid(request: Request, exc: InvalidContractError) -> Problem:
    return Problem(
        422,
        "contract-invalid",
        "Invalid contract data",
        f"the contract data has {len(exc.issues)} issue(s)",
        **issue_list(list(exc.issues)),
    )


def _unrenderable(request: Request, exc: ContractError) -> Problem:
    # The same data fails the same way every time: why, in Chinese, with its code; no retry.
    issue = unrenderable(exc) or Issue("", "contract.unrenderable", str(exc))
    return Problem(
        422,
        "contract-unrenderable",
        "Contract cannot be rendered",
        issue.message,
        code=issue.code,
        **issue_list([issue]),
    )


def _unreadable(request: Request, exc: InputError) -> Problem:
    return malformed_json(str(exc))


def _conversion(request: Request, exc: ConversionError) -> Problem:
    log.error("PDF conversion failed for %s: %s", request.url.path, exc)
    return Problem(
        503,
        "conversion-failed",
        "PDF conversion failed",
        "PDF 转换失败：LibreOffice 未能转换文档，请稍后重试",
        headers={"Retry-After": "5"},
    )


#: the status and slug of each ledger error code; any other code is the ledger being unusable
_LEDGER_STATUSES = {
    "ledger.not_found": (404, "ledger-not-found", "Not found"),
    "ledger.state": (409, "ledger-conflict", "Conflict"),
}


def _ledger(request: Request, exc: LedgerError) -> Problem:
    message = str(exc).removesuffix(f" [{exc.code}]")
    known = _LEDGER_STATUSES.get(exc.code)
    if known is not None:
        status, slug, title = known
        return Problem(status, slug, title, message, code=exc.code)
    # Unreachable, or of a newer schema: the operator needs the URL (masked), the client not.
    log.error("ledger unusable on %s: %s", request.url.path, exc)
    figures = getattr(request.app.state, "metrics", None)
    if figures is not None:
        figures.ledger_errors.inc()
    return Problem(
        503,
        "ledger-unavailable",
        "Ledger unavailable",
        "合同台账暂时无法使用，请稍后重试",
        headers={"Retry-After": "5"},
        code=exc.code,
    )


def _queue(request: Request, exc: QueueError) -> Problem:
    # Redis away: the operator needs why (the URL masked), the client when to come back.
    log.error("broker unusable on %s: %s", request.url.path, exc)
    return Problem(
        503,
        "queue-unavailable",
        "Queue unavailable",
        "消息代理（Redis）暂时无法连接，任务无法提交或查询，请稍后重试"
        if exc.code == "queue.unreachable"
        else exc.detail,  # queue.busy: the same job being sent by another request
        headers={"Retry-After": "5"},
        code=exc.code,
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _http(request: Request, exc: StarletteHTTPException) -> Problem:
    slugs = {404: "not-found", 405: "method-not-allowed"}
    return Problem(
        exc.status_code,
        slugs.get(exc.status_code, f"http-{exc.status_code}"),
        _title(exc.status_code),
        str(exc.detail),
        headers=exc.headers,
    )


def _bad_parameter(request: Request, exc: RequestValidationError) -> Problem:
    issues = [
        {
            "path": ".".join(str(part) for part in error.get("loc", ())),
            "code": str(error.get("type", "invalid")),
            "message": str(error.get("msg", "")),
        }
        for error in exc.errors()
    ]
    return Problem(
        400, "invalid-parameter", "Invalid parameter", "a parameter is not valid", issues=issues
    )


def _gone(request: Request, exc: ClientDisconnect) -> Problem:
    # Nobody reads this answer: the client left, or its connection was closed for
    # being slow (see generator.service.connections).
    log.info("client gone before its request was read: %s", request.url.path)
    return Problem(400, "client-disconnected", "Client disconnected", "the client left")


def _bug(request: Request, exc: Exception) -> Problem:
    log.error("unexpected error on %s", request.url.path, exc_info=exc)
    return Problem(500, "internal-error", "Internal server error", "an unexpected error")


#: each class of error and what makes its problem (an error takes its nearest class's)
_TRANSLATIONS: list[tuple[type[Exception], Callable[[Request, Any], Problem]]] = [
    (Problem, _own),
    (InvalidContractError, _invalid),
    (SealPlacementError, _unrenderable),
    (AmountError, _unrenderable),
    (TemplateError, _unrenderable),
    (InputError, _unreadable),
    (ConversionError, _conversion),
    (LedgerError, _ledger),
    (QueueError, _queue),
    (StarletteHTTPException, _http),
    (RequestValidationError, _bad_parameter),
    (ClientDisconnect, _gone),
    (ContractError, _bug),
    (Exception, _bug),
]


def _handler(
    translate: Callable[[Request, Any], Problem],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        return translate(request, exc).response(request.url.path)

    return handle


def add_error_handlers(app: FastAPI) -> None:
    """Translate every error into a problem response: the only place errors become statuses."""
    for error, translate in _TRANSLATIONS:
        app.add_exception_handler(error, _handler(translate))
