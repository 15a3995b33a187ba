"""The vocabulary of cross-field rules a declaration may use.

Each rule is a name and its arguments (field paths, numbers); it runs once
every field is sound and yields :class:`Issue` records with a stable code and
a Chinese message naming the fields by their titles. A declaration may give
its own ``code`` and ``message``; ``{actual}`` in a message is the value found.

======================  ==========================================================
``date_order``          ``first`` is not after ``then`` (both dates)
``required_if``         ``field`` is filled when ``when`` equals ``equals`` (true)
``multiple_of``         ``field`` is a multiple of ``of`` (copies in pairs)
``sum_equals``          the ``field`` of a ``list``'s rows sums to ``total`` (a number
                        or an amount field)
``row_product``         each row's ``equals`` is the product of its ``factors``
``unique``              no two rows of a ``list`` share their ``field``
``optional_below``      a ``list`` may be left out only while ``amount`` is below
                        ``limit`` and the dates ``within_year`` fall in one year; when
                        given it has rows (the payment schedule of an O&M contract)
======================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.amount import format_amount
from ..domain.filters import wan
from ..errors import Issue
from .model import Contract, value_at

__all__ = ["RULES", "RuleCheck", "RuleProblem", "compile_rule"]


class RuleProblem(ValueError):
    """A rule declared with a missing or unknown argument."""

    def __init__(self, key: str, message: str, index: int = 0) -> None:
        self.key = key
        #: the rule's place in the declaration's list
        self.index = index
        super().__init__(message)


@dataclass(frozen=True)
class RuleCheck:
    """A declared rule, ready to run on a contract."""

    name: str
    check: Callable[[Contract], Iterator[Issue]]
    #: the data paths the rule reads (``kinds check`` finds each declared)
    paths: tuple[str, ...]


def _number(value: Any) -> str:
    return f"{Decimal(value).normalize():f}" if value is not None else ""


def _say(args: Mapping[str, Any], code: str, message: str, **values: Any) -> tuple[str, str]:
    text = args.get("message") or message
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return args.get("code") or code, text


def _date_order(args: Mapping[str, Any], title: Callable[[str], str]) -> RuleCheck:
    first, then = args["first"], args["then"]
    at = args.get("at", first)
    code, message = _say(args, "date.order", f"{title(first)}不能晚于{title(then)}")

    def check(contract: Contract) -> Iterator[Issue]:
        a, b = value_at(contract, first), value_at(contract, then)
        if a is not None and b is not None and a > b:
            yield Issue(at, code, message)

    return RuleCheck("date_order", check, (first, then))


def _required_if(args: Mapping[str, Any], title: Callable[[str], str]) -> RuleCheck:
    field, when, equals = args["field"], args["when"], args.get("equals", True)
    shown = {True: "是", False: "否"}.get(equals, equals)
    code, message = _say(
        args, f"{field}.required", f"{title(when)}为“{shown}”时须填写{title(field)}"
    )

    def check(contract: Contract) -> Iterator[Issue]:
        if value_at(contract, when) == equals and value_at(contract, field) in (None, "", []):
            yield Issue(field, code, message)

    return RuleCheck("required_if", check, (field, when))


def _multiple_of(args: Mapping[str, Any], title: Callable[[str], str]) -> RuleCheck:
    field, of = args["field"], int(args["of"])
    code, message = _say(args, f"{field}.multiple", f"{title(field)}应为{of}的倍数")

    def check(contract: Contract) -> Iterator[Issue]:
        value = value_at(contract, field)
        if value is not None and value % of:
            yield Issue(field, code, message)

    return RuleCheck("multiple_of", check, (field,))


def _rows(contract: Contract, path: str) -> list[Any]:
    return list(value_at(contract, path) or [])


def _sum_equals(args: Mapping[str, Any], title: Callable[[str], str]) -> RuleCheck:
    rows, field, total = args["list"], args["field"], args["total"]
    reads = (rows, f"{rows}.{field}", *((total,) if isinstance(total, str) else ()))
    named = title(total) if isinstance(total, str) else _number(total)

    def check(contract: Contract) -> Iterator[Issue]:
        items = _rows(contract, rows)
        if not items:
            return
        actual = sum((Decimal(getattr(row, field)) for row in items), Decimal(0))
        wanted = value_at(contract, total) if isinstance(total, str) else Decimal(str(total))
        if wanted is not None and actual != wanted:
            code, message = _say(
                args,
                f"{rows}.sum",
                f"{title(rows)}的{title(f'{rows}.{field}')}之和应等于{named}"
                f"（{_shown(wanted)}），现为{_shown(actual)}",
                actual=_number(actual),
            )
            yield Issue(rows, code, message)

    return RuleCheck("sum_equals", check, reads)


def _shown(value: Decimal) -> str:
    return format_amount(value) if value != value.to_integral() else _number(value)


def _row_product(args: Mapping[str, Any], title: Callable[[str], str]) -> RuleCheck:
    rows, factors, equals = args["list"], list(args["factors"]), args["equals"]
    names = "×".join(title(f"{rows}.{f}") for f in factors)

    def check(contract: Contract) -> Iterator[Issue]:
        for n, row in enumerate(_rows(contract, rows)):
            product = Decimal(1)
            for factor in factors:
                product *= Decimal(getattr(row, factor))
            actual = Decimal(getattr(row, equals))
            if product.quantize(Decimal("0.01")) != actual:
                code, message = _say(
                    args,
                    f"{rows}.{equals}.product",
                    f"{title(f'{rows}.{equals}')}应等于{names}（{_shown(product)}），"
                    f"现为{_shown(actual)}",
                    actual=_number(actual),
                )
                yield Issue(f"{rows}[{n}].{equals}", code, message)

    reads = (rows, *(f"{rows}.{f}" for f in [*factors, equals]))
    return RuleCheck("row_product", check, reads)


def _unique(args: Mapping[str, Any], title: Callable[[str], str]) -> RuleCheck:
    rows, field = args["list"], args["field"]

    def check(contract: Contract) -> Iterator[Issue]:
        seen: dict[Any, int] = {}
        for n, row in enumerate(_rows(contract, rows)):
            value = getattr(row, field)
            if value in seen:
                code, message = _say(
                    args,
                    f"{rows}.{field}.duplicate",
                    f"{title(f'{rows}.{field}')}“{value}”与第{seen[value] + 1}行重复",
                )
                yield Issue(f"{rows}[{n}].{field}", code, message)
            else:
                seen[value] = n

    return RuleCheck("unique", check, (rows, f"{rows}.{field}"))


def _optional_below(args: Mapping[str, Any], title: Callable[[str], str]) -> RuleCheck:
    rows, amount, limit = args["list"], args["amount"], Decimal(str(args["limit"]))
    within = list(args.get("within_year", []))
    code, message = _say(
        args,
        f"{rows}.required",
        f"{title(amount)}达到{wan(limit)}或跨年的，须填写{title(rows)}",
        limit=wan(limit),
    )

    def check(contract: Contract) -> Iterator[Issue]:
        given = value_at(contract, rows)
        if given is None:
            days = [value_at(contract, path) for path in within]
            later = len(days) == 2 and None not in days and days[1].year > days[0].year
            if value_at(contract, amount) >= limit or later:
                yield Issue(rows, code, message)
        elif not given:
            yield Issue(rows, "list.empty", f"{title(rows)}至少应有一项")

    return RuleCheck("optional_below", check, (rows, amount, *within))


#: the rules a declaration may name, and the arguments each needs
RULES: dict[str, tuple[Callable[..., RuleCheck], tuple[str, ...]]] = {
    "date_order": (_date_order, ("first", "then")),
    "required_if": (_required_if, ("field", "when")),
    "multiple_of": (_multiple_of, ("field", "of")),
    "sum_equals": (_sum_equals, ("list", "field", "total")),
    "row_product": (_row_product, ("list", "factors", "equals")),
    "unique": (_unique, ("list", "field")),
    "optional_below": (_optional_below, ("list", "amount", "limit")),
}


def compile_rule(args: Mapping[str, Any], title: Callable[[str], str], index: int = 0) -> RuleCheck:
    """Return a declared rule ready to run; raise :class:`RuleProblem` for a bad declaration."""
    name = args.get("rule", "")
    if name not in RULES:
        raise RuleProblem("rule", f"未知的规则“{name}”（可用：{'、'.join(RULES)}）", index)
    build, needed = RULES[name]
    missing = [key for key in needed if key not in args]
    if missing:
        raise RuleProblem(missing[0], f"规则 {name} 须给出 {'、'.join(missing)}", index)
    try:
        return build(args, title)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RuleProblem("rule", f"规则 {name} 的参数无效：{exc}", index) from exc
