"""The batch report: cells Excel would run as formulas are neutralised, the JSON keeps values."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from generator.batch import Line, write_report
from generator.errors import Issue
from generator.inputs import Record


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        # OWASP's CSV-injection rule: a leading = + - @ tab or CR gets a single quote
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        # anything else stays as it is
        ("HT2026-01", "HT2026-01"),
        ("a=1", "a=1"),
        ("", ""),
        ("'=1", "'=1"),
    ],
)
def test_every_column_is_neutralised(tmp_path: Path, value: str, cell: str) -> None:
    line = Line(value, value, "failed", value)
    line.fail([Issue("", "x.y", "z")], None)
    write_report(tmp_path, [line], {})
    with open(tmp_path / "batch-report.csv", encoding="utf-8-sig", newline="") as fh:
        _, row = list(csv.reader(fh))
    assert row[:4] == [cell, cell, "有问题", cell]
    assert row[4] == cell.removesuffix(value) + f"{value}：z [x.y]"  # the place leads the cell
    rows = json.loads((tmp_path / "batch-report.json").read_text(encoding="utf-8"))["rows"]
    assert rows[0]["contract_no"] == rows[0]["where"] == rows[0]["folder"] == value


def test_problems_column_is_neutralised(tmp_path: Path) -> None:
    line = Line("=cmd|' /C calc'!A0", "HT1")
    line.fail([Issue("", "x.y", "z")], None)
    write_report(tmp_path, [line], {})
    with open(tmp_path / "batch-report.csv", encoding="utf-8-sig", newline="") as fh:
        row = list(csv.reader(fh))[1]
    assert row[4] == "'=cmd|' /C calc'!A0：z [x.y]"


def test_reports_have_the_permissions_of_any_new_file(tmp_path: Path) -> None:
    umask = os.umask(0o027)
    try:
        write_report(tmp_path, [], {})
    finally:
        os.umask(umask)
    for name in ("batch-report.csv", "batch-report.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch-report.csv", "batch-report.json"]


def test_a_problem_is_said_once_at_its_place() -> None:
    record = Record("round.jsonl", 2, where="第2行")
    line = Line("第2行", "HT1")
    missing = Issue("supplier.name", "required", "必填项缺失", "乙方 · 名称")
    line.fail([missing, missing, Issue("amount", "required", "必填项缺失", "中标金额")], record)
    assert [e["place"] for e in line.errors] == [
        "第2行 乙方 · 名称（supplier.name）",
        "第2行 中标金额（amount）",
    ]
