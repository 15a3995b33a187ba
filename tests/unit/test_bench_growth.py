"""The growth benchmark's sets (benchmarks/bench_growth.py): valid, the long one at the limits.

The benchmark's 150-page set is the seed with every list and long text as
long as the O&M declaration allows; if the declaration changes, this says so
here rather than in a benchmark run.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.bench_growth import SIZES, checklist, long_data, prose
from generator.kinds import parse


def values_at(data: Any, path: str) -> list[Any]:
    """Return the values at a dotted path, lists taken item by item (absent ones left out)."""
    found = [data]
    for key in path.split("."):
        found = [
            item
            for value in found
            for item in (value if isinstance(value, list) else [value])
            if isinstance(item, dict) and key in item
        ]
        found = [item[key] for item in found]
    return found


def test_checklist_and_prose_fill_up_to_the_limit_and_no_further() -> None:
    lines = checklist("（{n}）运维月报", 100)
    assert len(lines) <= 100 < len(lines) + len("\n（10）运维月报")
    assert lines.splitlines()[:2] == ["（1）运维月报", "（2）运维月报"]
    text = prose("第{n}项；", 50)
    assert len(text) <= 50 < len(text) + len("第10项；")
    assert "\n" not in text


@pytest.mark.parametrize("size", list(SIZES))
def test_every_size_is_a_valid_contract_of_its_kind(size: str) -> None:
    contract = parse(SIZES[size]())
    assert contract.kind.id == ("supplement" if size == "small" else "om_service")


def test_the_long_set_has_every_list_and_long_text_at_its_declared_limit() -> None:
    data = long_data()
    kind = parse(data).kind
    lists = texts = 0
    for path, field in kind.by_path.items():
        limit = field.spec.max
        if field.type == "list" and limit is not None:
            assert [len(v) for v in values_at(data, path)] == [limit], path
            lists += 1
        elif field.type == "text" and limit is not None and limit >= 500:
            found = values_at(data, path)
            assert found, f"{path}: left out"
            assert all(0.9 * limit < len(value) <= limit for value in found), path
            texts += 1
    assert (lists, texts) == (3, 10)
