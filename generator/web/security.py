"""The workbench's guards: the session behind the API's token, CSRF, bodies within limits, headers.

When the service has a token, a person signs in once with it and gets a
session cookie (HttpOnly, SameSite=Strict) that proves it without holding it.
A session lasts at most :data:`SESSION_MAX` from signing in and ends after
``--session-idle`` without a request (sliding: the cookie is signed again with
the time of the request, at most once a minute). 退出 ends it on every replica
that shares the ledger (:mod:`generator.ledger.sessions`; without a ledger, in
this process only).
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
import logging
import os
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from ..errors import LedgerError
from ..ledger import sessions
from ..users import Directory, User, as_user

__all__ = [
    "CSRF_COOKIE",
    "HEADERS",
    "SESSION_COOKIE",
    "SESSION_IDLE",
    "SESSION_MAX",
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
#: seconds without a request after which a session ends (``serve --session-idle``)
SESSION_IDLE = 30 * 60
#: a session's cookie is signed again with the time of a request at most this often (s)
_REFRESH = 60
#: the sessions ended by 退出 here (the ledger holds every replica's)
_ENDED: set[str] = set()

_log = logging.getLogger("generator.web")

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


def session_for(user: User, issued: int | None = None, nonce: str | None = None) -> str:
    """Return a session cookie's value: a new session, or one seen again now (same id).

    ``login|id|issued|token digest|last seen|MAC``: the MAC under the sessions' key covers
    the rest, so no field can be changed without the secret.
    """
    now = int(time.time())
    body = "|".join(
        (
            user.login,
            nonce or secrets.token_urlsafe(18),
            str(now if issued is None else issued),
            _print(user),
            str(now),
        )
    )
    return f"{body}|{_mac(body)}"


def _idle(request: Request) -> int:
    """Return the seconds without a request that end a session (the service's setting)."""
    runtime = getattr(request.app.state, "runtime", None)
    return int(getattr(getattr(runtime, "settings", None), "session_idle", SESSION_IDLE))


def _ledger(request: Request) -> Any:
    """Return the service's ledger (None: the service records nothing)."""
    return getattr(getattr(request.app.state, "runtime", None), "ledger", None)


def _ended(request: Request, nonce: str) -> bool:
    """Return whether a session was ended by 退出, here or on a replica sharing the ledger."""
    if nonce in _ENDED:
        return True
    ledger = _ledger(request)
    if ledger is None:
        return False
    try:
        return sessions.session_ended(ledger, nonce)
    except LedgerError as exc:  # unknown whether it was ended: not signed in, to be safe
        _log.warning("session check: %s", exc)
        return True


def session_user(request: Request) -> User | None:
    """Return the user of a request's session cookie (None: none, or no longer valid).

    Checked once per request; a valid session last seen over a minute ago is signed
    again with the time of this request (:func:`secure` sets it), which slides its
    idle timeout.
    """
    checked = getattr(request.state, "session_checked", None)
    if checked is not None:
        found: User | None = checked[0]
        return found
    user = _session_user(request)
    request.state.session_checked = (user,)
    return user


def _session_user(request: Request) -> User | None:
    value = request.cookies.get(SESSION_COOKIE, "")
    body, _, mac = value.rpartition("|")
    parts = body.split("|")
    if len(parts) != 5 or not hmac.compare_digest(mac, _mac(body)):
        return None
    login, nonce, issued, printed, seen = parts
    if not (issued.isdigit() and seen.isdigit()):
        return None
    now = time.time()
    if now - int(issued) > SESSION_MAX or now - int(seen) > _idle(request):
        return None
    user = directory_of(request).by_login(login)
    if user is None or not hmac.compare_digest(printed, _print(user)):
        return None
    if _ended(request, nonce):
        return None
    if now - int(seen) >= min(_REFRESH, _idle(request) / 2):
        request.state.session_refresh = session_for(user, int(issued), nonce)
    return user


def end_session(request: Request) -> None:
    """End a request's session (退出): its cookie opens nothing any more, on any replica.

    Recorded in the ledger every replica shares when the service has one; a ledger that
    cannot be reached raises LedgerError, the session then still ended here.
    """
    user = session_user(request)
    request.state.session_refresh = None
    if user is None:
        return  # nothing valid to end (a forged or expired cookie is refused anyway)
    parts = request.cookies[SESSION_COOKIE].split("|")
    nonce, issued = parts[1], int(parts[2])
    _ENDED.add(nonce)
    ledger = _ledger(request)
    if ledger is not None:
        sessions.end_session(ledger, nonce, user.login, issued + SESSION_MAX)


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
    refreshed = getattr(request.state, "session_refresh", None)
    if refreshed:  # the session seen again: its idle timeout starts anew
        response.set_cookie(
            SESSION_COOKIE,
            refreshed,
            httponly=True,
            samesite="strict",
            path="/",
            secure=request.url.scheme == "https",
        )
        request.state.session_refresh = None
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
