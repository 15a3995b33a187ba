"""The application's lifespan: the ledger opened, the Generator started, both closed at the end.

The ledger is opened (and migrated) first, before any office starts: a ledger
that cannot be used fails the start-up, and the service never accepts a
request it could not record. That failure is logged as the ledger's message
(its URL with the password hidden) rather than a traceback:
:class:`QuietStartupFailure` sees to it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import LedgerError, QueueError
from ..ledger import Ledger
from ..pipeline import Generator
from .admission import Runtime
from .settings import Settings

if TYPE_CHECKING:  # the job queue is an extra (contractgen[queue]), used with --broker only
    from ..queue import JobStore
    from ..queue.rounds import SharedRounds

__all__ = ["CALLBACK_POLL", "QuietStartupFailure", "lifespan_of"]

#: seconds between two looks for callbacks to make
CALLBACK_POLL = 0.5
_log = logging.getLogger("contractgen.service")


def lifespan_of(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Return the lifespan of an application run with ``settings``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            ledger: Ledger | None = None
            if settings.ledger:
                ledger = await anyio.to_thread.run_sync(Ledger, settings.ledger)
                stack.push_async_callback(anyio.to_thread.run_sync, ledger.close)
                # the service issues: without its signing key it would record nothing
                await anyio.to_thread.run_sync(ledger.signing_key)
            generator = Generator(
                workers=settings.workers,
                timeout=settings.timeout,
                cached_sets=settings.cached_sets,
                templates=settings.templates,
            )
            stack.push_async_callback(anyio.to_thread.run_sync, generator.close)
            # the workbench's rounds and uploads: this process's own, removed when it stops
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="contractgen-web-"))
            async with anyio.create_task_group() as tasks:
                runtime = Runtime(generator, tasks, settings, ledger)
                runtime.scratch = Path(scratch)
                if settings.broker:
                    runtime.jobs = await anyio.to_thread.run_sync(_job_store, settings)
                    stack.callback(runtime.jobs.close)
                    runtime.rounds = _shared_rounds(runtime.jobs)
                    tasks.start_soon(_callbacks, runtime, getattr(app.state, "metrics", None))
                app.state.runtime = runtime
                yield
                # a round starts no more contracts; leaving the group waits for the renders
                # under way (those of requests that already answered among them)
                runtime.closing = True

    return lifespan


def _job_store(settings: Settings) -> JobStore:
    """Return the jobs' store on the broker; a broker that cannot be reached fails the start."""
    from ..queue import JobStore, check_broker, default_jobs_dir

    assert settings.broker is not None
    store = JobStore(
        settings.broker,
        settings.jobs_dir or default_jobs_dir(),
        settings.callback_key,  # never the token: see generator.queue.callbacks
    )
    check_broker(store.app, settings.broker)
    return store


def _shared_rounds(jobs: JobStore) -> SharedRounds:
    """Return the workbench's rounds kept beside the jobs, for every replica to see."""
    from ..queue.rounds import SharedRounds

    return SharedRounds(jobs)


async def _callbacks(runtime: Runtime, figures: Any = None) -> None:
    """Call the callbacks of finished jobs until the service stops (a poll, twice a second)."""
    import httpx

    from ..queue.jobs import CALLBACK_TIMEOUT

    assert runtime.jobs is not None
    with httpx.Client(timeout=CALLBACK_TIMEOUT) as client:
        while not runtime.closing:
            try:
                outcomes = await anyio.to_thread.run_sync(runtime.jobs.deliver_callbacks, client)
                for outcome in outcomes if figures is not None else ():
                    figures.callbacks.labels(outcome).inc()
            except Exception as exc:  # Redis away for a while: try again at the next turn
                _log.warning("callbacks: %r", exc)
            await anyio.sleep(CALLBACK_POLL)


class QuietStartupFailure:
    """ASGI middleware: a start-up failed by a :class:`LedgerError` reports its message alone.

    Starlette reports a failed start-up with the whole traceback; for a ledger
    that cannot be used, the message says all there is to say. Any other
    failure keeps its traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                held.append(message)  # sent once the cause is known
            else:
                await send(message)

        failure: BaseException | None = None
        try:
            await self.app(scope, receive, hold)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            for message in held:
                await send(_plain(message, failure))


def _plain(message: Message, failure: BaseException | None) -> dict[str, Any]:
    if isinstance(failure, LedgerError | QueueError):
        return {**message, "message": f"服务未启动：{failure}"}
    return dict(message)
