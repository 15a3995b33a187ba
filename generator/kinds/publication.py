"""The ``publication`` block of a kind's data: what is withheld and what the notice adds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, create_model

from ..domain import model as notice
from .fields import camel
from .model import Record

if TYPE_CHECKING:
    from .kind import ContractKind

__all__ = ["publication_model"]


def publication_model(kind: ContractKind) -> type[Record]:
    """Return the model of a kind's ``publication`` block: what the public copy withholds
    and the 合同公告's items the contract does not hold, with the kind's defaults."""
    spec = kind.spec.publication

    def path(value: str) -> str:
        return kind.withhold_path(value.strip())

    withhold = Annotated[
        list[Annotated[str, Field(max_length=200), AfterValidator(path)]],
        Field(max_length=notice.WITHHOLD_MAX),
    ]
    method = Literal[notice.PROCUREMENT_METHODS]  # type: ignore[valid-type]
    price = Annotated[notice.Amount | None, BeforeValidator(lambda v: None if v == "" else v)]
    model: type[Record] = create_model(
        f"{camel(kind.id)}Publication",
        __base__=Record,
        __doc__="合同公告：公开文本隐去的字段，以及合同中没有的公告事项",
        withhold=(
            withhold,
            Field(
                default_factory=list,
                title="公开文本隐去的字段",
                description="字段的名称或路径，如 "
                + kind.label_of((spec.withhold or ["supplier.bank.account"])[0]),
            ),
        ),
        withhold_text=(
            Annotated[list[notice.WithheldText], Field(max_length=notice.WITHHOLD_MAX)],
            Field(
                default_factory=list,
                title="公开文本隐去的文字",
                description="自由文本中须隐去的号码或文字，如乙方联系人的手机号；"
                "公开文本与合同公告中凡有此文字处均印作＊＊＊",
            ),
        ),
        public_numbers=(
            Annotated[list[notice.PublicNumber], Field(max_length=notice.WITHHOLD_MAX)],
            Field(
                default_factory=list,
                title="可公开的号码",
                description="自由文本中确可公开的电话等号码，如单位总机 021-12345678；"
                "未列出的手机号、电话、账号、身份证号不予公开",
            ),
        ),
        project_no=(notice.ProjectNo, Field(default=None, title="项目编号")),
        procurement_method=(method, Field(default=spec.procurement_method, title="采购方式")),
        subject_name=(
            notice.SubjectName,
            Field(default=None, title="主要标的名称", description="可不填：同项目名称"),
        ),
        requirements=(
            notice.Requirements,
            Field(default=None, title="规格型号（或服务要求）", description="可不填"),
        ),
        quantity=(notice.Quantity, Field(default=spec.quantity, title="主要标的数量")),
        unit_price=(
            price,
            Field(default=None, title="主要标的单价（元）", description="可不填：同合同金额"),
        ),
        other=(notice.NoticeOther, Field(default="无", title="其他补充事宜")),
    )
    return model
