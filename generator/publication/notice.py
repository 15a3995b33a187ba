"""The 合同公告: its fields declared once, their values, and the notice as DOCX context and JSON.

:data:`NOTICE_SECTIONS` is the one declaration of the notice's fields, in the order and
with the words of 财办库〔2020〕50号《政府采购公告和公示信息格式规范（2020年版）》 (合同公告):
sections 一 to 九, each with its fields (a JSON key and the label printed). The DOCX
(``generator/docx/templates/src/contract_notice.txt`` loops over it) and ``notice.json``
are both made from it, so an office that corrects a label or the order corrects both.
A section whose one field is labelled as the section prints on one line (一、合同编号：…).

The values come from the public copy's context, so a withheld value (a mobile number
among the parties' 联系方式) is marked in the notice too, and from the contract data's
``publication`` block for what the contract does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..domain.amount import format_amount
from ..domain.documents import NOTICE
from ..domain.filters import format_date
from ..errors import InvalidContractError, Issue
from ..kinds import Contract, value_at

__all__ = [
    "ATTACHMENT_NOTE",
    "FORMAT",
    "NOTICE_SECTIONS",
    "NoticeField",
    "NoticeSection",
    "notice_context",
    "notice_json",
    "notice_title",
    "notice_values",
]

#: the format the notice follows, as notice.json names it
FORMAT = "财办库〔2020〕50号《政府采购公告和公示信息格式规范（2020年版）》合同公告"


@dataclass(frozen=True)
class NoticeField:
    """One field of the notice: its key in notice.json and the label printed before its value."""

    key: str
    label: str


@dataclass(frozen=True)
class NoticeSection:
    """One numbered section of the notice and its fields."""

    number: str
    title: str
    fields: tuple[NoticeField, ...]

    @property
    def heading(self) -> str:
        """Return the heading as printed: ``一、合同编号``."""
        return f"{self.number}、{self.title}"

    @property
    def inline(self) -> bool:
        """Return whether the section is its one field, printed on the heading's line."""
        return len(self.fields) == 1 and self.fields[0].label == self.title


def _one(number: str, key: str, title: str) -> NoticeSection:
    return NoticeSection(number, title, (NoticeField(key, title),))


#: the notice's sections and fields (财办库〔2020〕50号, 合同公告)
NOTICE_SECTIONS: tuple[NoticeSection, ...] = (
    _one("一", "contract_no", "合同编号"),
    _one("二", "contract_name", "合同名称"),
    _one("三", "project_no", "项目编号"),
    _one("四", "project_name", "项目名称"),
    NoticeSection(
        "五",
        "合同主体",
        (
            NoticeField("buyer_name", "采购人（甲方）"),
            NoticeField("buyer_address", "地址"),
            NoticeField("buyer_contact", "联系方式"),
            NoticeField("supplier_name", "供应商（乙方）"),
            NoticeField("supplier_address", "地址"),
            NoticeField("supplier_contact", "联系方式"),
        ),
    ),
    NoticeSection(
        "六",
        "合同主要信息",
        (
            NoticeField("subject_name", "主要标的名称"),
            NoticeField("requirements", "规格型号（或服务要求）"),
            NoticeField("quantity", "主要标的数量"),
            NoticeField("unit_price", "主要标的单价"),
            NoticeField("contract_amount", "合同金额"),
            NoticeField("performance", "履约期限、地点等简要信息"),
            NoticeField("procurement_method", "采购方式"),
        ),
    ),
    _one("七", "sign_date", "合同签订日期"),
    _one("八", "published_on", "合同公告日期"),
    _one("九", "other", "其他补充事宜"),
)

#: what the attachment line says of the public copies it lists (实施条例第五十条)
ATTACHMENT_NOTE = "合同公开文本（已隐去涉及国家秘密、商业秘密和个人信息的内容，以“{mark}”标示）"


def _at(context: Mapping[str, Any], path: str | None) -> str:
    """Return the context's value at a data path ("" when the kind names no such path)."""
    value = value_at(context, path) if path else None
    return "" if value is None else str(value)


def _contact(
    context: Mapping[str, Any], contact: str | None, phone: str | None, fax: str | None
) -> str:
    """Return a party's 联系方式: contact person, phone and, when given, fax."""
    person, number, fax_number = _at(context, contact), _at(context, phone), _at(context, fax)
    text = "，".join(part for part in (person, f"电话：{number}" if number else "") if part)
    return f"{text}，传真：{fax_number}" if fax_number else text


def notice_values(
    contract: Contract, context: Mapping[str, Any], published_on: date
) -> dict[str, str]:
    """Return every field of the notice by key, from the public copy's context and the data.

    The envelope of the contract's kind says where each value is; the kind's
    declaration words the requirements and the performance summary. Raise
    :class:`InvalidContractError` when the data has no 项目编号: every notice
    names its project's number, and no other value stands for it.
    """
    kind = contract.kind
    envelope = kind.spec.envelope
    publication = contract.publication_settings
    if not publication.project_no:
        issue = Issue("publication.project_no", "required", "发布合同公告须填写项目编号")
        raise InvalidContractError([issue])
    amount = f"{_at(context, envelope.amount)}元"
    upper = _at(context, f"{envelope.amount}_upper")
    project = _at(context, envelope.project_name)
    unit_price = publication.unit_price
    return {
        "contract_no": _at(context, envelope.contract_no),
        "contract_name": f"{project}{kind.documents[0].title}",
        "project_no": publication.project_no,
        "project_name": project,
        "buyer_name": _at(context, envelope.buyer),
        "buyer_address": _at(context, envelope.buyer_address),
        "buyer_contact": _contact(
            context, envelope.buyer_contact, envelope.buyer_phone, envelope.buyer_fax
        ),
        "supplier_name": _at(context, envelope.supplier),
        "supplier_address": _at(context, envelope.supplier_address),
        "supplier_contact": _contact(
            context, envelope.supplier_contact, envelope.supplier_phone, envelope.supplier_fax
        ),
        "subject_name": publication.subject_name or project,
        "requirements": publication.requirements or kind.notice_text("requirements", context),
        "quantity": publication.quantity,
        "unit_price": amount if unit_price is None else f"{format_amount(unit_price)}元",
        "contract_amount": f"{amount}（大写：{upper}）",
        "performance": kind.notice_text("performance", context),
        "procurement_method": publication.procurement_method,
        "sign_date": _at(context, envelope.sign_date),
        "published_on": format_date(published_on),
        "other": publication.other,
    }


def _sections(values: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "number": section.number,
            "title": section.title,
            "heading": section.heading,
            "inline": section.inline,
            "value": values[section.fields[0].key] if section.inline else "",
            "fields": [
                {"key": field.key, "label": field.label, "value": values[field.key]}
                for field in section.fields
            ],
        }
        for section in NOTICE_SECTIONS
    ]


def notice_title(values: Mapping[str, str]) -> str:
    """Return the notice's title: the project's name and 合同公告."""
    return f"{values['project_name']}{NOTICE.title}"


def notice_context(
    values: Mapping[str, str], attachments: Sequence[str], mark: str
) -> dict[str, Any]:
    """Return the template context of the notice: its title, sections and attachments."""
    return {
        "contract_no": values["contract_no"],
        "notice": {
            # printed: the registry's title, the project being the notice's 四、项目名称
            "heading": NOTICE.title,
            "title": notice_title(values),
            "sections": _sections(values),
            "attachment_note": ATTACHMENT_NOTE.format(mark=mark),
            "attachments": [f"{n}. {title}" for n, title in enumerate(attachments, start=1)],
        },
    }


def notice_json(
    values: Mapping[str, str], attachments: Sequence[Mapping[str, str]]
) -> dict[str, Any]:
    """Return the notice as publication systems that take a form want it: every field by key."""
    return {
        "format": FORMAT,
        "title": notice_title(values),
        "fields": {field.key: values[field.key] for s in NOTICE_SECTIONS for field in s.fields},
        "sections": [
            {key: section[key] for key in ("number", "title", "fields")}
            for section in _sections(values)
        ],
        "attachments": list(attachments),
    }
