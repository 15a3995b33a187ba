"""The pages of a round: upload a workbook, see every row checked, make the sets, watch, download.

::

    GET  /rounds                        the upload form, the rounds kept
    POST /rounds                        a workbook, CSV or JSON lines: its rows checked
    GET  /rounds/blank.xlsx             the blank workbook to fill in
    GET  /rounds/{id}                   the round: every row's issues, the start button
    POST /rounds/{id}/start             make the good rows (in the background)
    GET  /rounds/{id}/progress          (htmx, polled each second) how far it is
    GET  /rounds/{id}/files/{name}      batch-report.csv / .json, round.zip
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from ..batch import REPORT_FILES
from ..inputs.sheets import LIMITS
from ..kinds import registry
from .pages import attachment, error_page, html, posted, sign_in_first
from .rounds import (
    ROWS_SHOWN,
    UPLOAD_SUFFIXES,
    Round,
    blank_workbook,
    drop_old,
    make_round,
    open_round,
    round_zip,
)
from .security import BodyTooLarge, csrf_ok, read_upload, secure

__all__ = ["blank", "progress", "round_file", "round_page", "rounds_page", "start", "upload"]

#: the largest upload: the batch's largest input, and room for the form around it
UPLOAD_MAX = LIMITS.file_bytes + (64 << 10)
#: the files of a round one may download, and their media types
_FILES = {
    REPORT_FILES[0]: "text/csv; charset=utf-8",
    REPORT_FILES[1]: "application/json",
    "round.zip": "application/zip",
}


def _rounds(request: Request) -> dict[str, Round]:
    state = request.app.state
    if not hasattr(state, "web_rounds"):
        state.web_rounds = {}
    rounds: dict[str, Round] = state.web_rounds
    return rounds


def _round_of(request: Request) -> Round | None:
    return _rounds(request).get(request.path_params["round_id"])


def _gone(request: Request) -> Response:
    return error_page(
        request, 404, "没有这一批", "这一批已不在服务器上（只保留最近几批），请重新上传。"
    )


def _round_view(request: Request, made: Round, status: int = 200) -> Response:
    return html(request, "round.html", status, **_round_values(request, made))


def _round_values(request: Request, made: Round) -> dict[str, Any]:
    """Return what the round's section shows: the round, and whether it can be issued."""
    can_issue = request.app.state.runtime.ledger is not None
    return {"round": made, "rows_shown": ROWS_SHOWN, "can_issue": can_issue}


async def rounds_page(request: Request) -> Response:
    """``GET /rounds``: the upload form, and the rounds kept, newest first."""
    kept = list(reversed(_rounds(request).values()))
    return sign_in_first(request) or html(request, "rounds.html", rounds=kept)


async def upload(request: Request) -> Response:
    """``POST /rounds``: save the file in a new round and check every row, nothing made yet."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    try:
        fields, files = await read_upload(request, UPLOAD_MAX)
    except BodyTooLarge:
        mib = LIMITS.file_bytes >> 20
        return error_page(request, 413, "文件过大", f"批量文件不能超过 {mib} MiB。")
    if not csrf_ok(request, fields):
        return error_page(request, 403, "请求已失效", "页面已过期，请刷新后重试。")
    filename, content = files.get("file", ("", b""))
    notice = None
    if not content:
        notice = "请选择要上传的文件。"
    elif not filename.lower().endswith(UPLOAD_SUFFIXES):
        notice = "不支持的文件：请上传 .xlsx 工作簿、.csv 或 .jsonl 文件。"
    if notice is not None:
        kept = list(reversed(_rounds(request).values()))
        return html(request, "rounds.html", 400, rounds=kept, notice=notice)
    scratch = request.app.state.runtime.scratch
    publish = fields.get("publish") == "on"
    kind_id = fields.get("kind") or None
    if kind_id is not None and kind_id not in registry().kinds:
        kept = list(reversed(_rounds(request).values()))
        return html(request, "rounds.html", 400, rounds=kept, notice="没有这种合同类型。")
    made = await anyio.to_thread.run_sync(open_round, scratch, filename, content, publish, kind_id)
    rounds = _rounds(request)
    rounds[made.id] = made
    drop_old(rounds)
    return secure(request, RedirectResponse(f"/rounds/{made.id}", status_code=303))


async def round_page(request: Request) -> Response:
    """``GET /rounds/{id}``: the round's rows and their issues, and how far it is."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    made = _round_of(request)
    return _gone(request) if made is None else _round_view(request, made)


async def start(request: Request) -> Response:
    """``POST /rounds/{id}/start``: make the round's good rows in the background."""
    form, refused = await posted(request)
    if form is None:
        assert refused is not None
        return refused
    made = _round_of(request)
    if made is None:
        return _gone(request)
    if made.state != "checked" or not made.valid:
        return error_page(request, 409, "无法开始", "这一批已经开始过，或没有可以生成的合同。")
    runtime = request.app.state.runtime
    issuing = form.get("issue") == "1"
    if issuing and runtime.ledger is None:
        return error_page(request, 409, "无法签发", "本服务未配置合同台账，只能生成草稿。")
    if made.options.publish and not issuing and runtime.ledger is not None:
        return error_page(request, 409, "无法开始", "草稿不能发布：同时发布的批次须签发。")
    made.options = replace(made.options, issue=issuing)
    made.state = "running"
    runtime.tasks.start_soon(make_round, runtime, made)
    return secure(request, RedirectResponse(f"/rounds/{made.id}", status_code=303))


async def progress(request: Request) -> Response:
    """``GET /rounds/{id}/progress`` (htmx): the round's section, polled while it runs."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    made = _round_of(request)
    if made is None:
        return _gone(request)
    return html(request, "_round.html", **_round_values(request, made))


async def round_file(request: Request) -> Response:
    """``GET /rounds/{id}/files/{name}``: a report, or the whole round as a zip, once done."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    made = _round_of(request)
    name = request.path_params["name"]
    if made is None:
        return _gone(request)
    if name not in _FILES or made.state != "done":
        return error_page(request, 404, "没有这个文件", "这一批完成后才能下载报告与合同。")
    if name == "round.zip":
        path = await anyio.to_thread.run_sync(round_zip, made)
        filename = f"{made.source.rsplit('.', 1)[0]}-合同.zip"
    else:
        path, filename = made.out / name, name
    headers = {"Content-Disposition": attachment(filename)}
    return secure(request, FileResponse(path, media_type=_FILES[name], headers=headers))


async def blank(request: Request) -> Response:
    """``GET /rounds/blank.xlsx``: the workbook to fill in, one contract a row."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    kind_id = request.query_params.get("kind") or None
    if kind_id is not None and kind_id not in registry().kinds:
        return error_page(request, 404, "没有这种合同类型", "请从批量生成页选择合同类型。")
    scratch = request.app.state.runtime.scratch
    content = await anyio.to_thread.run_sync(blank_workbook, scratch, kind_id)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    headers = {"Content-Disposition": attachment("合同批量模板.xlsx")}
    return secure(request, Response(content, media_type=media, headers=headers))
