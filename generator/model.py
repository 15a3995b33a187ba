"""The typed contract model: the public data interface, with field-level rules.

Key names follow ``shared/contract-fields.md`` (e-signing platforms and batch
files are written against them). Field-level format rules (postcode, phone,
credit code …) live here as annotated types that raise
:class:`pydantic_core.PydanticCustomError` with a stable code and a Chinese
message; rules that relate several fields live in :mod:`generator.validate`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from .amount import parse_amount
from .errors import AmountError

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
#: device names Windows reserves regardless of extension
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}

#: 5.2's two-instalment default applies only below this amount (yuan)
DEFAULT_SCHEDULE_LIMIT = Decimal(5_000_000)


def _fail(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


#: control characters other than tab and newline cannot be printed (nor stored in DOCX XML)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        raise _fail("required", "不能为空")
    if _CONTROL.search(value):
        raise _fail("text.control", "不能包含控制字符")
    return value


def _pattern(pattern: str, code: str, message: str) -> Any:
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise _fail(code, message)
        return value

    return check


def _optional_text(value: Any) -> Any:
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


def _maybe_text(value: str | None) -> str | None:
    return None if value is None else _text(value)


def _amount(value: Any) -> Decimal:
    if isinstance(value, float):
        # A float comes from a spreadsheet cell: its shortest repr is what was typed.
        value = repr(value)
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise _fail("amount.format", exc.reason) from exc


def _positive_amount(value: Decimal) -> Decimal:
    if value <= 0:
        raise _fail("amount.positive", "金额应大于0")
    return value


def _percent(value: Decimal) -> Decimal:
    if value <= 0 or value > 100:
        raise _fail("percent.range", "百分比应大于0且不超过100")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise _fail("date.invalid", "日期不存在") from exc
    raise _fail("date.format", "日期格式应为YYYY-MM-DD")


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
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "合同编号不能包含控制字符"
    if any(c in _UNSAFE_CHARS for c in value):
        return '合同编号不能包含 < > : " / \\ | ? * 等字符'
    if ".." in value or value.startswith(".") or value.endswith((".", " ")):
        return "合同编号不能包含“..”，也不能以点或空格开头或结尾"
    if value.split(".")[0].upper() in _RESERVED_NAMES:
        return "合同编号不能是Windows保留的设备名"
    return None


def _contract_no(value: str) -> str:
    problem = contract_no_problem(value)
    if problem:
        raise _fail("contract_no.unsafe", problem)
    return value


Text = Annotated[str, AfterValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text), AfterValidator(_maybe_text)]
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
    BeforeValidator(_optional_text),
    BeforeValidator(_number_as_text),
    AfterValidator(
        lambda v: (
            None
            if v is None
            else _pattern(FAX_PATTERN, "fax.format", "传真应为带区号的固定电话或11位手机号")(
                v.strip()
            )
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
    BeforeValidator(_optional_text),
    AfterValidator(lambda v: None if v is None else _credit_code(v.strip().upper())),
    Field(json_schema_extra={"pattern": r"^[0-9A-HJ-NPQRTUWXY]{18}$"}),
]
ContractNo = Annotated[
    str, BeforeValidator(_number_as_text), AfterValidator(_text), AfterValidator(_contract_no)
]
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    AfterValidator(_positive_amount),
    Field(json_schema_extra={"exclusiveMinimum": 0, "multipleOf": 0.01}),
]
Percent = Annotated[Decimal, BeforeValidator(_amount), AfterValidator(_percent)]
Day = Annotated[date, BeforeValidator(_date)]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
Count = Annotated[int, Field(ge=1, le=99)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalRepresentative(_Model):
    """供应商法人: name and gender as the contract head prints them."""

    name: Text
    gender: Literal["男", "女"]


class Bank(_Model):
    """The supplier's bank for payments."""

    name: Text
    account: Account


class Buyer(_Model):
    """甲方（委托人）."""

    name: Text
    address: Text
    postcode: Postcode
    phone: Phone
    fax: Fax = None
    contact: Text


class Supplier(_Model):
    """乙方（受托人）."""

    name: Text
    legal_representative: LegalRepresentative
    address: Text
    postcode: Postcode
    phone: Phone
    fax: Fax = None
    contact: Text
    bank: Bank
    credit_code: CreditCode = None


class Service(_Model):
    """2.3 and 2.4: the service period and site."""

    start_date: Annotated[
        date | None, BeforeValidator(lambda v: None if v in (None, "") else _date(v))
    ] = None
    end_date: Day
    site: Text


class Instalment(_Model):
    """One payment of 5.2: its share of the amount and when it falls due."""

    percent: Percent
    condition: Text


class Payment(_Model):
    """5.2 付款方式."""

    #: share paid first under the seed's default two-instalment wording
    first_percent: Percent = Decimal(70)
    #: 工作日 within which each invoice is paid
    days: Count = 10
    instalments: list[Instalment] | None = None


class Terms(_Model):
    """The fixed numbers of the legal text that a procurement office may change."""

    reply_days: Count = 15
    handover_days: Count = 10
    penalty_percent: Count = 30
    force_majeure_days: Count = 15
    notice_oral_hours: Count = 1
    notice_written_hours: Count = 4
    copies: Count = 2


class AcceptanceItem(_Model):
    """A row of 验收内容与标准."""

    stage: Text
    content: Text
    standard: Text


class AcceptancePlan(_Model):
    """附件：履约验收方案, filled in."""

    organization: Literal["自行组织", "委托第三方"]
    subject: Text
    other_suppliers: YesNo
    experts: YesNo
    service_recipients: YesNo
    third_party: YesNo
    sampling: YesNo
    destructive: YesNo
    sampling_ratio: OptionalText = None
    destroyed_handling: OptionalText = None
    method: Literal["一次性验收", "分期验收"]
    time: Text
    procedure: Text
    items: Annotated[list[AcceptanceItem], Field(min_length=1)]


class Contract(_Model):
    """One contract set: the service contract and its three attachments."""

    contract_no: ContractNo
    project_name: Text
    buyer: Buyer
    supplier: Supplier
    amount: Amount
    service: Service
    performance_bond: Text = "不收取"
    other_terms: Text = "无"
    other_documents: list[Text] = Field(default_factory=list)
    payment: Payment = Field(default_factory=Payment)
    owner_unit: Text
    user_unit: OptionalText = None
    confidential_extra: OptionalText = None
    sign_date: Day
    sign_place: Text
    terms: Terms = Field(default_factory=Terms)
    acceptance_plan: AcceptancePlan

    @property
    def signed_at(self) -> datetime:
        """Return the instant the documents are dated: midnight of the signing date in China."""
        return datetime.combine(self.sign_date, time(), CHINA_TIME)

    @property
    def crosses_year(self) -> bool:
        """Return whether the service ends in a later calendar year than the signing (跨年)."""
        return self.service.end_date.year > self.sign_date.year

    @property
    def default_schedule_applies(self) -> bool:
        """Return whether 5.2's two-instalment default may be used for this contract."""
        return self.amount < DEFAULT_SCHEDULE_LIMIT and not self.crosses_year


#: China Standard Time, UTC+8 all year (no daylight saving since 1991)
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def split_amount(amount: Decimal, percents: list[Decimal]) -> list[Decimal]:
    """Split an amount by percentages, exact to the 分, the last share taking the remainder."""
    cent = Decimal("0.01")
    shares = [(amount * p / 100).quantize(cent, rounding=ROUND_HALF_UP) for p in percents[:-1]]
    return [*shares, amount - sum(shares, Decimal(0))]


def json_schema() -> dict[str, Any]:
    """Return the published JSON Schema of contract data."""
    schema = Contract.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://contractgen.invalid/schemas/contract.schema.json",
        **schema,
    }
