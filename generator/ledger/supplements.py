"""The 补充合同 rule checked when a supplement is issued (《政府采购法》第四十九条 built in).

Inside the ledger's writing transaction (:meth:`Ledger.writing` serialises writers, so two
supplements issued at once cannot both pass): the original issued and current (not
unknown, voided or superseded), the declared values the same as the original's, the
number the next in order of issue, and all current supplements of the original, this one
included, at most the declared share of its amount. What passed is recorded with the set
in the issue event (``set.supplement``), which is how the original's other supplements are
found.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import Connection, select

from ..errors import LedgerError
from ..kinds.model import Contract, value_at
from ..kinds.supplements import (
    SupplementClaim,
    claim_of,
    example_number,
    number_prefix,
    sequence_of,
)
from .schema import EVENTS, SETS

__all__ = ["check_supplement", "supplements", "supplements_of"]

_CITED_COLUMNS = {
    "amount": "amount",
    "sign_date": "signed_on",
    "project_name": "project_name",
    "supplier": "supplier",
}


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def _refuse(code: str, message: str) -> LedgerError:
    return LedgerError(f"不能签发补充合同：{message}", code=f"supplement.{code}")


def _cited(row: Any, name: str) -> Any:
    value = getattr(row, _CITED_COLUMNS[name])
    return Decimal(value) if name == "amount" else value


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return _yuan(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _latest_supplements(conn: Connection, claim: SupplementClaim, own: str) -> dict[str, Any]:
    """Return each supplement number of the original (other than ``own``): its newest row."""
    prefix = number_prefix(claim.number, claim.original)
    rows = conn.execute(
        select(SETS)
        .where(SETS.c.contract_no.startswith(prefix, autoescape=True), SETS.c.contract_no != own)
        .order_by(SETS.c.contract_no, SETS.c.version)
    ).all()
    newest = {}
    for row in rows:
        if sequence_of(claim.number, claim.original, row.contract_no) is not None:
            newest[row.contract_no] = row
    return newest


def _said(conn: Connection, row: Any, original: str) -> dict[str, Any] | None:
    """Return the supplement block of a version's issue event, if it supplements ``original``."""
    body = conn.execute(
        select(EVENTS.c.body).where(
            EVENTS.c.action == "issue",
            EVENTS.c.contract_no == row.contract_no,
            EVENTS.c.version == row.version,
        )
    ).scalar()
    said = json.loads(body).get("set", {}).get("supplement") if body else None
    return said if isinstance(said, dict) and said.get("original") == original else None


def check_supplement(conn: Connection, contract: Contract, record: dict[str, Any]) -> None:
    """Add to a set's record what it records as a supplement; raise LedgerError if refused.

    Nothing for a contract whose kind declares no ``supplements:``.
    """
    claim = claim_of(contract)
    if claim is not None:
        record["supplement"] = _checked(conn, claim, record["contract_no"])


def _checked(conn: Connection, claim: SupplementClaim, number: str) -> dict[str, Any]:
    """Return what an issued supplement records; raise LedgerError when the rule refuses it."""
    versions = conn.execute(
        select(SETS).where(SETS.c.contract_no == claim.original).order_by(SETS.c.version.desc())
    ).all()
    if not versions:
        raise _refuse("original_unknown", f"台账中没有原合同 {claim.original}，原合同须先签发登记")
    current = versions[0]
    if current.status != "issued":
        raise _refuse(
            "original_state",
            f"原合同 {claim.original} 第 {current.version} 版已作废（{current.status_reason}），"
            "不能为其签订补充合同",
        )
    wrong = {k: v for k, v in claim.cites.items() if _cited(current, k) != v[1]}
    if wrong:
        older = [
            r for r in versions[1:] if all(_cited(r, k) == v[1] for k, v in claim.cites.items())
        ]
        said = "、".join(f"{label} {_shown(value)}" for label, value in wrong.values())
        now = "、".join(_shown(_cited(current, k)) for k in wrong)
        if older:
            raise _refuse(
                "original_state",
                f"所写原合同（{said}）是已被取代的第 {older[0].version} 版"
                f"（{older[0].status_reason}）；原合同 {claim.original} 的现行版本为"
                f"第 {current.version} 版（{now}）",
            )
        raise _refuse(
            "original_mismatch",
            f"{said} 与台账中原合同 {claim.original} 第 {current.version} 版（{now}）不符",
        )
    data = json.loads(current.data)
    for path, (label, value) in claim.same.items():
        theirs = value_at(data, path)
        if theirs != value:
            raise _refuse(
                path.split(".")[0],
                f"{label}“{value}”与原合同 {claim.original} 的“{theirs}”不同，"
                "补充合同的当事人须与原合同相同",
            )
    others = _latest_supplements(conn, claim, number)
    own_known = conn.execute(select(SETS.c.id).where(SETS.c.contract_no == number)).first()
    if own_known is None:
        taken = [sequence_of(claim.number, claim.original, n) or 0 for n in others]
        wanted = max(taken, default=0) + 1
        if claim.sequence != wanted:
            raise _refuse(
                "number_order",
                f"原合同 {claim.original} 的下一份补充合同编号应为 "
                f"{example_number(claim.number, claim.original, wanted)}（按签发先后编号），"
                f"而不是 {number}",
            )
    counted = Decimal(0)
    for row in others.values():
        block = _said(conn, row, claim.original) if row.status == "issued" else None
        if block is not None:
            counted += Decimal(block["amount"])
    original_amount = Decimal(current.amount)
    limit = (original_amount * claim.limit_percent / 100).quantize(Decimal("0.01"), ROUND_DOWN)
    total = counted + claim.amount
    if total > limit:
        raise _refuse(
            "limit",
            f"原合同 {claim.original} 的全部补充合同金额合计 {_yuan(total)}"
            f"（本份 {_yuan(claim.amount)}，此前已签发 {_yuan(counted)}）超过原合同金额 "
            f"{_yuan(original_amount)} 的 {claim.limit_percent:f}%（{_yuan(limit)}），"
            f"不符合{claim.article}",
        )
    return {
        "original": claim.original,
        "original_version": current.version,
        "sequence": claim.sequence,
        "amount": format(claim.amount, "f"),
        "total": format(total, "f"),
        "limit": format(limit, "f"),
        "limit_percent": format(claim.limit_percent, "f"),
        "article": claim.article,
    }


def supplements_of(conn: Connection, original: str) -> dict[str, Any] | None:
    """Return an original's supplements (each number's newest version) and the share used.

    None when no issued supplement names it. The share counts current issued ones only.
    """
    rows = conn.execute(
        select(SETS)
        .where(SETS.c.contract_no.startswith(f"{original}-", autoescape=True))
        .order_by(SETS.c.contract_no, SETS.c.version)
    ).all()
    newest: dict[str, tuple[Any, dict[str, Any]]] = {}
    for row in rows:
        said = _said(conn, row, original)
        if said is not None:
            newest[row.contract_no] = (row, said)
        elif row.contract_no in newest:
            newest[row.contract_no] = (row, newest[row.contract_no][1])
    if not newest:
        return None
    current = conn.execute(
        select(SETS).where(SETS.c.contract_no == original).order_by(SETS.c.version.desc()).limit(1)
    ).first()
    listed = [
        {
            "contract_no": row.contract_no,
            "version": row.version,
            "status": row.status,
            "amount": said["amount"],
            "signed_on": row.signed_on.isoformat(),
        }
        for row, said in newest.values()
    ]
    total = sum((Decimal(s["amount"]) for s in listed if s["status"] == "issued"), Decimal(0))
    percent = next(iter(newest.values()))[1]["limit_percent"]
    amount = Decimal(current.amount) if current is not None else None
    share = (total * 100 / amount).quantize(Decimal("0.01"), ROUND_DOWN) if amount else None
    count = sum(1 for s in listed if s["status"] == "issued")
    summary = f"补充合同 {count} 份，合计 {_yuan(total)}"
    if share is not None:
        summary += f"，占原合同金额 {share.normalize():f}%（上限 {percent}%）"
    return {
        "supplements": listed,
        "count": count,
        "total": format(total, "f"),
        "share_percent": format(share, "f") if share is not None else None,
        "limit_percent": percent,
        "summary": summary,
    }


def supplements(ledger: Any, original: str) -> dict[str, Any] | None:
    """Return :func:`supplements_of` an original, read from a :class:`Ledger`."""
    with ledger.reading() as conn:
        return supplements_of(conn, original)
