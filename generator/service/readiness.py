"""``GET /readyz``: may this replica take work now? The ledger, the broker and an office, checked.

Each check runs at once beside the others, bounded by :data:`CHECK_SECONDS`, so
the probe answers within about two seconds whatever hangs:

* ``ledger`` (with a ledger): ``SELECT 1`` on one of its connections;
* ``broker`` (with ``--broker``): Redis answers ``PING``;
* ``office``: an office runs, or LibreOffice is there to start one (nothing is
  converted, no office started: :meth:`~generator.office.ConverterPool.readiness`).

200 ``{"status": "ready", "checks": {...}}`` when every check passed, 503
``{"status": "unavailable", ...}`` naming the one that failed. A check whose
previous run has not come back yet (a database that accepts connections and
never answers) fails at once rather than piling up threads. Why a check failed
is in the log; the answer, open to anyone like ``/healthz``, says which and in
short. ``/healthz`` runs the ledger's and the broker's checks too: ``degraded``
(still 200: it is liveness) when one of them fails (see :func:`generator.service.routes.healthz`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse

from .admission import Runtime, runtime_of

__all__ = ["CHECK_SECONDS", "SHARED", "Check", "checks_of", "dependencies", "readyz", "run_checks"]

#: seconds one check may take before it counts as failed
CHECK_SECONDS = 1.5
#: the checks ``/healthz`` reports too: the parts every replica and worker shares
SHARED = ("broker", "ledger")
_log = logging.getLogger("contractgen.service")


class Check:
    """One dependency's check, run in a thread of its own, at most one run at a time."""

    def __init__(self, name: str, probe: Callable[[], None], failed: str) -> None:
        self.name = name
        self.probe = probe
        #: what the answer says when the probe failed (Chinese: a clerk may read it)
        self.failed = failed
        self.busy = False

    async def run(self) -> dict[str, Any]:
        """Return ``{"ok": bool, "seconds": float[, "error": str]}`` within CHECK_SECONDS."""
        if self.busy:
            return self._failure(0.0, "the previous check has not come back")
        self.busy = True
        start = time.monotonic()
        problem: list[str] = []

        def probe() -> None:
            try:
                self.probe()
            except Exception as exc:
                problem.append(f"{type(exc).__name__}: {exc}")
            finally:
                self.busy = False

        with anyio.move_on_after(CHECK_SECONDS) as scope:
            await anyio.to_thread.run_sync(probe, abandon_on_cancel=True)
        seconds = round(time.monotonic() - start, 3)
        if scope.cancelled_caught:
            return self._failure(seconds, f"no answer within {CHECK_SECONDS:g} s")
        if problem:
            return self._failure(seconds, problem[0])
        return {"ok": True, "seconds": seconds}

    def _failure(self, seconds: float, why: str) -> dict[str, Any]:
        _log.warning("readiness: %s failed: %s", self.name, why)
        return {"ok": False, "seconds": seconds, "error": self.failed}


def _office(runtime: Runtime) -> None:
    problem = runtime.generator.converter.readiness()
    if problem is not None:
        raise RuntimeError(problem)


def checks_of(request: Request) -> list[Check]:
    """Return the checks of a service's dependencies (made once per run of the service)."""
    runtime = runtime_of(request)
    held = getattr(request.app.state, "readiness", None)
    if held is not None and held[0] is runtime:
        checks: list[Check] = held[1]
        return checks
    checks = [Check("office", lambda: _office(runtime), "无法转换 PDF（LibreOffice 不可用）")]
    ledger = runtime.ledger
    if ledger is not None:

        def select_one() -> None:
            with ledger.reading() as conn:
                conn.exec_driver_sql("SELECT 1")

        checks.append(Check("ledger", select_one, "合同台账无法连接"))
    if runtime.jobs is not None:
        checks.append(Check("broker", runtime.jobs.ping, "消息代理（Redis）无法连接"))
    request.app.state.readiness = (runtime, checks)
    return checks


async def run_checks(checks: list[Check]) -> dict[str, dict[str, Any]]:
    """Return each check's result by name, the checks run side by side."""
    results: dict[str, dict[str, Any]] = {}

    async def one(check: Check) -> None:
        results[check.name] = await check.run()

    async with anyio.create_task_group() as group:
        for check in checks:
            group.start_soon(one, check)
    return dict(sorted(results.items()))


async def dependencies(request: Request) -> dict[str, dict[str, Any]]:
    """Return the checks of the parts the replica shares with others: the ledger, the broker."""
    return await run_checks([c for c in checks_of(request) if c.name in SHARED])


# ``GET /readyz``: 200 when the ledger, the broker and an office are fine; 503 naming which not.
async def readyz(request: Request) -> JSONResponse:
    results = await run_checks(checks_of(request))
    ready = all(result["ok"] for result in results.values())
    body = {"status": "ready" if ready else "unavailable", "checks": results}
    headers = {"Cache-Control": "no-store"}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)
