"""The day a contract must be published by: two working days after signing.

《政府采购法实施条例》第五十条: the purchaser publishes the contract on the designated
media within 2 working days of signing it. The signing day itself does not count
(《民法典》第二百零一条: a period counted in days starts the next day), and a working day
is one of the official calendar of statutory holidays and make-up working days (国务院办公厅
《关于…部分节假日安排的通知》, year by year), read from the ``chinesecalendar`` package or,
for the years after its release, from the office's own file of that year's notice
(:mod:`.calendar`). A date no calendar covers is refused, never guessed: a year's schedule
is announced in the autumn before it, and a weekday guess would be wrong on its holidays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import chinese_calendar

from ..errors import ContractError, InvalidContractError, Issue
from .calendar import Calendar, MissingYearError, calendar

__all__ = ["WORKING_DAYS", "covered_years", "due_date", "unpublished"]

#: working days after signing within which the contract is published (实施条例第五十条)
WORKING_DAYS = 2


def covered_years() -> tuple[int, int]:
    """Return the first and last year the installed calendar holds the official schedule of."""
    days = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    return min(days).year, max(days).year


def due_date(
    sign_date: date,
    working_days: int = WORKING_DAYS,
    path: str = "sign_date",
    held: Calendar | None = None,
) -> date:
    """Return the last day to publish a contract signed on ``sign_date``.

    Raise :class:`InvalidContractError` naming ``path`` (code ``publication.calendar``) when
    no calendar (the installed one, the office's files: ``held``, else read now) covers a
    day the count passes through; the message says how to add that year.
    """
    held = held if held is not None else calendar()
    day, counted = sign_date, 0
    try:
        held.is_workday(day)
        while counted < working_days:
            day += timedelta(days=1)
            if held.is_workday(day):
                counted += 1
    except MissingYearError as exc:
        issue = Issue(
            path, "publication.calendar", f"无法确定公告截止日：{held.missing_text(exc.year)}"
        )
        raise InvalidContractError([issue]) from exc
    return day


def unpublished(versions: Iterable[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    """Return the issued versions not yet published, each with its due date and whether late.

    ``versions`` are the ledger's summaries (``signed_on`` and ``published_on`` as ISO
    dates); ``due_date`` is None where the calendar does not cover the count. Soonest due
    first, the uncountable last.
    """
    due, held = [], calendar()
    for row in versions:
        if row.get("status") != "issued" or row.get("published_on") is not None:
            continue
        try:
            day: date | None = due_date(date.fromisoformat(row["signed_on"]), held=held)
        except ContractError:
            day = None  # a year the holiday calendar does not cover
        late = day is not None and today > day
        due.append({**row, "due_date": day.isoformat() if day else None, "overdue": late})
    due.sort(key=lambda r: (r["due_date"] or "9999", r["contract_no"]))
    return due
