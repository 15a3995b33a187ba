"""The typed contract model: the public data interface, with field-level rules.

Key names follow ``shared/contract-fields.md`` (e-signing platforms and batch
files are written against them). Field-level format rules (postcode, phone,
credit code …) live here as annotated types that raise
:class:`pydantic_core.PydanticCustomError` with a stable code and a Chinese
message; rules that relate several fields live in :mod:`generator.validate`.

Every text field has a maximum length and every list a maximum number of items
(the constants below, published in the JSON Schema too), so no value can make
the documents run to hundreds of pages. Every character of a text value must
print: bidi controls, invisible format characters, control characters,
noncharacters, lone surrogates and private-use characters are refused with their
position, and so is a character for which no font LibreOffice may use has a
glyph (the fonts ``generator/fonts/fonts.conf`` accepts, read once with
fontTools): it would print as an empty box. The words the PDF stage finds the
seal places by (:data:`generator.domain.documents.SEAL_KEYWORDS`) may not occur in the data.
"""

from __future__ import annotations

import functools
import glob
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from fontTools.ttLib import TTCollection, TTFont
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ..errors import AmountError
from .amount import parse_amount
from .documents import SEAL_KEYWORDS

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

#: the longest organisation name: buyer, supplier, bank, owner and user unit, acceptance subject
NAME_MAX = 100
#: the longest person's name: contacts, the legal representative
PERSON_MAX = 50
#: the longest address, service site or signing place
ADDRESS_MAX = 200
#: the longest project name (it heads the contract and every agreement)
PROJECT_NAME_MAX = 200
#: the longest short clause: performance bond, instalment condition, acceptance time …
SHORT_TEXT_MAX = 500
#: the longest free text of its own paragraphs: other_terms, confidential_extra
LONG_TEXT_MAX = 5000
#: the longest acceptance procedure
PROCEDURE_MAX = 2000
#: the longest acceptance item stage, and content or standard
STAGE_MAX = 100
ITEM_TEXT_MAX = 500
#: the longest name of one other contract document (3.6)
DOCUMENT_NAME_MAX = 200
#: the most instalments, other documents and acceptance items
INSTALMENTS_MAX = 24
OTHER_DOCUMENTS_MAX = 20
ACCEPTANCE_ITEMS_MAX = 30
#: the earliest and latest date: a PDF date has a four-digit year, and a procurement
#: contract dated outside this century is a typo (0226 or 2226 for 2026)
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)

#: the font configuration LibreOffice reads: the only fonts it may draw with are listed there
FONTS_CONF = Path(__file__).resolve().parent.parent / "fonts" / "fonts.conf"

#: 5.2's two-instalment default applies only below this amount (yuan)
DEFAULT_SCHEDULE_LIMIT = Decimal(5_000_000)


def _fail(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


#: bidirectional controls: they reorder what prints (上海众恒\u202e司公限有 shows 上海众恒有限公司)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: tab and line breaks are text (a multi-line address); \r becomes \n
_BREAKS = frozenset("\t\n\r")


def _refused(char: str) -> tuple[str, str] | None:
    """Return (code, reason) when a character may not be in contract text, else None."""
    if char in _BREAKS:
        return None
    point = ord(char)
    category = unicodedata.category(char)
    if char in _BIDI:
        return "text.bidi", "双向文本控制符，会改变文字的显示顺序"
    if category == "Cc":
        return "text.control", "控制字符，无法打印"
    if category == "Cs":
        return "text.surrogate", "不成对的代理码位，不是有效字符"
    if 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE:
        # XML (so DOCX) forbids U+FFFE and U+FFFF; no noncharacter is text.
        return "text.noncharacter", "Unicode非字符，不能写入文档"
    if category == "Cf":
        return "text.invisible", "不可见的格式字符（如零宽空格），会造成看似相同的不同文字"
    if category == "Co":
        return "text.private_use", "私用区字符，没有通用的字形"
    if category in {"Zl", "Zp"}:
        return "text.control", "行或段落分隔符，请使用普通换行"
    return None


def _position(value: str, char: str) -> str:
    index = value.index(char) + 1
    name = unicodedata.name(char, "")
    shown = "" if unicodedata.category(char)[0] in "CZ" else f"“{char}”"
    return f"第{index}个字符{shown}（U+{ord(char):04X}{' ' + name if name else ''}）"


def _first(value: str, chars: list[str]) -> tuple[str, str]:
    """Return the first of ``chars`` in a value, and how many times they all occur."""
    first = min(chars, key=value.index)
    count = sum(value.count(c) for c in chars)
    return first, f"（共{count}处）" if count > 1 else ""


def character_problem(value: str) -> tuple[str, str] | None:
    """Return (code, message) for the first character of a text that may not be in contract data."""
    refused = [c for c in set(value) if _refused(c)]
    if not refused:
        return None
    first, more = _first(value, refused)
    code, reason = _refused(first) or ("", "")
    return code, f"{_position(value, first)}不允许：{reason}{more}"


def _check_characters(value: str) -> None:
    problem = character_problem(value)
    if problem:
        raise _fail(*problem)


def _declared_fonts(conf: Path) -> tuple[list[str], set[str]]:
    """Return the font file globs and the families a fontconfig file accepts."""
    root = ET.parse(conf).getroot()
    files = [e.text or "" for e in root.iterfind("selectfont/acceptfont/glob")]
    families = {
        e.text or ""
        for e in root.iterfind("selectfont/acceptfont/pattern/patelt[@name='family']/string")
    }
    return files, families


def _covered(path: Path, families: set[str]) -> set[int]:
    """Return the code points with a glyph in a font file's faces of the given families."""
    collection = path.suffix.lower() in {".ttc", ".otc"}
    fonts = TTCollection(path, lazy=True) if collection else TTFont(path, lazy=True)
    covered: set[int] = set()
    try:
        for face in fonts.fonts if collection else [fonts]:
            names = face["name"]
            if (names.getDebugName(16) or names.getDebugName(1)) not in families:
                continue  # a .ttc's JP/KR/TC faces: fontconfig hides them too
            # Numbered glyph names: the cmap needs a glyph order, and the real one
            # means parsing the CFF charset, four times slower.
            face.setGlyphOrder([f"g{i}" for i in range(face["maxp"].numGlyphs)])
            covered.update(c for c, glyph in face.getBestCmap().items() if glyph != "g0")
    finally:
        fonts.close()
    return covered


@functools.cache
def printable() -> frozenset[int]:
    """Return the code points some font LibreOffice may use has a glyph for (empty: no font)."""
    files, families = _declared_fonts(FONTS_CONF)
    covered: set[int] = set()
    for pattern in files:
        for name in sorted(glob.glob(pattern)):
            covered |= _covered(Path(name), families)
    return frozenset(covered)


def _check_glyphs(value: str) -> None:
    covered = printable()
    if not covered:
        return  # no declared font installed: no PDF can be made, nothing to check against
    missing = [c for c in set(value) if ord(c) not in covered and c not in _BREAKS]
    if missing:
        first, more = _first(value, missing)
        raise _fail(
            "text.no_glyph",
            f"{_position(value, first)}在合同所用的字体中没有字形，"
            f"在PDF中会是空白方框，请改用其他写法{more}",
        )


def _text(value: str) -> str:
    _check_characters(value)
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        raise _fail("required", "不能为空")
    for keyword in SEAL_KEYWORDS:
        if keyword in value:
            hint = "，请改用全角冒号“：”" if keyword.endswith(":") else ""
            raise _fail("text.reserved", f"不能包含“{keyword}”：这是定位盖章处的标记{hint}")
    _check_glyphs(value)
    return value


def _pattern(pattern: str, code: str, message: str) -> Any:
    # ASCII: \d would take full-width and Arabic-Indic digits too.
    regex = re.compile(pattern, re.ASCII)

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


def _not_bool(value: Any) -> Any:
    # JSON true is not the number 1, though pydantic takes it as 1 for an int field.
    if isinstance(value, bool):
        raise _fail("type.integer", "应为整数，不能是 true/false")
    return value


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
        day = value
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip(), re.ASCII):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise _fail("date.invalid", "日期不存在") from exc
    else:
        raise _fail("date.format", "日期格式应为YYYY-MM-DD")
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


def _bounded(limit: int) -> Any:
    return Field(max_length=limit)


Name = Annotated[str, _bounded(NAME_MAX), AfterValidator(_text)]
PersonName = Annotated[str, _bounded(PERSON_MAX), AfterValidator(_text)]
Address = Annotated[str, _bounded(ADDRESS_MAX), AfterValidator(_text)]
ProjectName = Annotated[str, _bounded(PROJECT_NAME_MAX), AfterValidator(_text)]
ShortText = Annotated[str, _bounded(SHORT_TEXT_MAX), AfterValidator(_text)]
LongText = Annotated[str, _bounded(LONG_TEXT_MAX), AfterValidator(_text)]
Procedure = Annotated[str, _bounded(PROCEDURE_MAX), AfterValidator(_text)]
Stage = Annotated[str, _bounded(STAGE_MAX), AfterValidator(_text)]
ItemText = Annotated[str, _bounded(ITEM_TEXT_MAX), AfterValidator(_text)]
DocumentName = Annotated[str, _bounded(DOCUMENT_NAME_MAX), AfterValidator(_text)]
OptionalName = Annotated[
    Annotated[str, _bounded(NAME_MAX)] | None,
    BeforeValidator(_optional_text),
    AfterValidator(_maybe_text),
]
OptionalShortText = Annotated[
    Annotated[str, _bounded(SHORT_TEXT_MAX)] | None,
    BeforeValidator(_optional_text),
    AfterValidator(_maybe_text),
]
OptionalLongText = Annotated[
    Annotated[str, _bounded(LONG_TEXT_MAX)] | None,
    BeforeValidator(_optional_text),
    AfterValidator(_maybe_text),
]
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
    AfterValidator(_maybe_text),
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
    BeforeValidator(_optional_text),
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
    BeforeValidator(_date),
    Field(json_schema_extra={"formatMinimum": str(DATE_MIN), "formatMaximum": str(DATE_MAX)}),
]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=99)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalRepresentative(_Model):
    """供应商法人: name and gender as the contract head prints them."""

    name: PersonName
    gender: Literal["男", "女"]


class Bank(_Model):
    """The supplier's bank for payments."""

    name: Name
    account: Account


class Buyer(_Model):
    """甲方（委托人）."""

    name: Name
    address: Address
    postcode: Postcode
    phone: Phone
    fax: Fax = None
    contact: PersonName


class Supplier(_Model):
    """乙方（受托人）."""

    name: Name
    legal_representative: LegalRepresentative
    address: Address
    postcode: Postcode
    phone: Phone
    fax: Fax = None
    contact: PersonName
    bank: Bank
    credit_code: CreditCode = None


class Service(_Model):
    """2.3 and 2.4: the service period and site."""

    start_date: Annotated[
        date | None,
        BeforeValidator(lambda v: None if v in (None, "") else _date(v)),
        Field(json_schema_extra={"formatMinimum": str(DATE_MIN), "formatMaximum": str(DATE_MAX)}),
    ] = None
    end_date: Day
    site: Address


class Instalment(_Model):
    """One payment of 5.2: its share of the amount and when it falls due."""

    percent: Percent
    condition: ShortText


class Payment(_Model):
    """5.2 付款方式."""

    #: share paid first under the seed's default two-instalment wording
    first_percent: Percent = Decimal(70)
    #: 工作日 within which each invoice is paid
    days: Count = 10
    instalments: Annotated[list[Instalment], Field(max_length=INSTALMENTS_MAX)] | None = None


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

    stage: Stage
    content: ItemText
    standard: ItemText


class AcceptancePlan(_Model):
    """附件：履约验收方案, filled in."""

    organization: Literal["自行组织", "委托第三方"]
    subject: Name
    other_suppliers: YesNo
    experts: YesNo
    service_recipients: YesNo
    third_party: YesNo
    sampling: YesNo
    destructive: YesNo
    sampling_ratio: OptionalShortText = None
    destroyed_handling: OptionalShortText = None
    method: Literal["一次性验收", "分期验收"]
    time: ShortText
    procedure: Procedure
    items: Annotated[list[AcceptanceItem], Field(min_length=1, max_length=ACCEPTANCE_ITEMS_MAX)]


class Contract(_Model):
    """One contract set: the service contract and its three attachments."""

    contract_no: ContractNo
    project_name: ProjectName
    buyer: Buyer
    supplier: Supplier
    amount: Amount
    service: Service
    performance_bond: ShortText = "不收取"
    other_terms: LongText = "无"
    other_documents: Annotated[list[DocumentName], Field(max_length=OTHER_DOCUMENTS_MAX)] = Field(
        default_factory=list
    )
    payment: Payment = Field(default_factory=Payment)
    owner_unit: Name
    user_unit: OptionalName = None
    confidential_extra: OptionalLongText = None
    sign_date: Day
    sign_place: Address
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
