"""The field types every kind's data is made of: formats and checks, each with a stable code.

Field-level format rules (postcode, phone, credit code …) live here as
annotated types that raise :class:`pydantic_core.PydanticCustomError` with a
stable code and a Chinese message; a kind's declaration names them by type
(:mod:`generator.kinds.fields`), and its rules relate several fields
(:mod:`generator.kinds.rules`). Every text field and every list of a kind has
a maximum, declared or the kinds' default, published in the JSON Schema too,
so no value can make the documents run to hundreds of pages.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from ..errors import AmountError
from .amount import parse_amount
from .text import checked_text as _text
from .text import refusal as _fail

__all__ = [
    "ACCOUNT_PATTERN",
    "CONTRACT_NO_MAX",
    "CREDIT_CODE_CHARS",
    "CREDIT_CODE_WEIGHTS",
    "DATE_MAX",
    "DATE_MIN",
    "FAX_PATTERN",
    "PHONE_PATTERN",
    "POSTCODE_PATTERN",
    "Account",
    "Amount",
    "ContractNo",
    "CreditCode",
    "Day",
    "Fax",
    "Percent",
    "Phone",
    "Postcode",
    "YesNo",
    "blank_is_absent",
    "checked_or_absent",
    "contract_no_problem",
    "credit_code_ok",
    "not_bool",
    "parse_date",
]

#: GB 32100-2015 统一社会信用代码 alphabet (no I, O, S, V, Z); a character's index is its value
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: GB 32100-2015 weights of positions 1–17
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: mobile numbers (1[3-9] and 9 digits) or landlines: 0-prefixed area code, optional extension
PHONE_PATTERN = r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$"
#: fax numbers: the same shapes as phone numbers
FAX_PATTERN = PHONE_PATTERN
#: Chinese postcodes
POSTCODE_PATTERN = r"^\d{6}$"
#: bank account numbers as printed on the contract
ACCOUNT_PATTERN = r"^\d{8,32}$"
#: the longest contract number, kept well under every file-system limit
CONTRACT_NO_MAX = 64
#: characters Windows forbids in file names (Linux forbids only "/")
_UNSAFE_CHARS = set('<>:"/\\|?*')
#: device names Windows reserves whatever the extension, superscript digits included
#: (Microsoft's "Naming Files, Paths, and Namespaces")
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in "0123456789¹²³"
}

#: the earliest and latest date: a PDF date has a four-digit year, and a procurement
#: contract dated outside this century is a typo (0226 or 2226 for 2026)
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)


def _pattern(pattern: str, code: str, message: str) -> Any:
    # ASCII: \d would take full-width and Arabic-Indic digits too.
    regex = re.compile(pattern, re.ASCII)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise _fail(code, message)
        return value

    return check


def blank_is_absent(value: Any) -> Any:
    """Return None for a blank text (an empty cell, a YAML key left empty), else the value."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _number_as_text(value: Any) -> Any:
    # A postcode, phone or account sent as a JSON number is still the same digits.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _identifier_schema(pattern: str, optional: bool = False) -> WithJsonSchema:
    shapes: list[dict[str, Any]] = [
        {"type": "string", "pattern": pattern},
        {"type": "integer", "minimum": 0},
    ]
    if optional:
        shapes.append({"type": "null"})
    return WithJsonSchema({"anyOf": shapes})


def checked_or_absent(value: str | None) -> str | None:
    """Return a text value checked (:func:`checked_text`), or None for none."""
    return None if value is None else _text(value)


def not_bool(value: Any) -> Any:
    """Refuse true/false where an integer is wanted (pydantic would take true as 1)."""
    if isinstance(value, bool):
        raise _fail("type.integer", "应为整数，不能是 true/false")
    return value


#: an amount written with thousands separators, in groups of three: 1,578,000.00 or 1，578，000
_GROUPED = re.compile(r"\d{1,3}(?:([,，])\d{3})(?:\1\d{3})*(?:\.\d+)?", re.ASCII)


def _amount(value: Any) -> Decimal:
    if isinstance(value, float):
        # A float comes from a spreadsheet cell: its shortest repr is what was typed.
        value = repr(value)
    if isinstance(value, str):
        value = value.strip()
        if _GROUPED.fullmatch(value):
            value = value.replace(",", "").replace("，", "")
    try:
        return parse_amount(value)
    except AmountError as exc:
        reason = exc.reason
        if reason.startswith("金额应为阿拉伯数字"):
            reason = (
                "金额应写成阿拉伯数字，如 1578000 或 1,578,000.50（可带一个小数点，千位可用逗号"
                "分隔），不含符号、指数、前导零或空白"
            )
        raise _fail("amount.format", reason) from exc


def _positive_amount(value: Decimal) -> Decimal:
    if value <= 0:
        raise _fail("amount.positive", "金额应大于0")
    return value


def _percent(value: Decimal) -> Decimal:
    if value <= 0 or value > 100:
        raise _fail("percent.range", "百分比应大于0且不超过100")
    return value


#: the ways a date is written, the same in every face (a file, a workbook, the API, the form):
#: 2026-01-16, 2026-1-16, 2026/1/16, 2026.1.16, 2026年1月16日 (spaces allowed between parts)
_DATE = re.compile(r"(\d{4})\s*([年/.\-])\s*(\d{1,2})\s*([月/.\-])\s*(\d{1,2})\s*(日?)", re.ASCII)
#: what a date message shows as the ways to write one
DATE_SPELLINGS = "2026-01-16、2026/1/16 或 2026年1月16日"


def _date_of(text: str) -> date | None:
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, first, month, second, day_, end = match.groups()
    chinese = (first, second) == ("年", "月")
    if not chinese and (first != second or end or first in "年月"):
        return None  # 2026/1-16, 2026-1-16日: separators of one kind only
    try:
        return date(int(year), int(month), int(day_))
    except ValueError as exc:
        raise _fail("date.invalid", "日期不存在") from exc


def parse_date(value: Any) -> Any:
    """Return a date from a date or a written date within the date range; refuse the rest."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        day: date | None = value
    elif isinstance(value, str):
        day = _date_of(value)
    else:
        day = None
    if day is None:
        raise _fail("date.format", f"日期应写成 {DATE_SPELLINGS}")
    if not DATE_MIN <= day <= DATE_MAX:
        raise _fail("date.range", f"日期应在{DATE_MIN.year}年至{DATE_MAX.year}年之间")
    return day


def _yes_no(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in {"是", "true", "yes", "y", "1", "☑"}:
        return True
    if text in {"否", "false", "no", "n", "0", "☐"}:
        return False
    raise _fail("choice.yes_no", "应为“是”或“否”")


def credit_code_ok(code: str) -> bool:
    """Return whether a 统一社会信用代码 has the right shape and GB 32100 check digit."""
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code):
        return False
    total = sum(
        CREDIT_CODE_CHARS.index(c) * w for c, w in zip(code, CREDIT_CODE_WEIGHTS, strict=False)
    )
    check = (31 - total % 31) % 31
    return CREDIT_CODE_CHARS[check] == code[17]


def _credit_code(value: str) -> str:
    if not credit_code_ok(value):
        raise _fail("credit_code.invalid", "统一社会信用代码应为18位且校验码正确（GB 32100）")
    return value


def contract_no_problem(value: str) -> str | None:
    """Return why a contract number is unsafe as a file name, or None when it is safe."""
    if len(value) > CONTRACT_NO_MAX:
        return f"合同编号不能超过{CONTRACT_NO_MAX}个字符"
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"} for c in value):
        return "合同编号不能包含控制字符或不可见字符"
    if any(c in _UNSAFE_CHARS for c in value):
        return '合同编号不能包含 < > : " / \\ | ? * 等字符'
    if ".." in value or value.startswith(".") or value.endswith((".", " ")):
        return "合同编号不能包含“..”，也不能以点或空格开头或结尾"
    if value.split(".")[0].rstrip(" ").upper() in _RESERVED_NAMES:
        return "合同编号不能是Windows保留的设备名"
    return None


def _contract_no(value: str) -> str:
    # The length first: a megabyte-long number is refused before its characters are read.
    problem = contract_no_problem(value) if len(value.strip()) > CONTRACT_NO_MAX else None
    if problem is None:
        value = _text(value)
        problem = contract_no_problem(value)
    if problem:
        raise _fail("contract_no.unsafe", problem)
    return value


Postcode = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_text),
    AfterValidator(_pattern(POSTCODE_PATTERN, "postcode.format", "邮政编码应为6位数字")),
    _identifier_schema(POSTCODE_PATTERN),
]
Phone = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_text),
    AfterValidator(
        _pattern(
            PHONE_PATTERN, "phone.format", "电话应为11位手机号或带区号的固定电话（如021-20772889）"
        )
    ),
    _identifier_schema(PHONE_PATTERN),
]
Fax = Annotated[
    str | None,
    BeforeValidator(blank_is_absent),
    BeforeValidator(_number_as_text),
    AfterValidator(checked_or_absent),
    AfterValidator(
        lambda v: (
            None
            if v is None
            else _pattern(FAX_PATTERN, "fax.format", "传真应为带区号的固定电话或11位手机号")(v)
        )
    ),
    _identifier_schema(FAX_PATTERN, optional=True),
]
Account = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_text),
    AfterValidator(_pattern(ACCOUNT_PATTERN, "account.format", "银行账号应为8至32位数字")),
    _identifier_schema(ACCOUNT_PATTERN),
]
CreditCode = Annotated[
    str | None,
    BeforeValidator(blank_is_absent),
    AfterValidator(lambda v: None if v is None else _credit_code(v.strip().upper())),
    Field(json_schema_extra={"pattern": r"^[0-9A-HJ-NPQRTUWXY]{18}$"}),
]
ContractNo = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_contract_no),
    Field(json_schema_extra={"maxLength": CONTRACT_NO_MAX}),
]
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    AfterValidator(_positive_amount),
    Field(json_schema_extra={"exclusiveMinimum": 0, "multipleOf": 0.01}),
]
Percent = Annotated[Decimal, BeforeValidator(_amount), AfterValidator(_percent)]
Day = Annotated[
    date,
    BeforeValidator(parse_date),
    Field(json_schema_extra={"formatMinimum": str(DATE_MIN), "formatMaximum": str(DATE_MAX)}),
]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
