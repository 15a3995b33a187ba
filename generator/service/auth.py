"""Who asks: every ``/v1`` request needs ``Authorization: Bearer <token>`` of a known user.

So does ``/metrics`` (a scraper is given a token as a client is). ``/healthz``,
``/readyz`` and ``/openapi.json`` never need it. A token is a user's of the users
file (:mod:`generator.users`), or the single token of ``CONTRACTGEN_TOKEN``
(the user 服务令牌); it is compared in constant time. The user of a request is
who the ledger records as acting (:func:`current_actor`, read by
:attr:`~generator.service.admission.Runtime.actor`), for the request and all
the work it starts.
"""

from __future__ import annotations

import socket

from starlette.types import ASGIApp, Receive, Scope, Send

from ..throttle import Limiter
from ..users import ANONYMOUS, Directory, as_user, current_actor, current_user, reset_user
from . import problems
from .problems import Problem

#: paths a load balancer probes by address: any Host
_PROBES = ("/healthz", "/readyz")
#: listening addresses that are every address of the machine
_WILDCARDS = ("0.0.0.0", "::", "[::]", "")

#: ANONYMOUS, current_actor and current_user are generator.users's, named here for the service
__all__ = [
    "ANONYMOUS",
    "TOKEN_FAILURES_MAX",
    "BearerGuard",
    "HostGuard",
    "allowed_hosts",
    "current_actor",
    "current_user",
]


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


#: wrong bearer tokens one client address may send in :data:`~generator.throttle.WINDOW`
#: seconds; after that every bearer request from it is 429 until the window has passed
TOKEN_FAILURES_MAX = 30


class BearerGuard:
    """ASGI middleware: every ``/v1`` and ``/metrics`` request needs a user's bearer token.

    Wrong tokens are counted per client address: past :data:`TOKEN_FAILURES_MAX` a minute,
    the address is answered 429 with ``Retry-After`` whatever token it sends (a right one
    too: else the refusal itself would tell a guessed token from a wrong one).
    """

    def __init__(self, app: ASGIApp, directory: Directory) -> None:
        self.app = app
        self.directory = directory
        self.limiter = Limiter(TOKEN_FAILURES_MAX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _guarded(path):
            await self.app(scope, receive, send)
            return
        given = _bearer(scope)
        client = scope.get("client")
        keys = [f"address:{client[0] if client else ''}"]
        user = None
        if given is not None:
            wait = self.limiter.wait(keys)
            if wait:
                await _too_many_tokens(wait).response(path)(scope, receive, send)
                return
            user = self.directory.by_token(given.decode("utf-8", "replace"))
            if user is None:
                self.limiter.failed(keys)
        if user is None:
            problem = problems.unauthorized(token_given=given is not None)
            await problem.response(path)(scope, receive, send)
            return
        reset = as_user(user)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_user(reset)


def allowed_hosts(listen: str, given: tuple[str, ...] = ()) -> frozenset[str]:
    """Return the names a request's ``Host`` may give (lower case, no port).

    The listening address, localhost, 127.0.0.1 and ::1, and ``given``; when the
    service listens on every address, the machine's own names too.
    """
    names = {listen.strip("[]").lower(), "localhost", "127.0.0.1", "::1"}
    if listen in _WILDCARDS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    names |= {name.strip().strip("[]").lower() for name in given if name.strip()}
    return frozenset(names - {"", "0.0.0.0", "::"})


def _host_name(scope: Scope) -> str:
    """Return the name of a request's ``Host`` header, without its port (lower case)."""
    for name, value in scope.get("headers", []):
        if name == b"host":
            text: str = bytes(value).decode("latin-1").strip().lower()
            if text.startswith("["):
                return text[1:].partition("]")[0]
            return text.rpartition(":")[0] if text.count(":") == 1 else text
    return ""


class HostGuard:
    """ASGI middleware: a request's ``Host`` must be a name of this service (DNS rebinding)."""

    def __init__(self, app: ASGIApp, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in _PROBES or _host_name(scope) in self.names:
            await self.app(scope, receive, send)
            return
        problem = Problem(
            421,
            "misdirected-request",
            "Misdirected Request",
            "请求所用的主机名不是本服务的名称（可用 --allowed-host 加入）",
            code="host.not_allowed",
        )
        await problem.response(path)(scope, receive, send)


def _too_many_tokens(wait: int) -> Problem:
    """Return the 429 of a client address that sent too many wrong bearer tokens."""
    return Problem(
        429,
        "too-many-requests",
        "Too Many Requests",
        f"来自该地址的错误令牌过多，请 {wait} 秒后再试",
        code="auth.too_many_failures",
        headers={"Retry-After": str(wait)},
    )
