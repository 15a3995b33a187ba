"""Admission control: the shared Generator and ledger, the rendering slots, queue and deadlines.

At most ``workers * 2`` requests render at once and ``queue`` more wait for a
slot; beyond that a request is turned away at once with 503 and a
``Retry-After`` that estimates the queue ahead. Every request has a deadline
(``timeout`` seconds from its arrival) that bounds its wait, its rendering
and the LibreOffice conversions within it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import anyio
from anyio.abc import TaskGroup
from fastapi import Request

from ..ledger import Ledger, Recorded
from ..pipeline import ContractSet, Generator
from . import problems
from .auth import current_actor
from .problems import Problem
from .settings import Settings

if TYPE_CHECKING:  # the job queue is an extra (contractgen[queue]), used with --broker only
    from ..queue import JobStore
    from ..queue.rounds import SharedRounds

__all__ = ["Runtime", "runtime_of"]

_T = TypeVar("_T")


class Runtime:
    """The shared generator and ledger, and the bounded queue in front of the generator."""

    def __init__(
        self,
        generator: Generator,
        tasks: TaskGroup,
        settings: Settings,
        ledger: Ledger | None = None,
    ) -> None:
        self.generator = generator
        #: where every set made is recorded (None: the service runs without a ledger)
        self.ledger = ledger
        self.tasks = tasks
        self.settings = settings
        self.timeout = settings.timeout
        self.slots = generator.workers * 2
        self.queue = self.slots if settings.queue is None else settings.queue
        self.running = 0
        self.waiting = 0
        self.counts = {"served": 0, "rejected": 0, "timed_out": 0}
        self.mean_seconds = 3.0
        self._free = anyio.Semaphore(self.slots)
        #: a folder of this process's own for what the workbench makes (set by the lifespan)
        self.scratch: Path | None = None
        #: set when the service stops: a round starts no more contracts
        self.closing = False
        #: the asynchronous jobs (None: the service runs without a broker)
        self.jobs: JobStore | None = None
        #: the workbench's rounds kept in Redis beside the jobs (None: no broker)
        self.rounds: SharedRounds | None = None

    @property
    def actor(self) -> str:
        """Return who acts in the request being answered: its user (``张三（zhangsan）``).

        Read in the request's context, and in the threads and tasks it starts (they
        inherit it): a round or a job names who started it.
        """
        return current_actor()

    def deadline(self) -> float:
        """Return the deadline of a request arriving now, on the event loop's clock.

        The loop's clock is :func:`time.monotonic`, so the deadline bounds
        LibreOffice too.
        """
        return anyio.current_time() + self.timeout

    def record(self, contract_set: ContractSet) -> Recorded | None:
        """Record a set made in the ledger, if there is one (blocking: call it in a thread)."""
        if self.ledger is None:
            return None
        return self.ledger.record(contract_set, self.actor)

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
            raise problems.saturated(self.slots, self.queue, self.retry_after())
        await self._take_slot(deadline)
        return await self._in_slot(work, deadline)

    async def run_behind(self, work: Callable[[], _T]) -> _T:
        """Return ``work()`` run in a slot once one is free, however long that takes.

        For the contracts of a round the workbench runs in the background: they
        wait outside the queue (a request is never turned away because a round
        is long) and each has the usual deadline from the moment it starts.
        """
        await self._free.acquire()
        self.running += 1
        return await self._in_slot(work, self.deadline())

    async def _in_slot(self, work: Callable[[], _T], deadline: float) -> _T:
        """Run ``work`` in a thread of the task group, in the slot taken; 504 past the deadline."""
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

    async def _take_slot(self, deadline: float) -> None:
        """Wait in the queue for a free slot, until ``deadline``; 504 when it passes."""
        self.waiting += 1
        try:
            with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                await self._free.acquire()
        except TimeoutError:
            raise self._timed_out("waiting for a rendering slot") from None
        finally:
            self.waiting -= 1
        self.running += 1

    def _timed_out(self, doing: str) -> Problem:
        self.counts["timed_out"] += 1
        return problems.timed_out(self.timeout, doing)


def runtime_of(request: Request) -> Runtime:
    """Return the runtime of the application a request came to (set up by its lifespan)."""
    runtime: Runtime = request.app.state.runtime
    return runtime
