"""The handlers of the ledger's routes: verify a file, list and show what was issued, check.

Every one reads the ledger in a thread (database I/O blocks), and answers 404
``ledger-disabled`` when the service runs without a ledger. As in
:mod:`generator.service.routes`, the handlers are introduced by comments:
FastAPI would publish a docstring as the operation's description.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
from fastapi import Path, Query, Request
from fastapi.responses import JSONResponse

from ..errors import LedgerError
from ..ledger import Ledger, verify_body
from ..ledger.supplements import supplements
from . import problems
from .admission import runtime_of
from .bodies import file_body

__all__ = [
    "TEXT_PATTERN",
    "VERSION_MAX",
    "ledger_check",
    "ledger_history",
    "ledger_latest",
    "ledger_sets",
    "ledger_version",
    "signed_copy",
    "verify",
]

#: the highest version number a path may ask for (a database integer holds it)
VERSION_MAX = 2**31 - 1

#: text a query or path may give: anything but NUL, which no database column holds
TEXT_PATTERN = r"^[^\x00]*$"

_T = TypeVar("_T")

_ContractNo = Annotated[str, Path(description="合同编号", pattern=TEXT_PATTERN)]


def _ledger(request: Request) -> Ledger:
    """Return the service's ledger; 404 when it runs without one."""
    ledger = runtime_of(request).ledger
    if ledger is None:
        raise problems.ledger_disabled()
    return ledger


async def _read(request: Request, read: Callable[[Ledger], _T]) -> _T:
    """Return ``read(ledger)``, run in a thread."""
    ledger = _ledger(request)
    return await anyio.to_thread.run_sync(read, ledger)


# ``POST /v1/verify``: whether a file (or each file of a set's zip) was issued here, and is current.
async def verify(request: Request) -> JSONResponse:
    ledger = _ledger(request)
    runtime = runtime_of(request)
    media, body = await file_body(request, runtime.settings, runtime.deadline())
    try:
        said = await anyio.to_thread.run_sync(verify_body, ledger, media, body)
    except LedgerError as exc:
        if exc.code != "verify.unreadable_zip":
            raise
        raise problems.unreadable_zip(exc.detail) from None
    return JSONResponse(said)


# ``GET /v1/ledger/sets``: the recorded versions matching every filter given, newest first.
async def ledger_sets(
    request: Request,
    contract_no: Annotated[
        str | None, Query(description="contract number, exactly", pattern=TEXT_PATTERN)
    ] = None,
    status: Annotated[
        Literal["issued", "superseded", "voided"] | None, Query(description="the version's status")
    ] = None,
    supplier: Annotated[
        str | None, Query(description="part of the supplier's name", pattern=TEXT_PATTERN)
    ] = None,
    signed_from: Annotated[
        dt.date | None, Query(description="signed on or after (YYYY-MM-DD)")
    ] = None,
    signed_to: Annotated[
        dt.date | None, Query(description="signed on or before (YYYY-MM-DD)")
    ] = None,
) -> JSONResponse:
    def read(ledger: Ledger) -> list[dict[str, Any]]:
        return ledger.sets(
            contract_no=contract_no,
            status=status,
            supplier=supplier,
            signed_from=signed_from,
            signed_to=signed_to,
        )

    return JSONResponse({"sets": await _read(request, read)})


# ``GET /v1/ledger/sets/{contract_no}``: a contract's newest version, its data and files.
async def ledger_latest(request: Request, contract_no: _ContractNo) -> JSONResponse:
    return JSONResponse(await _read(request, lambda ledger: ledger.show(contract_no)))


# ``GET /v1/ledger/sets/{contract_no}/{version}``: one version, its data and files.
async def ledger_version(
    request: Request,
    contract_no: _ContractNo,
    version: Annotated[int, Path(ge=1, le=VERSION_MAX, description="version, from 1")],
) -> JSONResponse:
    return JSONResponse(await _read(request, lambda ledger: ledger.show(contract_no, version)))


# ``GET /v1/ledger/sets/{contract_no}/history``: every event about a contract, oldest first.
async def ledger_history(request: Request, contract_no: _ContractNo) -> JSONResponse:
    events = await _read(request, lambda ledger: ledger.history(contract_no))
    added = await _read(request, lambda ledger: supplements(ledger, contract_no))
    return JSONResponse({"contract_no": contract_no, "events": events, "supplements": added})


# ``GET /v1/ledger/check``: the event chain, every event's signature and every row recomputed.
async def ledger_check(request: Request) -> JSONResponse:
    done = await _read(request, lambda ledger: ledger.audit())
    return JSONResponse(done.to_dict())


#: what a signed copy may be sent as
SIGNED_TYPES = ("application/pdf", "application/octet-stream")


def _take_signed(ledger: Ledger, body: bytes, actor: str) -> dict[str, Any]:
    """Check and record a signed copy (blocking: run in a thread); raise the route's problems."""
    from ..ledger.signatures import missing, missing_text

    absent = missing()
    if absent:
        raise problems.signing_unavailable("本服务" + missing_text(absent))
    from ..ledger.signed import load_trust, record_signed, trust_paths

    try:
        roots = load_trust(trust_paths(None))
    except LedgerError as exc:
        raise problems.signing_unavailable(exc.detail, exc.code) from None
    try:
        done = record_signed(ledger, body, roots, actor)
    except LedgerError as exc:
        if not exc.code.startswith("signed."):
            raise
        raise problems.signed_refused(exc.code, exc.detail) from None
    shown = ledger.show(done.contract_no, done.version)
    found = ledger.attest(hashlib.sha256(body).hexdigest())
    return {
        **done.to_dict(),
        "message": done.message(),
        "verdict": found.verdict,
        "status": shown["status"],
    }


# ``POST /v1/ledger/signed``: a signed copy from the e-signing platform, checked and recorded.
async def signed_copy(request: Request) -> JSONResponse:
    ledger = _ledger(request)
    runtime = runtime_of(request)
    media, body = await file_body(request, runtime.settings, runtime.deadline())
    if media not in SIGNED_TYPES:
        raise problems.unsupported_file_type(
            request.headers.get("content-type", ""), "identity", SIGNED_TYPES
        )
    said = await anyio.to_thread.run_sync(_take_signed, ledger, body, runtime.actor)
    return JSONResponse(said)
