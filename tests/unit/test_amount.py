"""Tests for generator.domain.amount: 大写 amounts, strict parsing, counts and figures."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.domain.amount import (
    count_lower,
    count_upper,
    format_amount,
    parse_amount,
    rmb_upper,
    upper_to_amount,
)
from generator.errors import AmountError

UPPER_CASES = [
    # The six worked examples of 《正确填写票据和结算凭证的基本规定》, exactly.
    ("1409.50", "壹仟肆佰零玖元伍角整"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("107000.53", "壹拾万柒仟元零伍角叁分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    # Under one yuan: no 零元, no 零角; zero itself is 零元整.
    ("0", "零元整"),
    ("0.01", "壹分"),
    ("0.05", "伍分"),
    ("0.1", "壹角整"),
    ("0.15", "壹角伍分"),
    ("0.5", "伍角整"),
    # 整 after 元 and after 角, never after 分; 零 after 元 for a zero 元位 or 角位.
    ("1", "壹元整"),
    ("1.5", "壹元伍角整"),
    ("10.05", "壹拾元零伍分"),
    ("100.50", "壹佰元零伍角整"),
    ("200.11", "贰佰元零壹角壹分"),
    ("5001.09", "伍仟零壹元零玖分"),
    # 壹拾 for a leading 1 before 拾, in every section.
    ("10", "壹拾元整"),
    ("16", "壹拾陆元整"),
    ("100000", "壹拾万元整"),
    ("1000000000", "壹拾亿元整"),
    # Zeros inside a section: one 零 per run, none for trailing zeros.
    ("100", "壹佰元整"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("1005", "壹仟零伍元整"),
    ("1010", "壹仟零壹拾元整"),
    ("67004", "陆万柒仟零肆元整"),
    # Section units and zeros across section boundaries.
    ("10000", "壹万元整"),
    ("100010", "壹拾万零壹拾元整"),
    ("200080.07", "贰拾万零捌拾元零柒分"),
    ("107000", "壹拾万柒仟元整"),
    ("1001000", "壹佰万壹仟元整"),
    ("1000001", "壹佰万零壹元整"),
    ("1578000", "壹佰伍拾柒万捌仟元整"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),
    ("100007000", "壹亿零柒仟元整"),
    ("1050000000", "壹拾亿零伍仟万元整"),
    ("1000000000000", "壹万亿元整"),
    ("1000000000001", "壹万亿零壹元整"),
    ("10700000000000", "壹拾万零柒仟亿元整"),
    (
        "9999999999999999.99",
        "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
    ),
]


@pytest.mark.parametrize(("figures", "upper"), UPPER_CASES)
def test_rmb_upper(figures: str, upper: str) -> None:
    assert rmb_upper(figures) == upper
    assert rmb_upper(Decimal(figures)) == upper


@pytest.mark.parametrize(("figures", "upper"), UPPER_CASES)
def test_upper_to_amount(figures: str, upper: str) -> None:
    assert upper_to_amount(upper) == Decimal(figures)


@pytest.mark.parametrize(
    ("amount", "upper"),
    [
        # Other accepted input types give the same text.
        (1578000, "壹佰伍拾柒万捌仟元整"),
        (0, "零元整"),
        (10**12, "壹万亿元整"),
        (10**12 + 1, "壹万亿零壹元整"),
        (Decimal("1.500"), "壹元伍角整"),
        (Decimal("1E+5"), "壹拾万元整"),
        (Decimal("1409.5"), "壹仟肆佰零玖元伍角整"),
    ],
)
def test_rmb_upper_other_inputs(amount: Decimal | int | str, upper: str) -> None:
    assert rmb_upper(amount) == upper


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Accepted amounts, returned whole or to exactly two places.
        ("1578000", "1578000"),
        ("1578000.5", "1578000.50"),
        ("1578000.50", "1578000.50"),
        ("1578000.00", "1578000"),
        ("0", "0"),
        ("0.01", "0.01"),
        ("1.500", "1.50"),
        ("9999999999999999.99", "9999999999999999.99"),
        (Decimal("1578000"), "1578000"),
        (Decimal("1.50"), "1.50"),
        (Decimal("1.500"), "1.50"),
        (Decimal("0.00"), "0"),
        (Decimal("1E+5"), "100000"),
        (0, "0"),
        (1578000, "1578000"),
        (10**16 - 1, "9999999999999999"),
    ],
)
def test_parse_amount_accepts(value: Decimal | int | str, expected: str) -> None:
    parsed = parse_amount(value)
    assert isinstance(parsed, Decimal)
    assert str(parsed) == expected


BAD_AMOUNTS: list[object] = [
    # Negatives, including negative zero.
    -1,
    "-1",
    "-1.50",
    Decimal("-1"),
    Decimal("-0"),
    Decimal("-0.00"),
    "-0",
    "-0.00",
    # More than two decimal places: never rounded or truncated.
    "1.005",
    Decimal("1.005"),
    Decimal("0.001"),
    "1.0000000000000000000000000000000000001",
    # Not numbers.
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    "NaN",
    "Infinity",
    # Floats, even whole ones, and booleans.
    1.0,
    0.5,
    float("nan"),
    float("inf"),
    True,
    False,
    # Neither a number nor a string.
    None,
    b"1",
    [1],
    # Empty, whitespace and non-numeric strings.
    "",
    " ",
    "\t\n",
    "abc",
    "壹佰元",
    "1..5",
    "1.",
    ".5",
    # Not plain decimals: exponents, signs, separators, leading zeros, whitespace, other digits.
    "1e5",
    "1E5",
    "1.5e2",
    "+5",
    "1,000",
    "1,000.00",
    "1_000",
    "01",
    "00.5",
    " 5",
    "5 ",
    "1 000",
    "５",
    "0x10",
    "¥5",
    # 10^16 yuan or more.
    10**16,
    "10000000000000000",
    "10000000000000000.00",
    Decimal(10**16),
    Decimal("1E+16"),
]


@pytest.mark.parametrize("value", BAD_AMOUNTS, ids=repr)
def test_parse_amount_rejects(value: object) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(value)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("value", BAD_AMOUNTS, ids=repr)
def test_rmb_upper_rejects(value: object) -> None:
    with pytest.raises(AmountError) as caught:
        rmb_upper(value)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        # Messages name the problem in English and in Chinese.
        ("-5", "金额不能为负数"),
        (Decimal("-0"), "negative"),
        ("1.005", "more than two decimal places"),
        (Decimal("NaN"), "金额不是数字"),
        (1.0, "float"),
        (True, "boolean"),
        ("1,000", "plain decimal"),
        (10**16, "yuan or more"),
    ],
)
def test_parse_amount_messages(value: object, fragment: str) -> None:
    with pytest.raises(AmountError, match=fragment):
        parse_amount(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        # Text rmb_upper never writes.
        "",
        "整",
        "零",
        "元整",
        "壹佰元",
        "壹佰",
        "伍角",
        "零伍分",
        "零元伍分",
        "壹佰元伍分整",
        "壹佰元整整",
        "壹零元整",
        "拾元整",
        "壹佰壹仟元整",
        "壹拾零万元整",
        "壹万万元整",
        "壹亿亿元整",
        "壹兆元整",
        "壹佰元零",
        "一百元整",
        "壹佰圆整",
    ],
)
def test_upper_to_amount_rejects(text: str) -> None:
    with pytest.raises(AmountError) as caught:
        upper_to_amount(text)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("n", "upper", "lower"),
    [
        # Counts, as in 壹式贰份 and 按照两期分期付款: bare 拾 and 十, 两 for 2 alone.
        (1, "壹", "一"),
        (2, "贰", "两"),
        (3, "叁", "三"),
        (9, "玖", "九"),
        (10, "拾", "十"),
        (11, "拾壹", "十一"),
        (12, "拾贰", "十二"),
        (20, "贰拾", "二十"),
        (22, "贰拾贰", "二十二"),
        (40, "肆拾", "四十"),
        (99, "玖拾玖", "九十九"),
    ],
)
def test_counts(n: int, upper: str, lower: str) -> None:
    assert count_upper(n) == upper
    assert count_lower(n) == lower


@pytest.mark.parametrize("n", [0, 100, -1, True, 2.0, "2", None], ids=repr)
def test_counts_reject(n: object) -> None:
    for function in (count_upper, count_lower):
        with pytest.raises(AmountError) as caught:
            function(n)  # type: ignore[arg-type]
        assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("value", "figures"),
    [
        # Whole amounts without decimals, others with exactly two; no separators.
        (Decimal("1578000"), "1578000"),
        (Decimal("1578000.00"), "1578000"),
        (Decimal("1409.50"), "1409.50"),
        (Decimal("1409.5"), "1409.50"),
        (Decimal("1.500"), "1.50"),
        (Decimal("0.01"), "0.01"),
        (Decimal("0"), "0"),
        (Decimal("1E+5"), "100000"),
        (Decimal("9999999999999999.99"), "9999999999999999.99"),
    ],
)
def test_format_amount(value: Decimal, figures: str) -> None:
    assert format_amount(value) == figures


def test_format_amount_rejects() -> None:
    with pytest.raises(AmountError):
        format_amount(Decimal("1.005"))


#: digits with zeros over-represented, so runs of zeros across sections are common
_DIGIT = st.sampled_from("0000000123456789")


@st.composite
def amounts(draw: st.DrawFn) -> Decimal:
    """Draw an amount in [0, 10^16) with zero, one or two decimal places."""
    integer = "".join(draw(st.lists(_DIGIT, min_size=1, max_size=16)))
    places = "".join(draw(st.lists(_DIGIT, min_size=0, max_size=2)))
    return Decimal(f"{integer}.{places}" if places else integer)


_AMOUNTS = st.one_of(
    amounts(),
    st.integers(min_value=0, max_value=10**16 - 1).map(Decimal),
    st.integers(min_value=0, max_value=10**18 - 1).map(lambda c: Decimal(c).scaleb(-2)),
)


@settings(max_examples=2000, deadline=None)
@given(_AMOUNTS)
def test_round_trip(value: Decimal) -> None:
    upper = rmb_upper(value)
    assert upper_to_amount(upper) == value
    assert "零零" not in upper
    assert not upper.endswith("零")
    assert "兆" not in upper
    if value:
        # 零 only ever stands before a digit.
        assert re.search("零[^壹贰叁肆伍陆柒捌玖]", upper) is None
