"""The publication due date: two working days after signing, by the official holiday calendar.

The expected dates are facts of the State Council's announcements, not of the package:
国办发明电〔2024〕12号 (2025) and 国办发明电〔2025〕7号 (2026), read as published:

2025  春节 1月28日–2月4日 放假，1月26日（周日）、2月8日（周六）上班；清明 4月4日–6日；
      劳动节 5月1日–5日，4月27日（周日）上班；国庆、中秋 10月1日–8日，9月28日（周日）、
      10月11日（周六）上班。
2026  元旦 1月1日–3日，1月4日（周日）上班；春节 2月15日–23日，2月14日（周六）、2月28日
      （周六）上班；清明 4月4日–6日；劳动节 5月1日–5日，5月9日（周六）上班；中秋 9月25日–
      27日；国庆 10月1日–7日，9月20日（周日）、10月10日（周六）上班。

The signing day itself does not count (《民法典》第二百零一条).
"""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from generator.errors import InvalidContractError
from generator.publication import covered_years, due_date

CASES = [
    # the seed: signed on a Friday, due the Tuesday after
    ("2026-01-16", "2026-01-20"),
    ("2026-01-17", "2026-01-20"),  # signed on a Saturday: Monday and Tuesday count
    # 2025 Spring Festival: Sunday 1-26 and Saturday 2-8 are working days
    ("2025-01-24", "2025-01-27"),  # Sunday 1-26 counts, then Monday
    ("2025-01-27", "2025-02-06"),  # 1-28 to 2-4 off: Wednesday 2-5, Thursday 2-6
    ("2025-02-07", "2025-02-10"),  # Saturday 2-8 counts, then Monday
    # 2026 Spring Festival: Saturdays 2-14 and 2-28 are working days
    ("2026-02-12", "2026-02-14"),  # Friday 2-13, then the make-up Saturday
    ("2026-02-13", "2026-02-24"),  # Saturday 2-14, then 2-15 to 2-23 off, Tuesday 2-24
    ("2026-02-27", "2026-03-02"),  # Saturday 2-28, then Monday
    # Qingming
    ("2025-04-03", "2025-04-08"),  # 4-4 to 4-6 off: Monday 4-7, Tuesday 4-8
    ("2026-04-02", "2026-04-07"),  # Friday 4-3, then 4-4 to 4-6 off, Tuesday 4-7
    # May Day
    ("2025-04-25", "2025-04-28"),  # Sunday 4-27 counts, then Monday
    ("2025-04-30", "2025-05-07"),  # 5-1 to 5-5 off: Tuesday 5-6, Wednesday 5-7
    ("2026-04-30", "2026-05-07"),  # 5-1 to 5-5 off: Wednesday 5-6, Thursday 5-7
    ("2026-05-08", "2026-05-11"),  # Saturday 5-9 counts, then Monday
    # National Day (2025 with Mid-autumn)
    ("2025-09-26", "2025-09-29"),  # Sunday 9-28 counts, then Monday
    ("2025-09-30", "2025-10-10"),  # 10-1 to 10-8 off: Thursday 10-9, Friday 10-10
    ("2025-10-10", "2025-10-13"),  # Saturday 10-11 counts, then Monday
    ("2026-09-18", "2026-09-21"),  # Sunday 9-20 counts, then Monday
    ("2026-09-24", "2026-09-29"),  # Mid-autumn 9-25 to 9-27 off: Monday, Tuesday
    ("2026-09-29", "2026-10-08"),  # Wednesday 9-30, then 10-1 to 10-7 off, Thursday 10-8
    ("2026-10-09", "2026-10-12"),  # Saturday 10-10 counts, then Monday
    # New Year 2026, across the year: 1-1 to 1-3 off, Sunday 1-4 counts, then Monday
    ("2025-12-31", "2026-01-05"),
    ("2026-12-29", "2026-12-31"),  # the last day the calendar covers
]


@pytest.mark.parametrize(("signed", "due"), CASES)
def test_due_two_working_days_after_signing(signed: str, due: str) -> None:
    assert due_date(date.fromisoformat(signed)) == date.fromisoformat(due)


@pytest.mark.parametrize(
    ("signed", "year"),
    [
        ("2026-12-30", 2027),  # Thursday 12-31, then 2027-01-01 — a holiday the package lacks
        ("2027-03-01", 2027),
        ("2003-06-02", 2003),
    ],
)
def test_a_day_the_calendar_does_not_cover_is_refused(signed: str, year: int) -> None:
    with pytest.raises(InvalidContractError) as caught:
        due_date(date.fromisoformat(signed))
    (issue,) = caught.value.issues
    assert (issue.path, issue.code) == ("sign_date", "publication.calendar")
    assert str(year) in issue.message


def test_the_package_holds_the_announced_schedules() -> None:
    # The package's data, checked against the announcements quoted above.
    assert covered_years() == (2004, 2026)
    make_up_2025 = {d for d in chinese_calendar.workdays if d.year == 2025}
    make_up_2026 = {d for d in chinese_calendar.workdays if d.year == 2026}
    assert make_up_2025 == {
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
    }
    assert make_up_2026 == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
