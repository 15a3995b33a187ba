"""Batch generation from a spreadsheet, run for real through the CLI."""

from __future__ import annotations

import copy
import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from generator.inputs import write_workbook

from ..builtin import COLUMNS
from ..conftest import SAMPLES, run_cli

HEADERS = [h for h, _, _ in COLUMNS]


def _rows(seed: dict[str, Any], count: int) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        row = copy.deepcopy(seed)
        row["contract_no"] = f"HT2026{n:04d}"
        row["supplier"]["name"] = f"上海第{n}信息技术有限公司"
        rows.append(row)
    return rows


def _cell(ws: Any, row: int, header: str) -> Any:
    return ws.cell(row=row, column=HEADERS.index(header) + 1)


#: sheet row → (column header, expected code) of the deliberately bad rows
BAD = {
    7: ("乙方邮政编码", "postcode.format"),
    13: ("中标金额", "amount.format"),
    19: ("签订日期", "date.invalid"),
    31: ("乙方法人性别", "choice.invalid"),
}
DUPLICATES = (25, 26)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory, seed_data: dict[str, Any]) -> Path:
    path = tmp_path_factory.mktemp("batch") / "round.xlsx"
    write_workbook(path, _rows(seed_data, 40))
    book = openpyxl.load_workbook(path)
    ws = book["合同"]
    # Cells as people type them: numbers, Excel dates, Chinese dates, a float amount.
    _cell(ws, 2, "中标金额").value = 1578000.0
    _cell(ws, 3, "签订日期").value = datetime(2026, 1, 16)
    _cell(ws, 4, "服务截止日期").value = "2026年12月31日"
    _cell(ws, 5, "甲方电话").value = 18017087975
    _cell(ws, 6, "甲方邮政编码").value = 200072
    # The bad rows.
    _cell(ws, 7, "乙方邮政编码").value = "20120"
    _cell(ws, 13, "中标金额").value = 1578000.005
    _cell(ws, 19, "签订日期").value = "2026-13-01"
    _cell(ws, 31, "乙方法人性别").value = "男性"
    _cell(ws, 26, "合同编号").value = _cell(ws, 25, "合同编号").value
    book.save(path)
    return path


@pytest.fixture(scope="module")
def first_run(workbook: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("out")
    result = run_cli("batch", workbook, "-o", out, "--format", "docx")
    return out, result


def _report(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((out / "batch-report.json").read_text())["rows"]
    return rows


def test_good_rows_are_made_and_bad_rows_reported(first_run: tuple[Path, Any]) -> None:
    out, result = first_run
    assert result.returncode == 1, result.stderr
    rows = _report(out)
    # Renaming row 26 to a duplicate orphans its three acceptance items: reported, not dropped.
    assert len(rows) == 43
    strays = [r for r in rows if r["where"].startswith("工作表 验收内容")]
    assert [e["code"] for r in strays for e in r["errors"]] == ["batch.unknown_contract"] * 3
    failed = {
        int(r["where"].split("第")[1].rstrip("行")): r
        for r in rows
        if r["status"] == "failed" and r not in strays
    }
    assert set(failed) == set(BAD) | set(DUPLICATES)
    for number, (header, code) in BAD.items():
        errors = failed[number]["errors"]
        assert [e["code"] for e in errors] == [code], errors
        assert errors[0]["place"] == f"工作表 合同 第{number}行 “{header}”列"
    for number in DUPLICATES:
        assert "batch.duplicate" in [e["code"] for e in failed[number]["errors"]]
    made = [r for r in rows if r["status"] == "made"]
    assert len(made) == 40 - len(BAD) - len(DUPLICATES)
    for row in made:
        folder = Path(row["folder"])
        manifest = json.loads((folder / "manifest.json").read_text())
        assert len(list(folder.glob("*.docx"))) == 4
        assert manifest["contract_no"] == row["contract_no"] == folder.name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_report_csv_names_row_column_and_message(first_run: tuple[Path, Any]) -> None:
    out, _ = first_run
    with open(out / "batch-report.csv", encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    bad = next(line for line in lines if line["位置"] == "工作表 合同 第7行")
    assert bad["状态"] == "有问题"
    assert "“乙方邮政编码”列" in bad["问题"] and "邮政编码应为6位数字" in bad["问题"]


def test_summary_and_every_error_reach_stderr(first_run: tuple[Path, Any]) -> None:
    _, result = first_run
    assert "生成 34" in result.stderr and "失败 9" in result.stderr
    assert "工作表 合同 第13行 “中标金额”列" in result.stderr


def test_rerun_makes_nothing_new_and_a_changed_row_is_remade(
    first_run: tuple[Path, Any], workbook: Path, tmp_path: Path
) -> None:
    out, _ = first_run
    again = run_cli("batch", workbook, "-o", out, "--format", "docx")
    statuses = {r["status"] for r in _report(out) if r["status"] != "failed"}
    assert again.returncode == 1 and statuses == {"skipped"}

    changed = tmp_path / "changed.xlsx"
    book = openpyxl.load_workbook(workbook)
    _cell(book["合同"], 10, "服务地点").value = "上海市徐汇区宜山路 700 号"
    book.save(changed)
    before = (out / "HT20260008" / "01_运维服务合同.docx").read_bytes()
    run_cli("batch", changed, "-o", out, "--format", "docx")
    rows = {r["contract_no"]: r["status"] for r in _report(out)}
    assert rows["HT20260008"] == "made"
    assert [n for n, s in rows.items() if s == "made"] == ["HT20260008"]
    assert (out / "HT20260008" / "01_运维服务合同.docx").read_bytes() != before


@pytest.mark.parametrize("kind", ["jsonl", "folder", "csv"])
def test_other_inputs(kind: str, tmp_path: Path, seed_data: dict[str, Any]) -> None:
    rows = _rows(seed_data, 3)
    rows[1]["buyer"]["postcode"] = "2000"
    if kind == "jsonl":
        source = tmp_path / "round.jsonl"
        source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        where = "第2行"
    elif kind == "folder":
        source = tmp_path / "contracts"
        source.mkdir()
        for row in rows:
            (source / f"{row['contract_no']}.json").write_text(
                json.dumps(row, ensure_ascii=False), "utf-8"
            )
        where = "HT20260001.json"
    else:
        book = tmp_path / "round.xlsx"
        write_workbook(book, rows)
        source = tmp_path / "round.csv"
        ws = openpyxl.load_workbook(book)["合同"]
        with open(source, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(
                [[c if c is not None else "" for c in r] for r in ws.iter_rows(values_only=True)]
            )
        items = tmp_path / "round-验收内容与标准.csv"
        ws = openpyxl.load_workbook(book)["验收内容与标准"]
        with open(items, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(ws.iter_rows(values_only=True))
        where = "工作表 合同 第3行"
    out = tmp_path / "out"
    result = run_cli("batch", source, "-o", out, "--format", "docx")
    assert result.returncode == 1, result.stderr
    report = {r["contract_no"]: r for r in _report(out)}
    assert report["HT20260001"]["status"] == "failed"
    assert report["HT20260001"]["where"] == where
    assert report["HT20260001"]["errors"][0]["path"] == "buyer.postcode"
    assert {report["HT20260000"]["status"], report["HT20260002"]["status"]} == {"made"}


def test_missing_keys_of_a_jsonl_row_are_named_each_by_its_field(
    tmp_path: Path, seed_data: dict[str, Any]
) -> None:
    rows = _rows(seed_data, 3)
    del rows[1]["buyer"], rows[1]["supplier"]["name"], rows[1]["amount"]
    source = tmp_path / "round.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out = tmp_path / "out"
    result = run_cli("batch", source, "-o", out, "--format", "docx", "--no-ledger")
    assert result.returncode == 1, result.stderr
    report = {r["contract_no"]: r for r in _report(out)}
    assert [(e["place"], e["path"], e["code"]) for e in report["HT20260001"]["errors"]] == [
        ("第2行 甲方（buyer）", "buyer", "required"),
        ("第2行 乙方 · 名称（supplier.name）", "supplier.name", "required"),
        ("第2行 中标金额（amount）", "amount", "required"),
    ]
    assert "第2行 乙方 · 名称（supplier.name）（HT20260001）: 必填项缺失 [required]" in (
        result.stderr.splitlines()
    )
    assert {report["HT20260000"]["status"], report["HT20260002"]["status"]} == {"made"}


def test_a_column_a_csv_lacks_is_named_with_the_header_to_add(
    tmp_path: Path, seed_data: dict[str, Any]
) -> None:
    book = tmp_path / "round.xlsx"
    write_workbook(book, _rows(seed_data, 2))
    table = [list(r) for r in openpyxl.load_workbook(book)["合同"].iter_rows(values_only=True)]
    gone = table[0].index("乙方名称")
    source = tmp_path / "round.csv"  # and no round-验收内容与标准.csv beside it
    with open(source, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(
            [["" if c is None else c for n, c in enumerate(r) if n != gone] for r in table]
        )
    out = tmp_path / "out"
    result = run_cli("batch", source, "-o", out, "--format", "docx", "--no-ledger")
    assert result.returncode == 1, result.stderr
    for number, row in enumerate(_report(out), start=2):
        assert [e["place"] for e in row["errors"]] == [
            f"工作表 合同 第{number}行 乙方 · 名称（supplier.name），表中缺少“乙方名称”列",
            f"工作表 合同 第{number}行 验收 · 内容与标准（acceptance_plan.items），"
            "表中缺少工作表“验收内容与标准”",
        ]


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert run_cli("batch", "-o", tmp_path).returncode == 2


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("batch", tmp_path / "nothing.xlsx", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert "文件不存在" in result.stderr
    assert not (tmp_path / "out").exists()


def test_bundled_batch_sample_is_valid(tmp_path: Path) -> None:
    result = run_cli("batch", SAMPLES / "batch.xlsx", "-o", tmp_path, "--format", "docx")
    assert result.returncode == 0, result.stderr
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 5
