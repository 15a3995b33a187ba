"""What a public copy withholds: the kind's defaults of common practice, and what the office adds.

Each kind declares its defaults (``publication.withhold`` and
``publication.withhold_mobile`` of its ``kind.yaml``). For the O&M kind:

* the supplier's bank: 开户银行 and 账号 (``supplier.bank``). An account number with its bank
  is what a payment fraud needs (a forged 变更收款账户 letter in the supplier's name), and
  it serves none of the purposes a public contract serves (who, what, how much, when);
  the bank without the account would still name where the supplier keeps its money;
* a phone or fax number that is a mobile number (``1[3-9]`` and nine digits): it belongs to
  a person, whose number is personal information (《个人信息保护法》第四条), while a
  landline with an area code is the organisation's.

The contract data adds paths under ``publication.withhold`` (checked against the kind's
fields when the data is validated). The values the notice must publish (合同编号, the
parties' names, the amount, the signing date: the kind's envelope) can never be withheld.

A value typed into free text (an account in 其它条款) is no field of its own: the data
names it under ``publication.withhold_text`` and it is marked wherever it is printed,
however it is spaced (:func:`text_pattern`), in every value but the notice's public ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..domain.filters import MARK
from ..domain.model import MOBILE, NUMBER_TEXT
from ..kinds import Contract

__all__ = ["MOBILE", "mask_text", "public_context", "text_pattern", "withheld_paths"]

#: what may stand between the digits of a number as people write it
_SEPARATOR = r"[\s\-–—]?"


def withheld_paths(contract: Contract) -> tuple[str, ...]:
    """Return the data paths the contract's public copy withholds: defaults, then the data's."""
    return contract.kind.withheld_paths(contract)


def is_number(value: str) -> bool:
    """Return whether a text is a number as people write it (four digits at least)."""
    return bool(NUMBER_TEXT.fullmatch(value)) and len(re.sub(r"\D", "", value)) >= 4


def text_pattern(value: str) -> re.Pattern[str]:
    """Return how a value is found in text however it is spaced.

    A number is its digits with a space or a dash allowed between any two, standing
    alone (no digit or letter right before or after it: ``1391234`` is not in
    ``913912345``); a text is its characters with any whitespace between them.
    """
    if is_number(value):
        body = _SEPARATOR.join(re.sub(r"\D", "", value))
        return re.compile(rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])")
    bare = re.sub(r"\s+", "", value)
    return re.compile(r"\s*".join(map(re.escape, bare)))


def _covered(paths: Iterable[str], source: str) -> bool:
    return any(source == path or source.startswith(f"{path}.") for path in paths)


def mask_text(text: str, patterns: Iterable[re.Pattern[str]], mark: str = MARK) -> str:
    """Return a text with every occurrence of each pattern replaced by the mark."""
    for pattern in patterns:
        text = pattern.sub(mark, text)
    return text


def _masked_values(
    context: Mapping[str, Any],
    sources: Mapping[str, tuple[str, ...]],
    public: tuple[str, ...],
    patterns: list[re.Pattern[str]],
) -> dict[str, Any]:
    """Return the context with the patterns marked in every text not only of public values."""

    def visit(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return {k: visit(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(item, f"{path}[]") for item in value]
        found = sources.get(path, ())
        if isinstance(value, str) and found and not all(_covered(public, s) for s in found):
            return mask_text(value, patterns)
        return value

    result: dict[str, Any] = visit(context, "")
    return result


def public_context(contract: Contract) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Return the paths withheld and the public copy's context: their values and the data's
    ``withhold_text`` marked (:data:`~generator.domain.filters.MARK`)."""
    kind = contract.kind
    withheld = withheld_paths(contract)
    context = kind.withheld_context(contract, withheld)
    texts = contract.publication_settings.withhold_text
    if texts:
        patterns = [text_pattern(text) for text in sorted(texts, key=len, reverse=True)]
        context = _masked_values(
            context, kind.context_sources(contract), kind.public_paths, patterns
        )
    return withheld, context
