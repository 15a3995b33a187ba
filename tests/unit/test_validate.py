"""Validation: every rule reports its field path, stable code and Chinese message."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from generator import ContractInvalid, Issue, validate
from generator.load import load_data
from generator.model import contract_no_problem, credit_code_ok
from generator.validate import parse

from ..conftest import FIXTURES, SAMPLES

INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))


def _expected(path: Path) -> set[tuple[str, str]]:
    lines = re.findall(r"^# expect: (\S+) (\S+)$", path.read_text(), re.MULTILINE)
    assert lines, f"{path.name} names no expected issue"
    return set(lines)


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_samples_are_valid(sample: Path) -> None:
    assert validate(load_data(sample)) == []


def test_there_is_a_fixture_per_rule() -> None:
    codes = {code for path in INVALID for _, code in _expected(path)}
    assert len(INVALID) >= 30
    assert {
        "required",
        "postcode.format",
        "phone.format",
        "fax.format",
        "account.format",
        "credit_code.invalid",
        "choice.invalid",
        "choice.yes_no",
        "contract_no.unsafe",
        "amount.positive",
        "amount.format",
        "sign_date.after_end",
        "payment.instalments.required",
        "payment.instalments.sum",
        "acceptance.sampling_ratio.required",
        "acceptance.destroyed_handling.required",
        "field.unknown",
    } <= codes


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_its_place_and_code(path: Path) -> None:
    issues = validate(load_data(path))
    assert {(i.path, i.code) for i in issues} == _expected(path)
    for issue in issues:
        assert re.search(r"[\u4e00-\u9fff]", issue.message), issue


def test_every_problem_is_collected(seed: dict[str, Any]) -> None:
    seed["buyer"]["postcode"] = "2000"
    seed["supplier"]["phone"] = "123"
    seed["supplier"]["bank"]["account"] = "abc"
    seed["acceptance_plan"]["experts"] = "maybe"
    del seed["sign_place"]
    paths = {i.path for i in validate(seed)}
    assert paths == {
        "buyer.postcode",
        "supplier.phone",
        "supplier.bank.account",
        "acceptance_plan.experts",
        "sign_place",
    }


def test_issue_prints_path_message_and_code() -> None:
    issue = Issue("supplier.postcode", "postcode.format", "邮政编码应为6位数字")
    assert str(issue) == "supplier.postcode: 邮政编码应为6位数字 [postcode.format]"


def test_parse_raises_contract_invalid_with_issues(seed: dict[str, Any]) -> None:
    seed["amount"] = "0"
    with pytest.raises(ContractInvalid) as caught:
        parse(seed, "x.yaml")
    assert isinstance(caught.value, ValueError)
    assert [i.code for i in caught.value.issues] == ["amount.positive"]
    assert "x.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # markup and template syntax are data, printed literally
        ("supplier.name", "A&B <科技> 有限公司"),
        ("project_name", "{{ contract_no }} {% if x %}项目{% endif %}"),
        ("buyer.contact", '“黄旻”\'s "office"'),
        # a newline in an address is a line break, not an error
        ("supplier.address", "上海市浦东新区\n张江路 1 号"),
        ("service.site", "机房 A\t机房 B"),
    ],
)
def test_unusual_text_is_valid(seed: dict[str, Any], field: str, value: str) -> None:
    target = seed
    *parents, last = field.split(".")
    for key in parents:
        target = target[key]
    target[last] = value
    assert validate(seed) == []


@pytest.mark.parametrize(
    ("amount", "instalments", "valid"),
    [
        # below 5,000,000 and within the signing year: the default applies
        ("4999999.99", None, True),
        # 5,000,000 or more: instalments must be given
        ("5000000", None, False),
        ("5000000", [("100", "验收合格")], True),
        # percentages must add up to exactly 100
        ("1578000", [("33.33", "a"), ("33.33", "b"), ("33.34", "c")], True),
        ("1578000", [("33.33", "a"), ("33.33", "b"), ("33.33", "c")], False),
    ],
)
def test_payment_rule(
    seed: dict[str, Any], amount: str, instalments: list[tuple[str, str]] | None, valid: bool
) -> None:
    seed["amount"] = amount
    if instalments is not None:
        seed["payment"]["instalments"] = [{"percent": p, "condition": c} for p, c in instalments]
    assert (validate(seed) == []) is valid


def test_json_numbers_are_accepted(seed: dict[str, Any]) -> None:
    seed["amount"] = Decimal("1578000.50")
    seed["buyer"]["postcode"] = 200072
    seed["terms"]["copies"] = 4
    assert validate(seed) == []


def test_spreadsheet_float_amount(seed: dict[str, Any]) -> None:
    seed["amount"] = 1578000.0
    assert validate(seed) == []
    seed["amount"] = 1578000.005
    assert [i.code for i in validate(seed)] == ["amount.format"]


def test_non_mapping_data() -> None:
    assert [i.code for i in validate(["not", "a", "contract"])] == ["type.object"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("91350100M000100Y43", True),
        ("91350100M000100Y44", False),
        ("91350100M000100Y4", False),
        ("91350100M000100I43", False),
    ],
)
def test_credit_code_check_digit(code: str, ok: bool) -> None:
    assert credit_code_ok(code) is ok


@pytest.mark.parametrize(
    ("number", "safe"),
    [
        ("11NMB2F042362026201", True),
        ("沪采-2026-001", True),
        ("a/b", False),
        ("a\\b", False),
        ("..", False),
        ("a..b", False),
        (".hidden", False),
        ("trailing.", False),
        ("NUL", False),
        ("com1.txt", False),
        ("x" * 64, True),
        ("x" * 65, False),
        ("tab\there", False),
    ],
)
def test_contract_no_is_a_safe_file_name(number: str, safe: bool) -> None:
    assert (contract_no_problem(number) is None) is safe


def test_a_number_where_text_is_expected_is_an_error(seed: dict[str, Any]) -> None:
    seed["acceptance_plan"]["procedure"] = 0
    seed["supplier"]["bank"]["account"] = 31050161393600002908  # digits as a number: fine
    assert [(i.path, i.code) for i in validate(seed)] == [
        ("acceptance_plan.procedure", "type.text")
    ]
