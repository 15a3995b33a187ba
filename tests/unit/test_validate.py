"""Validation: every rule reports its field path, stable code and Chinese message."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from generator import InvalidContractError, Issue, validate
from generator.domain.fields import contract_no_problem, credit_code_ok
from generator.inputs.load import load_data
from generator.kinds import parse

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
        "text.too_long",
        "list.too_long",
        "text.bidi",
        "text.invisible",
        "text.control",
        "text.noncharacter",
        "text.surrogate",
        "text.private_use",
        "text.no_glyph",
        "text.reserved",
        "date.range",
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
    with pytest.raises(InvalidContractError) as caught:
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
        # Windows device names: superscript digits, COM0/LPT0 and the console names too
        ("COM¹", False),
        ("lpt².txt", False),
        ("COM0", False),
        ("CONIN$", False),
        ("conout$.pdf", False),
        ("CON .txt", False),
        ("COM10", True),
        ("CONINX", True),
        # C1 controls and invisible characters
        ("HT\x85001", False),
        ("HT\u200b001", False),
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


def _set(data: dict[str, Any], field: str, value: Any) -> None:
    target = data
    *parents, last = field.split(".")
    for key in parents:
        target = target[key]
    target[last] = value


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        # organisations, people, places
        ("buyer.name", 100),
        ("supplier.name", 100),
        ("supplier.bank.name", 100),
        ("owner_unit", 100),
        ("user_unit", 100),
        ("acceptance_plan.subject", 100),
        ("buyer.contact", 50),
        ("supplier.legal_representative.name", 50),
        ("buyer.address", 200),
        ("service.site", 200),
        ("sign_place", 200),
        ("project_name", 200),
        # clauses and free text
        ("performance_bond", 500),
        ("acceptance_plan.time", 500),
        ("acceptance_plan.sampling_ratio", 500),
        ("other_terms", 5000),
        ("confidential_extra", 5000),
        ("acceptance_plan.procedure", 2000),
    ],
)
def test_text_fields_have_a_maximum_length(seed: dict[str, Any], field: str, limit: int) -> None:
    _set(seed, field, "字" * limit)
    assert [i for i in validate(seed) if i.path == field] == []
    _set(seed, field, "字" * (limit + 1))
    issues = validate(seed)
    assert [(i.path, i.code) for i in issues] == [(field, "text.too_long")]
    assert f"不能超过{limit}个字符" in issues[0].message


@pytest.mark.parametrize(
    ("field", "item", "limit"),
    [
        ("other_documents", "《服务需求说明书》", 20),
        ("acceptance_plan.items", {"stage": "a", "content": "b", "standard": "c"}, 30),
        ("payment.instalments", {"percent": "1", "condition": "验收合格"}, 24),
    ],
)
def test_lists_have_a_maximum_length(
    seed: dict[str, Any], field: str, item: Any, limit: int
) -> None:
    _set(seed, field, [item] * (limit + 1))
    assert [(i.path, i.code) for i in validate(seed)] == [(field, "list.too_long")]


def test_a_megabyte_value_is_one_issue(seed: dict[str, Any]) -> None:
    seed["project_name"] = "项" * 1_000_000
    seed["contract_no"] = "H" * 1_000_000
    assert {(i.path, i.code) for i in validate(seed)} == {
        ("project_name", "text.too_long"),
        ("contract_no", "contract_no.unsafe"),
    }


@pytest.mark.parametrize("field", ["payment.days", "terms.copies", "terms.reply_days"])
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_not_integers(seed: dict[str, Any], field: str, value: bool) -> None:
    _set(seed, field, value)
    assert [(i.path, i.code) for i in validate(seed)] == [(field, "type.integer")]


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("sign_date", "2000-01-01", True),
        ("sign_date", "1999-12-31", False),
        ("sign_date", "0001-01-16", False),
        ("service.end_date", "2099-12-31", True),
        ("service.end_date", "2100-01-01", False),
        ("service.start_date", "0226-01-01", False),
    ],
)
def test_dates_are_within_the_century(
    seed: dict[str, Any], field: str, value: str, valid: bool
) -> None:
    _set(seed, field, value)
    codes = [i.code for i in validate(seed) if i.path == field]
    assert codes == ([] if valid else ["date.range"])


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        # full-width and Arabic-Indic digits are not the ASCII digits an identifier needs
        ("buyer.postcode", "２０００７２", "postcode.format"),
        ("supplier.bank.account", "٣١٠٥٠١٦١٣٩٣٦", "account.format"),
        ("sign_date", "２０２６-01-16", "date.format"),
    ],
)
def test_identifiers_take_ascii_digits_only(
    seed: dict[str, Any], field: str, value: str, code: str
) -> None:
    _set(seed, field, value)
    assert [(i.path, i.code) for i in validate(seed)] == [(field, code)]
