"""Every request observed: its id, its access line, its figures, outside everything else.

:class:`ObservedApp` is the service's FastAPI application with :class:`Observed`
around its whole middleware stack, the framework's error middleware included, so
that even a 500 answer carries the request id and is counted:

* the request id is the client's ``X-Request-ID`` when it is sane (at most 64 of
  ``A–Z a–z 0–9 . _ -``), else a new one (a UUID4's hex); it is bound to the request's
  log lines (:mod:`generator.logs`), sent on to the workers with its jobs, and
  returned as ``X-Request-ID`` on every answer;
* one access line per request (``contractgen.access``): method, path without its
  query string, status, milliseconds, client, and the request's fields;
* the request counted by method, route template and status, and timed, in the
  application's :class:`~generator.service.metrics.Metrics`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import logs
from .metrics import Metrics

__all__ = ["REQUEST_ID", "Observed", "ObservedApp", "request_id"]

#: the header a request id comes in and goes out by
REQUEST_ID = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: the methods counted by name; any other is counted as "other" (a label of bounded values)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_access = logging.getLogger("contractgen.access")


def request_id(scope: Scope) -> str:
    """Return the request's id: its ``X-Request-ID`` when sane, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _SANE.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def _route(app: FastAPI, scope: Scope) -> str:
    """Return the template of the route that took (or would have taken) the request."""
    route = scope.get("route")
    if route is None:  # answered before the router (401), or matched no route (404)
        for candidate in app.router.routes:
            match, _ = candidate.matches(scope)
            if match is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class Observed:
    """ASGI middleware: the request id, the access line and the figures of every request."""

    def __init__(self, app: ASGIApp, owner: FastAPI, metrics: Metrics) -> None:
        self.app = app
        self.owner = owner
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        token = logs.bind(request_id=rid)
        start = time.perf_counter()
        status = [500]  # what an answer that never started is counted as

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID] = rid
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            self._done(scope, status[0], time.perf_counter() - start)
            logs.reset(token)

    def _done(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "other"
        route = _route(self.owner, scope)
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(seconds)
        client = scope.get("client")
        _access.info(
            "%s %s %d %.1fms client=%s",
            scope["method"],
            scope.get("path", ""),  # never the query string: a callback URL is in it
            status,
            seconds * 1000,
            client[0] if client else "-",
        )


class ObservedApp(FastAPI):
    """The service's application: :class:`Observed` around its whole middleware stack."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state.metrics = Metrics(self)

    def build_middleware_stack(self) -> ASGIApp:
        return Observed(super().build_middleware_stack(), self, self.state.metrics)
