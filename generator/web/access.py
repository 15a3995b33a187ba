"""Signing in and out, and the workbench's own static files (htmx and the style sheet)."""

from __future__ import annotations

import logging
from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import LedgerError
from ..throttle import WINDOW, Limiter
from .pages import error_page, html
from .security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    BodyTooLarge,
    csrf_ok,
    directory_of,
    end_session,
    read_form,
    secure,
    session_csrf,
    session_for,
    token_of,
)

__all__ = [
    "FAILURES_MAX",
    "STATIC",
    "WINDOW",
    "Limiter",
    "favicon",
    "login",
    "login_page",
    "logout",
    "static",
]

#: the static files by name, and their media types: nothing else is served
STATIC = {
    "htmx.min.js": "text/javascript; charset=utf-8",
    "web.css": "text/css; charset=utf-8",
}
#: the largest sign-in form
_LOGIN_MAX = 4096
#: failed sign-ins allowed per client address, and per login, in :data:`WINDOW` seconds
FAILURES_MAX = 5


_limiter = Limiter(FAILURES_MAX)
_log = logging.getLogger("generator.web")


async def login_page(request: Request) -> Response:
    """``GET /login``: the token form (straight to the form when there is no token)."""
    if not token_of(request):
        return secure(request, RedirectResponse("/", status_code=303))
    return html(request, "login.html")


async def login(request: Request) -> Response:
    """``POST /login``: the token for an HttpOnly, SameSite=Strict session cookie."""
    if not token_of(request):
        return secure(request, RedirectResponse("/", status_code=303))
    try:
        form = await read_form(request, _LOGIN_MAX)
    except BodyTooLarge:
        return error_page(request, 413, "数据过大", "提交的数据超过大小限制。")
    if not csrf_ok(request, form):
        return error_page(request, 403, "请求已失效", "页面已过期，请刷新后重试。")
    login = form.get("login", "").strip()
    keys = [f"address:{request.client.host if request.client else ''}"]
    if login:
        keys.append(f"login:{login}")
    wait = _limiter.wait(keys)
    if wait:
        message = f"登录失败次数过多，请 {wait} 秒后再试。"
        refused = error_page(request, 429, "请稍后再试", message)
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = directory_of(request).by_token(form.get("token", ""))
    if user is None or (login and login != user.login):
        _limiter.failed(keys)
        return html(request, "login.html", 401, failed=True)
    request.state.session_refresh = None  # a session held before is replaced, not refreshed
    response = secure(request, RedirectResponse("/", status_code=303))
    cookie = session_for(user)
    # the session's own CSRF token from now on (the one of the sign-in page is done with)
    https = request.url.scheme == "https"
    response.set_cookie(
        CSRF_COOKIE, session_csrf(cookie), httponly=True, samesite="strict", path="/", secure=https
    )
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    """``POST /logout``: the session cookie dropped."""
    form = await read_form(request, _LOGIN_MAX)
    if not csrf_ok(request, form):
        return error_page(request, 403, "请求已失效", "页面已过期，请刷新后重试。")
    try:
        end_session(request)
    except LedgerError as exc:  # ended here and its cookie dropped; the other replicas not told
        _log.warning("sign-out not recorded in the ledger: %s", exc)
    response = secure(request, RedirectResponse("/login", status_code=303))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@cache
def _static_bytes(name: str) -> bytes:
    return files("generator.web").joinpath("static", name).read_bytes()


async def static(request: Request) -> Response:
    """``GET /static/{name}``: one of the package's static files, cached for a day."""
    name = request.path_params["name"]
    if name not in STATIC:
        return error_page(request, 404, "没有这个文件", "请求的文件不存在。")
    response = Response(_static_bytes(name), media_type=STATIC[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def favicon(request: Request) -> Response:
    """``GET /favicon.ico``: no icon (an answer, so browsers log no error)."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
