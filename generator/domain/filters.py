"""The filters every template and computed value may use: ticks, counts, 大写, clause words.

Each takes the value as the context holds it; a withheld value (the public
copy's mark) passes through unchanged, so a filter never prints a tick, a
count or a clause derived from a value the public copy withholds.
"""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal
from typing import Any

from .amount import count_lower, count_upper, rmb_upper

__all__ = [
    "FILTERS",
    "MARK",
    "NO_BOND",
    "NO_BOND_PREFIXES",
    "TICKED",
    "UNTICKED",
    "bond_clause",
    "format_date",
    "tick",
    "wan",
]

#: what a public copy prints in place of a withheld value (full-width asterisks: no field's
#: pattern allows them, so the mark can never be mistaken for data)
MARK = "＊＊＊"
#: the tick marks of a form: chosen, and not chosen
TICKED = "☑"
UNTICKED = "☐"

#: performance_bond values that take no bond (a final stop aside, any case); the clause reads 无。
NO_BOND = frozenset({"无", "不收取", "免收", "不适用", "none", "n/a"})
#: and the words such a value may start with (不收取履约保证金); 无 alone is not one of them:
#: 无条件见索即付保函 is a bond
NO_BOND_PREFIXES = ("不收取", "免收", "无需", "不需", "不要求")
#: what ends a clause already, and is dropped before the clause adds its own 。
_FINAL_STOPS = "。；;.，,、 "


def format_date(day: date) -> str:
    """Return a date as a contract writes it: 2026年01月16日."""
    return f"{day.year:04d}年{day.month:02d}月{day.day:02d}日"


def wan(amount: Any) -> str:
    """Return an amount in 万元 as a threshold is written: 5000000 is 500 万元."""
    if amount == MARK:
        return MARK
    return f"{(Decimal(amount) / 10000).normalize():f} 万元"


def bond_clause(performance_bond: str) -> str:
    """Return the bond clause of a stated bond: 无。 when none is taken, else the bond as stated."""
    if performance_bond == MARK:
        return MARK
    stated = performance_bond.strip().rstrip(_FINAL_STOPS)
    if stated.lower() in NO_BOND or stated.startswith(NO_BOND_PREFIXES):
        return "无。"
    return f"{stated}。"


def tick(value: Any, wanted: Any = "是") -> str:
    """Return ☑ when a value is the one wanted, else ☐ (a choice or a 是/否 of a form)."""
    if value == MARK:
        return MARK
    return TICKED if value == wanted else UNTICKED


def _count_upper(n: Any) -> str:
    return MARK if n == MARK else count_upper(int(n))


def _count_lower(n: Any) -> str:
    return MARK if n == MARK else count_lower(int(n))


def _letter(n: Any) -> str:
    """Return the n-th list letter from 0: a, b, c …"""
    return string.ascii_lowercase[int(n)]


def _upper(amount: Any) -> str:
    if amount == MARK:
        return MARK
    return rmb_upper(str(amount).replace(",", ""))


#: the filters by the name a template uses
FILTERS = {
    "tick": tick,
    "count_upper": _count_upper,
    "count_lower": _count_lower,
    "letter": _letter,
    "wan": wan,
    "bond_clause": bond_clause,
    "rmb_upper": _upper,
}
