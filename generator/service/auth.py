"""Token authentication: every ``/v1`` request needs ``Authorization: Bearer <token>``.

So does ``/metrics`` (a scraper is given the token as a client is). ``/healthz``,
``/readyz`` and ``/openapi.json`` never need it. The token is compared in
constant time.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from . import problems

__all__ = ["BearerGuard"]


def _bearer(scope: Scope) -> bytes | None:
    """Return the credentials of a request's bearer ``Authorization`` (None: there are none)."""
    given: bytes | None = None
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            if scheme.lower() == b"bearer":
                given = credentials.strip()
    return given


def _guarded(path: str) -> bool:
    """Tell whether a path needs the token: ``/v1`` and below, and ``/metrics``."""
    return path in ("/v1", "/metrics") or path.startswith("/v1/")


class BearerGuard:
    """ASGI middleware: every ``/v1`` and ``/metrics`` request needs the bearer token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _guarded(path):
            await self.app(scope, receive, send)
            return
        given = _bearer(scope)
        if given is not None and hmac.compare_digest(given, self.token):
            await self.app(scope, receive, send)
            return
        problem = problems.unauthorized(token_given=given is not None)
        await problem.response(path)(scope, receive, send)
