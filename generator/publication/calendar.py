"""Working days: the installed holiday calendar, and the years an office adds from the notice.

The official schedule of each year (国务院办公厅《关于{year}年部分节假日安排的通知》, published
each autumn) names the days off and the weekend days that become working days (调休上班).
``chinesecalendar`` carries the years up to its release (1.11.0: 2004–2026). A year it
lacks is added by the office as a small YAML file, ``{year}.yaml``, in its calendar
folder (``$CONTRACTGEN_CALENDAR``, else ``$XDG_DATA_HOME/contractgen/calendar``)::

    year: 2027
    notice: 国办发明电〔2026〕X号          # the notice's number, as printed
    source: https://www.gov.cn/…         # where it was read (optional)
    holidays:                            # every day off, weekends inside a holiday too
      - 2027-01-01
      - 2027-02-06 至 2027-02-13          # a run of days, both ends included
    workdays:                            # the weekend days worked instead (调休上班)
      - 2027-02-20

A file is checked when it is read: every date in its year, none twice, none both a day
off and a working day, every working day a Saturday or Sunday, and counts in the range
every schedule since 2004 falls in. A year the installed calendar holds is read from it
(a newer ``chinesecalendar`` release wins over an office file of the same year).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from ..errors import InputError

__all__ = [
    "CALENDAR_ENV",
    "Calendar",
    "MissingYearError",
    "YearSchedule",
    "calendar",
    "calendar_folder",
    "load_schedule",
    "next_year_warning",
]

#: the environment variable naming the office's calendar folder
CALENDAR_ENV = "CONTRACTGEN_CALENDAR"
#: the keys of a schedule file
_KEYS = {"year", "notice", "source", "title", "holidays", "workdays"}
#: days off in a year's schedule, weekends inside the holidays included (2004–2026: 23–33)
_HOLIDAY_COUNT = range(15, 46)
#: weekend days worked instead (2004–2026: 5–12)
_WORKDAY_COUNT = range(0, 16)
_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:至|~|—|--)\s*(\d{4}-\d{2}-\d{2})\s*$")
#: the largest schedule file read (a year's dates fit in a few kilobytes)
_MAX_BYTES = 64 * 1024


class _Loader(yaml.SafeLoader):
    """YAML's safe loader with dates left as text, so that a wrong one is named where it is."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class MissingYearError(LookupError):
    """No calendar holds a year the count needs."""

    def __init__(self, year: int) -> None:
        super().__init__(year)
        self.year = year


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule, read from an office's file."""

    year: int
    notice: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    file: str
    sha256: str
    source: str = ""

    def is_workday(self, day: dt.date) -> bool:
        """Return whether ``day`` (of this year) is a working day."""
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5

    def describe(self) -> dict[str, Any]:
        """Return where the year came from, as ``publication.json`` records it."""
        described = {
            "year": self.year,
            "source": "office",
            "notice": self.notice,
            "file": self.file,
            "sha256": self.sha256,
        }
        if self.source:
            described["url"] = self.source
        return described


def calendar_folder() -> Path:
    """Return the office's calendar folder: ``$CONTRACTGEN_CALENDAR``, else the data folder's."""
    named = os.environ.get(CALENDAR_ENV)
    if named:
        return Path(named)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "contractgen" / "calendar"


def _fail(path: Path, where: str, code: str, message: str) -> InputError:
    return InputError(message, code=code, path=where, source=str(path))


def _dates(path: Path, key: str, value: Any, year: int) -> Iterator[tuple[str, dt.date]]:
    """Yield each date a list of dates and ``A 至 B`` runs names, with where it was written."""
    if value is None:
        return
    if not isinstance(value, list):
        raise _fail(path, key, "calendar.type", f"{key} 应为日期列表")
    for n, item in enumerate(value):
        where = f"{key}[{n}]"
        if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
            first = last = item
        else:
            match = _RANGE.match(str(item))
            try:
                if match:
                    first, last = (dt.date.fromisoformat(g) for g in match.groups())
                else:
                    first = last = dt.date.fromisoformat(str(item).strip())
            except ValueError:
                message = f"“{item}”不是日期（应写成 {year}-01-01，或“起日 至 止日”）"
                raise _fail(path, where, "calendar.date", message) from None
        if last < first:
            raise _fail(path, where, "calendar.range", f"“{item}”的止日早于起日")
        for day in (first + dt.timedelta(days=k) for k in range((last - first).days + 1)):
            if day.year != year:
                message = f"{day.isoformat()} 不在 {year} 年（文件只写本年的安排）"
                raise _fail(path, where, "calendar.year", message)
            yield where, day


def _collect(path: Path, key: str, value: Any, year: int) -> frozenset[dt.date]:
    seen: dict[dt.date, str] = {}
    for where, day in _dates(path, key, value, year):
        if day in seen:
            message = f"{day.isoformat()} 写了两次（{seen[day]} 与 {where}）"
            raise _fail(path, where, "calendar.duplicate", message)
        seen[day] = where
    return frozenset(seen)


def load_schedule(path: Path) -> YearSchedule:
    """Read and check one year's schedule file; raise :class:`InputError` naming what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(path, "", "calendar.unreadable", f"无法读取日历文件（{exc.strerror}）") from exc
    if len(raw) > _MAX_BYTES:
        raise _fail(path, "", "calendar.size", f"日历文件超过 {_MAX_BYTES // 1024} KB")
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_Loader)  # a safe loader
    except (UnicodeDecodeError, yaml.YAMLError):
        raise _fail(path, "", "calendar.syntax", "不是 UTF-8 编码的 YAML 文件") from None
    if not isinstance(data, dict):
        raise _fail(path, "", "calendar.type", "应为含 year、notice、holidays、workdays 的映射")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        message = f"不认识的键：{'、'.join(unknown)}（可用：{'、'.join(sorted(_KEYS))}）"
        raise _fail(path, unknown[0], "calendar.key", message)
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise _fail(path, "year", "calendar.year", "year 应为 2000 至 2100 之间的年份")
    if path.stem != str(year):
        message = f"文件名应为 {year}.yaml（与 year 一致）"
        raise _fail(path, "year", "calendar.name", message)
    notice = str(data.get("notice") or "").strip()
    if not notice:
        message = "notice 必填：国务院办公厅当年节假日安排通知的文号"
        raise _fail(path, "notice", "calendar.notice", message)
    holidays = _collect(path, "holidays", data.get("holidays"), year)
    workdays = _collect(path, "workdays", data.get("workdays"), year)
    _check_schedule(path, year, holidays, workdays)
    return YearSchedule(
        year=year,
        notice=notice,
        holidays=holidays,
        workdays=workdays,
        file=path.name,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=str(data.get("source") or "").strip(),
    )


def _check_schedule(
    path: Path, year: int, holidays: frozenset[dt.date], workdays: frozenset[dt.date]
) -> None:
    both = sorted(holidays & workdays)
    if both:
        message = f"{both[0].isoformat()} 既是放假日又是调休上班日"
        raise _fail(path, "workdays", "calendar.conflict", message)
    weekday = sorted(d for d in workdays if d.weekday() < 5)
    if weekday:
        message = f"{weekday[0].isoformat()} 是工作日本身，调休上班日应为周六或周日"
        raise _fail(path, "workdays", "calendar.workday", message)
    if len(holidays) not in _HOLIDAY_COUNT:
        message = (
            f"放假日共 {len(holidays)} 天，不像一年的安排（2004年以来每年 23 至 33 天，"
            f"含假期中的周末）：请核对是否漏写或多写"
        )
        raise _fail(path, "holidays", "calendar.count", message)
    if len(workdays) not in _WORKDAY_COUNT:
        message = f"调休上班日共 {len(workdays)} 天，不像一年的安排（2004年以来每年 5 至 12 天）"
        raise _fail(path, "workdays", "calendar.count", message)


def _installed_years() -> tuple[int, int]:
    days = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    return min(days).year, max(days).year


@dataclass
class Calendar:
    """The installed calendar's years, and the office's own for the years after them."""

    folder: Path
    schedules: dict[int, YearSchedule] = field(default_factory=dict)
    installed: tuple[int, int] = field(default_factory=_installed_years)
    #: the files of the folder that are wrong, by year: what is wrong (never used, always said)
    broken: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | None = None) -> Calendar:
        """Read every ``YYYY.yaml`` of the folder; a wrong file holds no year and says why."""
        where = folder if folder is not None else calendar_folder()
        schedules, broken = {}, {}
        if where.is_dir():
            for path in sorted(where.glob("*.yaml")):
                if re.fullmatch(r"\d{4}", path.stem):
                    try:
                        schedule = load_schedule(path)
                    except InputError as exc:
                        broken[int(path.stem)] = f"{exc.issue.message} [{exc.issue.code}]"
                        continue
                    schedules[schedule.year] = schedule
        return cls(where, schedules, broken=broken)

    def covers(self, year: int) -> bool:
        """Return whether some calendar holds ``year``."""
        first, last = self.installed
        return first <= year <= last or year in self.schedules

    def is_workday(self, day: dt.date) -> bool:
        """Return whether ``day`` is a working day; raise :class:`MissingYearError` if unknown."""
        first, last = self.installed
        if first <= day.year <= last:
            return bool(chinese_calendar.is_workday(day))
        schedule = self.schedules.get(day.year)
        if schedule is None:
            raise MissingYearError(day.year)
        return schedule.is_workday(day)

    def source(self, year: int) -> dict[str, Any]:
        """Return which calendar holds ``year``, as ``publication.json`` records it."""
        first, last = self.installed
        if first <= year <= last:
            version = chinese_calendar.__version__
            return {"year": year, "source": "chinesecalendar", "version": version}
        return self.schedules[year].describe()

    def sources(self, years: Iterable[int]) -> list[dict[str, Any]]:
        """Return the calendar of each year, in order."""
        return [self.source(y) for y in sorted(set(years))]

    def years(self) -> list[dict[str, Any]]:
        """Return every year held: the installed calendar's range, then the office's files."""
        first, last = self.installed
        listed = [
            {
                "years": f"{first}–{last}",
                "source": "chinesecalendar",
                "version": chinese_calendar.__version__,
            }
        ]
        for year in sorted(self.schedules):
            if not first <= year <= last:
                listed.append({"years": str(year), **self.schedules[year].describe()})
        for year, problem in sorted(self.broken.items()):
            listed.append({"years": str(year), "source": "broken", "problem": problem})
        return listed

    def missing_text(self, year: int) -> str:
        """Return what to tell a clerk when ``year`` is held by no calendar."""
        first, last = self.installed
        added = [y for y in sorted(self.schedules) if y > last]
        held = f"{first}年至{last}年" + (
            f"，及本单位补充的{'、'.join(map(str, added))}年" if added else ""
        )
        if year in self.broken:
            return (
                f"{year}年的日历文件 {self.folder / f'{year}.yaml'} 有误，未采用："
                f"{self.broken[year]}（改正后用 contractgen calendar check 检查）"
            )
        return (
            f"{year}年的法定节假日安排未收录（已收录{held}）。请按国务院办公厅《关于{year}年部分"
            f"节假日安排的通知》写日历文件 {year}.yaml，放入 {self.folder}（格式见 README"
            f"“节假日安排”，可先运行 contractgen calendar new {year} 生成），"
            f"再用 contractgen calendar check 检查"
        )


#: the calendars read, by folder and the state of its files (read again when one changes)
_READ: dict[tuple[str, tuple[tuple[str, int, int], ...]], Calendar] = {}


def calendar() -> Calendar:
    """Return the calendar in use now: the office's folder, read again when a file changes."""
    folder = calendar_folder()
    try:
        state = tuple(
            (p.name, (st := p.stat()).st_size, st.st_mtime_ns)
            for p in sorted(folder.glob("*.yaml"))
        )
    except OSError:
        state = ()
    key = (str(folder), state)
    if key not in _READ:
        if len(_READ) > 16:
            _READ.clear()
        _READ[key] = Calendar.load(folder)
    return _READ[key]


def next_year_warning(today: dt.date, held: Calendar | None = None) -> str | None:
    """From 1 December, say when next year's schedule is held by no calendar."""
    if today.month != 12:
        return None
    held = held if held is not None else calendar()
    upcoming = today.year + 1
    if held.covers(upcoming):
        return None
    return (
        f"提醒：截止日落入{upcoming}年的合同（年底及以后签订的）将无法计算公告截止日——"
        f"{held.missing_text(upcoming)}"
    )
