"""Request bodies: checked for type, bounded while read, received in time, parsed as JSON.

A file to verify is read the same way, checked for its own types (:func:`file_body`).

Bodies are parsed with :func:`generator.inputs.load.parse_json` (amounts stay
exact ``Decimal``), in a thread: a body may be large.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import Request

from ..errors import InputError
from ..inputs.load import parse_json
from ..kinds import Contract, parse
from . import problems
from .negotiation import require_file, require_json
from .settings import Settings

__all__ = ["DRAIN_LIMIT", "contract_body", "decode", "file_body", "json_body", "raw_body"]

#: what is still read (and thrown away) of a body past its limit, so the 413 reaches the client
DRAIN_LIMIT = 16 << 20


async def _read(request: Request, limit: int) -> bytes:
    """Return the request body, keeping at most ``limit`` bytes; 413 when there are more."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > DRAIN_LIMIT:
        raise problems.body_too_large(limit)  # not worth reading: the connection closes after
    parts: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > DRAIN_LIMIT:
            break
        if received <= limit:
            parts.append(chunk)
    if received > limit:
        # Read to the end (within reason) and discard, so that the client, still
        # sending, gets the answer rather than a reset connection.
        raise problems.body_too_large(limit)
    return b"".join(parts)


def decode(body: bytes) -> Any:
    """Return the JSON data of a body; 400 with the position when it is not JSON."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise problems.malformed_json(
            f"the body is not UTF-8 (byte {exc.start})", position=exc.start
        ) from None
    try:
        return parse_json(text, "请求体")
    except InputError as exc:
        where: dict[str, Any] = {}
        cause = exc.__cause__
        if isinstance(cause, json.JSONDecodeError):
            where = {"line": cause.lineno, "column": cause.colno, "position": cause.pos}
        raise problems.malformed_json(str(exc), **where) from None
    except RecursionError:
        raise problems.malformed_json("the JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise problems.malformed_json(str(exc)) from None


async def _receive(request: Request, settings: Settings, deadline: float) -> bytes:
    """Return a request's body, at most ``max_body`` bytes (413), received in time (408)."""
    until = min(deadline, anyio.current_time() + settings.read_timeout)
    try:
        with anyio.fail_after(max(0.0, until - anyio.current_time())):
            return await _read(request, settings.max_body)
    except TimeoutError:
        raise problems.request_timeout(min(settings.read_timeout, settings.timeout)) from None


async def raw_body(request: Request, settings: Settings, deadline: float) -> bytes:
    """Return a body whose type the caller has checked, within the size limit and in time."""
    return await _receive(request, settings, deadline)


async def json_body(request: Request, settings: Settings, deadline: float) -> bytes:
    """Return the body of a JSON request, checked for type and size, received in time."""
    require_json(request.headers)
    return await _receive(request, settings, deadline)


async def file_body(request: Request, settings: Settings, deadline: float) -> tuple[str, bytes]:
    """Return the media type and bytes of a file to verify, checked for type and size."""
    media = require_file(request.headers)
    return media, await _receive(request, settings, deadline)


async def contract_body(request: Request, settings: Settings, deadline: float) -> Contract:
    """Return the contract a request's body holds; 422 when the data is not a valid contract."""
    body = await json_body(request, settings, deadline)
    return await anyio.to_thread.run_sync(lambda: parse(decode(body)))
