"""How a withheld value and a personal number are found in text, and how a chosen text is marked.

The search itself runs on rendered files in tests/e2e/test_publication_leaks.py; these
are its spellings, cheaply: spaced digits, an account's last digits, numbers that only
look like one (a date, an amount, a year), and the choices a clerk writes in the data.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from generator.errors import InvalidContractError
from generator.kinds import parse
from generator.publication.leaks import _Needle, _numbers
from generator.publication.withholding import mask_text, public_context, text_pattern


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        ("账户6222020200112233445。", "6222020200112233445"),
        ("账户 6222 0202 0011 2233 445", "6222 0202 0011 2233 445"),
        ("账户6222-0202-0011-2233-445", "6222-0202-0011-2233-445"),
        ("尾号3445的账户", "3445"),
        ("编号X62220202001122334451", "6222020200112233445"),  # inside a longer run
    ],
)
def test_a_withheld_account_is_found_however_spelled(text: str, spelled: str) -> None:
    assert _Needle("supplier.bank.account", "6222020200112233445").find(text) == spelled


@pytest.mark.parametrize(
    "text", ["2026年1月16日签订", "金额 1578000 元", "尾号 2026 年", "电话 021-20772889"]
)
def test_what_only_looks_like_it_is_not_the_account(text: str) -> None:
    assert _Needle("supplier.bank.account", "31050161393600002026").find(text) is None


def test_a_mobile_s_last_digits_alone_but_not_another_number_s() -> None:
    mobile = _Needle("buyer.phone", "13912345678")
    assert mobile.find("手机尾号5678") == "5678"
    assert mobile.find("热线（021）12345678") is None
    assert mobile.find("热线 021-12345678") is None


def test_a_withheld_name_is_found_across_spaces() -> None:
    assert _Needle("supplier.contact", "刘体斌").find("联系人 刘 体斌") == "刘体斌"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("手机 139 1234 5678", [("手机号码", "139 1234 5678")]),
        ("电话+86 13912345678", [("手机号码", "+86 13912345678")]),
        ("总机（021）12345678转801", [("固定电话号码", "（021）12345678转801")]),
        ("电话 0571-88886666", [("固定电话号码", "0571-88886666")]),
        ("身份证110101199003074514", [("身份证号码", "110101199003074514")]),
        ("账号 6222 0202 0011 2233", [("银行账号", "6222 0202 0011 2233")]),
        ("编号11NMB2F042362026201，金额1578000元，2026-01-16，邮编200072", []),
        ("可用率99.95%，2小时内响应，第1578000号", []),
    ],
)
def test_personal_numbers_in_text(text: str, found: list[tuple[str, str]]) -> None:
    assert list(_numbers(text)) == found


def test_a_chosen_text_is_marked_wherever_it_is_printed(seed: dict[str, Any]) -> None:
    seed["other_terms"] = "乙方项目经理手机139-1234-5678，备用13912345678，另13912345678000"
    seed["publication"]["withhold_text"] = ["13912345678"]
    _, context = public_context(parse(seed))
    assert context["other_terms"] == "乙方项目经理手机＊＊＊，备用＊＊＊，另13912345678000"
    assert context["buyer"]["name"] == seed["buyer"]["name"]
    assert mask_text("刘 体斌来电", [text_pattern("刘体斌")]) == "＊＊＊来电"


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("withhold_text", ["70"], "publication.withhold_text.short"),
        ("withhold_text", ["甲"], "publication.withhold_text.short"),
        ("public_numbers", ["总机"], "publication.public_number.format"),
        ("public_numbers", ["021"], "publication.public_number.format"),
    ],
)
def test_choices_too_short_to_mean_anything_are_refused(
    seed: dict[str, Any], key: str, value: list[str], code: str
) -> None:
    data = copy.deepcopy(seed)
    data["publication"][key] = value
    with pytest.raises(InvalidContractError) as refused:
        parse(data)
    assert [(i.path, i.code) for i in refused.value.issues] == [(f"publication.{key}[0]", code)]
