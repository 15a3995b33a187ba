"""The workbench with an office's kinds: the clerk chooses the goods kind, fills its form, previews.

The service runs with ``--kinds tests/kinds``; in Debian's chromium a person picks
货物采购合同, sees the goods table's rows, types the sample in field by field,
sees a row whose amount disagrees with 数量×单价 refused live by the kind's own rule,
fixes it and previews the goods contract's pages; and a round of goods contracts from
the kind's blank workbook is checked row by row.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import load_kind
from generator.inputs import load_data, write_workbook
from generator.web.form import to_values

from ..conftest import ROOT
from .browser import TOKEN, Watched, dom_id, fill, list_rows, needs_chromium, sign_in
from .test_service import Server, start_server, stop_server

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium

KINDS_DIR = ROOT / "tests" / "kinds"
GOODS = KINDS_DIR / "goods"


@pytest.fixture(scope="module")
def kinds_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("web-kinds")
    ledger = f"sqlite:///{folder / 'ledger.db'}"
    launcher = [sys.executable, "-m", "generator", "--kinds", str(KINDS_DIR), "serve"]
    started = start_server(
        folder, "--workers", "1", "--ledger", ledger, token=TOKEN, launcher=launcher
    )
    try:
        yield started
    finally:
        stop_server(started)


def test_a_clerk_makes_a_goods_contract_in_the_browser(
    kinds_server: Server, chromium: Any, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTRACTGEN_KINDS", str(KINDS_DIR))  # the form's values, as the service's
    data = dict(load_data(GOODS / "sample.yaml"))
    values = to_values(data)
    assert values["kind"] == "goods_purchase"
    watched = Watched(chromium)
    page = watched.page
    sign_in(watched, kinds_server.url)

    page.locator("#kind-choice").select_option("goods_purchase")
    with page.expect_navigation():
        page.get_by_role("button", name="新建此类合同").click()
    playwright_api.expect(page.locator("h1").first).to_contain_text("货物采购合同")
    playwright_api.expect(page.locator(".toc")).to_contain_text("货物与价款")
    assert list_rows(page, "goods") == 1  # a list that needs a row starts with one
    while list_rows(page, "goods") < len(data["goods"]):
        with page.expect_navigation():
            page.locator("button[value='add:goods']").click()
    for path, value in values.items():
        if path != "kind":
            fill(page, path, value)

    # the kind's own rule, live: a row whose amount is not 数量 × 单价
    fill(page, "goods[1].amount", "11751")
    page.keyboard.press("Tab")
    message = page.locator(f"#e-{dom_id('goods[1].amount')}")
    playwright_api.expect(message).to_contain_text("[goods.amount.product]")
    playwright_api.expect(page.locator("#summary")).to_contain_text("问题")
    page.locator(f"#f-{dom_id('goods[1].amount')}").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "goods-errors.png"))
    fill(page, "goods[1].amount", values["goods[1].amount"])
    page.keyboard.press("Tab")
    playwright_api.expect(message).to_be_empty()
    playwright_api.expect(page.locator("#summary")).to_contain_text("数据有效")
    playwright_api.expect(page.locator("#amount-upper")).to_have_text(
        "人民币壹拾肆万贰仟陆佰零壹元整"
    )

    with page.expect_navigation(timeout=180_000):
        page.get_by_role("button", name="预览并生成").click()
    playwright_api.expect(page.locator("h1")).to_contain_text(data["contract_no"])
    playwright_api.expect(page.locator("body")).to_contain_text("01_货物采购合同.pdf")
    first = page.locator(".thumbs img").first
    playwright_api.expect(first).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
    )
    page.screenshot(path=str(shots / "goods-preview.png"))
    watched.check_clean(kinds_server.url)


def test_a_round_of_goods_contracts_is_checked_row_by_row(
    kinds_server: Server, chromium: Any, tmp_path: Path, shots: Path
) -> None:
    kind = load_kind(GOODS)
    rows = []
    for n in range(3):
        row = copy.deepcopy(dict(load_data(kind.sample)))
        row.pop("kind")
        row["contract_no"] = f"HW-WEB-{n:03d}"
        rows.append(row)
    rows[1]["goods"][0]["unit_price"] = "5681"  # no longer 数量 × 单价
    book = tmp_path / "goods-round.xlsx"
    write_workbook(book, rows, kind)

    watched = Watched(chromium)
    page = watched.page
    sign_in(watched, kinds_server.url)
    page.goto(f"{kinds_server.url}/rounds")
    page.locator("#round-file").set_input_files(str(book))
    page.locator("#round-kind").select_option("goods_purchase")
    with page.expect_navigation():
        page.get_by_role("button", name="上传并检查").click()
    body = page.locator("body")
    playwright_api.expect(body).to_contain_text("HW-WEB-001")
    playwright_api.expect(body).to_contain_text("[goods.amount.product]")
    playwright_api.expect(body).to_contain_text("货物清单")
    page.screenshot(path=str(shots / "goods-round.png"), full_page=True)
    watched.check_clean(kinds_server.url)
