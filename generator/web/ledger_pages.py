"""The pages of the ledger and of publication: search, a contract's versions, verify, what is due.

::

    GET  /ledger                 the recorded versions, filtered (number, supplier, status, dates)
    GET  /ledger/set?no=&version=   one contract: its versions, a version's files, its history
    GET  /ledger/form?no=&version=  that version's data in the contract form
    POST /ledger/publish         a version's public copy and 合同公告, made and recorded
    GET  /verify  POST /verify   whether a file (or each file of a zip) was issued, and is current
    POST /verify/signed          a signed copy from the e-signing platform, checked and recorded
    GET  /due                    issued contracts not yet published, soonest due first

Each reads the service's ledger in a thread; without a ledger the pages say so.
A publication is made as ``POST /v1/publications`` makes it (the same function,
in a slot of the service) and kept, like a previewed set, for its downloads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response

from ..domain.model import CHINA_TIME
from ..errors import ContractError, LedgerError
from ..kinds import check
from ..ledger import Ledger, record_publication, verify_body
from ..ledger.supplements import supplements
from ..publication import (
    next_year_warning,
    public_folder_name,
    publication_issues,
    publish,
    unpublished,
)
from .form import to_values
from .pages import Made, error_page, form_page, html, keep, posted, sign_in_first
from .round_pages import UPLOAD_MAX
from .security import BodyTooLarge, csrf_ok, read_upload

__all__ = [
    "due_page",
    "ledger_form",
    "ledger_list",
    "ledger_set",
    "publish_version",
    "signed_page",
    "verify_page",
]

_T = TypeVar("_T")
#: the statuses of a version, in Chinese
STATUS = {"issued": "现行", "superseded": "已被取代", "voided": "已作废"}
#: a verdict on a file, in Chinese
VERDICTS = {
    "current": "现行版本：是本台账登记签发的文件",
    "outdated": "已登记，但该版本已被取代或作废",
    "unknown": "未在本台账登记",
    "untrusted": "台账不可信：其签名的登记事件不能证实这份记录，无法核验"
    "（请管理员运行 contractgen ledger check）",
}


def _ledger(request: Request) -> Ledger | None:
    ledger: Ledger | None = request.app.state.runtime.ledger
    return ledger


def _open(request: Request) -> tuple[Ledger | None, Response | None]:
    """Return the service's ledger, or the answer to give: sign in first, or no ledger here."""
    refused = sign_in_first(request)
    if refused is not None:
        return None, refused
    ledger = _ledger(request)
    if ledger is None:
        return None, html(request, "ledger_off.html", 404)
    return ledger, None


async def _version_of(
    request: Request, ledger: Ledger, number: str, version: int | None
) -> tuple[dict[str, Any] | None, Response | None]:
    """Return a recorded version (the newest when ``version`` is None), or the 404 page."""
    try:
        return await _read(ledger, lambda ledger: ledger.show(number, version)), None
    except LedgerError as exc:
        if exc.code != "ledger.not_found":
            raise
        return None, error_page(request, 404, "台账中没有", exc.detail)


async def _read(ledger: Ledger, read: Callable[[Ledger], _T]) -> _T:
    return await anyio.to_thread.run_sync(read, ledger)


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _version(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


async def ledger_list(request: Request) -> Response:
    """``GET /ledger``: the recorded versions matching the filters, newest signing first."""
    ledger, answer = _open(request)
    if ledger is None:
        assert answer is not None
        return answer
    query = request.query_params
    filters = {key: query.get(key, "").replace("\x00", "") for key in ("no", "supplier", "status")}
    filters.update(signed_from=query.get("signed_from", ""), signed_to=query.get("signed_to", ""))

    def read(ledger: Ledger) -> list[dict[str, Any]]:
        return ledger.sets(
            contract_no=filters["no"] or None,
            status=filters["status"] if filters["status"] in STATUS else None,
            supplier=filters["supplier"] or None,
            signed_from=_date(filters["signed_from"]),
            signed_to=_date(filters["signed_to"]),
        )

    rows = await _read(ledger, read)
    return html(
        request,
        "ledger.html",
        rows=rows,
        filters=filters,
        statuses=STATUS,
        signings=SIGNINGS,
    )


#: a version's signing, in Chinese
SIGNINGS = {"partly_signed": "部分签署", "signed": "已签署"}


async def ledger_set(request: Request) -> Response:
    """``GET /ledger/set?no=&version=``: a contract's versions, one version's files, its events."""
    ledger, answer = _open(request)
    if ledger is None:
        assert answer is not None
        return answer
    number = request.query_params.get("no", "").replace("\x00", "")
    version = _version(request.query_params.get("version"))

    def read(ledger: Ledger) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        return (
            ledger.sets(contract_no=number),
            ledger.show(number, version),
            ledger.history(number),
        )

    try:
        versions, shown, events = await _read(ledger, read)
        added = await _read(ledger, lambda ledger: supplements(ledger, number))
    except LedgerError as exc:
        if exc.code != "ledger.not_found":
            raise
        return error_page(request, 404, "台账中没有", exc.detail)
    today = dt.datetime.now(CHINA_TIME).date().isoformat()
    return html(
        request,
        "ledger_set.html",
        versions=versions,
        shown=shown,
        events=events,
        supplements=added,
        statuses=STATUS,
        today=today,
    )


async def ledger_form(request: Request) -> Response:
    """``GET /ledger/form?no=&version=``: a recorded version's data, loaded into the form."""
    ledger, answer = _open(request)
    if ledger is None:
        assert answer is not None
        return answer
    number = request.query_params.get("no", "").replace("\x00", "")
    version = _version(request.query_params.get("version"))
    shown, missing = await _version_of(request, ledger, number, version)
    if shown is None:
        assert missing is not None
        return missing
    data = shown["data"]
    notice = f"已载入台账中的合同 {shown['contract_no']} 第 {shown['version']} 版。"
    return form_page(request, to_values(data), check(data)[1], notice=notice)


async def publish_version(request: Request) -> Response:
    """``POST /ledger/publish``: a version's public copy and 合同公告, made, recorded and shown."""
    form, refused = await posted(request)
    if form is None:
        assert refused is not None
        return refused
    ledger, answer = _open(request)
    if ledger is None:
        assert answer is not None
        return answer
    runtime = request.app.state.runtime
    number, version = form.get("no", "").replace("\x00", ""), _version(form.get("version"))
    day = _date(form.get("published_on")) or dt.datetime.now(CHINA_TIME).date()
    shown, missing = await _version_of(request, ledger, number, version)
    if shown is None:
        assert missing is not None
        return missing
    contract, issues = check(_with_choices(shown["data"], form))
    if contract is not None:
        issues = publication_issues(contract)
    if contract is None or issues:
        reasons = "；".join(f"{i.message} [{i.code}]" for i in issues)
        return error_page(request, 422, "无法发布", reasons)
    if shown["status"] != "issued":
        message = f"第 {shown['version']} 版{STATUS[shown['status']]}，只能发布现行版本。"
        return error_page(request, 409, "无法发布", message)
    if day < contract.envelope.sign_date:
        message = f"合同公告日期 {day} 早于合同签订日期 {contract.envelope.sign_date}。"
        return error_page(request, 422, "无法发布", message)

    def work() -> Made:
        made = publish(runtime.generator, contract, published_on=day, deadline=until)
        published = record_publication(ledger, made, runtime.actor)
        files = made.files()
        pdfs: list[bytes | None] = [data for name, data in files.items() if name.endswith(".pdf")]
        return Made(
            public_folder_name(contract.envelope.contract_no),
            made.manifest(),
            files,
            pdfs,
            published.message(),
        )

    until = runtime.deadline()
    try:
        kept: Made = await runtime.run(work, until)
    except ContractError as exc:
        return error_page(request, 422, "无法发布", str(exc))
    except Exception as exc:  # the admission's 503 and 504 among them
        status = getattr(exc, "status", 503)
        return error_page(request, status, "服务繁忙", "现在无法发布，请稍后再试。")
    set_id = keep(request, kept)
    names = list(kept.files)
    pdf_names = [name for name in names if name.endswith(".pdf")]
    return html(
        request, "publication.html", set_id=set_id, made=kept, names=names, pdf_names=pdf_names
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace("\x00", "").splitlines() if line.strip()]


def _with_choices(data: Any, form: Any) -> Any:
    """Return a version's data with the clerk's choices of the publish form added to its
    publication block: texts to withhold, numbers that are public (one a line; the block
    is no part of the issued input, so the version stays the one issued)."""
    texts, numbers = _lines(form.get("withhold_text")), _lines(form.get("public_numbers"))
    if not (texts or numbers) or not isinstance(data, dict):
        return data
    block = data.get("publication")
    block = dict(block) if isinstance(block, dict) else {}
    for key, added in (("withhold_text", texts), ("public_numbers", numbers)):
        given = block.get(key)
        block[key] = [*(given if isinstance(given, list) else []), *added]
    return {**data, "publication": block}


async def verify_page(request: Request) -> Response:
    """``GET /verify``: the upload form; ``POST /verify``: the verdict on the file uploaded."""
    ledger, answer = _open(request)
    if ledger is None:
        assert answer is not None
        return answer
    if request.method == "GET":
        return html(request, "verify.html")
    try:
        fields, files = await read_upload(request, UPLOAD_MAX)
    except BodyTooLarge:
        return html(request, "verify.html", 413, notice="文件过大。")
    if not csrf_ok(request, fields):
        return error_page(request, 403, "请求已失效", "页面已过期，请刷新后重试。")
    filename, content = files.get("file", ("", b""))
    if not content:
        return html(request, "verify.html", 400, notice="请选择要核验的文件。")
    media = "application/zip" if filename.lower().endswith(".zip") else "application/octet-stream"
    try:
        result = await _read(ledger, lambda ledger: verify_body(ledger, media, content))
    except LedgerError as exc:
        if exc.code != "verify.unreadable_zip":
            raise
        return html(request, "verify.html", 422, notice=f"无法读取该 zip：{exc.detail}")
    signers = await _read(ledger, lambda ledger: _signers_of(ledger, result))
    return html(
        request,
        "verify.html",
        result=result,
        filename=filename,
        verdicts=VERDICTS,
        statuses=STATUS,
        signers=signers,
        parties=PARTIES,
    )


#: the parties of a seal, in Chinese
PARTIES = {"buyer": "甲方", "supplier": "乙方"}


def _signers_of(ledger: Ledger, result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Return the signers of every signed copy among a verification's files, by SHA-256."""
    found: dict[str, list[dict[str, Any]]] = {}
    for file in result["files"]:
        for match in file["matches"]:
            if match.get("signed_copy"):
                shown = ledger.show(match["contract_no"], match["version"])
                for copy in shown["signed_copies"]:
                    if copy["sha256"] == file["sha256"]:
                        found[file["sha256"]] = copy["signers"]
    return found


async def signed_page(request: Request) -> Response:
    """``POST /verify/signed``: record a signed copy (登记签署件), then show it verified."""
    ledger, answer = _open(request)
    if ledger is None:
        assert answer is not None
        return answer
    try:
        fields, files = await read_upload(request, UPLOAD_MAX)
    except BodyTooLarge:
        return html(request, "verify.html", 413, notice="文件过大。")
    if not csrf_ok(request, fields):
        return error_page(request, 403, "请求已失效", "页面已过期，请刷新后重试。")
    filename, content = files.get("file", ("", b""))
    if not content:
        return html(request, "verify.html", 400, notice="请选择要登记的签署件。")
    from ..ledger.signatures import missing, missing_text

    absent = missing()
    if absent:
        return html(request, "verify.html", 503, notice="本服务" + missing_text(absent) + "。")
    from ..ledger.signed import load_trust, record_signed, trust_paths

    actor = request.app.state.runtime.actor

    def work(ledger: Ledger) -> tuple[Any, dict[str, Any]]:
        done = record_signed(ledger, content, load_trust(trust_paths(None)), actor)
        return done, verify_body(ledger, "application/pdf", content)

    try:
        done, result = await _read(ledger, work)
    except LedgerError as exc:
        if not exc.code.startswith("signed."):
            raise
        notice = f"签署件不予登记：{exc.detail} [{exc.code}]"
        return html(request, "verify.html", 422, notice=notice)
    signers = await _read(ledger, lambda ledger: _signers_of(ledger, result))
    return html(
        request,
        "verify.html",
        result=result,
        filename=filename,
        verdicts=VERDICTS,
        statuses=STATUS,
        signers=signers,
        parties=PARTIES,
        recorded=done.message(),
        trust=done.trust,
    )


async def due_page(request: Request) -> Response:
    """``GET /due``: the issued contracts not yet published, with the day each is due."""
    ledger, answer = _open(request)
    if ledger is None:
        assert answer is not None
        return answer
    today = _day(request.query_params.get("on")) or dt.datetime.now(CHINA_TIME).date()
    rows = await _read(ledger, lambda ledger: unpublished(ledger.sets(status="issued"), today))
    warning = next_year_warning(today)
    return html(request, "due.html", rows=rows, today=today, warning=warning)


def _day(text: str | None) -> dt.date | None:
    """Return ``?on=YYYY-MM-DD`` (the day to count from), or None if absent or not a date."""
    try:
        return dt.date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None
