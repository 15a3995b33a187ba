"""Workbench sessions across replicas, and cookie tossing in a real browser.

Two real services (``contractgen serve`` subprocesses on 127.0.0.1) share one SQLite
ledger, the token and the session secret, as replicas behind a load balancer do: a
session signed in on A opens B too, and 退出 on A ends it on B. Then Debian's chromium,
with ``*.corp.test`` mapped to 127.0.0.1 (``--host-resolver-rules``: no packet leaves
the machine), signs in to ``app.corp.test`` (service A) and visits a page of its sibling
``evil.corp.test`` (a server of this test): same site for cookies, so that page can plant
a ``contractgen_csrf`` cookie for the whole of ``corp.test`` and post a form with that
token to ``/ledger/publish``. The publish is refused (403: a signed-in request's token is
bound to its session) and nothing is recorded; with 200 cookies more the page evicts the
session cookie instead, and the victim is simply signed out.
"""

from __future__ import annotations

import copy
import html
import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from generator import Generator
from generator.ledger import Ledger

from .browser import CHROMIUM, EXPECT_TIMEOUT_MS, TOKEN, needs_chromium
from .test_service import Server, start_server, stop_server

SECRET = "sessions-test-secret-0123456789abcdef"
NUMBER = "SESS-2026-001"
APP = "app.corp.test"
#: the token the attacker's page plants and posts (the shape of a real one: 43 characters)
PLANTED = "P" * 43


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory, seed_data: dict[str, Any]) -> str:
    """Return a ledger holding one issued version, which a forged publish would publish."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'ledger.db'}"
    data = copy.deepcopy(seed_data)
    data["contract_no"] = NUMBER
    with Generator(workers=1, cached_sets=0) as generator, Ledger(url) as ledger:
        ledger.record(generator.render(data, formats=("docx",)), "测试")
    return url


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, ledger_url: str) -> Iterator[list[Server]]:
    """Return two services sharing the ledger, the token and the session secret."""
    folder = tmp_path_factory.mktemp("replicas")
    args = ("--workers", "1", "--ledger", ledger_url, "--allowed-host", APP)
    os.environ["CONTRACTGEN_SESSION_SECRET"] = SECRET  # the servers' environment is ours
    try:
        with ThreadPoolExecutor(2) as pool:  # both start at once: each waits for its office
            starting = [pool.submit(start_server, folder, *args, token=TOKEN) for _ in "AB"]
        started = [future.result() for future in starting]
    finally:
        del os.environ["CONTRACTGEN_SESSION_SECRET"]
    try:
        yield started
    finally:
        for server in started:
            stop_server(server)


def _signed_in(client: httpx.Client) -> str:
    """Sign a client in with the token; return the session's CSRF token."""
    csrf = client.get("/login").cookies["contractgen_csrf"]
    assert client.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303
    return client.cookies["contractgen_csrf"]


def test_signing_out_on_one_replica_ends_the_session_on_the_other(
    replicas: list[Server],
) -> None:
    a, b = replicas
    with httpx.Client(base_url=a.url, follow_redirects=False, timeout=60) as on_a:
        csrf = _signed_in(on_a)
        session = on_a.cookies["contractgen_session"]
        with httpx.Client(base_url=b.url, follow_redirects=False, timeout=60) as on_b:
            on_b.cookies.set("contractgen_session", session)
            assert on_b.get("/ledger").status_code == 200  # one secret: B knows A's session
            assert on_a.post("/logout", data={"csrf": csrf}).status_code == 303
            refused = on_b.get("/ledger")  # B never saw the 退出: the ledger told it
            assert refused.status_code == 303 and refused.headers["location"] == "/login"
    with httpx.Client(base_url=a.url, follow_redirects=False, timeout=60) as replay:
        replay.cookies.set("contractgen_session", session)
        assert replay.get("/ledger").headers["location"] == "/login"


def test_without_a_broker_a_round_of_one_replica_is_said_to_be_its_own_on_the_other(
    replicas: list[Server], seed_data: dict[str, Any]
) -> None:
    a, b = replicas
    row = json.dumps({**seed_data, "contract_no": "SESS-2026-002"}, ensure_ascii=False, default=str)
    with httpx.Client(base_url=a.url, follow_redirects=False, timeout=60) as on_a:
        csrf = _signed_in(on_a)
        sent = on_a.post(
            "/rounds",
            data={"csrf": csrf},
            files={"file": ("round.jsonl", row.encode() + b"\n", "application/jsonl")},
        )
        assert sent.status_code == 303, sent.text
        location = sent.headers["location"]
        assert on_a.get(location).status_code == 200  # A holds it
        with httpx.Client(base_url=b.url, follow_redirects=False, timeout=60) as on_b:
            on_b.cookies.set("contractgen_session", on_a.cookies["contractgen_session"])
            elsewhere = on_b.get(location)
    assert elsewhere.status_code == 404
    assert "本服务副本上没有这一批" in elsewhere.text and "--broker" in elsewhere.text
    assert "只保留最近" not in elsewhere.text  # not the cause: say the real one


class _Attacker(http.server.BaseHTTPRequestHandler):
    """The sibling site's pages: ``/toss`` plants a CSRF cookie, ``/evict`` 200 cookies more."""

    target = ""

    def do_GET(self) -> None:  # http.server calls it by this name
        planting = f'document.cookie = "contractgen_csrf={PLANTED}; domain=corp.test; path=/";'
        submit = 'document.getElementById("f").submit();'
        if self.path == "/evict":  # 200 cookies for the site: the jar's oldest go
            planting = (
                "for (let i = 0; i < 200; i++)"
                ' document.cookie = "filler" + i + "=x; domain=corp.test; path=/";'
            )
            submit = ""
        fields = {"csrf": PLANTED, "no": NUMBER, "version": "1"}
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        body = (
            f'<!doctype html><form id="f" method="post" action="{self.target}/ledger/publish">'
            f"{inputs}</form><script>{planting}{submit}</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def attacker(replicas: list[Server]) -> Iterator[str]:
    """Return the URL of ``evil.corp.test``: a server on 127.0.0.1 posting to service A."""
    port = replicas[0].url.rsplit(":", 1)[1]
    handler = type("Attacker", (_Attacker,), {"target": f"http://{APP}:{port}"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://evil.corp.test:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def corp_chromium() -> Iterator[Any]:
    """Return Debian's chromium resolving every ``*.corp.test`` name to 127.0.0.1."""
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--host-resolver-rules=MAP *.corp.test 127.0.0.1"],
        )
        try:
            yield launched
        finally:
            launched.close()


def _publications(ledger_url: str) -> list[str]:
    with Ledger(ledger_url, existing=True) as ledger:
        return [e["action"] for e in ledger.history(NUMBER) if e["action"] != "issue"]


def _victim(browser: Any, app: str) -> Any:
    """Return a page of a clerk signed in to the workbench at ``app``."""
    context = browser.new_context()
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{app}/login")
    page.get_by_label("访问令牌").fill(TOKEN)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{app}/")
    return page


def _names(page: Any) -> set[str]:
    return {c["name"] for c in page.context.cookies()}


@needs_chromium
def test_a_sibling_site_s_planted_token_publishes_nothing(
    replicas: list[Server], attacker: str, corp_chromium: Any, ledger_url: str
) -> None:
    app = f"http://{APP}:{replicas[0].url.rsplit(':', 1)[1]}"
    page = _victim(corp_chromium, app)
    with page.expect_response(lambda r: r.url == f"{app}/ledger/publish") as answer:
        page.goto(f"{attacker}/toss")
    planted = [c for c in page.context.cookies() if c["value"] == PLANTED]
    assert [c["domain"] for c in planted] == [".corp.test"]  # the toss itself worked
    assert answer.value.status == 403  # the session's own token is not the planted one
    assert "contractgen_session" in _names(page)  # and the clerk stays signed in
    assert _publications(ledger_url) == []
    page.context.close()


@needs_chromium
def test_a_sibling_site_evicting_the_session_cookie_only_signs_the_clerk_out(
    replicas: list[Server], attacker: str, corp_chromium: Any, ledger_url: str
) -> None:
    app = f"http://{APP}:{replicas[0].url.rsplit(':', 1)[1]}"
    page = _victim(corp_chromium, app)
    page.goto(f"{attacker}/evict")
    give_up = time.monotonic() + 30
    while "contractgen_session" in _names(page):  # the jar purges as the page's cookies land
        assert time.monotonic() < give_up, sorted(_names(page))
        page.wait_for_timeout(50)  # the poll's interval, within its deadline
    with page.expect_response(lambda r: r.url == f"{app}/ledger/publish") as answer:
        page.goto(f"{attacker}/toss")
    assert answer.value.status == 401  # no session: nothing done, the clerk asked to sign in
    assert "请先登录" in page.content()
    assert _publications(ledger_url) == []
    page.goto(f"{app}/ledger")
    assert page.url == f"{app}/login"
    page.context.close()
