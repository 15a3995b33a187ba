"""The typed contract model: the public data interface.

Key names follow ``shared/contract-fields.md`` (e-signing platforms and batch
files are written against them). The field types and their rules are in
:mod:`generator.domain.fields`, the characters text may hold in
:mod:`generator.domain.text`, the rules that relate several fields in
:mod:`generator.domain.validate`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from .fields import (
    ACCEPTANCE_ITEMS_MAX,
    DATE_MAX,
    DATE_MIN,
    INSTALMENTS_MAX,
    OTHER_DOCUMENTS_MAX,
    Account,
    Address,
    Amount,
    ContractNo,
    Count,
    CreditCode,
    Day,
    DocumentName,
    Fax,
    ItemText,
    LongText,
    Name,
    OptionalLongText,
    OptionalName,
    OptionalShortText,
    Percent,
    PersonName,
    Phone,
    Postcode,
    Procedure,
    ProjectName,
    ShortText,
    Stage,
    YesNo,
)
from .fields import parse_date as _date
from .text import checked_text, refusal

__all__ = [
    "CHINA_TIME",
    "DEFAULT_SCHEDULE_LIMIT",
    "NOTICE_FIELD_MAX",
    "PROCUREMENT_METHODS",
    "PUBLIC_PATHS",
    "WITHHOLD_MAX",
    "AcceptanceItem",
    "AcceptancePlan",
    "Bank",
    "Buyer",
    "Contract",
    "Instalment",
    "LegalRepresentative",
    "Payment",
    "ProcurementMethod",
    "PublicationSettings",
    "Service",
    "Supplier",
    "Terms",
    "data_paths",
    "json_schema",
    "split_amount",
]

#: 5.2's two-instalment default applies only below this amount (yuan)
DEFAULT_SCHEDULE_LIMIT = Decimal(5_000_000)


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
#: data paths the 合同公告 must publish (财办库〔2020〕50号): never withheld, so no file's
#: metadata (title, subject, author, date) can carry a withheld value either
PUBLIC_PATHS = ("contract_no", "project_name", "buyer.name", "supplier.name", "amount", "sign_date")
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


def _blank_is_absent(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _checked_or_absent(value: str | None) -> str | None:
    return None if value is None else checked_text(value)


#: blank is absent; anything else is checked text
_OPTIONAL = (BeforeValidator(_blank_is_absent), AfterValidator(_checked_or_absent))


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


@cache
def data_paths() -> frozenset[str]:
    """Return every dotted path of contract data, lists taken item by item (``a.items.stage``)."""
    found: set[str] = set()

    def visit(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            if model is Contract and name == "publication":
                continue
            path = f"{prefix}{name}"
            found.add(path)
            for inner in _models(info.annotation):
                visit(inner, f"{path}.")

    visit(Contract, "")
    return frozenset(found)


def _models(annotation: Any) -> list[type[BaseModel]]:
    """Return the models a field's type holds: itself, a list's items, an optional's value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models(arg)]


def _withheld_path(value: str) -> str:
    path = value.strip()
    if path not in data_paths():
        raise refusal(
            "publication.withhold.unknown",
            f"“{path[:80]}”不是合同数据的字段路径（如 supplier.bank.account；列表写作"
            " acceptance_plan.items.standard）",
        )
    public = [p for p in PUBLIC_PATHS if p == path or p.startswith(f"{path}.")]
    if public:
        raise refusal(
            "publication.withhold.public",
            f"{public[0]} 须在合同公告中公开（财办库〔2020〕50号），不能隐去",
        )
    return path


class PublicationSettings(_Model):
    """Publishing the contract: what the public copy withholds, and the notice's own fields.

    ``withhold`` adds data paths to the defaults (the supplier's bank, mobile
    numbers); the other fields are those of the 合同公告 (财办库〔2020〕50号) that the
    contract does not hold, each with the default an O&M service contract takes.
    """

    #: data paths whose values the public copy replaces by ＊＊＊, besides the defaults
    withhold: Annotated[
        list[Annotated[str, Field(max_length=200), AfterValidator(_withheld_path)]],
        Field(max_length=WITHHOLD_MAX),
    ] = Field(default_factory=list)
    #: 三、项目编号: the procurement project's number; required to publish
    project_no: ProjectNo = None
    #: 六、采购方式: the seed's 中标金额 and 中标供应商 are the words of a tender (招标)
    procurement_method: ProcurementMethod = "公开招标"
    #: 主要标的名称; absent: the project name
    subject_name: SubjectName = None
    #: 规格型号（或服务要求）; absent: the O&M service of clause 1.2 for the user unit
    requirements: Requirements = None
    #: 主要标的数量: an O&M service is one item
    quantity: Quantity = "1项"
    #: 主要标的单价 (yuan); absent: the amount (one item)
    unit_price: Annotated[Amount | None, BeforeValidator(lambda v: None if v == "" else v)] = None
    #: 九、其他补充事宜
    other: NoticeOther = "无"


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
    #: absent from the normalised data when not given, so the input hash of data without it
    #: is what it was before the block existed
    publication: PublicationSettings | None = Field(default=None, exclude_if=lambda v: v is None)

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
