"""The web workbench in a real browser: Playwright driving Debian's chromium against the service.

A person signs in with the token, makes the sample contract from an empty form
field by field, sees the live errors of a bad postcode and a bad amount, fixes
them, previews the set and downloads it: the zip's manifest is the CLI's, byte
for byte. No request leaves the origin and the console stays clean. The
README's screenshots of docs/web/ are made here (``CONTRACTGEN_SCREENSHOTS=docs/web``).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from generator.inputs import parse_yaml
from generator.web.form import to_values

from ..conftest import ROOT, SAMPLES
from .browser import TOKEN, Watched, dom_id, fill, list_rows, needs_chromium, sign_in
from .test_service import Server

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


def _message(page: Any, path: str) -> Any:
    return page.locator(f"#e-{dom_id(path)}")


def _make_sample(page: Any, values: dict[str, str]) -> None:
    """Fill the form with the sample's values, adding the rows its lists need first."""
    for path in ("acceptance_plan.items", "other_documents", "payment.instalments"):
        wanted = {
            int(m.group(1)) for k in values if (m := re.match(re.escape(path) + r"\[(\d+)\]", k))
        }
        while page.locator(f"[name^='{path}[']").count() and len(wanted) > list_rows(page, path):
            _add_row(page, path)
        while not page.locator(f"[name^='{path}[']").count() and wanted:
            _add_row(page, path)
    for path, value in values.items():
        fill(page, path, value)


def _add_row(page: Any, path: str) -> None:
    with page.expect_navigation():
        page.locator(f"button[value='add:{path}']").click()


def test_a_person_makes_the_sample_contract_in_the_browser(
    web_server: Server, chromium: Any, tmp_path: Path, shots: Path
) -> None:
    seed = parse_yaml((SAMPLES / "seed.yaml").read_text(encoding="utf-8"))
    values = to_values(seed)
    watched = Watched(chromium)
    page = watched.page

    page.goto(f"{web_server.url}/")
    page.screenshot(path=str(shots / "login.png"))
    sign_in(watched, web_server.url)
    _make_sample(page, values)

    # a bad postcode and a bad amount: their messages beside them, live, and in the summary
    fill(page, "buyer.postcode", "20007")
    page.keyboard.press("Tab")
    postcode = _message(page, "buyer.postcode")
    playwright_api.expect(postcode).to_contain_text("[postcode.format]")
    fill(page, "amount", "157万8千")
    page.keyboard.press("Tab")
    playwright_api.expect(_message(page, "amount")).to_contain_text("[amount.")
    playwright_api.expect(page.locator("#summary")).to_contain_text("共 2 个问题")
    page.locator("#f-amount").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "form-errors.png"))

    fill(page, "buyer.postcode", "200072")
    fill(page, "amount", "1578000")
    page.keyboard.press("Tab")
    playwright_api.expect(postcode).to_be_empty()
    playwright_api.expect(_message(page, "amount")).to_be_empty()
    playwright_api.expect(page.locator("#amount-upper")).to_have_text("人民币壹佰伍拾柒万捌仟元整")
    playwright_api.expect(page.locator("#summary")).to_contain_text("数据有效")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "form.png"))

    with page.expect_navigation(timeout=180_000):
        page.get_by_role("button", name="预览并生成").click()
    playwright_api.expect(page.locator("h1")).to_contain_text("11NMB2F042362026201")
    first = page.locator(".thumbs img").first
    playwright_api.expect(first).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
    )
    page.screenshot(path=str(shots / "preview.png"))

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载全套（zip）").click()
    with zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes())) as archive:
        manifest = archive.read("11NMB2F042362026201/manifest.json")

    out = tmp_path / "cli"
    subprocess.run(
        [sys.executable, "-m", "generator", "render", str(SAMPLES / "seed.yaml"), "-o", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert manifest == (out / "11NMB2F042362026201" / "manifest.json").read_bytes()

    # The preview is a draft: recorded nowhere, so never due, until 签发 records that very set.
    number = "11NMB2F042362026201"
    playwright_api.expect(page.locator("h1 .state")).to_have_text("草稿")
    other = page.context.new_page()  # another tab of the same session
    other.goto(f"{web_server.url}/due")
    playwright_api.expect(other.locator("#due tbody tr", has_text=number)).to_have_count(0)
    other.close()
    with page.expect_navigation():
        page.get_by_role("button", name="签发并登记").click()
    playwright_api.expect(page.locator("h1 .state")).to_have_text("已签发")
    issued = page.locator(".life.issued")
    playwright_api.expect(issued).to_contain_text("已由 服务令牌")
    playwright_api.expect(issued).to_contain_text(f"台账：合同 {number} 第 1 版已登记")
    playwright_api.expect(page.get_by_role("button", name="签发并登记")).to_have_count(0)
    page.screenshot(path=str(shots / "preview-issued.png"))
    page.goto(f"{web_server.url}/due")
    playwright_api.expect(page.locator("#due tbody tr", has_text=number)).to_have_count(1)
    page.goto(f"{web_server.url}/ledger/set?no={number}")
    playwright_api.expect(page.locator("#history tbody tr").first).to_contain_text("服务令牌")
    playwright_api.expect(page.locator("#history tbody tr").first).to_contain_text("（北京时间）")

    watched.check_clean(web_server.url)


def test_the_workbench_refuses_without_a_session_or_a_csrf_token(web_server: Server) -> None:
    import httpx

    with httpx.Client(base_url=web_server.url, follow_redirects=False) as client:
        page = client.get("/")
        assert page.status_code == 303 and page.headers["location"] == "/login"
        login = client.get("/login")
        assert "default-src 'self'" in login.headers["content-security-policy"]
        assert "<script>" not in login.text and " style=" not in login.text
        wrong = client.post("/login", data={"token": TOKEN, "csrf": "forged"})
        assert wrong.status_code == 403
        csrf = client.cookies["contractgen_csrf"]
        bad = client.post("/login", data={"token": "nope", "csrf": csrf})
        assert bad.status_code == 401
        good = client.post("/login", data={"token": TOKEN, "csrf": csrf})
        assert good.status_code == 303
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert client.get("/").status_code == 200
        forged = client.post("/validate", data={"amount": "1"})
        assert forged.status_code == 403
        huge = client.post("/validate", data={"csrf": csrf, "x": "y" * (2 << 20)})
        assert huge.status_code == 413
        assert "Traceback" not in huge.text


def test_a_file_is_loaded_into_the_form_and_saved_back(
    web_server: Server, chromium: Any, tmp_path: Path, shots: Path
) -> None:
    watched = Watched(chromium)
    page = watched.page
    sign_in(watched, web_server.url)
    page.get_by_label("载入合同数据文件（YAML 或 JSON）").set_input_files(
        str(SAMPLES / "cross_year.yaml")
    )
    with page.expect_navigation():
        page.get_by_role("button", name="载入", exact=True).click()
    playwright_api.expect(page.locator(".notice")).to_contain_text("已载入 cross_year.yaml")
    playwright_api.expect(page.locator("#summary")).to_contain_text("数据有效")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="保存为 YAML").click()
    saved = parse_yaml(Path(download_info.value.path()).read_text(encoding="utf-8"))
    original = parse_yaml((SAMPLES / "cross_year.yaml").read_text(encoding="utf-8"))
    from generator.kinds import check

    assert check(saved)[0] == check(original)[0] is not None
    page.set_viewport_size({"width": 390, "height": 800})
    page.screenshot(path=str(shots / "narrow.png"))
    assert not watched.errors, watched.errors
    assert all(u.startswith(f"{web_server.url}/") for u in watched.requests)
    watched.context.close()
