"""An office's own holiday calendar for the years the installed one lacks: read, checked, used."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from generator.errors import InputError, InvalidContractError
from generator.publication import Calendar, due_date, load_schedule, next_year_warning

from ..conftest import FIXTURES

SCHEDULE = FIXTURES / "calendar" / "2027.yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    where = tmp_path / "calendar"
    where.mkdir()
    (where / "2027.yaml").write_bytes(SCHEDULE.read_bytes())
    return where


def test_a_year_from_the_office_file_counts_like_the_installed_ones(folder: Path) -> None:
    held = Calendar.load(folder)
    # Wednesday 2026-12-30: Thursday counts (the installed 2026), then 2027's file: 1–3 off
    assert due_date(date(2026, 12, 30), held=held) == date(2027, 1, 4)
    # Friday 2027-02-19 signed: Saturday 02-20 is a make-up working day of the file
    assert due_date(date(2027, 2, 19), held=held) == date(2027, 2, 22)
    # 2027-09-30: 10-01..07 off, 10-08 Friday counts, 10-09 a make-up Saturday
    assert due_date(date(2027, 9, 30), held=held) == date(2027, 10, 9)
    assert held.sources([2026, 2027]) == [
        {"year": 2026, "source": "chinesecalendar", "version": "1.11.0"},
        {
            "year": 2027,
            "source": "office",
            "notice": "测试〔2026〕1号",
            "file": "2027.yaml",
            "sha256": held.schedules[2027].sha256,
        },
    ]


def test_without_the_file_the_error_says_how_to_add_the_year(tmp_path: Path) -> None:
    held = Calendar.load(tmp_path / "none")
    with pytest.raises(InvalidContractError) as caught:
        due_date(date(2026, 12, 30), held=held)
    (issue,) = caught.value.issues
    assert (issue.path, issue.code) == ("sign_date", "publication.calendar")
    assert "2027年的法定节假日安排未收录" in issue.message
    assert "2027.yaml" in issue.message and str(tmp_path / "none") in issue.message
    assert "contractgen calendar new 2027" in issue.message


def _variant(folder: Path, old: str, new: str) -> Path:
    path = folder / "2027.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "where", "code"),
    [
        ("  - 2027-04-05\n", "  - 2026-04-05\n", "holidays[2]", "calendar.year"),
        ("  - 2027-04-05\n", "  - 2027-01-02\n", "holidays[2]", "calendar.duplicate"),
        ("  - 2027-02-20\n", "  - 2027-04-05\n", "workdays", "calendar.conflict"),
        ("  - 2027-02-20\n", "  - 2027-02-22\n", "workdays", "calendar.workday"),
        ("  - 2027-04-05\n", "  - 2027-04-31\n", "holidays[2]", "calendar.date"),
        ("  - 2027-04-05\n", "  - 2027-04-09 至 2027-04-05\n", "holidays[2]", "calendar.range"),
        ("notice: 测试〔2026〕1号", "notice: ''", "notice", "calendar.notice"),
        ("year: 2027", "year: 2028", "year", "calendar.name"),
        ('source: ""', 'sources: ""', "sources", "calendar.key"),
        ("holidays:\n", "holidays: 2027-01-01\nx:\n", "x", "calendar.key"),
    ],
)
def test_a_wrong_file_is_refused_naming_where_and_why(
    folder: Path, old: str, new: str, where: str, code: str
) -> None:
    path = _variant(folder, old, new)
    with pytest.raises(InputError) as caught:
        load_schedule(path)
    issue = caught.value.issue
    assert (issue.path, issue.code) == (where, code)
    assert re.search(r"[\u4e00-\u9fff]", issue.message), issue.message
    # never used: the year stays missing, and the count says which file is wrong and why
    held = Calendar.load(folder)
    assert 2027 not in held.schedules and 2027 in held.broken
    with pytest.raises(InvalidContractError) as counted:
        due_date(date(2026, 12, 30), held=held)
    assert "2027.yaml 有误" in counted.value.issues[0].message
    assert code in counted.value.issues[0].message


def test_too_few_days_off_is_not_a_year(folder: Path) -> None:
    path = folder / "2027.yaml"
    path.write_text(
        "year: 2027\nnotice: 测试〔2026〕1号\nholidays:\n  - 2027-01-01 至 2027-01-03\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_schedule(path)
    assert (caught.value.issue.path, caught.value.issue.code) == ("holidays", "calendar.count")


def test_an_installed_year_is_read_from_the_installed_calendar(tmp_path: Path) -> None:
    where = tmp_path / "calendar"
    where.mkdir()
    (where / "2026.yaml").write_text(
        "year: 2026\nnotice: 测试〔2025〕1号\nholidays:\n  - 2026-01-01 至 2026-01-20\n",
        encoding="utf-8",
    )
    held = Calendar.load(where)
    assert 2026 in held.schedules
    # Monday 2026-01-05: the installed calendar's working days, not the file's days off
    assert due_date(date(2026, 1, 5), held=held) == date(2026, 1, 7)
    assert held.source(2026)["source"] == "chinesecalendar"


@pytest.mark.parametrize(
    ("today", "warned"),
    [(date(2026, 11, 30), False), (date(2026, 12, 1), True), (date(2026, 12, 31), True)],
)
def test_from_the_first_of_december_a_missing_next_year_is_said(
    tmp_path: Path, folder: Path, today: date, warned: bool
) -> None:
    warning = next_year_warning(today, Calendar.load(tmp_path / "none"))
    assert (warning is not None) == warned
    if warning:
        assert (
            "2027年的法定节假日安排未收录" in warning
            and "提醒" in warning
            and "2027.yaml" in warning
        )
    assert next_year_warning(today, Calendar.load(folder)) is None
