"""Connections, guarded below the application: a read timeout and a cap on their number.

A client has ``read_timeout`` seconds to send a request's head, and again its
body, or the connection is closed; at ``max_connections`` a new connection
closes the one that has waited longest for its client, so that half-sent
requests cannot take every file descriptor and ``/healthz`` stays reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
from typing import ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import Settings

__all__ = ["MAX_CONNECTIONS", "GuardedProtocol", "connection_limits", "guarded_protocol"]

log = logging.getLogger("contractgen.service")

#: connections at most, whatever the file-descriptor limit allows
MAX_CONNECTIONS = 1000
#: file descriptors kept free of connections: the offices' pipes, logs, files in flight
_FD_RESERVE = 64
#: the states of a connection whose client is still to send (part of) its request
_CLIENT_SENDING = (h11.IDLE, h11.SEND_BODY)


class GuardedProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a read timeout and a connection cap.

    A connection waits for its client from the moment it opens, or its last
    answer is sent, until its request's head and body are in. A client that
    has not sent the head ``read_timeout`` seconds into such a wait (or the
    rest of a body nobody reads any more) has its connection closed; the body
    of a request being read has the same time, counted by the application
    (408). At ``max_connections`` a new connection closes the connection that
    has waited longest for its client; when every connection has a request at
    work, the new one is closed instead.

    Use a subclass made by :func:`guarded_protocol`: it has the limits, and
    its own record of the connections that wait.
    """

    read_timeout: ClassVar[float]
    max_connections: ClassVar[int]
    #: connections waiting for their client, the longest waiting first
    waiting: ClassVar[dict[GuardedProtocol, None]]

    _wait = 0
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            victim = next(iter(self.waiting), None)
            if victim is None:
                log.warning("%d connections, all at work: refusing one", self.max_connections)
                transport.close()
                return
            victim.close_slow(f"the longest waiting of {self.max_connections} connections")
        self.await_client()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state not in _CLIENT_SENDING:
            self.waiting.pop(self, None)  # the request is all in: at work now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state in _CLIENT_SENDING:
            self.await_client()

    def connection_lost(self, exc: Exception | None) -> None:
        self.waiting.pop(self, None)
        if self._timer is not None:
            self._timer.cancel()
        super().connection_lost(exc)

    def await_client(self) -> None:
        """Start a wait for the client, closing the connection if it runs out."""
        self._wait += 1
        self.waiting.pop(self, None)
        self.waiting[self] = None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(self.read_timeout, self.check_wait, self._wait)

    def check_wait(self, wait: int) -> None:
        """Close the connection if its client is still sending, and nobody reads it."""
        if (
            wait == self._wait
            and self.conn.their_state in _CLIENT_SENDING
            and (self.cycle is None or self.cycle.response_complete)
        ):
            self.close_slow(f"no request within {self.read_timeout:g} s")

    def close_slow(self, why: str) -> None:
        """Close the connection of a client that is too slow."""
        self.waiting.pop(self, None)
        if not self.transport.is_closing():
            log.debug("closing a connection from %s: %s", self.client, why)
            self.transport.close()


def guarded_protocol(read_timeout: float, max_connections: int) -> type[GuardedProtocol]:
    """Return a :class:`GuardedProtocol` with these limits, for one server."""

    class Guarded(GuardedProtocol):
        pass

    Guarded.read_timeout = read_timeout
    Guarded.max_connections = max_connections
    Guarded.waiting = {}
    return Guarded


def connection_limits(settings: Settings) -> tuple[int, int]:
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
