"""A round, the ledger and publication in the workbench, in a real browser.

A person downloads the blank workbook (the CLI's layout), uploads one with a bad
row and sees that row's issue before anything is made, then uploads
samples/batch.xlsx, makes it, watches it finish and downloads the report and the
zip: the report says what ``contractgen batch`` says of the same workbook and
every set's manifest is the CLI's, byte for byte. A contract issued over the API
is then found in the ledger, loaded into the form, published (its public copy and
合同公告), verified by upload, and leaves the list of what is due.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.inputs.load import load_data

from ..conftest import SAMPLES, run_cli
from .browser import TOKEN, Watched, needs_chromium, sign_in
from .test_service import Server, start_server, stop_server

playwright_api = pytest.importorskip("playwright.sync_api")
openpyxl = pytest.importorskip("openpyxl")
expect = playwright_api.expect

pytestmark = needs_chromium

#: the number the ledger's test issues the seed under (batch.xlsx holds the seed's own)
NUMBER = "11NMB2F042362026299"
SPOILED_ROW = 3
#: a round of five contracts on one office, on a loaded machine
ROUND_TIMEOUT_MS = 600_000


def _upload(page: Any, path: Path) -> None:
    page.get_by_label("批量文件").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并检查").click()


def _headers(path: Path) -> dict[str, list[Any]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [c.value for c in next(ws.iter_rows(max_row=1))] for ws in book.worksheets}


def _download(page: Any, name: str, folder: Path) -> Path:
    """Click a download link; return the file, saved under the name the server gave it."""
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_a_round_is_checked_made_and_reported_as_the_cli_does(
    web_server: Server, chromium: Any, tmp_path: Path, shots: Path
) -> None:
    watched = Watched(chromium)
    page = watched.page
    sign_in(watched, web_server.url, then="/rounds")

    # the blank workbook is the CLI's layout
    blank = _download(page, "下载空白工作簿（运维服务合同）", tmp_path)
    assert blank.name == "合同批量模板.xlsx"
    assert run_cli("init", "--xlsx", tmp_path / "cli.xlsx").returncode == 0
    assert _headers(blank) == _headers(tmp_path / "cli.xlsx")

    # a workbook with a bad row: its issue is shown, beside the row, before anything is made
    spoiled = tmp_path / "spoiled.xlsx"
    shutil.copy(SAMPLES / "batch.xlsx", spoiled)
    book = openpyxl.load_workbook(spoiled)
    sheet = book["合同"]
    column = [c.value for c in sheet[1]].index("甲方邮政编码") + 1
    sheet.cell(row=SPOILED_ROW, column=column, value="20007")
    book.save(spoiled)
    _upload(page, spoiled)
    rows = page.locator(".rows-table tbody tr")
    expect(rows).to_have_count(5)
    bad = rows.nth(SPOILED_ROW - 2)
    expect(bad).to_contain_text(f"工作表 合同 第{SPOILED_ROW}行")
    expect(bad).to_contain_text("[postcode.format]")
    expect(bad).to_contain_text("有问题")
    expect(page.get_by_role("button", name="生成 4 份草稿")).to_be_visible()
    expect(page.get_by_role("button", name="生成并签发 4 份合同")).to_be_visible()
    page.screenshot(path=str(shots / "round-checked.png"), full_page=True)

    # the sample workbook, made and watched until it is done
    page.goto(f"{web_server.url}/rounds")
    _upload(page, SAMPLES / "batch.xlsx")
    expect(page.locator(".rows-table tbody tr")).to_have_count(5)
    with page.expect_navigation():
        page.get_by_role("button", name="生成并签发 5 份合同").click()
    expect(page.locator("#round-progress")).to_have_attribute("max", "5")
    state = page.locator("#round .round-state")
    expect(state).to_contain_text("已完成", timeout=ROUND_TIMEOUT_MS)
    expect(state).to_contain_text("5 份已生成")
    expect(page.locator("#round-progress")).to_have_attribute("value", "5")
    page.screenshot(path=str(shots / "round-done.png"), full_page=True)
    # on a narrow window the page still fits: the tables scroll inside themselves
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots / "round-narrow.png"))
    page.set_viewport_size({"width": 1280, "height": 800})

    report_path = _download(page, "报告（CSV，Excel 可打开）", tmp_path)
    archive_path = _download(page, "下载全部合同与报告（zip）", tmp_path)
    watched.check_clean(web_server.url)

    out = tmp_path / "cli"
    result = run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--no-ledger")
    assert result.returncode == 0, result.stderr
    web_rows = list(csv.reader(io.StringIO(report_path.read_text(encoding="utf-8-sig"))))
    cli_rows = list(csv.reader(io.StringIO((out / "batch-report.csv").read_text("utf-8-sig"))))
    # place, number, status and issues as the CLI's; the folder is the set's name, not a path
    assert [r[:3] + r[4:5] for r in web_rows] == [r[:3] + r[4:5] for r in cli_rows]
    assert [r[3] for r in web_rows[1:]] == [Path(r[3]).name for r in cli_rows[1:]]
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
        report = json.loads(archive.read("batch-report.json"))
        assert [row["status"] for row in report["rows"]] == ["made"] * 5
        assert all("第 1 版已登记" in row["ledger"] for row in report["rows"])
        for row in report["rows"]:
            number = row["contract_no"]
            made = archive.read(f"{number}/manifest.json")
            assert made == (out / number / "manifest.json").read_bytes(), number
            manifest = json.loads(made)
            files = [d[f]["file"] for d in manifest["documents"] for f in ("docx", "pdf")]
            for name in [*files, manifest["bundle"]["file"]]:
                data = archive.read(f"{number}/{name}")
                assert data == (out / number / name).read_bytes(), name
    assert not any("/." in name or name.startswith(".") for name in names)


def test_the_ledger_is_searched_loaded_published_and_verified(
    web_server: Server, chromium: Any, tmp_path: Path, shots: Path
) -> None:
    with httpx.Client(
        base_url=web_server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300
    ) as api:
        data = {**load_data(SAMPLES / "seed.yaml"), "contract_no": NUMBER}
        body = json.dumps(data, ensure_ascii=False, default=str).encode()
        made = api.post(
            "/v1/contracts?format=zip&issue=true",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert made.status_code == 200, made.text
    issued_pdf = tmp_path / "issued.pdf"
    with zipfile.ZipFile(io.BytesIO(made.content)) as archive:
        issued_pdf.write_bytes(archive.read(f"{NUMBER}/01_运维服务合同.pdf"))

    watched = Watched(chromium)
    page = watched.page
    sign_in(watched, web_server.url, then="/due")
    due = page.locator("#due tbody tr", has_text=NUMBER)
    expect(due).to_contain_text("2026-01-20")
    page.screenshot(path=str(shots / "due.png"))
    # from 1 December, a next year no calendar holds is said (the session's calendar: none)
    page.goto(f"{web_server.url}/due?on=2026-11-30")
    expect(page.locator("#calendar-warning")).to_have_count(0)
    page.goto(f"{web_server.url}/due?on=2026-12-01")
    expect(page.locator("#calendar-warning")).to_contain_text("2027年的法定节假日安排未收录")
    expect(page.locator("#calendar-warning")).to_contain_text("calendar new 2027")
    page.screenshot(path=str(shots / "due-calendar.png"))
    page.goto(f"{web_server.url}/due")

    # search by a part of the supplier's name, open the contract, load its version
    page.get_by_role("link", name="台账").click()
    page.get_by_label("合同编号").fill(NUMBER)
    page.get_by_label("乙方名称（部分）").fill("众恒")
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    found = page.locator("#ledger-rows tbody tr")
    expect(found).to_have_count(1)
    expect(found).to_contain_text(NUMBER)
    page.screenshot(path=str(shots / "ledger.png"))
    with page.expect_navigation():
        found.get_by_role("link", name=NUMBER).click()
    expect(page.locator("#versions tbody tr")).to_have_count(1)
    expect(page.locator("#history tbody tr").first).to_contain_text("签发")
    expect(page.locator("#files tbody tr")).to_have_count(9)
    page.screenshot(path=str(shots / "ledger-set.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("link", name="载入合同表单").click()
    expect(page.locator(".notice")).to_contain_text(f"已载入台账中的合同 {NUMBER} 第 1 版")
    expect(page.locator("#f-contract_no")).to_have_value(NUMBER)
    expect(page.locator("#summary")).to_contain_text("数据有效")
    page.go_back()

    # publish on the signing's due date: the public copy and the notice, on time, recorded
    page.get_by_label("合同公告日期").fill("2026-01-20")
    with page.expect_navigation(timeout=ROUND_TIMEOUT_MS):
        page.get_by_role("button", name="生成公开文本与合同公告").click()
    status = page.locator("[role=status]").first
    expect(status).to_contain_text("应于 2026-01-20 前公告")
    expect(status).to_contain_text("已登记公开")
    expect(page.locator("main")).to_contain_text("收款账户 · 开户银行")
    first = page.locator(".thumbs img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
    )
    page.screenshot(path=str(shots / "publication.png"))
    public = _download(page, "下载公开文件（zip）", tmp_path)
    with zipfile.ZipFile(public) as archive:
        notice = archive.read(f"{NUMBER}（公开）/00_合同公告.pdf")
    notice_pdf = tmp_path / "notice.pdf"
    notice_pdf.write_bytes(notice)

    # verify: the issued PDF and the notice are current; a file never issued is unknown
    page.get_by_role("link", name="核验").click()
    for path, verdict in (
        (issued_pdf, "现行版本"),
        (notice_pdf, "现行版本"),
        (SAMPLES / "seed.yaml", "未在本台账登记"),
    ):
        page.get_by_label("要核验的文件").set_input_files(str(path))
        with page.expect_navigation():
            page.get_by_role("button", name="核验", exact=True).click()
        expect(page.locator("#verdict")).to_contain_text(verdict)
        if path == issued_pdf:
            page.screenshot(path=str(shots / "verify.png"))

    # published: no longer due
    page.get_by_role("link", name="待公告").click()
    expect(page.locator("#due tbody tr", has_text=NUMBER)).to_have_count(0)
    watched.check_clean(web_server.url)


def test_the_round_and_ledger_pages_refuse_what_they_must(web_server: Server) -> None:
    with httpx.Client(base_url=web_server.url, follow_redirects=False, timeout=60) as client:
        assert client.get("/rounds").headers["location"] == "/login"
        assert client.get("/ledger").headers["location"] == "/login"
        csrf = client.get("/login").cookies["contractgen_csrf"]
        assert client.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303
        csrf = client.cookies["contractgen_csrf"]  # the session's own token from now on
        xlsx = (SAMPLES / "batch.xlsx").read_bytes()
        forged = client.post("/rounds", data={"csrf": "x"}, files={"file": ("b.xlsx", xlsx)})
        assert forged.status_code == 403
        wrong = client.post("/rounds", data={"csrf": csrf}, files={"file": ("b.txt", b"x")})
        assert wrong.status_code == 400 and "不支持的文件" in wrong.text
        huge = client.post(
            "/rounds", data={"csrf": csrf}, files={"file": ("b.csv", b"a" * (33 << 20))}
        )
        assert huge.status_code == 413 and "Traceback" not in huge.text
        broken = client.post(
            "/rounds", data={"csrf": csrf}, files={"file": ("b.xlsx", b"PK\x03\x04 not a zip")}
        )
        assert broken.status_code == 303
        page = client.get(broken.headers["location"])
        assert "[input.file]" in page.text and "/tmp" not in page.text
        assert "生成 0 份" not in page.text and "/start" not in page.text
        round_id = broken.headers["location"].rsplit("/", 1)[1]
        assert client.post(f"/rounds/{round_id}/start", data={"csrf": csrf}).status_code == 409
        early = client.get(f"/rounds/{round_id}/files/batch-report.csv")
        assert early.status_code == 404
        assert client.get(f"/rounds/{round_id}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404
        assert client.get("/rounds/no-such-round").status_code == 404
        publish = client.post("/ledger/publish", data={"no": NUMBER, "version": "1"})
        assert publish.status_code == 403
        missing = client.get("/ledger/set", params={"no": "不存在的编号"})
        assert missing.status_code == 404 and "台账中没有" in missing.text


@pytest.mark.slow
def test_a_service_stopped_mid_round_stops_cleanly_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    server = start_server(tmp_path, "--workers", "1", "--no-ledger")
    try:
        with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
            csrf = client.get("/rounds").cookies["contractgen_csrf"]
            xlsx = (SAMPLES / "batch.xlsx").read_bytes()
            sent = client.post("/rounds", data={"csrf": csrf}, files={"file": ("b.xlsx", xlsx)})
            location = sent.headers["location"]
            assert client.post(f"{location}/start", data={"csrf": csrf}).status_code == 303
            (folder,) = scratch.glob("contractgen-web-*/rounds/*")
            # stopped once the first set is written: the rest are reported, not started
            give_up = time.monotonic() + 300
            while not any((folder / "out").glob("11NMB2F*/manifest.json")):
                assert time.monotonic() < give_up, server.log.read_text()
                assert "hx-trigger" in client.get(f"{location}/progress").text
    finally:
        # exits 0, no office left behind, no traceback (stop_server asserts it)
        stop_server(server)
    # the round's folder went with the service that owned it, and nothing else was there
    assert not list(scratch.iterdir())
    assert "no report" not in server.log.read_text()
