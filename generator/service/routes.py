"""The handlers of the routes: each reads its request, runs its work in a slot, and answers.

:func:`generator.service.app.create_app` wires them to their paths, with the
OpenAPI description of :mod:`generator.service.openapi`. The handlers are
introduced by comments rather than docstrings: FastAPI would publish a
docstring as the operation's description.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import Annotated, Literal
from urllib.parse import quote

import anyio
from fastapi import Path, Query, Request
from fastapi.responses import JSONResponse, Response

from .. import logs
from ..identity import identity
from ..kinds import check, json_schema
from ..ledger import Recorded
from ..pipeline import ContractSet, Document, set_zip
from . import problems
from .admission import runtime_of
from .answers import compact, disposition
from .bodies import contract_body, decode, json_body
from .issuing import ISSUE_DESCRIPTION, issue_chosen
from .negotiation import preferred
from .readiness import dependencies

__all__ = ["contracts", "document_pdf", "healthz", "schema", "validate_contract"]

#: what ``/v1/contracts`` answers in, the default first
_SET_TYPES = ("application/zip", "application/json")


def _set_headers(contract_set: ContractSet, recorded: Recorded | None) -> dict[str, str]:
    """Return the headers that identify a set: number, input hash, versions, its ledger entry."""
    headers = {
        "X-Contract-No": quote(contract_set.contract_no, safe=""),
        "X-Input-Sha256": contract_set.input_sha256,
        "X-Generator-Version": str(identity()),
        "X-Template-Version": contract_set.template_version,
    }
    if recorded is not None:
        headers["X-Ledger"] = compact(recorded.to_dict())  # ASCII: JSON escapes the rest
        headers["X-Contract-State"] = "issued"
    else:
        headers["X-Contract-State"] = "draft"
    return headers


def _set_json(contract_set: ContractSet, recorded: Recorded | None) -> bytes:
    """Return a set as JSON: its manifest, every file in base64, and what the ledger recorded."""
    files = {name: base64.b64encode(data).decode() for name, data in contract_set.files().items()}
    document = {
        "manifest": contract_set.manifest(),
        "files": files,
        "ledger": None if recorded is None else recorded.to_dict(),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


# ``POST /v1/contracts``: the whole set, as a zip or as JSON with base64 files.
async def contracts(
    request: Request,
    fmt: Annotated[
        Literal["zip", "json"] | None,
        Query(alias="format", description="zip or json; default from Accept, else zip"),
    ] = None,
    pdfa: Annotated[bool, Query(description="PDF/A-2b instead of plain PDF")] = False,
    issue: Annotated[bool | None, Query(description=ISSUE_DESCRIPTION)] = None,
) -> Response:
    runtime = runtime_of(request)
    issuing = issue_chosen(issue, runtime.ledger)
    until = runtime.deadline()
    contract = await contract_body(request, runtime.settings, until)
    logs.add(contract_no=contract.envelope.contract_no)
    if fmt:
        as_json = fmt == "json"
    else:
        as_json = preferred(request.headers.get("accept", ""), _SET_TYPES) == "application/json"

    def work() -> tuple[ContractSet, Recorded | None, bytes]:
        contract_set = runtime.generator.render(contract, pdfa=pdfa, deadline=until)
        recorded = runtime.record(contract_set) if issuing else None
        body = _set_json(contract_set, recorded) if as_json else set_zip(contract_set)
        return contract_set, recorded, body

    contract_set, recorded, body = await runtime.run(work, until)
    headers = _set_headers(contract_set, recorded)
    if as_json:
        return Response(body, media_type="application/json", headers=headers)
    headers["Content-Disposition"] = disposition("attachment", f"{contract_set.contract_no}.zip")
    return Response(body, media_type="application/zip", headers=headers)


# ``POST /v1/contracts/{kind}.pdf``: one document's sealable PDF, seal fields in headers.
async def document_pdf(
    request: Request,
    kind: Annotated[str, Path(description="a document of the contract's kind: service_contract …")],
    pdfa: Annotated[bool, Query(description="PDF/A-2b instead of plain PDF")] = False,
    issue: Annotated[bool | None, Query(description=ISSUE_DESCRIPTION)] = None,
) -> Response:
    runtime = runtime_of(request)
    issuing = issue_chosen(issue, runtime.ledger)
    until = runtime.deadline()
    contract = await contract_body(request, runtime.settings, until)
    logs.add(contract_no=contract.envelope.contract_no)
    if kind not in contract.kind.keys:
        raise problems.unknown_kind(kind, contract.kind.keys)

    def work() -> tuple[ContractSet, Recorded | None, Document]:
        # Only the asked-for PDF is in the set, so only it is recorded: what was handed out.
        contract_set = runtime.generator.render(
            contract, formats=("pdf",), pdfa=pdfa, kinds=(kind,), deadline=until
        )
        recorded = runtime.record(contract_set) if issuing else None
        return contract_set, recorded, contract_set.documents[0]

    contract_set, recorded, document = await runtime.run(work, until)
    assert document.pdf is not None
    headers = _set_headers(contract_set, recorded)
    headers.update(
        {
            "Content-Disposition": disposition(
                "inline", f"{contract_set.contract_no}_{document.stem}.pdf"
            ),
            "X-Document-Kind": kind,
            "X-Document-Pages": str(document.pages),
            "X-Document-Sha256": hashlib.sha256(document.pdf).hexdigest(),
            "X-Seal-Fields": compact(document.seals),
        }
    )
    if document.cross_page_seal is not None:
        headers["X-Cross-Page-Seal"] = compact(document.cross_page_seal)
    return Response(document.pdf, media_type="application/pdf", headers=headers)


# ``POST /v1/validate``: whether any JSON is valid contract data, and every issue.
async def validate_contract(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    body = await json_body(request, runtime.settings, runtime.deadline())
    issues = await anyio.to_thread.run_sync(lambda: check(decode(body))[1])
    return JSONResponse({"valid": not issues, **problems.issue_list(issues)})


@functools.cache
def _schema_text() -> bytes:
    return json.dumps(json_schema(), ensure_ascii=False).encode()


# ``GET /v1/schema``: the JSON Schema of contract data.
async def schema() -> Response:
    return Response(_schema_text(), media_type="application/schema+json")


# ``GET /healthz``: liveness, the slots and queue, the workers' statistics, and the shared
# parts (ledger, broker): ``degraded`` when one of them cannot be reached, and still 200 —
# a supervisor restarting the process would not bring Redis back (``/readyz`` is 503).
async def healthz(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    health = runtime.generator.health()
    shared = await dependencies(request)
    up = all(result["ok"] for result in shared.values())
    body = {
        "status": "ok" if up else "degraded",
        "dependencies": shared,
        "version": str(identity()),
        "workers": health["workers"],
        "office_processes": health["office_processes"],
        "slots": runtime.slots,
        "queue": runtime.queue,
        "rendering": runtime.running,
        "waiting": runtime.waiting,
        "requests": dict(runtime.counts),
        "sets": health["sets"],
        "conversions": health["conversions"],
    }
    headers = {"Cache-Control": "no-store"}
    return JSONResponse(body, status_code=200, headers=headers)
