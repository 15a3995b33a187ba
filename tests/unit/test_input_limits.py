"""Reading contract files: nothing silently changed, everything bounded, every refusal placed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import InputError, validate
from generator.inputs.load import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_INT_DIGITS,
    MAX_NODES,
    load_data,
    parse_json,
    parse_yaml,
)

from ..conftest import FIXTURES, SAMPLES

INPUT = FIXTURES / "input"


def _refused(read: Callable[[], object], path: str, code: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read()
    issue = caught.value.issue
    assert (issue.path, issue.code) == (path, code)
    assert f"[{code}]" in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("name", "path", "code"),
    [
        # a key given twice: refused, never the last one winning
        ("duplicate_amount.yaml", "amount", "input.duplicate_key"),
        ("duplicate_nested_key.yaml", "buyer.contact", "input.duplicate_key"),
        ("duplicate_key.json", "payment.days", "input.duplicate_key"),
        # aliases: contract data never needs them, an alias tree is a memory bomb
        ("alias_bomb.yaml", "b[0]", "input.yaml_alias"),
    ],
)
def test_a_file_that_would_be_read_wrongly_is_refused(name: str, path: str, code: str) -> None:
    error = _refused(lambda: load_data(INPUT / name), path, code)
    assert str(INPUT / name) in str(error)


def test_a_duplicate_yaml_key_names_both_lines() -> None:
    error = _refused(
        lambda: load_data(INPUT / "duplicate_amount.yaml"), "amount", "input.duplicate_key"
    )
    assert "“amount”" in error.issue.message
    assert "第31行与第32行" in error.issue.message


@pytest.mark.parametrize(
    ("name", "path", "code"),
    [
        ("boolean_days.json", "payment.days", "type.integer"),
        ("bidi_name.json", "supplier.name", "text.bidi"),
        ("lone_surrogate.json", "buyer.contact", "text.surrogate"),
    ],
)
def test_json_data_problems_are_issues(name: str, path: str, code: str) -> None:
    assert [(i.path, i.code) for i in validate(load_data(INPUT / name))] == [(path, code)]


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize(
    ("parse", "text", "path", "code"),
    [
        # nesting: 100,000 levels, and one past the limit
        (parse_json, _nested(100_000), "", "input.too_deep"),
        (parse_json, _nested(MAX_DEPTH + 1), "", "input.too_deep"),
        (parse_yaml, _nested(100_000), "", "input.too_deep"),
        (parse_yaml, "- " * 100_000 + "x", "", "input.too_deep"),
        (parse_yaml, "? " + _nested(100_000) + "\n: 1", "", "input.too_deep"),
        (parse_yaml, _nested(MAX_DEPTH + 1), "", "input.too_deep"),
        # values: the number of YAML nodes, the digits of a JSON number (named by its key)
        (parse_yaml, "- a\n" * (MAX_NODES + 1), "", "input.too_many_values"),
        (parse_json, '{"amount": ' + "9" * 5000 + "}", "amount", "input.number_too_long"),
        (parse_json, '{"a": ' + "1" * (MAX_INT_DIGITS + 1) + "}", "a", "input.number_too_long"),
        (parse_json, '{"amount": 1.' + "5" * 5000 + "}", "amount", "input.number_too_long"),
        (parse_json, '{"amount": NaN}', "amount", "input.json"),
        (parse_json, '{"amount": -Infinity}', "amount", "input.json"),
        # a string of escaped quotes never closed: malformed, found in linear time
        (parse_json, '"' + '\\"' * 300_000, "", "input.json"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
)
def test_limits_are_refused_before_building_the_data(
    parse: Callable[[str, str], object], text: str, path: str, code: str
) -> None:
    _refused(lambda: parse(text, "x"), path, code)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_json, _nested(MAX_DEPTH)),
        (parse_yaml, _nested(MAX_DEPTH - 1)),
        # brackets inside strings are text, not nesting
        (parse_json, '{"other_terms": "' + "[" * 1000 + '"}'),
        (parse_json, '{"account": ' + "9" * MAX_INT_DIGITS + "}"),
        # any JSON value at the top (the model then says it is not a contract)
        (parse_json, "null"),
        (parse_json, "1.5"),
        (parse_json, "true"),
        (parse_json, '"x"'),
        # an anchor without an alias is harmless
        (parse_yaml, "buyer: &b {name: x}"),
    ],
)
def test_within_the_limits_is_read(parse: Callable[[str, str], object], text: str) -> None:
    parse(text, "x")


def test_the_same_key_in_different_objects_is_fine() -> None:
    assert parse_json('{"a": {"name": 1}, "b": {"name": 2}}') == {
        "a": {"name": 1},
        "b": {"name": 2},
    }
    assert parse_yaml("a: {name: 1}\nb: {name: 2}") == {"a": {"name": "1"}, "b": {"name": "2"}}


def test_a_key_twice_in_a_list_item_is_placed() -> None:
    _refused(
        lambda: parse_json('{"items": [{"stage": "a"}, {"stage": "a", "stage": "b"}]}'),
        "items[1].stage",
        "input.duplicate_key",
    )


def test_files_that_are_not_contract_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    (tmp_path / "folder.yaml").mkdir()
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("contract_no: café".encode("latin-1"))
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    for path, code in [
        (zero, "input.not_file"),  # reading it would never end
        (fifo, "input.not_file"),  # opening it would block
        (tmp_path / "folder.yaml", "input.not_file"),
        (big, "input.too_large"),
        (latin, "input.encoding"),
        (tmp_path / "missing.yaml", "input.missing"),
        (tmp_path / "contract.txt", "input.type"),
    ]:
        _refused(lambda path=path: load_data(path), "", code)  # type: ignore[misc]


def test_the_samples_are_within_every_limit() -> None:
    for sample in SAMPLES.glob("*.yaml"):
        assert load_data(sample)
