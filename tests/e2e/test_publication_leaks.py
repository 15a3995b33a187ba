"""What free text would publish is refused on every face, and publication.json gives nothing back.

The contract of issue #23: the supplier's account and a mobile number typed into 其它条款,
the withheld contact, the withheld address and the mobile again in 保密协议's 其他事项,
and the payment terms withheld (a few small figures, found in seconds from a plain hash
of the input). Issued once, in a ledger of this module's own; then refused by
``contractgen publish``, by ``POST /v1/publications`` (422) and by the workbench's
publish button in Chromium, each naming the same fields with the same codes, nothing
written and nothing recorded; then published with the clerk's explicit choice (the
workbench's 另外隐去的文字, the command line's ``--withhold-text``), the values then in no
object of any PDF and no part of any DOCX; and no file holds the input's hash.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator import Generator
from generator.domain.filters import MARK
from generator.inputs.load import load_data
from generator.kinds import parse, registry
from generator.ledger import Ledger, record_publication
from generator.publication import publication_issues, publish

from ..conftest import ROOT, run_cli
from .browser import TOKEN, Watched, needs_chromium, sign_in
from .test_publication import (
    assert_nothing_withheld_in_docx,
    assert_nothing_withheld_in_pdf,
    docx_parts,
    pdf_layers,
)
from .test_service import Server, assert_problem, start_server, stop_server

NO = "11NMB2F042362026201"
DAY = "2026-01-19"
ACCOUNT = "6222020200112233445"
MOBILE = "13912345678"
#: the buyer's switchboard, public once the clerk says so
HOTLINE = "采购人服务热线（021）12345678"
PUBLIC_NUMBER = "021-12345678"
WITHHELD_PAYMENT = ("payment.first_percent", "payment.days", "terms.penalty_percent")
#: the refusal: (path, code) of every finding, the same on every face
REFUSED = {
    ("other_terms", "publish.number_in_text"),
    ("confidential_extra", "publish.number_in_text"),
    ("confidential_extra", "publish.withheld_in_text"),
}
#: the field titles the refusal names
TITLES = ("其它（other_terms）", "保密信息其他（confidential_extra）")


def leaky(seed: dict[str, Any]) -> dict[str, Any]:
    """Return the seed with withheld values and personal numbers typed into free text."""
    data = copy.deepcopy(seed)
    address = data["supplier"]["address"]
    data["other_terms"] = f"乙方收款账户 {ACCOUNT}，乙方项目经理手机{MOBILE}，{HOTLINE}"
    data["confidential_extra"] = f"乙方联系人刘体斌（{MOBILE}），地址：{address}"
    data["publication"]["withhold"] = ["supplier.contact", "supplier.address", *WITHHELD_PAYMENT]
    return data


def choices(data: dict[str, Any]) -> list[str]:
    """Return what the clerk withholds besides the fields: as typed, however spaced."""
    return [ACCOUNT, "139 1234 5678", "刘体斌", data["supplier"]["address"]]


@pytest.fixture(scope="module")
def generator() -> Iterator[Generator]:
    with Generator(workers=2, cached_sets=0, kinds=registry([ROOT / "tests" / "kinds"])) as made:
        yield made


@pytest.fixture(scope="module")
def issued(
    tmp_path_factory: pytest.TempPathFactory, generator: Generator, seed_data: dict[str, Any]
) -> tuple[Path, str, dict[str, Any]]:
    """Return the data file, the ledger URL and the data, issued in that ledger (in-process)."""
    folder = tmp_path_factory.mktemp("leaks")
    data = leaky(seed_data)
    source = folder / "leaky.json"
    source.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    url = f"sqlite:///{folder / 'ledger.sqlite3'}"
    with Ledger(url) as ledger:
        ledger.record(generator.render(generator.parse(data)), "测试")
    return source, url, data


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, issued: tuple[Path, str, dict[str, Any]]
) -> Iterator[Server]:
    """Return the service on this module's ledger, with the workbench's token (one worker)."""
    started = start_server(
        tmp_path_factory.mktemp("leaks-server"),
        "--workers",
        "1",
        "--ledger",
        issued[1],
        token=TOKEN,
    )
    try:
        yield started
    finally:
        stop_server(started)


def _pairs(text: str) -> set[tuple[str, str]]:
    """Return (path, code) of every issue line a face printed (``标题（路径）：… [code]``)."""
    return set(re.findall(r"（([a-z_.\[\]0-9]+)）：[^\[]*\[(publish\.[a-z_]+)\]", text))


def _events(url: str) -> list[str]:
    with Ledger(url) as ledger:
        return [event["action"] for event in ledger.history(NO)]


def _line(issue: dict[str, str]) -> str:
    return f"{issue['title']}（{issue['path']}）：{issue['message']} [{issue['code']}]"


def test_the_command_line_and_the_service_refuse_it_naming_the_fields(
    issued: tuple[Path, str, dict[str, Any]], server: Server, tmp_path: Path
) -> None:
    source, url, data = issued
    out = tmp_path / "out"
    cli = run_cli("publish", source, "-o", out, "--ledger", url, "--published-on", DAY)
    assert cli.returncode == 1, cli.stderr
    assert _pairs(cli.stderr) == REFUSED, cli.stderr
    for said in (*TITLES, ACCOUNT, MOBILE, "刘体斌", "乙方 · 联系人（supplier.contact）"):
        assert said in cli.stderr
    for said in ("银行账号“6222020200112233445”", "固定电话号码“（021）12345678”"):
        assert said in cli.stderr
    assert "Traceback" not in cli.stderr
    assert not out.exists()  # not even the output folder

    with httpx.Client(base_url=server.url, timeout=300) as client:
        answer = client.post(
            f"/v1/publications?published_on={DAY}",
            content=json.dumps(data, ensure_ascii=False, default=str).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
    problem = assert_problem(answer, 422)
    assert problem["type"].endswith("/contract-unpublishable")
    issues = problem["issues"]
    assert {(i["path"], i["code"]) for i in issues} == REFUSED
    assert {i["title"] for i in issues} == {"其它", "保密信息其他"}
    for issue in issues:  # the command line's lines, word for word
        assert _line(issue) in cli.stderr
    assert _events(url) == ["issue"]  # nothing recorded


@pytest.mark.slow
@needs_chromium
def test_the_workbench_refuses_it_then_publishes_the_clerk_s_choice(
    issued: tuple[Path, str, dict[str, Any]], server: Server, chromium: Any, tmp_path: Path
) -> None:
    source, url, data = issued
    with httpx.Client(base_url=server.url, timeout=300) as client:
        answer = client.post(
            f"/v1/publications?published_on={DAY}",
            content=json.dumps(data, ensure_ascii=False, default=str).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
    issues = assert_problem(answer, 422)["issues"]
    watched = Watched(chromium)
    page = watched.page
    sign_in(watched, server.url, then=f"/ledger/set?no={NO}")
    page.get_by_label("合同公告日期").fill(DAY)
    page.get_by_role("button", name="生成公开文本与合同公告").click()
    page.wait_for_load_state()
    shown = page.locator("main").inner_text()
    assert "无法发布" in shown
    assert _pairs(shown) == REFUSED, shown
    for issue in issues:  # the service's issues, word for word
        assert _line(issue) in shown

    # the clerk's choice in the same form: the values withheld wherever they are printed
    page.goto(f"{server.url}/ledger/set?no={NO}")
    page.get_by_label("合同公告日期").fill(DAY)
    page.get_by_label("另外隐去的文字").fill("\n".join(choices(data)))
    page.get_by_label("可公开的号码").fill(PUBLIC_NUMBER)
    page.get_by_role("button", name="生成公开文本与合同公告").click()
    page.wait_for_load_state()
    assert "台账：合同" in page.locator("main").inner_text()
    # the refused page's own status is the browser's one console line
    assert all("422" in error for error in watched.errors), watched.errors
    watched.errors.clear()
    watched.check_clean(server.url)
    assert _events(url) == ["issue", "publish"]

    # the command line's --withhold-text: the same choice, the same bytes
    args: list[str | Path] = ["publish", source, "-o", tmp_path, "--ledger", url]
    for text in choices(data):
        args += ["--withhold-text", text]
    done = run_cli(*args, "--public-number", PUBLIC_NUMBER, "--published-on", DAY)
    assert done.returncode == 0, done.stderr
    assert "与已登记的相同" in done.stderr
    assert _events(url) == ["issue", "publish"]


def _all_texts(files: dict[str, bytes]) -> tuple[bytes, str]:
    """Return every byte the public gets (each PDF object decompressed, each DOCX part) and
    the same as text."""
    blobs: list[bytes] = []
    for name, content in files.items():
        blobs.append(content)
        if name.endswith(".pdf"):
            streams, strings, _ = pdf_layers(content)
            blobs.extend(streams)
            blobs.append(strings.encode())
        elif name.endswith(".docx"):
            blobs.extend(part.encode() for part in docx_parts(content).values())
    joined = b"\n".join(blobs)
    return joined, joined.decode("latin-1")


def _canonical_sha256(dump: dict[str, Any]) -> str:
    text = json.dumps(dump, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_clerk_s_choice_publishes_it_withheld_and_no_hash_gives_it_back(
    issued: tuple[Path, str, dict[str, Any]],
    generator: Generator,
    tmp_path: Path,
) -> None:
    _, url, data = issued
    chosen = copy.deepcopy(data)
    chosen["publication"]["withhold_text"] = choices(data)
    chosen["publication"]["public_numbers"] = [PUBLIC_NUMBER]
    made = publish(generator, chosen, published_on=date.fromisoformat(DAY))
    files = made.files()
    with Ledger(url) as ledger:
        assert record_publication(ledger, made, "测试").version == 1  # the issued version's

    # every reader of every file: none of the values, however spelled
    hidden = {ACCOUNT, MOBILE, "刘体斌", re.sub(r"\s", "", data["supplier"]["address"])}
    public_text = ""
    for name, content in files.items():
        if name.endswith(".pdf"):
            public_text += assert_nothing_withheld_in_pdf(content, hidden, tmp_path)
        elif name.endswith(".docx"):
            assert_nothing_withheld_in_docx(content, hidden)
    everything, as_text = _all_texts(files)
    for secret in hidden:
        assert secret.encode() not in everything and secret not in as_text
    assert "1391234" not in as_text and "62220202" not in as_text
    # the clause stays readable, the switchboard declared public printed
    assert f"乙方收款账户{MARK}，乙方项目经理手机{MARK}，{HOTLINE}" in public_text
    assert manifest_numbers(files) == [PUBLIC_NUMBER]
    manifest = json.loads(files["publication.json"])
    assert "input_sha256" not in manifest
    assert set(WITHHELD_PAYMENT) <= set(manifest["withheld"])
    assert _events(url) == ["issue", "publish"]

    # The attacker's brute force: the canonical input with each guess of the withheld terms.
    contract = generator.parse(data)
    dump = contract.model_dump(mode="json", exclude={"publication"})
    with Ledger(url) as ledger:
        (row,) = ledger.sets(contract_no=NO)
    assert _canonical_sha256(dump) == row["input_sha256"]  # the recomputation is right
    hexes = set(re.findall(r"[0-9a-f]{16,}", as_text.lower()))
    guesses = itertools.product(range(60, 81, 5), range(5, 16), range(20, 41, 5))
    tried = 0
    for first, days, penalty in guesses:
        guess = copy.deepcopy(dump)
        guess["payment"]["first_percent"] = type(dump["payment"]["first_percent"])(first)
        guess["payment"]["days"] = type(dump["payment"]["days"])(days)
        guess["terms"]["penalty_percent"] = type(dump["terms"]["penalty_percent"])(penalty)
        digest = _canonical_sha256(guess)
        raw = bytes.fromhex(digest)
        assert not any(digest[:16] in h for h in hexes), (first, days, penalty)
        assert raw not in everything and base64.b64encode(raw) not in everything
        tried += 1
    assert tried == 5 * 11 * 5


def manifest_numbers(files: dict[str, bytes]) -> list[str]:
    numbers: list[str] = json.loads(files["publication.json"])["public_numbers"]
    return numbers


def test_a_value_the_notice_publishes_cannot_be_withheld_as_text(
    seed_data: dict[str, Any],
) -> None:
    data = copy.deepcopy(seed_data)
    data["publication"]["withhold_text"] = ["上海市大数据中心"]
    issues = publication_issues(parse(data))  # before anything is made
    assert [(i.path, i.code, i.title) for i in issues] == [
        (
            "publication.withhold_text[0]",
            "publication.withhold_text.public",
            "合同公告 · 公开文本隐去的文字 · 第 1 行",
        )
    ]
    assert "甲方 · 名称（buyer.name）" in issues[0].message


@pytest.mark.parametrize(
    "sample",
    [ROOT / "templates" / "supplement" / "sample.yaml", ROOT / "tests/kinds/goods/sample.yaml"],
    ids=["supplement", "goods"],
)
def test_the_kinds_samples_publish(generator: Generator, sample: Path) -> None:
    # the O&M samples publish in test_publication.py; amounts, dates, numbers pass here too
    data = dict(load_data(sample))
    data["publication"] = {**(data.get("publication") or {}), "project_no": "SHDSJ-2025-YW-0117"}
    contract = generator.parse(data)
    made = publish(generator, contract, published_on=contract.envelope.sign_date)
    assert made.files()
