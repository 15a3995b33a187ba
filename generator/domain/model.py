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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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

__all__ = [
    "CHINA_TIME",
    "DEFAULT_SCHEDULE_LIMIT",
    "AcceptanceItem",
    "AcceptancePlan",
    "Bank",
    "Buyer",
    "Contract",
    "Instalment",
    "LegalRepresentative",
    "Payment",
    "Service",
    "Supplier",
    "Terms",
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
