"""The workbench's guards: the session behind the API's token, CSRF, bodies within limits, headers.

When the service has a token, a person signs in once with it and gets a
session cookie (HttpOnly, SameSite=Strict) that proves it without holding it.
Every POST carries a CSRF token in its form that must equal the one in its
cookie (the double-submit pattern: a page of another origin can neither read
the cookie nor set it). Every answer carries a strict Content-Security-Policy:
scripts and styles come from this origin's files only.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "CSRF_COOKIE",
    "HEADERS",
    "SESSION_COOKIE",
    "BodyTooLarge",
    "csrf_of",
    "csrf_ok",
    "read_body",
    "read_form",
    "read_upload",
    "secure",
    "session_for",
    "signed_in",
    "token_of",
]

SESSION_COOKIE = "contractgen_session"
CSRF_COOKIE = "contractgen_csrf"
#: a secret of this process: sessions end when the service restarts
_PROCESS_KEY = secrets.token_bytes(32)

#: the headers of every page: nothing but this origin's own files runs or styles it
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class BodyTooLarge(ValueError):
    """A request body over the service's limit."""


def token_of(request: Request) -> str | None:
    """Return the token the service was started with (None: no authentication)."""
    token: str | None = request.app.state.runtime.settings.token
    return token


def _mac(token: str, nonce: str) -> str:
    key = hashlib.sha256(_PROCESS_KEY + token.encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def session_for(token: str) -> str:
    """Return a new session cookie's value for someone who gave the token."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_mac(token, nonce)}"


def signed_in(request: Request) -> bool:
    """Return whether a request may use the workbench: no token, or a valid session."""
    token = token_of(request)
    if not token:
        return True
    nonce, _, mac = request.cookies.get(SESSION_COOKIE, "").partition(".")
    return bool(nonce) and hmac.compare_digest(mac, _mac(token, nonce))


def csrf_of(request: Request) -> str:
    """Return the request's CSRF token, a new one when it has none (set by :func:`secure`)."""
    given = request.cookies.get(CSRF_COOKIE, "")
    if len(given) == 43 and given.replace("-", "").replace("_", "").isalnum():
        return given
    token: str = getattr(request.state, "csrf", "") or secrets.token_urlsafe(32)
    request.state.csrf = token
    return token


def csrf_ok(request: Request, form: dict[str, str]) -> bool:
    """Return whether a POST's form carries the CSRF token of its cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(form.get("csrf", ""), cookie)


def secure(request: Request, response: Response) -> Response:
    """Add the security headers, and the CSRF cookie when the request had none."""
    response.headers.update(HEADERS)
    if getattr(request.state, "csrf", None):
        response.set_cookie(
            CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict", path="/"
        )
    return response


async def read_body(request: Request, limit: int) -> bytes:
    """Return a request's body, refusing more than ``limit`` bytes before reading them."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(int(declared))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(len(body))
    return bytes(body)


async def read_form(request: Request, limit: int) -> dict[str, str]:
    """Return an URL-encoded form's fields (the last value of a repeated name)."""
    body = await read_body(request, limit)
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


async def read_upload(request: Request, limit: int) -> tuple[dict[str, str], dict[str, Any]]:
    """Return a multipart form's text fields, and its files as (file name, bytes) by name."""
    body = await read_body(request, limit)
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return {}, {}
    head = f"Content-Type: {kind}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode("utf-8", "replace")
        else:
            files[name] = (filename, data)
    return fields, files
