"""The handler of ``POST /v1/publications``: a contract's public copy and 合同公告, recorded.

The body is contract data, read as ``/v1/contracts`` reads it. What cannot be
published (no 项目编号, a signing year the holiday calendar does not cover, a
publication date before the signing date) is refused before anything is made,
and so, with a ledger, is data the ledger never issued: publish what was issued.
What the public copy would print of a withheld value or an undeclared personal
number (:mod:`generator.publication.leaks`) is refused with 422 once it is made,
before anything is recorded, with the same issues as the command line's.
The publication is made by :func:`generator.publication.publish`, the command
line's ``contractgen publish``, so its files are the same bytes, and recorded
with its version in the worker thread. As in :mod:`generator.service.routes`,
the handler is introduced by a comment: FastAPI would publish a docstring.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Literal
from urllib.parse import quote

import anyio
from fastapi import Query, Request
from fastapi.responses import Response

from ..domain.model import CHINA_TIME
from ..errors import InvalidContractError, LedgerError
from ..kinds import Contract
from ..ledger import Ledger, Published, record_publication
from ..pipeline import folder_zip, input_digest
from ..publication import Publication, public_folder_name, publication_issues, publish
from . import problems
from .admission import Runtime, runtime_of
from .answers import compact, disposition
from .bodies import contract_body
from .negotiation import preferred

__all__ = ["publications"]

#: what ``/v1/publications`` answers in, the default first
_TYPES = ("application/zip", "application/json")


def _require_issued(ledger: Ledger, contract: Contract) -> None:
    """Refuse (409) data of which the ledger holds no issued version (blocking: in a thread)."""
    digest = input_digest(contract)
    issued = ledger.sets(contract_no=contract.envelope.contract_no, status="issued")
    if not any(row["input_sha256"] == digest for row in issued):
        raise problems.not_issued(contract.envelope.contract_no)


def _record(runtime: Runtime, publication: Publication) -> Published | None:
    """Record a publication with its version, if there is a ledger (blocking: in a thread)."""
    if runtime.ledger is None:
        return None
    try:
        return record_publication(runtime.ledger, publication, runtime.actor)
    except LedgerError as exc:
        if exc.code != "ledger.not_found":
            raise
        # superseded or voided since the request was admitted
        raise problems.not_issued(publication.contract_no) from None


def _json(publication: Publication, published: Published | None) -> bytes:
    """Return a publication as JSON: publication.json, every file in base64, the ledger's say."""
    files = {name: base64.b64encode(data).decode() for name, data in publication.files().items()}
    document = {
        "manifest": publication.manifest(),
        "files": files,
        "ledger": None if published is None else published.to_dict(),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _headers(publication: Publication, published: Published | None) -> dict[str, str]:
    """Return the headers of a publication: number, dates, on time, its ledger entry."""
    headers = {
        "X-Contract-No": quote(publication.contract_no, safe=""),
        "X-Input-Sha256": input_digest(publication.contract),
        "X-Due-Date": publication.due_date.isoformat(),
        "X-Published-On": publication.published_on.isoformat(),
        "X-On-Time": "true" if publication.on_time else "false",
    }
    if published is not None:
        headers["X-Ledger"] = compact(published.to_dict())
    return headers


# ``POST /v1/publications``: the public copy and the notice, as a zip or as JSON.
async def publications(
    request: Request,
    published_on: Annotated[
        dt.date | None,
        Query(description="合同公告日期，如 2026-01-20（默认为北京时间的今天）"),
    ] = None,
    fmt: Annotated[
        Literal["zip", "json"] | None,
        Query(alias="format", description="zip or json; default from Accept, else zip"),
    ] = None,
    pdfa: Annotated[bool, Query(description="PDF/A-2b instead of plain PDF")] = False,
) -> Response:
    runtime = runtime_of(request)
    until = runtime.deadline()
    contract = await contract_body(request, runtime.settings, until)
    issues = publication_issues(contract)
    if issues:
        raise problems.unpublishable(issues)
    day = published_on or dt.datetime.now(CHINA_TIME).date()
    if day < contract.envelope.sign_date:
        raise problems.published_too_early(day, contract.envelope.sign_date)
    if runtime.ledger is not None:
        await anyio.to_thread.run_sync(_require_issued, runtime.ledger, contract)
    if fmt:
        as_json = fmt == "json"
    else:
        as_json = preferred(request.headers.get("accept", ""), _TYPES) == "application/json"
    folder = public_folder_name(contract.envelope.contract_no)

    def work() -> tuple[Publication, Published | None, bytes]:
        try:
            publication = publish(
                runtime.generator, contract, published_on=day, pdfa=pdfa, deadline=until
            )
        except InvalidContractError as exc:
            # a withheld value or a personal number the public copy would print (422)
            raise problems.unpublishable(exc.issues) from None
        published = _record(runtime, publication)
        body = _json(publication, published) if as_json else folder_zip(folder, publication.files())
        return publication, published, body

    publication, published, body = await runtime.run(work, until)
    headers = _headers(publication, published)
    if as_json:
        return Response(body, media_type="application/json", headers=headers)
    headers["Content-Disposition"] = disposition("attachment", f"{folder}.zip")
    return Response(body, media_type="application/zip", headers=headers)
