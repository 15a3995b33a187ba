"""What every contract kind shares: China time, the 合同公告's own fields and their limits.

Each kind's fields are declared in its folder (``templates/<kind>/kind.yaml``)
and made into a model by :mod:`generator.kinds`; the field types they use are
in :mod:`generator.domain.fields`, the characters text may hold in
:mod:`generator.domain.text`.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field

from .fields import Amount, blank_is_absent, checked_or_absent
from .text import checked_text, refusal

__all__ = [
    "CHINA_TIME",
    "MOBILE",
    "NOTICE_FIELD_MAX",
    "PROCUREMENT_METHODS",
    "WITHHOLD_MAX",
    "Amount",
    "NoticeOther",
    "ProcurementMethod",
    "ProjectNo",
    "PublicNumber",
    "Quantity",
    "Requirements",
    "SubjectName",
    "WithheldText",
    "split_amount",
]

#: a mainland mobile number, as the phone fields accept it: a person's, withheld when published
MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)

#: 采购方式: 政府采购法第二十六条, 竞争性磋商 (财库〔2014〕214号), 框架协议采购 (财政部令第110号),
#: 合作创新采购 (财库〔2024〕13号)
ProcurementMethod = Literal[
    "公开招标",
    "邀请招标",
    "竞争性谈判",
    "竞争性磋商",
    "询价",
    "单一来源采购",
    "框架协议采购",
    "合作创新采购",
]
PROCUREMENT_METHODS: tuple[str, ...] = get_args(ProcurementMethod)
#: the longest value of the notice's own fields, by field (项目编号 … 其他补充事宜)
NOTICE_FIELD_MAX = {
    "project_no": 64,
    "subject_name": 200,
    "requirements": 500,
    "quantity": 50,
    "other": 2000,
}
#: the most data paths one contract may withhold
WITHHOLD_MAX = 100
#: a number as free text writes it: digits, spaces, dashes, brackets, a leading +
NUMBER_TEXT = re.compile(r"[\d\s\-–—()（）+]+")


#: blank is absent; anything else is checked text
_OPTIONAL = (BeforeValidator(blank_is_absent), AfterValidator(checked_or_absent))


ProjectNo = Annotated[
    Annotated[str, Field(max_length=NOTICE_FIELD_MAX["project_no"])] | None,
    *_OPTIONAL,
]
SubjectName = Annotated[
    Annotated[str, Field(max_length=NOTICE_FIELD_MAX["subject_name"])] | None,
    *_OPTIONAL,
]
Requirements = Annotated[
    Annotated[str, Field(max_length=NOTICE_FIELD_MAX["requirements"])] | None,
    *_OPTIONAL,
]
Quantity = Annotated[
    str, Field(max_length=NOTICE_FIELD_MAX["quantity"]), AfterValidator(checked_text)
]
NoticeOther = Annotated[
    str, Field(max_length=NOTICE_FIELD_MAX["other"]), AfterValidator(checked_text)
]


#: China Standard Time, UTC+8 all year (no daylight saving since 1991)
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def split_amount(amount: Decimal, percents: list[Decimal]) -> list[Decimal]:
    """Split an amount by percentages, exact to the 分, the last share taking the remainder."""
    cent = Decimal("0.01")
    shares = [(amount * p / 100).quantize(cent, rounding=ROUND_HALF_UP) for p in percents[:-1]]
    return [*shares, amount - sum(shares, Decimal(0))]


def _withheld_text(value: str) -> str:
    """Return a text to withhold wherever it is printed: two characters at least, or a number
    of four digits at least (a shorter one is in every date and amount)."""
    value = checked_text(value)
    digits = re.sub(r"\D", "", value)
    if NUMBER_TEXT.fullmatch(value) and len(digits) < 4:
        raise refusal("publication.withhold_text.short", "隐去的号码至少应有4位数字")
    if len(re.sub(r"\s", "", value)) < 2:
        raise refusal("publication.withhold_text.short", "隐去的文字至少应有2个字")
    return value


def _public_number(value: str) -> str:
    """Return a number declared public (the office's switchboard): 4 to 30 digits, as written."""
    value = checked_text(value)
    digits = re.sub(r"\D", "", value)
    if not NUMBER_TEXT.fullmatch(value) or not 4 <= len(digits) <= 30:
        raise refusal(
            "publication.public_number.format",
            "应为号码：4至30位数字，可含空格、短横线或括号，如 021-12345678",
        )
    return value


#: a text (a number, a name) the public copy withholds wherever it is printed
WithheldText = Annotated[str, Field(max_length=200), AfterValidator(_withheld_text)]
#: a number the clerk declares public, that free text may print (the office's switchboard)
PublicNumber = Annotated[str, Field(max_length=60), AfterValidator(_public_number)]
