"""The pages of one contract: the form, live validation, loading, saving, preview and downloads.

Rendering goes through the service's runtime (its Generator, slots, queue and
deadlines, and its ledger), exactly as ``POST /v1/contracts`` does: the
workbench never renders beside the admission control. Sets made are kept in
memory (the last few) for their page images and downloads, and with a broker in
the shared jobs folder too, for every replica (:mod:`.shared_sets`).
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import ContractError, InputError, InvalidContractError, Issue, unrenderable
from ..inputs import parse_json, parse_yaml
from ..kinds import check
from ..pdf import page_png
from .form import (
    blank_row,
    index_issues,
    kind_of,
    list_rows,
    to_data,
    to_values,
    within_limits,
)
from .made import Made
from .security import (
    BodyTooLarge,
    csrf_of,
    csrf_ok,
    read_form,
    read_upload,
    secure,
    signed_in,
    token_of,
)
from .shared_sets import load_preview, store_preview
from .views import amount_upper, issue_map, page, slot_paths

__all__ = [
    "PICTURES_BYTES",
    "PICTURES_KEPT",
    "PICTURE_DPIS",
    "SETS_KEPT",
    "Made",
    "attachment",
    "body_too_large",
    "contract_action",
    "download",
    "error_page",
    "find_set",
    "form_page",
    "home",
    "html",
    "keep",
    "kept_sets",
    "load",
    "max_body",
    "picture_dpi",
    "posted",
    "shared_previews",
    "sign_in_first",
    "validate_live",
]

#: sets kept in memory for their pictures and downloads (the oldest dropped first)
SETS_KEPT = 8
#: the resolutions a page picture is made at (any other asked for: the nearest of these)
PICTURE_DPIS = (72, 150)
#: page pictures kept per set, by count and by their bytes together (the oldest dropped)
PICTURES_KEPT = 64
PICTURES_BYTES = 16 * 1024 * 1024
_log = logging.getLogger("contractgen.web")


def keep(request: Request, made: Made) -> str:
    """Keep files made (the oldest dropped beyond :data:`SETS_KEPT`); return their id."""
    store = kept_sets(request)
    set_id = secrets.token_urlsafe(12)
    store[set_id] = made
    while len(store) > SETS_KEPT:
        store.popitem(last=False)
    return set_id


def shared_previews(request: Request) -> Path | None:
    """Return where previews go for every replica (the jobs folder's); None without a broker."""
    jobs = request.app.state.runtime.jobs
    return None if jobs is None else Path(jobs.folder) / "previews"


async def find_set(request: Request, set_id: str) -> Made | None:
    """Return a set kept here, or one another replica previewed in the shared folder."""
    made = kept_sets(request).get(set_id)
    root = shared_previews(request)
    if made is None and root is not None:
        made = await anyio.to_thread.run_sync(load_preview, root, set_id)
        if made is not None:
            store = kept_sets(request)
            store[set_id] = made
            while len(store) > SETS_KEPT:
                store.popitem(last=False)
    return made


def kept_sets(request: Request) -> OrderedDict[str, Made]:
    state = request.app.state
    if not hasattr(state, "web_sets"):
        state.web_sets = OrderedDict()
    store: OrderedDict[str, Made] = state.web_sets
    return store


def max_body(request: Request) -> int:
    limit: int = request.app.state.runtime.settings.max_body
    return limit


def html(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    """Return a page with the security headers, the CSRF token in its context."""
    context.setdefault("issues", {})
    context.setdefault("here", request.url.path)
    body = page(
        name, csrf=csrf_of(request), signed_in_with_token=bool(token_of(request)), **context
    )
    return secure(request, HTMLResponse(body, status_code=status))


def error_page(request: Request, status: int, heading: str, message: str) -> Response:
    """Return an error page that says what to do, and nothing of the server's internals."""
    return html(request, "error.html", status, heading=heading, message=message)


def form_page(
    request: Request,
    values: dict[str, str],
    issues: list[Issue] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    return html(
        request,
        "contract.html",
        status,
        values=values,
        issues=issue_map(issues or []),
        issues_list=issues or [],
        checked=issues is not None,
        notice=notice,
        amount_upper=amount_upper(values.get("amount", "")),
        kind_id=kind_of(values.get("kind")).id,
        kind_title=kind_of(values.get("kind")).title,
    )


def sign_in_first(request: Request) -> Response | None:
    """Return the answer to a request that is not signed in (None: it may go on)."""
    if signed_in(request):
        return None
    if request.method == "GET":
        return secure(request, RedirectResponse("/login", status_code=303))
    return error_page(request, 401, "请先登录", "会话已失效，请重新登录。")


async def posted(request: Request) -> tuple[dict[str, str] | None, Response | None]:
    """Return a POST's form once signed in, within the size limit, with a valid CSRF token."""
    refused = sign_in_first(request)
    if refused is not None:
        return None, refused
    try:
        form = await read_form(request, max_body(request))
    except BodyTooLarge:
        return None, error_page(request, 413, "数据过大", "提交的数据超过服务的大小限制。")
    if not csrf_ok(request, form):
        return None, error_page(request, 403, "请求已失效", "页面已过期，请刷新后重试。")
    form.pop("csrf", None)
    return form, None


async def home(request: Request) -> Response:
    """``GET /`` (``?kind=ID``): an empty contract form of a kind, with the defaults filled in."""
    return sign_in_first(request) or form_page(
        request, to_values(None, request.query_params.get("kind"))
    )


async def validate_live(request: Request) -> Response:
    """``POST /validate`` (htmx): the summary, each field's messages and the amount's 大写."""
    form, refused = await posted(request)
    if form is None:
        assert refused is not None
        return refused
    form.pop("action", None)
    bounded, issues = await anyio.to_thread.run_sync(_checked, form)
    body = page(
        "_feedback.html",
        checked=True,
        issues_list=issues,
        issues=issue_map(issues),
        slots=slot_paths(bounded),
        amount_upper=amount_upper(bounded.get("amount", "")),
    )
    return secure(request, HTMLResponse(body))


def _checked(form: dict[str, str]) -> tuple[dict[str, str], list[Issue]]:
    """Return a form within its lists' limits and its issues, rows beyond a limit named first.

    The limits are checked on the values' names before any row is built (a form naming
    row 300,000 of a list of at most 30 costs one look); run off the event loop.
    """
    beyond = index_issues(form)
    bounded = within_limits(form) if beyond else form
    return bounded, beyond + check(to_data(bounded))[1]


def _reindexed(values: dict[str, str], path: str, removed: int) -> dict[str, str]:
    """Return the values without row ``removed`` of the list at ``path``, later rows moved up."""
    out: dict[str, str] = {}
    prefix = f"{path}["
    for key, value in values.items():
        if key.startswith(prefix) and "]" in key[len(prefix) :]:
            index_text, _, rest = key[len(prefix) :].partition("]")
            if index_text.isdigit():
                index = int(index_text)
                if index == removed:
                    continue
                if index > removed:
                    key = f"{path}[{index - 1}]{rest}"
        out[key] = value
    return out


def _with_row(values: dict[str, str], path: str) -> dict[str, str]:
    """Return the values with an empty row added to the list at ``path``."""
    row = blank_row(path, list_rows(values, path), values.get("kind"))
    return values if row is None else {**values, **row}


async def contract_action(request: Request) -> Response:
    """``POST /contract``: add or remove a row, check, save as YAML, or preview the set."""
    form, refused = await posted(request)
    if form is None:
        assert refused is not None
        return refused
    action = form.pop("action", "check")
    beyond = index_issues(form)
    if beyond:
        bounded, issues = await anyio.to_thread.run_sync(_checked, form)
        return form_page(request, bounded, issues, status=422)
    if action.startswith("add:"):
        return form_page(request, _with_row(form, action[4:]))
    if action.startswith("remove:") and action.endswith("]") and "[" in action:
        path, _, index = action[7:-1].rpartition("[")
        if index.isdigit():
            return form_page(request, _reindexed(form, path, int(index)))
    data = to_data(form)
    if action == "save":
        return _save(request, data)
    contract, issues = await anyio.to_thread.run_sync(check, data)
    if action != "preview" or contract is None:
        return form_page(request, form, issues, status=200 if not issues else 422)
    return await _preview(request, form, data)


def _yaml_text(data: dict[str, Any]) -> str:
    """Return contract data as YAML: text stays text, multi-line text as a block."""

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    dumped: str = yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return dumped


def _save(request: Request, data: dict[str, Any]) -> Response:
    name = str(data.get("contract_no") or "contract").strip() or "contract"
    headers = {"Content-Disposition": attachment(f"{name}.yaml")}
    response = Response(_yaml_text(data), media_type="application/yaml", headers=headers)
    return secure(request, response)


def attachment(filename: str) -> str:
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _preview(request: Request, form: dict[str, str], data: dict[str, Any]) -> Response:
    """Render the set in a slot of the service, keep it, and show its manifest and pages."""
    runtime = request.app.state.runtime
    until = runtime.deadline()

    def work() -> Made:
        # a preview is a draft: recorded nowhere until the clerk presses 签发
        return Made.of_set(runtime.generator.render(data, deadline=until), None)

    try:
        made: Made = await runtime.run(work, until)
    except InvalidContractError as exc:
        return form_page(request, form, list(exc.issues), status=422)
    except ContractError as exc:
        refusal = unrenderable(exc)
        if refusal is not None:  # the same data fails alike every time: say why, not 重试
            _log.info("web preview unrenderable: %s", exc)
            return form_page(request, form, [refusal], status=422)
        _log.warning("web preview failed: %s", exc)
        return error_page(request, 500, "生成失败", "合同未能生成，请稍后重试或联系管理员。")
    except Exception as exc:  # the admission's 503 and 504 among them
        status = getattr(exc, "status", 503)
        _log.warning("web preview refused: %r", exc)
        return error_page(request, status, "服务繁忙", "现在无法生成合同，请稍后再试。")
    set_id = keep(request, made)
    root = shared_previews(request)
    if root is not None:  # for the other replicas: its downloads, pictures and 签发
        try:
            await anyio.to_thread.run_sync(store_preview, root, set_id, made)
        except OSError as exc:  # this replica still has it
            _log.warning("web preview not shared: %r", exc)
    return preview_page(request, set_id, made)


def preview_page(request: Request, set_id: str, made: Made, status: int = 200) -> Response:
    runtime = request.app.state.runtime
    return html(
        request,
        "preview.html",
        status=status,
        set_id=set_id,
        manifest=made.manifest,
        files=list(made.files),
        ledger=made.ledger,
        draft=made.draft is not None or made.foreign,
        can_issue=runtime.ledger is not None,
    )


async def load(request: Request) -> Response:
    """``POST /load``: a YAML or JSON file into the form, its issues shown at once."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    try:
        fields, files = await read_upload(request, max_body(request))
    except BodyTooLarge:
        return error_page(request, 413, "文件过大", "文件超过服务的大小限制。")
    if not csrf_ok(request, fields):
        return error_page(request, 403, "请求已失效", "页面已过期，请刷新后重试。")
    filename, content = files.get("file", ("", b""))
    if not content:
        return form_page(request, to_values(None), notice="请选择要载入的文件。", status=400)
    try:
        text = content.decode("utf-8-sig")
        parser = parse_json if filename.lower().endswith(".json") else parse_yaml
        data = parser(text, filename)
    except UnicodeDecodeError:
        return form_page(request, to_values(None), notice="文件不是 UTF-8 文本。", status=400)
    except InputError as exc:
        return form_page(request, to_values(None), notice=f"无法读取：{exc}", status=400)
    if not isinstance(data, dict):
        return form_page(request, to_values(None), notice="文件内容应为键值表。", status=400)
    values = await anyio.to_thread.run_sync(to_values, data)
    known = set(kind_of(values.get("kind")).model.model_fields) | {"kind"}
    unknown = sorted(str(key) for key in set(data) - known)
    notice = f"已载入 {filename}。" + (f"未识别的字段：{', '.join(unknown)}" if unknown else "")
    issues = (await anyio.to_thread.run_sync(check, data))[1]
    return form_page(request, values, issues, notice=notice)


async def download(request: Request) -> Response:
    """``GET /sets/{id}.zip``, ``/sets/{id}/files/{n}``, ``/sets/{id}/pages/{d}/{p}.png``."""
    refused = sign_in_first(request)
    if refused is not None:
        return refused
    params = request.path_params
    made = await find_set(request, params["set_id"])
    if made is None:
        return error_page(request, 404, "已过期", "这份预览已不在服务器上，请重新生成。")
    if "index" not in params and "doc" not in params:
        headers = {"Content-Disposition": attachment(f"{made.folder}.zip")}
        return secure(request, Response(made.zip, media_type="application/zip", headers=headers))
    if "index" in params:
        names = list(made.files)
        index = params["index"]
        if not 0 <= index < len(names):
            return error_page(request, 404, "没有这个文件", "请回到预览页重新选择。")
        name = names[index]
        media = _media(name)
        headers = {"Content-Disposition": attachment(name)}
        return secure(request, Response(made.files[name], media_type=media, headers=headers))
    return await _picture(request, made)


def _media(name: str) -> str:
    if name.endswith(".pdf"):
        return "application/pdf"
    if name.endswith(".json"):
        return "application/json"
    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _picture(request: Request, made: Made) -> Response:
    params = request.path_params
    doc, number = params["doc"], params["page"]
    dpi = picture_dpi(request.query_params.get("dpi", "72"))
    pdf = made.pdfs[doc] if 0 <= doc < len(made.pdfs) else None
    if pdf is None:
        return error_page(request, 404, "没有这一页", "请回到预览页重新选择。")
    key = (doc, number, dpi)
    picture = made.pictures.get(key)
    if picture is None:
        try:
            picture = await anyio.to_thread.run_sync(page_png, pdf, number, dpi)
        except IndexError:
            return error_page(request, 404, "没有这一页", "请回到预览页重新选择。")
        _keep_picture(made, key, picture)
    headers = {"Cache-Control": "private, max-age=600"}
    response = secure(request, Response(picture, media_type="image/png"))
    response.headers.update(headers)
    return response


def picture_dpi(text: str) -> int:
    """Return the resolution of a page picture: the nearest of :data:`PICTURE_DPIS`."""
    asked = int(text) if text.isdigit() and len(text) <= 4 else PICTURE_DPIS[0]
    return min(PICTURE_DPIS, key=lambda dpi: (abs(dpi - asked), dpi))


def _keep_picture(made: Made, key: tuple[int, int, int], picture: bytes) -> None:
    """Keep a page picture, the oldest dropped beyond the cache's count and size."""
    pictures = made.pictures
    pictures[key] = picture
    while pictures and (
        len(pictures) > PICTURES_KEPT or sum(map(len, pictures.values())) > PICTURES_BYTES
    ):
        del pictures[next(iter(pictures))]


async def body_too_large(request: Request, _: Exception) -> Response:
    """Answer a workbench request whose body is over its limit, wherever it was read: 413."""
    return error_page(request, 413, "数据过大", "提交的数据超过服务的大小限制。")
