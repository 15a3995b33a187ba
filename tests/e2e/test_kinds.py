"""A kind with no Python: the test goods kind (tests/kinds/goods) end to end, and broken kinds.

The goods kind is a folder only — its declaration, its template and a sample —
and is made from YAML and from a workbook, through the CLI, the batch and the
service, as DOCX and PDF with its seals placed; ``kinds check`` passes on it and
names the file, the key path and the line of what is wrong in a broken copy.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import sys
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pypdfium2 as pdfium
import pytest

from generator import load_kind
from generator.inputs import load_data, write_workbook

from ..conftest import ROOT, run_cli
from .test_service import Server, start_server, stop_server

KINDS_DIR = ROOT / "tests" / "kinds"
GOODS = KINDS_DIR / "goods"
SAMPLE = GOODS / "sample.yaml"


def _goods() -> dict[str, Any]:
    return copy.deepcopy(dict(load_data(SAMPLE)))


def _text(pdf: bytes) -> str:
    """Return a PDF's text without white space: a table cell's text wraps across lines."""
    document = pdfium.PdfDocument(pdf)
    try:
        text = "".join(document[n].get_textpage().get_text_range() for n in range(len(document)))
    finally:
        document.close()
    return "".join(text.split())


def _words(value: str) -> str:
    return "".join(value.split())


def _pdf_text_of(folder: Path) -> str:
    (pdf,) = [p for p in folder.glob("01_*.pdf")]
    return _text(pdf.read_bytes())


# ---------------------------------------------------------------- the CLI


def test_goods_kind_is_listed_with_its_documents() -> None:
    listed = run_cli("--kinds", KINDS_DIR, "kinds", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split("\t")[0]: line for line in listed.stdout.splitlines()}
    assert set(lines) == {"om_service", "supplement", "goods_purchase"}
    assert "货物采购合同" in lines["goods_purchase"] and "内置" in lines["om_service"]


def test_the_built_in_kind_checks_end_to_end() -> None:
    checked = run_cli("kinds", "check", ROOT / "templates" / "om_service")
    assert checked.returncode == 0, checked.stderr
    assert "样例 sample.yaml、cross_year.yaml 有效" in checked.stdout
    assert "运维服务合同：13 页，盖章处 「甲方（盖章）」第 13 页" in checked.stdout


def test_goods_kind_checks_end_to_end() -> None:
    checked = run_cli("kinds", "check", GOODS)
    assert checked.returncode == 0, checked.stderr
    assert "声明有效" in checked.stdout
    assert "甲方（盖章）" in checked.stdout and "乙方（盖章）" in checked.stdout


def test_goods_contract_from_yaml_as_docx_and_pdf(tmp_path: Path) -> None:
    data = _goods()
    made = run_cli("--kinds", KINDS_DIR, "render", SAMPLE, "-o", tmp_path)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / data["contract_no"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["contract_kind"]["id"] == "goods_purchase"
    (document,) = manifest["documents"]
    assert document["title"] == "货物采购合同"
    assert {seal["party"] for seal in document["seals"]} == {"buyer", "supplier"}
    assert document["cross_page_seal"]["last_page"] == document["pdf"]["pages"] == 4
    assert (folder / "01_货物采购合同.docx").is_file()
    text = _pdf_text_of(folder)
    for row in data["goods"]:
        assert _words(row["name"]) in text and _words(row["model"]) in text
    assert _words(data["supplier"]["name"]) in text
    assert text.count("甲方（盖章）") == 1 and text.count("乙方（盖章）") == 1


def test_goods_data_is_checked_by_its_kinds_rules(tmp_path: Path) -> None:
    data = _goods()
    data["goods"][0]["amount"] = str(Decimal(str(data["goods"][0]["amount"])) + 1)
    data["goods"][1]["name"] = data["goods"][2]["name"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    checked = run_cli("--kinds", KINDS_DIR, "validate", path)
    assert checked.returncode == 1
    codes = {line.rsplit("[", 1)[1].rstrip("]") for line in checked.stderr.splitlines()}
    assert {"goods.amount.product", "goods.amount.sum", "goods.name.duplicate"} <= codes


def test_data_naming_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "unknown.yaml"
    path.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    checked = run_cli("validate", path)  # no --kinds: goods_purchase is not known here
    assert checked.returncode == 1
    assert "kind: " in checked.stderr and "[kind.unknown]" in checked.stderr
    assert "goods_purchase" in checked.stderr and "om_service" in checked.stderr


# ---------------------------------------------------------------- a round from a workbook


def test_goods_round_from_a_workbook(tmp_path: Path) -> None:
    blank = tmp_path / "blank.xlsx"
    made = run_cli("--kinds", KINDS_DIR, "init", "--xlsx", "--kind", "goods_purchase", blank)
    assert made.returncode == 0, made.stderr
    book = openpyxl.load_workbook(blank)
    kind = load_kind(GOODS)
    headers = [cell.value for cell in book["合同"][1]]
    assert "合同编号" in headers and "交货日期" in headers
    assert kind.by_path["goods"].label in book.sheetnames
    rows = []
    for n in range(3):
        row = _goods()
        row.pop("kind")
        row["contract_no"] = f"HW-2026-{n:03d}"
        rows.append(row)
    rows[2]["goods"][0]["quantity"] = 21  # its amount no longer agrees
    round_book = tmp_path / "round.xlsx"
    write_workbook(round_book, rows, kind)
    out = tmp_path / "out"
    batch = run_cli(
        "--kinds", KINDS_DIR, "batch", round_book, "-o", out, "--kind", "goods_purchase"
    )
    assert batch.returncode == 1, batch.stderr  # one bad row
    report = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    states = {line["contract_no"]: line["status"] for line in report["rows"]}
    assert states == {"HW-2026-000": "made", "HW-2026-001": "made", "HW-2026-002": "failed"}
    assert "goods.amount.product" in batch.stderr
    assert "货物清单" in batch.stderr or kind.by_path["goods"].label in batch.stderr
    assert "HW-2026-001" in _pdf_text_of(out / "HW-2026-001")


# ---------------------------------------------------------------- the service


@pytest.fixture(scope="module")
def goods_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("kinds-service")
    launcher = [sys.executable, "-m", "generator", "--kinds", str(KINDS_DIR), "serve"]
    started = start_server(folder, "--workers", "1", "--no-ledger", launcher=launcher)
    try:
        yield started
    finally:
        stop_server(started)


def test_service_lists_the_kinds_and_serves_each_schema(goods_server: Server) -> None:
    kinds = httpx.get(f"{goods_server.url}/v1/kinds", timeout=30).json()["kinds"]
    by_id = {kind["id"]: kind for kind in kinds}
    assert (
        set(by_id) == {"om_service", "supplement", "goods_purchase"}
        and by_id["om_service"]["default"]
    )
    goods = by_id["goods_purchase"]
    assert [d["key"] for d in goods["documents"]] == ["goods_contract"]
    schema = httpx.get(f"{goods_server.url}{goods['schema']}", timeout=30)
    assert schema.status_code == 200
    assert schema.json()["properties"]["goods"]["title"] == load_kind(GOODS).title_of("goods")
    missing = httpx.get(f"{goods_server.url}/v1/kinds/no_such_kind/schema", timeout=30)
    assert missing.status_code == 404


def test_service_renders_a_goods_contract(goods_server: Server) -> None:
    data = _goods()
    answer = httpx.post(f"{goods_server.url}/v1/contracts?issue=false", json=data, timeout=120)
    assert answer.status_code == 200, answer.text
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = archive.namelist()
        pdf = archive.read(next(n for n in names if n.endswith("01_货物采购合同.pdf")))
    assert _words(data["goods"][0]["name"]) in _text(pdf)
    one = httpx.post(
        f"{goods_server.url}/v1/contracts/goods_contract.pdf?issue=false", json=data, timeout=120
    )
    assert one.status_code == 200 and one.headers["content-type"] == "application/pdf"
    wrong = httpx.post(
        f"{goods_server.url}/v1/contracts/service_contract.pdf?issue=false", json=data, timeout=120
    )
    assert wrong.status_code == 404


# ---------------------------------------------------------------- broken kinds


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOODS, tmp_path / "goods"))


def _edit_template(folder: Path, old: str, new: str) -> None:
    path = folder / "goods_contract.docx"
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = parts["word/document.xml"].decode()
    assert old in xml
    parts["word/document.xml"] = xml.replace(old, new, 1).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_kinds_check_names_a_bad_type_by_file_path_and_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    declaration = folder / "kind.yaml"
    text = declaration.read_text(encoding="utf-8")
    line = _line_of(declaration, "delivery_place:")
    lines = text.splitlines()
    after = next(n for n in range(line - 1, len(lines)) if "type:" in lines[n])
    lines[after] = lines[after].replace("text", "txt")
    declaration.write_text("\n".join(lines) + "\n", encoding="utf-8")
    checked = run_cli("kinds", "check", folder)
    assert checked.returncode == 1
    assert f"{declaration}:{after + 1}: fields.delivery_place.type:" in checked.stderr
    assert "“txt”" in checked.stderr and "[kind.type.unknown]" in checked.stderr


def test_kinds_check_names_an_undeclared_template_variable(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit_template(folder, "{{ delivery_place }}", "{{ delivery_spot }}")
    checked = run_cli("kinds", "check", folder, "--no-pdf")
    assert checked.returncode == 1
    assert "goods_contract.docx" in checked.stderr and "段：" in checked.stderr
    assert "delivery_spot" in checked.stderr and "[kind.template.undeclared]" in checked.stderr
    # and the field the template no longer reads is named as unused once the variable is fixed
    _edit_template(folder, "{{ delivery_spot }}", "交货地点另行约定")
    checked = run_cli("kinds", "check", folder, "--no-pdf")
    assert checked.returncode == 1
    declaration = folder / "kind.yaml"
    assert f"{declaration}:{_line_of(declaration, 'delivery_place:')}: delivery_place:" in (
        checked.stderr
    )
    assert "[kind.field.unused]" in checked.stderr


def test_kinds_check_refuses_a_tag_split_across_runs(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    # as Word leaves a tag typed in two goes: two runs, neither a whole tag
    _edit_template(folder, "{{ delivery_place }}", "{{ delivery_</w:t></w:r><w:r><w:t>place }}")
    checked = run_cli("kinds", "check", folder, "--no-pdf")
    assert checked.returncode == 1
    assert f"{folder / 'goods_contract.docx'}: word/document.xml" in checked.stderr
    assert "{{ delivery_" in checked.stderr and "[kind.template.tags]" in checked.stderr


def test_kinds_check_refuses_a_seal_keyword_found_twice(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    # a heading is short: the keyword cannot wrap across lines there
    _edit_template(folder, "<w:t>二、交货</w:t>", "<w:t>二、交货（甲方（盖章））</w:t>")
    checked = run_cli("kinds", "check", folder)
    assert checked.returncode == 1
    assert "甲方（盖章）" in checked.stderr
    assert "goods_contract" in checked.stderr or "货物采购合同" in checked.stderr


def test_kinds_check_names_an_undeclared_rule_path(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    declaration = folder / "kind.yaml"
    text = declaration.read_text(encoding="utf-8")
    assert "field: name" in text
    declaration.write_text(text.replace("field: name", "field: title", 1), encoding="utf-8")
    checked = run_cli("kinds", "check", folder)
    assert checked.returncode == 1
    assert "goods.title" in checked.stderr and "[kind.path.unknown]" in checked.stderr
    assert f"{declaration}:" in checked.stderr


def test_a_document_may_go_without_a_cross_page_seal(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    declaration = folder / "kind.yaml"
    text = declaration.read_text(encoding="utf-8")
    marker = "    title: 货物采购合同\n    seals:"
    assert marker in text
    declaration.write_text(
        text.replace(marker, "    title: 货物采购合同\n    cross_page_seal: false\n    seals:"),
        encoding="utf-8",
    )
    made = run_cli("--kinds", tmp_path, "render", folder / "sample.yaml", "-o", tmp_path / "out")
    assert made.returncode == 0, made.stderr
    manifest = json.loads(
        (tmp_path / "out" / _goods()["contract_no"] / "manifest.json").read_text("utf-8")
    )
    (document,) = manifest["documents"]
    assert document["cross_page_seal"] is None and len(document["seals"]) == 2


def test_kinds_new_writes_a_skeleton_that_checks(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    made = run_cli("kinds", "new", folder)
    assert made.returncode == 0, made.stderr
    assert (folder / "kind.yaml").is_file() and (folder / "sample.yaml").is_file()
    checked = run_cli("kinds", "check", folder)
    assert checked.returncode == 0, checked.stderr
    again = run_cli("kinds", "new", folder)
    assert again.returncode == 2 and "已存在" in again.stderr
