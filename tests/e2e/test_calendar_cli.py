"""A year the installed calendar lacks, added by the office as a file: through the CLI, for real.

``publish`` of a contract signed 2026-12-30 (its due date falls in 2027) is refused with
how to add the year, then made once the office's 2027 file is in the calendar folder,
``publication.json`` naming that file; ``ledger due`` and ``publish`` warn from 1 December
while next year is missing; ``calendar new``, ``check`` and ``list`` help write the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.inputs import load_data

from ..conftest import FIXTURES, ROOT, SAMPLES

SCHEDULE = FIXTURES / "calendar" / "2027.yaml"


def _cli(*args: str | Path, calendar: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CONTRACTGEN_CALENDAR": str(calendar)},
        timeout=600,
    )


@pytest.fixture
def year_end(tmp_path: Path) -> Path:
    data: dict[str, Any] = dict(load_data(SAMPLES / "seed.yaml"))
    data["sign_date"] = "2026-12-30"
    path = tmp_path / "year_end.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, default_flow_style=False), "utf-8")
    return path


def test_a_due_date_in_a_year_of_the_office_file_is_published_naming_the_file(
    year_end: Path, tmp_path: Path
) -> None:
    empty, folder = tmp_path / "none", tmp_path / "calendar"
    empty.mkdir()
    refused = _cli("publish", year_end, "-o", tmp_path / "out", "--no-ledger", calendar=empty)
    assert refused.returncode == 1
    assert "publication.calendar" in refused.stderr
    assert "2027年的法定节假日安排未收录" in refused.stderr
    assert f"放入 {empty}" in refused.stderr and "contractgen calendar new 2027" in refused.stderr
    assert not (tmp_path / "out").exists()

    folder.mkdir()
    shutil.copyfile(SCHEDULE, folder / "2027.yaml")
    made = _cli(
        *("publish", year_end, "-o", tmp_path / "out", "--no-ledger"),
        *("--published-on", "2026-12-31"),
        calendar=folder,
    )
    assert made.returncode == 0, made.stderr
    assert "应于 2027-01-04 前公告" in made.stderr
    assert "提醒" not in made.stderr  # 2027 is held: nothing to warn of
    manifest = json.loads((Path(made.stdout.strip()) / "publication.json").read_text("utf-8"))
    assert manifest["due_date"] == "2027-01-04"
    assert [c["source"] for c in manifest["calendar"]] == ["chinesecalendar", "office"]
    office = manifest["calendar"][1]
    assert office["year"] == 2027 and office["notice"] == "测试〔2026〕1号"
    assert office["file"] == "2027.yaml" and len(office["sha256"]) == 64


def test_ledger_due_warns_from_the_first_of_december(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    empty, folder = tmp_path / "none", tmp_path / "calendar"
    empty.mkdir()
    folder.mkdir()
    shutil.copyfile(SCHEDULE, folder / "2027.yaml")
    november = _cli("ledger", "due", "--ledger", ledger, "--on", "2026-11-30", calendar=empty)
    december = _cli("ledger", "due", "--ledger", ledger, "--on", "2026-12-01", calendar=empty)
    held = _cli("ledger", "due", "--ledger", ledger, "--on", "2026-12-01", calendar=folder)
    assert november.returncode == december.returncode == held.returncode == 0
    assert "提醒" not in november.stderr
    assert "提醒：截止日落入2027年的合同" in december.stderr
    assert "2027年的法定节假日安排未收录" in december.stderr
    assert "提醒" not in held.stderr


def test_calendar_new_check_and_list_help_the_office_write_the_year(tmp_path: Path) -> None:
    folder = tmp_path / "calendar"
    folder.mkdir()
    blank = tmp_path / "2027.yaml"
    written = _cli("calendar", "new", "2027", blank, calendar=folder)
    assert written.returncode == 0, written.stderr
    assert "国务院办公厅《关于2027年部分节假日安排的通知》" in blank.read_text("utf-8")
    again = _cli("calendar", "new", "2027", blank, calendar=folder)
    assert again.returncode != 0 and "已存在" in again.stderr
    unfilled = _cli("calendar", "check", blank, calendar=folder)
    assert unfilled.returncode == 1 and "[calendar.notice]" in unfilled.stderr

    checked = _cli("calendar", "check", SCHEDULE, calendar=folder)
    assert checked.returncode == 0, checked.stderr
    assert "放假 31 天" in checked.stdout and "调休上班 4 天" in checked.stdout

    shutil.copyfile(SCHEDULE, folder / "2027.yaml")
    (folder / "2028.yaml").write_text("year: 2028\nnotice: 测试\nholidays: [2028-01-01]\n", "utf-8")
    listed = _cli("calendar", "list", calendar=folder)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("2004–2026\t已安装的 chinesecalendar")
    assert lines[1] == "2027\t本单位日历文件 2027.yaml（测试〔2026〕1号）"
    assert lines[2].startswith("2028\t日历文件有误，未采用：") and "calendar.count" in lines[2]
