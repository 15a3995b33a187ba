"""Time as the office reads it: stored in UTC, shown in Beijing time (UTC+8, no summer time).

The ledger, job records and logs store UTC (``2026-12-07T04:30:15.123456Z``);
every page, command and message a clerk reads shows Beijing time. China has kept
UTC+8 all year since 1992, so a fixed offset is exact for every date this program
records and needs no time-zone database on the host.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["BEIJING", "beijing", "beijing_day", "now_utc", "utc_text"]

#: 北京时间
BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")


def now_utc() -> dt.datetime:
    """Return the present moment, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def utc_text(moment: dt.datetime | None = None) -> str:
    """Return a moment (default: now) as the ledger stores it: UTC, microseconds, ``Z``."""
    moment = now_utc() if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no known zone")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(stored: str | dt.datetime) -> dt.datetime:
    if isinstance(stored, dt.datetime):
        moment = stored
    else:
        moment = dt.datetime.fromisoformat(stored.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:  # what this program stores without a zone is UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def beijing(stored: str | dt.datetime, *, seconds: bool = True) -> str:
    """Return a stored moment as a clerk reads it: ``2026-12-07 12:30:15（北京时间）``."""
    local = _parse(stored).astimezone(BEIJING)
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown}（北京时间）"


def beijing_day(stored: str | dt.datetime) -> dt.date:
    """Return the calendar day in Beijing of a stored moment (what counts for due dates)."""
    return _parse(stored).astimezone(BEIJING).date()
