"""The pages of a round: upload a workbook, see every row checked, make the sets, watch, download.

::

    GET  /rounds                        the upload form, the rounds kept
    POST /rounds                        a workbook, CSV or JSON lines: its rows checked
    GET  /rounds/blank.xlsx             the blank workbook to fill in
    GET  /rounds/{id}                   the round: every row's issues, the start button
    POST /rounds/{id}/start             make the good rows (in the background)
    GET  /rounds/{id}/progress          (htmx, polled each second) how far it is
    GET  /rounds/{id}/files/{name}      batch-report.csv / .json, round.zip

Without a broker a round is this process's own (``app.state.web_rounds``), made in
its slots; with one (``serve --broker``) it is kept in Redis and made by the queue's
workers (:mod:`.shared_rounds`), so every replica shows it, starts it and serves it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from .. import logs
from ..batch import REPORT_FILES
from ..errors import QueueError
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
from .shared_rounds import open_shared, shared_round, shared_rounds

__all__ = ["blank", "progress", "round_file", "round_page", "rounds_page", "start", "upload"]

#: the largest upload: the batch's largest input, and room for the form around it
UPLOAD_MAX = LIMITS.file_bytes + (64 << 10)
_log = logging.getLogger("contractgen.web")
Handler = Callable[[Request], Awaitable[Response]]
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


def _dropped(request: Request) -> set[str]:
    """Return the ids of this process's rounds dropped for newer ones."""
    state = request.app.state
    if not hasattr(state, "web_rounds_dropped"):
        state.web_rounds_dropped = set()
    dropped: set[str] = state.web_rounds_dropped
    return dropped


def _store(request: Request) -> Any:
    """Return the rounds kept in Redis (None: no broker, the rounds are this process's)."""
    return getattr(request.app.state.runtime, "rounds", None)


async def _kept(request: Request) -> list[Round]:
    """Return the rounds the upload page lists, the newest first."""
    store = _store(request)
    if store is None:
        return list(reversed(_rounds(request).values()))
    return await anyio.to_thread.run_sync(shared_rounds, store)


async def _round_of(request: Request) -> Round | None:
    round_id = request.path_params["round_id"]
    store = _store(request)
    if store is None:
        return _rounds(request).get(round_id)
    return await anyio.to_thread.run_sync(shared_round, store, round_id)


def _gone(request: Request) -> Response:
    """Say why a round is not here: dropped for newer ones, or never of this replica."""
    if _store(request) is not None:
        message = (
            "各服务副本共享的批次记录中没有这一批：批次保留 7 天，或链接有误"
            "（消息队列 Redis 未持久化而重启过，也会丢失批次记录）。请重新上传。"
        )
    elif request.path_params["round_id"] in _dropped(request):
        message = "这一批已不在服务器上（只保留最近 4 批），请重新上传。"
    else:
        message = (
            "本服务副本上没有这一批。未配置消息队列时，批次只保存在上传它的那个服务进程中，"
            "服务重启后即不再保留；多副本部署（负载均衡）时，其他副本看不到它。"
            "请重新上传；或请管理员为各副本配置同一消息队列（--broker）与共享文件夹"
            "（--jobs-dir），使批次在各副本间共享并由工作进程生成。"
        )
    return error_page(request, 404, "没有这一批", message)


def _unreachable(request: Request) -> Response:
    """Answer a round page while Redis cannot be reached: 503, try again shortly."""
    refused = error_page(
        request, 503, "暂时无法读取批次", "消息队列（Redis）暂时无法连接，请稍后刷新重试。"
    )
    refused.headers["Retry-After"] = "5"
    return refused


def _round_view(request: Request, made: Round, status: int = 200) -> Response:
    return html(request, "round.html", status, **_round_values(request, made))


def _round_values(request: Request, made: Round) -> dict[str, Any]:
    """Return what the round's section shows: the round, and whether it can be issued."""
    can_issue = request.app.state.runtime.ledger is not None
    return {"round": made, "rows_shown": ROWS_SHOWN, "can_issue": can_issue}


def _queue_away(handler: Handler) -> Handler:
    """Have a round page answer 503 (try again) while Redis cannot be reached."""

    @functools.wraps(handler)
    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except QueueError as exc:
            if exc.code != "queue.unreachable":
                raise
            _log.warning("round page: %s", exc)
            return _unreachable(request)

    return answered


@_queue_away
async def rounds_page(request: Request) -> Response:
    """``GET /rounds``: the upload form, and the rounds kept, newest first."""
    refused = sign_in_first(request)
    return refused or html(request, "rounds.html", rounds=await _kept(request))


@_queue_away
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
    kind_id = fields.get("kind") or None
    if notice is None and kind_id is not None and kind_id not in registry().kinds:
        notice = "没有这种合同类型。"
    if notice is not None:
        return html(request, "rounds.html", 400, rounds=await _kept(request), notice=notice)
    runtime = request.app.state.runtime
    publish = fields.get("publish") == "on"
    store = _store(request)
    if store is not None:  # kept in Redis: every replica sees it
        upload = (filename, content)
        actor = runtime.actor  # read here: the request's user
        round_id = await anyio.to_thread.run_sync(
            open_shared, store, runtime.scratch, upload, publish, kind_id, actor
        )
        return secure(request, RedirectResponse(f"/rounds/{round_id}", status_code=303))
    made = await anyio.to_thread.run_sync(
        open_round, runtime.scratch, filename, content, publish, kind_id
    )
    rounds = _rounds(request)
    rounds[made.id] = made
    drop_old(rounds, _dropped(request))
    return secure(request, RedirectResponse(f"/rounds/{made.id}", status_code=303))


@_queue_away
async def round_page(request: Request) -> Response:
    """``GET /rounds/{id}``: the round's rows and their issues, and how far it is."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    made = await _round_of(request)
    return _gone(request) if made is None else _round_view(request, made)


@_queue_away
async def start(request: Request) -> Response:
    """``POST /rounds/{id}/start``: make the round's good rows in the background."""
    form, refused = await posted(request)
    if form is None:
        assert refused is not None
        return refused
    made = await _round_of(request)
    if made is None:
        return _gone(request)
    if made.state != "checked" or not made.total:
        return error_page(request, 409, "无法开始", "这一批已经开始过，或没有可以生成的合同。")
    runtime = request.app.state.runtime
    issuing = form.get("issue") == "1"
    if issuing and runtime.ledger is None:
        return error_page(request, 409, "无法签发", "本服务未配置合同台账，只能生成草稿。")
    if made.options.publish and not issuing and runtime.ledger is not None:
        return error_page(request, 409, "无法开始", "草稿不能发布：同时发布的批次须签发。")
    store = _store(request)
    if store is not None:  # a job of the queue's workers, in the name of who pressed 生成
        said = await anyio.to_thread.run_sync(
            store.start, made.id, issuing, runtime.actor, logs.current().get("request_id")
        )
        if said == "missing":
            return _gone(request)
        if said == "other_way":
            return error_page(request, 409, "无法开始", "这一批已经以另一种方式开始过。")
        _log.info("round %s started on the workers by %s", made.id, runtime.actor)
        return secure(request, RedirectResponse(f"/rounds/{made.id}", status_code=303))
    made.options = replace(made.options, issue=issuing)
    made.state = "running"
    runtime.tasks.start_soon(make_round, runtime, made)
    return secure(request, RedirectResponse(f"/rounds/{made.id}", status_code=303))


@_queue_away
async def progress(request: Request) -> Response:
    """``GET /rounds/{id}/progress`` (htmx): the round's section, polled while it runs."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    made = await _round_of(request)
    if made is None:
        return _gone(request)
    return html(request, "_round.html", **_round_values(request, made))


@_queue_away
async def round_file(request: Request) -> Response:
    """``GET /rounds/{id}/files/{name}``: a report, or the whole round as a zip, once done."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    made = await _round_of(request)
    name = request.path_params["name"]
    if made is None:
        return _gone(request)
    if name not in _FILES or made.state != "done" or made.report_failed:
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
