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

    name: PersonName = Field(title="姓名")
    gender: Literal["男", "女"] = Field(title="性别")


class Bank(_Model):
    """The supplier's bank for payments."""

    name: Name = Field(title="开户银行")
    account: Account = Field(title="银行账号", description="8至32位数字")


class Buyer(_Model):
    """甲方（委托人）."""

    name: Name = Field(title="名称")
    address: Address = Field(title="住所地址")
    postcode: Postcode = Field(title="邮政编码", description="6位数字")
    phone: Phone = Field(
        title="联系电话", description="手机号，或带区号的固定电话，如 021-20772889"
    )
    fax: Fax = Field(default=None, title="传真", description="可不填：合同中传真一栏留空")
    contact: PersonName = Field(title="联系人")


class Supplier(_Model):
    """乙方（受托人）."""

    name: Name = Field(title="名称")
    legal_representative: LegalRepresentative = Field(title="法定代表人")
    address: Address = Field(title="住所地址")
    postcode: Postcode = Field(title="邮政编码", description="6位数字")
    phone: Phone = Field(
        title="联系电话", description="手机号，或带区号的固定电话，如 021-20772889"
    )
    fax: Fax = Field(default=None, title="传真", description="可不填：合同中传真一栏留空")
    contact: PersonName = Field(title="联系人")
    bank: Bank = Field(title="收款银行")
    credit_code: CreditCode = Field(
        default=None, title="统一社会信用代码", description="可不填；18位，末位为 GB 32100 校验码"
    )


class Service(_Model):
    """2.3 and 2.4: the service period and site."""

    start_date: Annotated[
        date | None,
        BeforeValidator(lambda v: None if v in (None, "") else _date(v)),
        Field(json_schema_extra={"formatMinimum": str(DATE_MIN), "formatMaximum": str(DATE_MAX)}),
    ] = Field(default=None, title="服务期限起日", description="可不填：自合同签订之日起")
    end_date: Day = Field(title="服务期限止日", description="如 2026-12-31")
    site: Address = Field(title="服务地点", description="2.4 服务地点")


class Instalment(_Model):
    """One payment of 5.2: its share of the amount and when it falls due."""

    percent: Percent = Field(title="比例（%）", description="本期付款占中标金额的百分比")
    condition: ShortText = Field(title="付款条件")


class Payment(_Model):
    """5.2 付款方式."""

    #: share paid first under the seed's default two-instalment wording
    first_percent: Percent = Field(
        default=Decimal(70), title="首期比例（%）", description="未列分期时，默认两期付款的首期比例"
    )
    #: 工作日 within which each invoice is paid
    days: Count = Field(
        default=10, title="付款期限（工作日）", description="收到发票后付款的工作日数"
    )
    instalments: Annotated[list[Instalment], Field(max_length=INSTALMENTS_MAX)] | None = Field(
        default=None, title="分期付款", description="不列分期时按默认两期付款"
    )


class Terms(_Model):
    """The fixed numbers of the legal text that a procurement office may change."""

    reply_days: Count = Field(default=15, title="书面答复期限（工作日）", description="7.1.10")
    handover_days: Count = Field(default=10, title="移交期限（工作日）", description="7.2.16")
    penalty_percent: Count = Field(
        default=30, title="违约金比例（%）", description="9.3，保密协议 7.1 (3)，廉洁协议 二.4 (2)"
    )
    force_majeure_days: Count = Field(
        default=15, title="不可抗力证明期限（日）", description="11.3"
    )
    notice_oral_hours: Count = Field(
        default=1, title="口头通知时限（小时）", description="保密协议 2.3"
    )
    notice_written_hours: Count = Field(
        default=4, title="书面通知时限（小时）", description="保密协议 2.3"
    )
    copies: Count = Field(
        default=2, title="纸质合同份数", description="15.2，双数，甲乙双方各执一半"
    )


class AcceptanceItem(_Model):
    """A row of 验收内容与标准."""

    stage: Stage = Field(title="验收阶段")
    content: ItemText = Field(title="验收内容")
    standard: ItemText = Field(title="验收标准")


class AcceptancePlan(_Model):
    """附件：履约验收方案, filled in."""

    organization: Literal["自行组织", "委托第三方"] = Field(title="验收组织方式")
    subject: Name = Field(title="验收主体")
    other_suppliers: YesNo = Field(title="邀请本项目的其他供应商参加验收")
    experts: YesNo = Field(title="邀请专家参加验收")
    service_recipients: YesNo = Field(title="邀请服务对象参加验收")
    third_party: YesNo = Field(title="第三方检测机构参加验收")
    sampling: YesNo = Field(title="参加抽查检测")
    destructive: YesNo = Field(title="存在破坏性检测")
    sampling_ratio: OptionalShortText = Field(
        default=None, title="抽查比例", description="参加抽查检测时必填"
    )
    destroyed_handling: OptionalShortText = Field(
        default=None, title="被破坏的检测产品处理方式", description="存在破坏性检测时必填"
    )
    method: Literal["一次性验收", "分期验收"] = Field(title="验收方式")
    time: ShortText = Field(title="验收时间")
    procedure: Procedure = Field(title="验收程序")
    items: Annotated[list[AcceptanceItem], Field(min_length=1, max_length=ACCEPTANCE_ITEMS_MAX)] = (
        Field(title="验收内容与标准")
    )


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
    ] = Field(
        title="公开文本隐去的字段",
        description="数据路径，如 supplier.bank.account",
        default_factory=list,
    )
    #: 三、项目编号: the procurement project's number; required to publish
    project_no: ProjectNo = Field(default=None, title="项目编号", description="公告须填写")
    #: 六、采购方式: the seed's 中标金额 and 中标供应商 are the words of a tender (招标)
    procurement_method: ProcurementMethod = Field(default="公开招标", title="采购方式")
    #: 主要标的名称; absent: the project name
    subject_name: SubjectName = Field(
        default=None, title="主要标的名称", description="可不填：同项目名称"
    )
    #: 规格型号（或服务要求）; absent: the O&M service of clause 1.2 for the user unit
    requirements: Requirements = Field(
        default=None, title="规格型号（或服务要求）", description="可不填"
    )
    #: 主要标的数量: an O&M service is one item
    quantity: Quantity = Field(default="1项", title="主要标的数量")
    #: 主要标的单价 (yuan); absent: the amount (one item)
    unit_price: Annotated[Amount | None, BeforeValidator(lambda v: None if v == "" else v)] = Field(
        default=None, title="主要标的单价（元）", description="可不填：同中标金额"
    )
    #: 九、其他补充事宜
    other: NoticeOther = Field(default="无", title="其他补充事宜")


class Contract(_Model):
    """One contract set: the service contract and its three attachments."""

    contract_no: ContractNo = Field(
        title="合同编号", description="即协议编号；也是输出文件夹的名称"
    )
    project_name: ProjectName = Field(title="合同项目名称")
    buyer: Buyer = Field(title="甲方（委托人）")
    supplier: Supplier = Field(title="乙方（受托人）")
    amount: Amount = Field(
        title="中标金额（元）", description="如 1578000 或 1578000.50；大写自动生成"
    )
    service: Service = Field(title="服务")
    performance_bond: ShortText = Field(default="不收取", title="履约保证金", description="2.5")
    other_terms: LongText = Field(default="无", title="其它", description="2.6")
    other_documents: Annotated[list[DocumentName], Field(max_length=OTHER_DOCUMENTS_MAX)] = Field(
        title="其他合同文件", description="3.6，如《服务需求说明书》", default_factory=list
    )
    payment: Payment = Field(title="付款方式", description="5.2", default_factory=Payment)
    owner_unit: Name = Field(title="项目牵头单位", description="保密协议 1.1 (6)")
    user_unit: OptionalName = Field(
        default=None, title="项目使用单位", description="可不填：与项目牵头单位相同"
    )
    confidential_extra: OptionalLongText = Field(
        default=None, title="保密信息（其他）", description="保密协议 1.1 (12)；可不填：保留空行"
    )
    sign_date: Day = Field(title="签订日期", description="如 2026-01-16")
    sign_place: Address = Field(title="签订地点")
    terms: Terms = Field(
        title="条款数字", description="法律文本中可调整的数字", default_factory=Terms
    )
    acceptance_plan: AcceptancePlan = Field(title="验收方案", description="附件：履约验收方案")
    #: absent from the normalised data when not given, so the input hash of data without it
    #: is what it was before the block existed
    publication: PublicationSettings | None = Field(
        default=None, title="合同公告", exclude_if=lambda v: v is None
    )

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
