"""Build the template context from a contract: every value ready to print.

The templates hold no logic: dates are formatted, amounts written in figures
and in 大写, ticks chosen and the payment schedule decided here. The names are
documented for template maintainers in ``generator/docx/templates/CONTEXT.md``.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from .amount import count_lower, count_upper, format_amount, rmb_upper
from .model import DEFAULT_SCHEDULE_LIMIT, AcceptancePlan, Contract, Payment, split_amount

__all__ = [
    "DERIVED_FROM_NO_DATA",
    "MARK",
    "NO_BOND",
    "NO_BOND_PREFIXES",
    "TICKED",
    "UNTICKED",
    "bond_clause",
    "build_context",
    "context_sources",
    "format_date",
    "format_wan",
    "withheld_context",
]

#: the tick marks of the acceptance form: chosen, and not chosen
TICKED = "☑"
UNTICKED = "☐"


def format_date(day: date) -> str:
    """Return a date as the contract writes it: 2026年01月16日."""
    return f"{day.year:04d}年{day.month:02d}月{day.day:02d}日"


#: performance_bond values that take no bond (a final stop aside, any case); clause 六 reads 无。
NO_BOND = frozenset({"无", "不收取", "免收", "不适用", "none", "n/a"})
#: and the words such a value may start with (不收取履约保证金); 无 alone is not one of them:
#: 无条件见索即付保函 is a bond
NO_BOND_PREFIXES = ("不收取", "免收", "无需", "不需", "不要求")
#: what ends a clause already, and is dropped before clause 六 adds its own 。
_FINAL_STOPS = "。；;.，,、 "


def format_wan(amount: Decimal) -> str:
    """Return an amount in 万元 as 5.2 writes its threshold: 5000000 is 500 万元."""
    return f"{(amount / 10000).normalize():f} 万元"


def bond_clause(performance_bond: str) -> str:
    """Return clause 六 for the bond of 2.5: 无。 when none is taken, else the bond as stated."""
    stated = performance_bond.strip().rstrip(_FINAL_STOPS)
    if stated.lower() in NO_BOND or stated.startswith(NO_BOND_PREFIXES):
        return "无。"
    return f"{stated}。"


def _tick(flag: bool) -> str:
    return TICKED if flag else UNTICKED


def _yes_no(flag: bool) -> dict[str, str]:
    return {"yes": _tick(flag), "no": _tick(not flag)}


def _percent(value: Any) -> str:
    return f"{value.normalize():f}"


def _payment(contract: Contract) -> dict[str, Any]:
    payment: Payment = contract.payment
    instalments = payment.instalments or []
    amounts = split_amount(contract.amount, [i.percent for i in instalments]) if instalments else []
    rows = [
        {
            "letter": string.ascii_lowercase[n],
            "percent": _percent(item.percent),
            "amount": format_amount(share),
            "amount_upper": rmb_upper(share),
            "condition": item.condition,
            "last": n == len(instalments) - 1,
        }
        for n, (item, share) in enumerate(zip(instalments, amounts, strict=True))
    ]
    return {
        "default_schedule": not instalments,
        "first_percent": _percent(payment.first_percent),
        "days": payment.days,
        "count_text": count_lower(len(rows) or 2),
        "default_limit": format_wan(DEFAULT_SCHEDULE_LIMIT),
        "instalments": rows,
    }


def _acceptance(plan: AcceptancePlan) -> dict[str, Any]:
    return {
        "org_self": _tick(plan.organization == "自行组织"),
        "org_third": _tick(plan.organization == "委托第三方"),
        "subject": plan.subject,
        "other_suppliers": _yes_no(plan.other_suppliers),
        "experts": _yes_no(plan.experts),
        "service_recipients": _yes_no(plan.service_recipients),
        "third_party": _yes_no(plan.third_party),
        "sampling": _yes_no(plan.sampling),
        "destructive": _yes_no(plan.destructive),
        "sampling_ratio": plan.sampling_ratio or "",
        "destroyed_handling": plan.destroyed_handling or "",
        "method_once": _tick(plan.method == "一次性验收"),
        "method_phased": _tick(plan.method == "分期验收"),
        "time": plan.time,
        "procedure": plan.procedure,
        "items": [
            {"no": n, "stage": item.stage, "content": item.content, "standard": item.standard}
            for n, item in enumerate(plan.items, start=1)
        ],
    }


def build_context(contract: Contract) -> dict[str, Any]:
    """Return the template context of a contract."""
    buyer, supplier, service, terms = (
        contract.buyer,
        contract.supplier,
        contract.service,
        contract.terms,
    )
    return {
        "contract_no": contract.contract_no,
        "project_name": contract.project_name,
        "buyer": {
            "name": buyer.name,
            "address": buyer.address,
            "postcode": buyer.postcode,
            "phone": buyer.phone,
            "fax": buyer.fax or "",
            "contact": buyer.contact,
        },
        "supplier": {
            "name": supplier.name,
            "legal_representative": {
                "name": supplier.legal_representative.name,
                "gender": supplier.legal_representative.gender,
            },
            "address": supplier.address,
            "postcode": supplier.postcode,
            "phone": supplier.phone,
            "fax": supplier.fax or "",
            "contact": supplier.contact,
            "bank": {"name": supplier.bank.name, "account": supplier.bank.account},
            "credit_code": supplier.credit_code or "",
        },
        "amount": format_amount(contract.amount),
        "amount_upper": rmb_upper(contract.amount),
        "service": {
            "start": (
                f"自{format_date(service.start_date)}起"
                if service.start_date
                else "自合同签订之日起"
            ),
            "end_date": format_date(service.end_date),
            "site": service.site,
        },
        "performance_bond": contract.performance_bond,
        "performance_bond_clause": bond_clause(contract.performance_bond),
        "other_terms": contract.other_terms,
        "other_documents": list(contract.other_documents),
        "other_documents_text": "；".join(contract.other_documents),
        "payment": _payment(contract),
        "owner_unit": contract.owner_unit,
        "user_unit": contract.user_unit or contract.owner_unit,
        "confidential_extra": contract.confidential_extra or "",
        "sign_date": format_date(contract.sign_date),
        "sign_place": contract.sign_place,
        "terms": {
            "reply_days": terms.reply_days,
            "handover_days": terms.handover_days,
            "penalty_percent": terms.penalty_percent,
            "force_majeure_days": terms.force_majeure_days,
            "notice_oral_hours": terms.notice_oral_hours,
            "notice_written_hours": terms.notice_written_hours,
            "copies_upper": count_upper(terms.copies),
            "copies_each_upper": count_upper(terms.copies // 2),
        },
        "acceptance": _acceptance(contract.acceptance_plan),
    }


#: what a public copy prints in place of a withheld value (full-width asterisks: no field's
#: pattern allows them, so the mark can never be mistaken for data)
MARK = "＊＊＊"

#: each value of the context and the data paths it derives from (lists item by item:
#: ``payment.instalments[].amount`` ← ``payment.instalments.percent``). Withholding a path
#: withholds every value derived from it: the 大写 of a figure, the ticks of a choice,
#: an instalment's amount from its percentage.
_SOURCES: dict[str, tuple[str, ...]] = {
    "contract_no": ("contract_no",),
    "project_name": ("project_name",),
    **{f"buyer.{key}": (f"buyer.{key}",) for key in ("name", "address", "postcode")},
    **{f"buyer.{key}": (f"buyer.{key}",) for key in ("phone", "fax", "contact")},
    **{
        f"supplier.{key}": (f"supplier.{key}",)
        for key in (
            "name",
            "legal_representative.name",
            "legal_representative.gender",
            "address",
            "postcode",
            "phone",
            "fax",
            "contact",
            "bank.name",
            "bank.account",
            "credit_code",
        )
    },
    "amount": ("amount",),
    "amount_upper": ("amount",),
    "service.start": ("service.start_date",),
    "service.end_date": ("service.end_date",),
    "service.site": ("service.site",),
    "performance_bond": ("performance_bond",),
    "performance_bond_clause": ("performance_bond",),
    "other_terms": ("other_terms",),
    "other_documents[]": ("other_documents",),
    "other_documents_text": ("other_documents",),
    "payment.first_percent": ("payment.first_percent",),
    "payment.days": ("payment.days",),
    "payment.instalments[].percent": ("payment.instalments.percent",),
    "payment.instalments[].amount": ("amount", "payment.instalments.percent"),
    "payment.instalments[].amount_upper": ("amount", "payment.instalments.percent"),
    "payment.instalments[].condition": ("payment.instalments.condition",),
    "owner_unit": ("owner_unit",),
    "confidential_extra": ("confidential_extra",),
    "sign_date": ("sign_date",),
    "sign_place": ("sign_place",),
    **{
        f"terms.{key}": (f"terms.{key}",)
        for key in (
            "reply_days",
            "handover_days",
            "penalty_percent",
            "force_majeure_days",
            "notice_oral_hours",
            "notice_written_hours",
        )
    },
    "terms.copies_upper": ("terms.copies",),
    "terms.copies_each_upper": ("terms.copies",),
    "acceptance.org_self": ("acceptance_plan.organization",),
    "acceptance.org_third": ("acceptance_plan.organization",),
    "acceptance.method_once": ("acceptance_plan.method",),
    "acceptance.method_phased": ("acceptance_plan.method",),
    **{
        f"acceptance.{key}": (f"acceptance_plan.{key}",)
        for key in ("subject", "sampling_ratio", "destroyed_handling", "time", "procedure")
    },
    **{
        f"acceptance.{row}.{answer}": (f"acceptance_plan.{row}",)
        for row in (
            "other_suppliers",
            "experts",
            "service_recipients",
            "third_party",
            "sampling",
            "destructive",
        )
        for answer in ("yes", "no")
    },
    **{
        f"acceptance.items[].{key}": (f"acceptance_plan.items.{key}",)
        for key in ("stage", "content", "standard")
    },
}

#: the values of the context that derive from no data value: fixed words, counters, flags
#: of the data's shape (how many instalments, whether any are listed)
DERIVED_FROM_NO_DATA = frozenset(
    {
        "payment.default_schedule",
        "payment.count_text",
        "payment.default_limit",
        "payment.instalments[].letter",
        "payment.instalments[].last",
        "acceptance.items[].no",
    }
)


def context_sources(contract: Contract) -> dict[str, tuple[str, ...]]:
    """Return each value of the contract's context and the data paths it derives from."""
    # user_unit falls back to owner_unit: then it prints owner_unit's value
    user_unit = ("user_unit",) if contract.user_unit else ("owner_unit",)
    return {**_SOURCES, "user_unit": user_unit}


def _covers(withheld: Iterable[str], source: str) -> bool:
    return any(source == path or source.startswith(f"{path}.") for path in withheld)


def withheld_context(contract: Contract, paths: Iterable[str], mark: str = MARK) -> dict[str, Any]:
    """Return the template context of a contract with the values of ``paths`` replaced by a mark.

    A path withholds its own value, everything below it (``supplier.bank``) and every value
    derived from it (:func:`context_sources`). An empty value stays empty: nothing is
    there to withhold, and a mark would print a line the contract leaves out.
    """
    withheld = tuple(paths)
    sources = context_sources(contract)
    masked = {key for key, found in sources.items() if any(_covers(withheld, s) for s in found)}

    def visit(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return {
                key: visit(item, f"{path}.{key}" if path else key) for key, item in value.items()
            }
        if isinstance(value, list):
            return [visit(item, f"{path}[]") for item in value]
        if path in masked and value not in ("", None) and not isinstance(value, bool):
            return mark
        return value

    result: dict[str, Any] = visit(build_context(contract), "")
    return result
