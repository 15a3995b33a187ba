"""The day a contract must be published by: two working days after signing.

《政府采购法实施条例》第五十条: the purchaser publishes the contract on the designated
media within 2 working days of signing it. The signing day itself does not count
(《民法典》第二百零一条: a period counted in days starts the next day), and a working day
is one of the official calendar of statutory holidays and make-up working days (国务院办公厅
《关于…部分节假日安排的通知》, year by year), read from the ``chinesecalendar`` package or,
for the years after its release, from the office's own file of that year's notice
(:mod:`.calendar`). Once the ledger holds the version's signed copies, signed by both
parties, the count starts on the day (in Beijing) of the later signature: that is
when the contract was signed; the data's ``sign_date`` stays what the contract prints.
A date no calendar covers is refused, never guessed: a year's schedule is announced in
the autumn before it, and a weekday guess would be wrong on its holidays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import chinese_calendar

from ..errors import ContractError, InvalidContractError, Issue
from .calendar import Calendar, MissingYearError, calendar

__all__ = ["WORKING_DAYS", "counted_from", "covered_years", "due_date", "unpublished"]

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


def counted_from(row: Mapping[str, Any]) -> tuple[date, str]:
    """Return the day a version's due date counts from, and whence: ``signatures`` or ``data``.

    ``row`` is a ledger summary: a version signed by every party (``signing`` ``signed``)
    counts from the Beijing day of its latest signature (``signed_at``), any other from
    the data's ``signed_on``.
    """
    from ..clock import beijing_day

    if row.get("signing") == "signed" and row.get("signed_at"):
        return beijing_day(row["signed_at"]), "signatures"
    return date.fromisoformat(row["signed_on"]), "data"


def unpublished(versions: Iterable[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    """Return the issued versions not yet published, each with its due date and whether late.

    ``versions`` are the ledger's summaries (``signed_on`` and ``published_on`` as ISO
    dates; ``signing`` and ``signed_at`` of their signed copies); the due date counts
    from :func:`counted_from`, and ``sign_date_differs`` says it is not the data's
    ``signed_on``; ``due_date`` is None where the calendar does not cover the count. Soonest due
    first, the uncountable last.
    """
    due, held = [], calendar()
    for row in versions:
        if row.get("status") != "issued" or row.get("published_on") is not None:
            continue
        start, source = counted_from(row)
        try:
            day: date | None = due_date(start, held=held)
        except ContractError:
            day = None  # a year the holiday calendar does not cover
        late = day is not None and today > day
        due.append(
            {
                **row,
                "due_date": day.isoformat() if day else None,
                "overdue": late,
                # the day counted from: the later signature's (Beijing) or the data's sign_date
                "counted_from": start.isoformat(),
                "counted_from_source": source,
                "sign_date_differs": start.isoformat() != row["signed_on"],
            }
        )
    due.sort(key=lambda r: (r["due_date"] or "9999", r["contract_no"]))
    return due
