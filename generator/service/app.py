"""The HTTP service for e-signing platforms: a thin FastAPI layer over :mod:`generator.pipeline`.

::

    POST /v1/contracts              the whole set: zip, or JSON with base64 files
    POST /v1/contracts/{kind}.pdf   one document's sealable PDF, seal fields in X-Seal-Fields
    POST /v1/validate               {"valid": bool, "issues": [{path, code, message}]}
    GET  /v1/schema                 the JSON Schema of contract data
    GET  /healthz                   liveness and worker statistics (never needs the token)
    GET  /openapi.json              the OpenAPI document

Request bodies are read here, bounded while reading, and parsed with
:func:`generator.load.parse_json` (amounts stay exact ``Decimal``); the
rendering runs in a thread against one :class:`~generator.pipeline.Generator`
owned by the application's lifespan. At most ``workers * 2`` requests render
at once and a few more wait; beyond that a request is turned away at once
with 503. Every error leaves as ``application/problem+json`` (RFC 9457),
translated at this boundary and nowhere else.

Connections are guarded below the application (:func:`_guarded_protocol`):
a client has ``read_timeout`` seconds to send a request's head, and again its
body, or the connection is closed; at ``max_connections`` a new connection
closes the one that has waited longest for its client, so that half-sent
requests cannot take every file descriptor and ``/healthz`` stays reachable.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import resource
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

import anyio
import h11
from anyio.abc import TaskGroup
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .._version import __version__
from ..domain.documents import KINDS
from ..domain.model import Contract, json_schema
from ..domain.validate import check, parse
from ..errors import (
    AmountError,
    ContractError,
    ConversionError,
    InputError,
    InvalidContractError,
    Issue,
    SealPlacementError,
)
from ..inputs.load import parse_json, parse_yaml
from ..pipeline import ContractSet, Document, Generator, set_zip

__all__ = ["PROBLEM_BASE", "Settings", "create_app", "serve"]

_T = TypeVar("_T")
log = logging.getLogger("contractgen.service")

#: base URI of the ``type`` of every problem this service reports
PROBLEM_BASE = "https://contractgen.invalid/problems/"
#: what is still read (and thrown away) of a body past its limit, so the 413 reaches the client
_DRAIN_LIMIT = 16 << 20
#: issues listed in an answer; the rest are counted in ``omitted_issues``
MAX_ISSUES = 100
#: characters of an issue's path or message kept in an answer (the rest becomes "…")
MAX_ISSUE_TEXT = 200
#: connections at most, whatever the file-descriptor limit allows
MAX_CONNECTIONS = 1000
#: file descriptors kept free of connections: the offices' pipes, logs, files in flight
_FD_RESERVE = 64


@dataclass(frozen=True)
class Settings:
    """How the service runs: address, workers, token and limits."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: LibreOffice workers (None: one per core); ``2 * workers`` requests render at once
    workers: int | None = None
    #: bearer token every ``/v1`` request must carry; None: no authentication
    token: str | None = None
    #: largest request body in bytes
    max_body: int = 1 << 20
    #: seconds a request may take, waiting included (also bounds one conversion)
    timeout: float = 120.0
    #: requests that may wait for a rendering slot (None: as many as there are slots)
    queue: int | None = None
    #: uvicorn's log level (access lines at "info")
    log_level: str = "info"
    #: sets kept in memory by input hash (see :class:`~generator.pipeline.Generator`); 0: none
    cached_sets: int = 8
    #: seconds a client has to send a request's head, and then its body
    read_timeout: float = 15.0
    #: open connections at most (None: what the file-descriptor limit allows, up to 1000)
    max_connections: int | None = None
    #: a folder of the office's own templates (None: the built-in ones)
    templates: FilePath | None = None


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


class _Runtime:
    """The shared generator and the bounded queue in front of it."""

    def __init__(self, generator: Generator, tasks: TaskGroup, settings: Settings) -> None:
        self.generator = generator
        self.tasks = tasks
        self.timeout = settings.timeout
        self.slots = generator.workers * 2
        self.queue = self.slots if settings.queue is None else settings.queue
        self.running = 0
        self.waiting = 0
        self.counts = {"served": 0, "rejected": 0, "timed_out": 0}
        self.mean_seconds = 3.0
        self._free = anyio.Semaphore(self.slots)

    def retry_after(self) -> int:
        """Return the seconds a turned-away client should wait: the queue ahead of it."""
        ahead = self.mean_seconds * (1 + self.waiting / self.slots)
        return max(1, min(math.ceil(ahead), math.ceil(self.timeout)))

    async def run(self, work: Callable[[], _T], deadline: float) -> _T:
        """Return ``work()`` run in a thread; 503 when saturated, 504 past the deadline.

        The thread runs in the lifespan's task group and holds its slot until it
        ends, even when the request has already answered 504: the queue counts
        the work LibreOffice is really doing.
        """
        if self.running + self.waiting >= self.slots + self.queue:
            self.counts["rejected"] += 1
            raise Problem(
                503,
                "saturated",
                "Service saturated",
                f"all {self.slots} rendering slots and {self.queue} queue places are taken",
                headers={"Retry-After": str(self.retry_after())},
            )
        self.waiting += 1
        try:
            with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                await self._free.acquire()
        except TimeoutError:
            raise self._timed_out("waiting for a rendering slot") from None
        finally:
            self.waiting -= 1
        self.running += 1
        done = anyio.Event()
        outcome: list[_T] = []
        failure: list[Exception] = []

        async def in_thread() -> None:
            start = anyio.current_time()
            try:
                outcome.append(await anyio.to_thread.run_sync(work))
            except Exception as exc:
                failure.append(exc)
            finally:
                self.running -= 1
                self._free.release()
                elapsed = anyio.current_time() - start
                self.mean_seconds = 0.8 * self.mean_seconds + 0.2 * elapsed
                done.set()

        self.tasks.start_soon(in_thread)
        with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
            await done.wait()
        if failure:
            raise failure[0]
        if not outcome:
            raise self._timed_out("rendering")
        self.counts["served"] += 1
        return outcome[0]

    def _timed_out(self, doing: str) -> Problem:
        self.counts["timed_out"] += 1
        return Problem(
            504,
            "timeout",
            "Request timed out",
            f"the request took more than {self.timeout:g} s ({doing})",
        )


# -- reading requests ---------------------------------------------------------------------


def _require_json(request: Request) -> None:
    """Refuse with 415 a body that is not UTF-8 JSON, uncompressed."""
    value = request.headers.get("content-type", "")
    media, *params = value.split(";")
    media = media.strip().lower()
    charset = ""
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip('"').lower()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    json_type = media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )
    if not json_type or charset not in ("", "utf-8", "utf8") or encoding != "identity":
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"the body must be JSON sent as Content-Type: application/json, not {value!r}"
            + ("" if encoding == "identity" else f" with Content-Encoding {encoding!r}"),
            headers={"Accept-Post": "application/json"},
        )


async def _read_body(request: Request, limit: int) -> bytes:
    """Return the request body, keeping at most ``limit`` bytes; 413 when there are more."""
    too_large = Problem(
        413,
        "body-too-large",
        "Request body too large",
        f"the body may have at most {limit} bytes",
        headers={"Connection": "close"},
        max_body=limit,
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > _DRAIN_LIMIT:
        raise too_large  # not worth reading: the connection closes after the answer
    parts: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > _DRAIN_LIMIT:
            break
        if received <= limit:
            parts.append(chunk)
    if received > limit:
        # Read to the end (within reason) and discard, so that the client, still
        # sending, gets the answer rather than a reset connection.
        raise too_large
    return b"".join(parts)


def _decode(body: bytes) -> Any:
    """Return the JSON data of a body; 400 with the position when it is not JSON."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(
            400,
            "malformed-json",
            "Malformed JSON",
            f"the body is not UTF-8 (byte {exc.start})",
            position=exc.start,
        ) from None
    try:
        return parse_json(text, "请求体")
    except InputError as exc:
        where: dict[str, Any] = {}
        cause = exc.__cause__
        if isinstance(cause, json.JSONDecodeError):
            where = {"line": cause.lineno, "column": cause.colno, "position": cause.pos}
        raise Problem(400, "malformed-json", "Malformed JSON", str(exc), **where) from None
    except RecursionError:
        raise Problem(
            400, "malformed-json", "Malformed JSON", "the JSON is nested too deeply"
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise Problem(400, "malformed-json", "Malformed JSON", str(exc)) from None


async def _body(request: Request, settings: Settings, deadline: float) -> bytes:
    """Return the body of a JSON request, checked for type and size, received in time."""
    _require_json(request)
    until = min(deadline, anyio.current_time() + settings.read_timeout)
    try:
        with anyio.fail_after(max(0.0, until - anyio.current_time())):
            return await _read_body(request, settings.max_body)
    except TimeoutError:
        raise Problem(
            408,
            "request-timeout",
            "Request timeout",
            f"the body did not arrive within {min(settings.read_timeout, settings.timeout):g} s",
            headers={"Connection": "close"},
        ) from None


async def _data(request: Request, settings: Settings, deadline: float) -> Any:
    """Return the parsed JSON body of a request (parsed in a thread: it may be large)."""
    body = await _body(request, settings, deadline)
    return await anyio.to_thread.run_sync(_decode, body)


def _cut(text: str, limit: int = MAX_ISSUE_TEXT) -> str:
    """Return ``text``, cut to ``limit`` characters with a "…" when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _issues(issues: list[Issue]) -> dict[str, Any]:
    """Return the first :data:`MAX_ISSUES` issues, their texts cut, and the count of the rest."""
    return {
        "issues": [
            {"path": _cut(i.path), "code": _cut(i.code), "message": _cut(i.message)}
            for i in issues[:MAX_ISSUES]
        ],
        "omitted_issues": max(0, len(issues) - MAX_ISSUES),
    }


# -- responses ----------------------------------------------------------------------------


def _disposition(kind: str, filename: str) -> str:
    """Return a Content-Disposition value with an ASCII fallback and the UTF-8 name."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _set_headers(contract_set: ContractSet) -> dict[str, str]:
    """Return the headers that identify a set: contract number, input hash, versions."""
    return {
        "X-Contract-No": quote(contract_set.contract_no, safe=""),
        "X-Input-Sha256": contract_set.input_sha256,
        "X-Generator-Version": __version__,
        "X-Template-Version": contract_set.template_version,
    }


def _set_json(contract_set: ContractSet) -> bytes:
    """Return a set as JSON: its manifest and every file in base64."""
    files = {name: base64.b64encode(data).decode() for name, data in contract_set.files().items()}
    document = {"manifest": contract_set.manifest(), "files": files}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _prefers_json(accept: str) -> bool:
    """Tell whether an Accept header ranks application/json above application/zip."""
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = item.split(";")
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        media = media.strip().lower()
        weights[media] = max(weights.get(media, 0.0), weight)
    wildcard = max(weights.get("*/*", 0.0), weights.get("application/*", 0.0))
    as_json = weights.get("application/json", wildcard)
    return as_json > weights.get("application/zip", wildcard)


# -- OpenAPI ------------------------------------------------------------------------------

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem; 422 adds `issues` with each field's path.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "issues": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}},
        "omitted_issues": {"type": "integer", "description": "issues past the first 100"},
    },
}
_ISSUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["path", "code", "message"],
    "properties": {
        "path": {
            "type": "string",
            "maxLength": MAX_ISSUE_TEXT,
            "description": "field path, e.g. supplier.bank.account",
        },
        "code": {"type": "string", "description": "stable code, e.g. postcode.format"},
        "message": {
            "type": "string",
            "maxLength": MAX_ISSUE_TEXT,
            "description": "the problem, in Chinese",
        },
    },
}
_SET_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["manifest", "files"],
    "properties": {
        "manifest": {"type": "object", "description": "manifest.json of the set"},
        "files": {
            "type": "object",
            "description": "every file of the set by name, base64",
            "additionalProperties": {"type": "string", "contentEncoding": "base64"},
        },
    },
}
_VALIDATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["valid", "issues", "omitted_issues"],
    "properties": {
        "valid": {"type": "boolean"},
        "issues": {
            "type": "array",
            "maxItems": MAX_ISSUES,
            "items": {"$ref": "#/components/schemas/Issue"},
        },
        "omitted_issues": {"type": "integer", "description": "issues past the first 100"},
    },
}
_CONTRACT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Contract data (the JSON Schema at /v1/schema); amounts read exactly.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Contract"}}},
    }
}
_ANY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Any JSON value: it is checked against the Contract schema and every "
        "issue is reported, so data that breaks the schema is a normal request here.",
        "content": {"application/json": {"schema": {}}},
    }
}
_REASONS = {
    400: "Malformed JSON (with line, column and position) or a bad query parameter",
    401: "Missing or wrong bearer token",
    404: "Unknown document kind or path",
    408: "The body did not arrive in time",
    413: "Request body over the limit",
    415: "Body not sent as application/json",
    422: "Invalid contract data: `issues` lists each problem with its field path",
    503: "Saturated (Retry-After says when to retry) or the PDF conversion failed",
    504: "The request took longer than the service's timeout",
}
_SET_HEADERS: dict[str, Any] = {
    "X-Contract-No": {
        "description": "contract number, percent-encoded UTF-8",
        "schema": {"type": "string"},
    },
    "X-Input-Sha256": {
        "description": "SHA-256 of the normalised contract data",
        "schema": {"type": "string"},
    },
    "Content-Disposition": {"schema": {"type": "string"}},
}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Return OpenAPI responses for the given problem statuses."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "description": _REASONS[code],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        if code == 503:
            entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[code] = entry
    return responses


def _rehome(node: Any) -> Any:
    """Return a JSON Schema fragment with ``#/$defs/X`` refs pointing into the components."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref" and isinstance(value, str)
                else _rehome(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rehome(item) for item in node]
    return node


def _example() -> dict[str, Any]:
    """Return the bundled sample contract as JSON data, for the OpenAPI examples."""
    text = resources.files("generator").joinpath("resources/contract.yaml").read_text("utf-8")
    data: dict[str, Any] = parse(parse_yaml(text)).model_dump(mode="json")
    return data


def _openapi(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """Return the OpenAPI builder: FastAPI's routes plus the published contract schema."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        contract = json_schema()
        definitions = contract.pop("$defs", {})
        for key in ("$schema", "$id"):
            contract.pop(key, None)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in definitions.items():
            schemas[name] = _rehome(definition)
        schemas["Contract"] = _rehome(contract)
        example = {"seed": {"summary": "the bundled sample contract", "value": _example()}}
        for path in ("/v1/contracts", "/v1/contracts/{kind}.pdf"):
            body = document["paths"][path]["post"]["requestBody"]
            body["content"]["application/json"]["examples"] = example
        schemas["Problem"] = _PROBLEM_SCHEMA
        schemas["Issue"] = _ISSUE_SCHEMA
        schemas["ContractSetJson"] = _SET_JSON_SCHEMA
        schemas["Validation"] = _VALIDATION_SCHEMA
        if settings.token:
            document["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            for path, operations in document["paths"].items():
                if path.startswith("/v1/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
                        operation["responses"].update(_problems(401))
        app.openapi_schema = document
        return document

    return build


# -- the application ----------------------------------------------------------------------


class _BearerGuard:
    """ASGI middleware: every ``/v1`` request needs ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        given: bytes | None = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    given = credentials.strip()
        if given is not None and hmac.compare_digest(given, self.token):
            await self.app(scope, receive, send)
            return
        challenge = 'Bearer realm="contractgen"'
        if given is not None:
            challenge += ', error="invalid_token"'
        problem = Problem(
            401,
            "unauthorized",
            "Unauthorized",
            "this request needs Authorization: Bearer <token>"
            if given is None
            else "the bearer token is not valid",
            headers={"WWW-Authenticate": challenge},
        )
        await problem.response(path)(scope, receive, send)


def _runtime(request: Request) -> _Runtime:
    runtime: _Runtime = request.app.state.runtime
    return runtime


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the service as an ASGI application; its lifespan owns the Generator."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        generator = Generator(
            workers=settings.workers,
            timeout=settings.timeout,
            cached_sets=settings.cached_sets,
            templates=settings.templates,
        )
        try:
            async with anyio.create_task_group() as tasks:
                app.state.runtime = _Runtime(generator, tasks, settings)
                yield
                # leaving the group waits for renders that outlived their request
        finally:
            await anyio.to_thread.run_sync(generator.close)

    app = FastAPI(
        title="contractgen",
        version=__version__,
        description=(
            "Generate the Shanghai Big Data Center O&M contract set (运维服务合同, 保密协议, "
            "廉洁协议, 履约验收方案) as DOCX and sealable PDF for e-signing platforms."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.openapi = _openapi(app, settings)  # type: ignore[method-assign]
    if settings.token:
        app.add_middleware(_BearerGuard, token=settings.token)
    _add_error_handlers(app)

    def deadline() -> float:
        return anyio.current_time() + settings.timeout

    async def contract_of(request: Request, until: float) -> Contract:
        body = await _body(request, settings, until)
        return await anyio.to_thread.run_sync(lambda: parse(_decode(body)))

    @app.post(
        "/v1/contracts",
        summary="Render the whole contract set",
        response_class=Response,
        openapi_extra=_CONTRACT_BODY,
        responses={
            200: {
                "description": "The set: a zip of the 4 DOCX, 4 PDF, the bundle and manifest.json",
                "headers": _SET_HEADERS,
                "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ContractSetJson"}
                    },
                },
            },
            **_problems(400, 408, 413, 415, 422, 503, 504),
        },
    )
    async def contracts(
        request: Request,
        fmt: Annotated[
            Literal["zip", "json"] | None,
            Query(alias="format", description="zip or json; default from Accept, else zip"),
        ] = None,
        pdfa: Annotated[bool, Query(description="PDF/A-2b instead of plain PDF")] = False,
    ) -> Response:
        until = deadline()
        contract = await contract_of(request, until)
        as_json = fmt == "json" if fmt else _prefers_json(request.headers.get("accept", ""))
        generator = _runtime(request).generator

        def work() -> tuple[ContractSet, bytes]:
            # The loop's clock is time.monotonic(): the request's deadline bounds LibreOffice.
            contract_set = generator.render(contract, pdfa=pdfa, deadline=until)
            return contract_set, (_set_json(contract_set) if as_json else set_zip(contract_set))

        contract_set, body = await _runtime(request).run(work, until)
        headers = _set_headers(contract_set)
        if as_json:
            return Response(body, media_type="application/json", headers=headers)
        headers["Content-Disposition"] = _disposition(
            "attachment", f"{contract_set.contract_no}.zip"
        )
        return Response(body, media_type="application/zip", headers=headers)

    @app.post(
        "/v1/contracts/{kind}.pdf",
        summary="Render one document as a sealable PDF",
        response_class=Response,
        openapi_extra=_CONTRACT_BODY,
        responses={
            200: {
                "description": "The PDF; X-Seal-Fields gives its empty signature fields",
                "headers": {
                    **_SET_HEADERS,
                    "X-Seal-Fields": {
                        "description": "JSON list of {party, field, keyword, page, "
                        "keyword_rect, rect}; rectangles in PDF points",
                        "schema": {"type": "string"},
                    },
                    "X-Cross-Page-Seal": {
                        "description": "JSON {first_page, last_page, edge, y, size} for a "
                        "cross-page seal (骑缝章); absent for a one-page document",
                        "schema": {"type": "string"},
                    },
                    "X-Document-Pages": {"schema": {"type": "integer"}},
                    "X-Document-Sha256": {"schema": {"type": "string"}},
                },
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            },
            **_problems(400, 404, 408, 413, 415, 422, 503, 504),
        },
    )
    async def document_pdf(
        request: Request,
        kind: Annotated[str, Path(description="document kind", json_schema_extra={"enum": KINDS})],
        pdfa: Annotated[bool, Query(description="PDF/A-2b instead of plain PDF")] = False,
    ) -> Response:
        if kind not in KINDS:
            raise Problem(
                404,
                "not-found",
                "Not found",
                f"no document kind {kind!r}; the kinds are {', '.join(KINDS)}",
            )
        until = deadline()
        contract = await contract_of(request, until)
        generator = _runtime(request).generator

        def work() -> tuple[ContractSet, Document]:
            # Only the asked-for document is converted.
            contract_set = generator.render(contract, pdfa=pdfa, kinds=(kind,), deadline=until)
            return contract_set, contract_set.documents[0]

        contract_set, document = await _runtime(request).run(work, until)
        assert document.pdf is not None
        headers = _set_headers(contract_set)
        headers.update(
            {
                "Content-Disposition": _disposition(
                    "inline", f"{contract_set.contract_no}_{document.stem}.pdf"
                ),
                "X-Document-Kind": kind,
                "X-Document-Pages": str(document.pages),
                "X-Document-Sha256": hashlib.sha256(document.pdf).hexdigest(),
                "X-Seal-Fields": json.dumps(document.seals, separators=(",", ":")),
            }
        )
        if document.cross_page_seal is not None:
            headers["X-Cross-Page-Seal"] = json.dumps(
                document.cross_page_seal, separators=(",", ":")
            )
        return Response(document.pdf, media_type="application/pdf", headers=headers)

    @app.post(
        "/v1/validate",
        summary="Validate contract data",
        openapi_extra=_ANY_BODY,
        responses={
            200: {
                "description": "Whether the data is valid, and every issue (200 even when not)",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Validation"}}
                },
            },
            **_problems(400, 408, 413, 415),
        },
    )
    async def validate_contract(request: Request) -> JSONResponse:
        body = await _body(request, settings, deadline())
        issues = await anyio.to_thread.run_sync(lambda: check(_decode(body))[1])
        return JSONResponse({"valid": not issues, **_issues(issues)})

    schema_text = json.dumps(json_schema(), ensure_ascii=False).encode()

    @app.get(
        "/v1/schema",
        summary="The JSON Schema of contract data",
        response_class=Response,
        responses={
            200: {
                "description": "JSON Schema (draft 2020-12)",
                "content": {"application/schema+json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def schema() -> Response:
        return Response(schema_text, media_type="application/schema+json")

    @app.get(
        "/healthz",
        summary="Liveness and worker statistics",
        openapi_extra={"security": []},
        responses={200: {"description": "The service is up"}},
    )
    async def healthz(request: Request) -> dict[str, Any]:
        runtime = _runtime(request)
        health = runtime.generator.health()
        return {
            "status": "ok",
            "version": __version__,
            "workers": health["workers"],
            "office_processes": health["office_processes"],
            "slots": runtime.slots,
            "queue": runtime.queue,
            "rendering": runtime.running,
            "waiting": runtime.waiting,
            "requests": dict(runtime.counts),
            "sets": health["sets"],
            "conversions": health["conversions"],
        }

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Translate every error into a problem response: the only place errors become statuses."""

    def handler(
        translate: Callable[[Request, Any], Problem],
    ) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def handle(request: Request, exc: Exception) -> Response:
            return translate(request, exc).response(request.url.path)

        return handle

    def own(request: Request, exc: Problem) -> Problem:
        return exc

    def invalid(request: Request, exc: InvalidContractError) -> Problem:
        return Problem(
            422,
            "contract-invalid",
            "Invalid contract data",
            f"the contract data has {len(exc.issues)} issue(s)",
            **_issues(list(exc.issues)),
        )

    def unplaceable(request: Request, exc: SealPlacementError | AmountError) -> Problem:
        return Problem(422, "contract-unrenderable", "Contract cannot be rendered", str(exc))

    def unreadable(request: Request, exc: InputError) -> Problem:
        return Problem(400, "malformed-json", "Malformed JSON", str(exc))

    def conversion(request: Request, exc: ConversionError) -> Problem:
        log.error("PDF conversion failed for %s: %s", request.url.path, exc)
        return Problem(
            503,
            "conversion-failed",
            "PDF conversion failed",
            "LibreOffice could not convert a document; try again",
            headers={"Retry-After": "5"},
        )

    def http(request: Request, exc: StarletteHTTPException) -> Problem:
        slugs = {404: "not-found", 405: "method-not-allowed"}
        return Problem(
            exc.status_code,
            slugs.get(exc.status_code, f"http-{exc.status_code}"),
            _title(exc.status_code),
            str(exc.detail),
            headers=exc.headers,
        )

    def bad_query(request: Request, exc: RequestValidationError) -> Problem:
        issues = [
            {
                "path": ".".join(str(part) for part in error.get("loc", ())),
                "code": str(error.get("type", "invalid")),
                "message": str(error.get("msg", "")),
            }
            for error in exc.errors()
        ]
        return Problem(
            400,
            "invalid-parameter",
            "Invalid parameter",
            "a parameter is not valid",
            issues=issues,
        )

    def gone(request: Request, exc: ClientDisconnect) -> Problem:
        # Nobody reads this answer: the client left, or its connection was closed for
        # being slow (see _guarded_protocol).
        log.info("client gone before its request was read: %s", request.url.path)
        return Problem(400, "client-disconnected", "Client disconnected", "the client left")

    def bug(request: Request, exc: Exception) -> Problem:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        return Problem(500, "internal-error", "Internal server error", "an unexpected error")

    app.add_exception_handler(Problem, handler(own))
    app.add_exception_handler(InvalidContractError, handler(invalid))
    app.add_exception_handler(SealPlacementError, handler(unplaceable))
    app.add_exception_handler(AmountError, handler(unplaceable))
    app.add_exception_handler(InputError, handler(unreadable))
    app.add_exception_handler(ConversionError, handler(conversion))
    app.add_exception_handler(StarletteHTTPException, handler(http))
    app.add_exception_handler(RequestValidationError, handler(bad_query))
    app.add_exception_handler(ClientDisconnect, handler(gone))
    app.add_exception_handler(ContractError, handler(bug))
    app.add_exception_handler(Exception, handler(bug))


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _guarded_protocol(read_timeout: float, max_connections: int) -> type[H11Protocol]:
    """Return uvicorn's HTTP/1.1 protocol with a read timeout and a connection cap.

    A connection waits for its client from the moment it opens, or its last
    answer is sent, until its request's head and body are in. A client that
    has not sent the head ``read_timeout`` seconds into such a wait (or the
    rest of a body nobody reads any more) has its connection closed; the body
    of a request being read has the same time, counted by the application
    (408). At ``max_connections`` a new connection closes the connection that
    has waited longest for its client; when every connection has a request at
    work, the new one is closed instead.
    """
    #: connections waiting for their client, the longest waiting first
    waiting: dict[GuardedProtocol, None] = {}

    class GuardedProtocol(H11Protocol):
        _wait = 0
        _timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                victim = next(iter(waiting), None)
                if victim is None:
                    log.warning("%d connections, all at work: refusing one", max_connections)
                    transport.close()
                    return
                victim.close_slow(f"the longest waiting of {max_connections} connections")
            self.await_client()

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
                waiting.pop(self, None)  # the request is all in: at work now

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state in (
                h11.IDLE,
                h11.SEND_BODY,
            ):
                self.await_client()

        def connection_lost(self, exc: Exception | None) -> None:
            waiting.pop(self, None)
            if self._timer is not None:
                self._timer.cancel()
            super().connection_lost(exc)

        def await_client(self) -> None:
            """Start a wait for the client, closing the connection if it runs out."""
            self._wait += 1
            waiting.pop(self, None)
            waiting[self] = None
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_later(read_timeout, self.check_wait, self._wait)

        def check_wait(self, wait: int) -> None:
            """Close the connection if its client is still sending, and nobody reads it."""
            if (
                wait == self._wait
                and self.conn.their_state in (h11.IDLE, h11.SEND_BODY)
                and (self.cycle is None or self.cycle.response_complete)
            ):
                self.close_slow(f"no request within {read_timeout:g} s")

        def close_slow(self, why: str) -> None:
            """Close the connection of a client that is too slow."""
            waiting.pop(self, None)
            if not self.transport.is_closing():
                log.debug("closing a connection from %s: %s", self.client, why)
                self.transport.close()

    return GuardedProtocol


def _connection_limits(settings: Settings) -> tuple[int, int]:
    """Return the connection cap and the listen backlog the open-file limit allows.

    The soft open-file limit is raised to the hard one first. asyncio accepts
    up to ``backlog`` connections in a row before any of them is looked at
    (and the longest waiting closed), so the cap leaves room for two rows.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    spare = max(32, soft - _FD_RESERVE - 4 * (settings.workers or os.cpu_count() or 1))
    backlog = min(2048, max(8, spare // 8))
    cap = min(MAX_CONNECTIONS, spare - 2 * backlog)
    return (settings.max_connections or cap), backlog


def serve(settings: Settings) -> int:
    """Run the service under uvicorn until SIGINT or SIGTERM; return 0 after a clean stop."""
    import uvicorn

    max_connections, backlog = _connection_limits(settings)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.timeout) + 1,
        server_header=False,
        http=_guarded_protocol(settings.read_timeout, max_connections),
        backlog=backlog,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has shut down; a stop
    # asked for is a clean exit here, so the re-raised signal is swallowed.
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except SystemExit as exc:  # uvicorn's way to give up, e.g. the port is taken (logged)
        return 1 if exc.code else 0
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, old)
    return 0 if server.started else 1


def _ignore(signum: int, frame: object) -> None:
    """Swallow a signal."""
