"""The workbench's 签发: the draft the clerk previewed, recorded in the ledger as it is.

A preview is a draft (:func:`~generator.web.pages.contract_action`): made, shown and
downloadable, recorded nowhere. ``POST /sets/{id}/issue`` records that very set (its
bytes are those a render of the same data makes) in the name of whoever is signed in;
from then on it verifies, counts in 待公告 and can be published. With a broker, any
replica issues it (read back from the shared folder: :mod:`.shared_sets`), once.
"""

from __future__ import annotations

import logging

import anyio
from starlette.requests import Request
from starlette.responses import Response

from ..clock import beijing, utc_text
from ..errors import LedgerError
from ..ledger import Ledger, Recorded
from .pages import error_page, find_set, posted, preview_page, shared_previews
from .shared_sets import issued_elsewhere, mark_issued

__all__ = ["issue"]

_log = logging.getLogger("contractgen.web")


async def issue(request: Request) -> Response:
    """``POST /sets/{id}/issue``: issue the set previewed; the page says what the ledger did."""
    form, refused = await posted(request)
    if form is None:
        assert refused is not None
        return refused
    set_id = request.path_params["set_id"]
    made = await find_set(request, set_id)
    if made is None:
        gone = "这份预览已不在服务器上，请重新生成后再签发。"
        return error_page(request, 404, "预览已过期", gone)
    runtime = request.app.state.runtime
    ledger: Ledger | None = runtime.ledger
    if ledger is None:
        return error_page(request, 409, "无法签发", "本服务未配置合同台账，只能生成草稿。")
    if made.foreign:
        again = "这份预览由另一版本的服务生成，本副本不能签发；请重新生成后再签发。"
        return error_page(request, 409, "无法签发", again)
    root = shared_previews(request)
    elsewhere = (
        None if root is None else await anyio.to_thread.run_sync(issued_elsewhere, root, set_id)
    )
    if elsewhere is not None:  # issued on another replica meanwhile
        made.ledger, made.draft = elsewhere, None
    draft = made.draft
    if draft is None:  # issued already (a second press, or another tab): say what was done
        return preview_page(request, set_id, made)
    actor = runtime.actor  # read here: the request's user

    def record() -> Recorded:
        return ledger.record(draft, actor)

    try:
        recorded = await anyio.to_thread.run_sync(record)
    except LedgerError as exc:
        _log.warning("web issue refused: %s", exc.code)
        status = 503 if exc.code == "ledger.unreachable" else 409
        return error_page(request, status, "签发未完成", str(exc))
    made.ledger = f"已由 {actor} 于 {beijing(utc_text())}签发。{recorded.message()}"
    made.draft = None
    if root is not None:
        try:
            await anyio.to_thread.run_sync(mark_issued, root, set_id, made.ledger)
        except OSError as exc:  # recorded all the same: the ledger is what counts
            _log.warning("web issue not noted in the shared folder: %r", exc)
    return preview_page(request, set_id, made)
