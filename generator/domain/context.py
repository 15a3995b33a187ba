"""Build the template context from a contract: every value ready to print.

The templates hold no logic: dates are formatted, amounts written in figures
and in 大写, ticks chosen and the payment schedule decided here. The names are
documented for template maintainers in ``generator/docx/templates/CONTEXT.md``.
"""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal
from typing import Any

from .amount import count_lower, count_upper, format_amount, rmb_upper
from .model import DEFAULT_SCHEDULE_LIMIT, AcceptancePlan, Contract, Payment, split_amount

__all__ = [
    "NO_BOND",
    "NO_BOND_PREFIXES",
    "TICKED",
    "UNTICKED",
    "bond_clause",
    "build_context",
    "format_date",
    "format_wan",
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
