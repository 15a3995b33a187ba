"""A kind's ``supplements:`` declaration: a supplementary contract (补充合同) of another.

The declaration names, by data path, the original's number, the amount the supplement
adds, what it cites of the original and which values must be the original's; the
number scheme (``{original}-BC{n:02}``) and the limit (``limit_percent`` of the
original's amount, 《中华人民共和国政府采购法》第四十九条 for the built-in kind).

Here is what the kind itself knows: the declaration checked against its fields
(:func:`declaration_problems`), the rule that a supplement's number belongs to its
original (:func:`number_rule`, checked with the data, no ledger needed), and what an
issued supplement claims (:func:`claim_of`), which the ledger checks when it records
one (:mod:`generator.ledger.supplements`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import Issue
from .declaration import SupplementsSpec
from .model import Contract, value_at
from .rules import RuleCheck

if TYPE_CHECKING:
    from .fields import FieldDef

__all__ = [
    "SupplementClaim",
    "SupplementProblem",
    "claim_of",
    "declaration_problems",
    "limit_of",
    "number_pattern",
    "number_prefix",
    "number_rule",
    "sequence_of",
    "supplement_rules",
]

#: the place of the supplement in a number scheme: ``{n}`` or ``{n:02}`` (zero-padded)
_SEQUENCE = re.compile(r"\{n(?::0(\d))?\}")
#: the types a cited fact of the original must have in this kind's data
_CITED_TYPES = {
    "amount": ("amount",),
    "sign_date": ("date",),
    "project_name": ("text",),
    "supplier": ("text",),
}


class SupplementProblem(ValueError):
    """A ``supplements:`` declaration that does not fit the kind's fields."""

    def __init__(self, key: tuple[str | int, ...], message: str) -> None:
        #: the key path under ``supplements``
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class SupplementClaim:
    """What an issued supplement says: whose supplement it is, its place, what it adds."""

    original: str
    #: its place among the original's supplements (1 for ``-BC01``)
    sequence: int
    amount: Decimal
    limit_percent: Decimal
    article: str
    #: the number scheme, to find the original's other supplements
    number: str
    #: path → (its label in words, this supplement's value): must be the original's
    same: dict[str, tuple[str, Any]]
    #: what it cites of the original (``amount``, ``sign_date`` …) → (label, value)
    cites: dict[str, tuple[str, Any]]


def _parts(scheme: str) -> tuple[str, str, int]:
    """Return the scheme's text before and after ``{n}``, and the width of ``{n}``."""
    found = _SEQUENCE.search(scheme)
    if found is None:
        raise ValueError("编号规则须含 {n} 或 {n:02}（补充合同按签发先后的序号）")
    return scheme[: found.start()], scheme[found.end() :], int(found[1] or 0)


def number_prefix(scheme: str, original: str) -> str:
    """Return what every supplement number of an original begins with (``N-BC``)."""
    return _parts(scheme)[0].replace("{original}", original)


def number_pattern(scheme: str, original: str) -> re.Pattern[str]:
    """Return the pattern of an original's supplement numbers, the sequence its group 1."""
    before, after, width = _parts(scheme)
    digits = rf"(\d{{{width}}})" if width else r"([1-9]\d*)"
    text = re.escape(before.replace("{original}", original)) + digits
    return re.compile(text + re.escape(after.replace("{original}", original)))


def sequence_of(scheme: str, original: str, number: str) -> int | None:
    """Return a supplement's place from its number, or None when it is not one of the original's."""
    found = number_pattern(scheme, original).fullmatch(number)
    if found is None or int(found[1]) == 0:
        return None
    return int(found[1])


def example_number(scheme: str, original: str, sequence: int = 1) -> str:
    """Return the number of the original's supplement at that place (``N-BC01``)."""
    before, after, width = _parts(scheme)
    return (before + f"{sequence:0{width}d}" + after).replace("{original}", original)


def limit_of(spec: SupplementsSpec, constants: dict[str, Any]) -> Decimal:
    """Return the declared limit as a percentage, a constant's name looked up."""
    value = spec.limit_percent
    if isinstance(value, str):
        value = constants[value]
    return Decimal(str(value))


def declaration_problems(
    spec: SupplementsSpec, by_path: dict[str, FieldDef], constants: dict[str, Any], number: str
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Yield (key path under ``supplements``, message) for what does not fit the kind's fields."""

    def typed(key: tuple[str | int, ...], path: str, types: tuple[str, ...], what: str) -> Any:
        found = by_path.get(path)
        if found is None or found.in_list:
            return (key, f"“{path}”不是本合同类型的字段（{what}）")
        if found.type not in types:
            return (key, f"“{path}”应为{'或'.join(types)}类型的字段（{what}），现为 {found.type}")
        return None

    checks = [
        typed(("original",), spec.original, ("contract_no",), "原合同编号"),
        typed(("amount",), spec.amount, ("amount",), "补充合同金额"),
        *(
            typed(("same", n), p, tuple({d.type for d in by_path.values()}), "应与原合同相同")
            for n, p in enumerate(spec.same)
        ),
        *(
            typed(("cites", k), p, _CITED_TYPES[k], f"所引原合同的{k}")
            for k, p in spec.cites.items()
        ),
    ]
    yield from (c for c in checks if c is not None)
    if isinstance(spec.limit_percent, str) and spec.limit_percent not in constants:
        yield (("limit_percent",), f"常量“{spec.limit_percent}”未在 constants 中声明")
    else:
        try:
            limit = limit_of(spec, constants)
        except ArithmeticError:
            limit = Decimal(0)
        if not Decimal(0) < limit <= Decimal(100):
            yield (("limit_percent",), "上限应为大于 0、不超过 100 的百分比")
    try:
        before, after, _ = _parts(spec.number)
    except ValueError as exc:
        yield (("number",), str(exc))
    else:
        if "{original}" not in before or "{" in after or "{" in before.replace("{original}", ""):
            yield (("number",), "编号规则应以 {original}（原合同编号）开头，再接 {n} 或 {n:02}")
    if number != "contract_no" and by_path.get(number) is None:
        yield (("number",), "合同编号字段未声明")


def supplement_rules(
    spec: SupplementsSpec,
    by_path: dict[str, FieldDef],
    constants: dict[str, Any],
    contract_no: str,
    title: Callable[[str], str],
    label: Callable[[str], str],
) -> tuple[RuleCheck, ...]:
    """Return the rules a supplements declaration adds; raise SupplementProblem if it is unsound."""
    for key, message in declaration_problems(spec, by_path, constants, contract_no):
        raise SupplementProblem(key, message)
    return (number_rule(spec, contract_no, title, label),)


def number_rule(
    spec: SupplementsSpec,
    contract_no: str,
    title: Callable[[str], str],
    label: Callable[[str], str],
) -> RuleCheck:
    """Return the rule that a supplement's number is one of its original's (``N-BC01`` …)."""

    def check(contract: Contract) -> Iterator[Issue]:
        number, original = value_at(contract, contract_no), value_at(contract, spec.original)
        if number is None or original is None:
            return
        if number == original:
            yield Issue(
                contract_no,
                "supplement.number",
                f"{title(contract_no)}不能与{label(spec.original)}相同",
            )
        elif sequence_of(spec.number, original, number) is None:
            yield Issue(
                contract_no,
                "supplement.number",
                f"{title(contract_no)}“{number}”不属于原合同 {original}：应为 "
                f"{example_number(spec.number, original)}、"
                f"{example_number(spec.number, original, 2)} ……（按签发先后编号）",
            )

    return RuleCheck("supplement_number", check, (contract_no, spec.original))


def claim_of(contract: Contract) -> SupplementClaim | None:
    """Return what a contract claims as a supplement, or None when its kind is no supplement."""
    kind = contract.kind
    spec = kind.spec.supplements
    if spec is None:
        return None
    original = value_at(contract, spec.original)
    number = contract.envelope.contract_no
    sequence = sequence_of(spec.number, original, number)
    assert sequence is not None, "a valid supplement's number is its original's"
    return SupplementClaim(
        original=original,
        sequence=sequence,
        amount=value_at(contract, spec.amount),
        limit_percent=limit_of(spec, kind.spec.constants),
        article=spec.article,
        number=spec.number,
        same={p: (kind.label_of(p), value_at(contract, p)) for p in spec.same},
        cites={k: (kind.label_of(p), value_at(contract, p)) for k, p in spec.cites.items()},
    )
