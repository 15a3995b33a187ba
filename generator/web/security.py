"""The workbench's guards: the session behind the API's token, CSRF, bodies within limits, headers.

When the service has a token, a person signs in once with it and gets a
session cookie (HttpOnly, SameSite=Strict) that proves it without holding it.
Every POST carries a CSRF token in its form that must equal the one in its
cookie (the double-submit pattern: a page of another origin can neither read
the cookie nor set it). Every answer carries a strict Content-Security-Policy:
scripts and styles come from this origin's files only.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import os
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from ..users import Directory, User, as_user

__all__ = [
    "CSRF_COOKIE",
    "HEADERS",
    "SESSION_COOKIE",
    "BodyTooLarge",
    "csrf_of",
    "csrf_ok",
    "directory_of",
    "end_session",
    "read_body",
    "read_form",
    "read_upload",
    "secure",
    "session_csrf",
    "session_for",
    "session_user",
    "signed_in",
    "token_of",
]

SESSION_COOKIE = "contractgen_session"
CSRF_COOKIE = "contractgen_csrf"
#: a secret of this process: without CONTRACTGEN_SESSION_SECRET, sessions end with it
_PROCESS_KEY = secrets.token_bytes(32)
#: the variable giving the sessions' secret, shared by every replica
SECRET_ENVIRONMENT = "CONTRACTGEN_SESSION_SECRET"
#: seconds a session lasts from signing in
SESSION_MAX = 12 * 3600
#: the sessions ended by 退出 (this process's: see README)
_REVOKED: set[str] = set()

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


def directory_of(request: Request) -> Directory:
    """Return who the service knows: its users file and its token."""
    directory: Directory = request.app.state.directory
    return directory


def token_of(request: Request) -> bool:
    """Return whether the workbench asks who one is (a users file or a token is configured)."""
    return directory_of(request).enabled


def _key() -> bytes:
    """Return the sessions' key: ``CONTRACTGEN_SESSION_SECRET``, else this process's secret."""
    configured = os.environ.get(SECRET_ENVIRONMENT, "")
    return (
        hashlib.sha256(b"contractgen session\n" + configured.encode()).digest()
        if configured
        else _PROCESS_KEY
    )


def _mac(text: str) -> str:
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def _print(user: User) -> str:
    """Return a short digest of a user's token hash: a new token ends the old sessions."""
    return hashlib.sha256(user.token.encode()).hexdigest()[:16]


def session_for(user: User) -> str:
    """Return a new session cookie's value for a user who gave their token."""
    nonce = secrets.token_urlsafe(18)
    issued = str(int(time.time()))
    body = f"{user.login}|{nonce}|{issued}|{_print(user)}"
    return f"{body}|{_mac(body)}"


def session_user(request: Request) -> User | None:
    """Return the user of a request's session cookie (None: none, or no longer valid)."""
    value = request.cookies.get(SESSION_COOKIE, "")
    body, _, mac = value.rpartition("|")
    parts = body.split("|")
    if len(parts) != 4 or not hmac.compare_digest(mac, _mac(body)):
        return None
    login, nonce, issued, printed = parts
    if not issued.isdigit() or time.time() - int(issued) > SESSION_MAX or nonce in _REVOKED:
        return None
    user = directory_of(request).by_login(login)
    if user is None or not hmac.compare_digest(printed, _print(user)):
        return None
    return user


def end_session(request: Request) -> None:
    """Revoke a request's session (退出): its cookie opens nothing any more."""
    parts = request.cookies.get(SESSION_COOKIE, "").split("|")
    if len(parts) == 5:
        _REVOKED.add(parts[1])


def signed_in(request: Request) -> bool:
    """Return whether a request may use the workbench: no users, or a valid session.

    A valid session's user becomes the request's: the ledger records them as acting.
    """
    if not token_of(request):
        return True
    user = session_user(request)
    if user is None:
        return False
    as_user(user)
    return True


def _bound_csrf(nonce: str) -> str:
    """Return the CSRF token of a session: a MAC of its id under the server's key."""
    mac = hmac.new(_key(), f"csrf|{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def session_csrf(cookie: str) -> str:
    """Return the CSRF token of a session cookie's value (set at signing in)."""
    return _bound_csrf(cookie.split("|")[1])


def csrf_of(request: Request) -> str:
    """Return the request's CSRF token: its session's, else one of its own (set by :func:`secure`).

    A signed-in request's token is bound to its session: a ``contractgen_csrf`` cookie
    planted by another site (cookie tossing) is never compared with anything.
    """
    if token_of(request) and session_user(request) is not None:
        bound = session_csrf(request.cookies[SESSION_COOKIE])
        if request.cookies.get(CSRF_COOKIE) != bound:
            request.state.csrf = bound
        return bound
    given = request.cookies.get(CSRF_COOKIE, "")
    if len(given) == 43 and given.replace("-", "").replace("_", "").isalnum():
        return given
    token: str = getattr(request.state, "csrf", "") or secrets.token_urlsafe(32)
    request.state.csrf = token
    return token


def csrf_ok(request: Request, form: dict[str, str]) -> bool:
    """Return whether a POST's form carries the CSRF token of its session (else of its cookie)."""
    if token_of(request) and session_user(request) is not None:
        expected = session_csrf(request.cookies[SESSION_COOKIE])
        return hmac.compare_digest(form.get("csrf", ""), expected)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(form.get("csrf", ""), cookie)


def secure(request: Request, response: Response) -> Response:
    """Add the security headers, and the CSRF cookie when the request had none."""
    response.headers.update(HEADERS)
    if getattr(request.state, "csrf", None):
        response.set_cookie(
            CSRF_COOKIE,
            request.state.csrf,
            httponly=True,
            samesite="strict",
            path="/",
            secure=request.url.scheme == "https",
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
