"""What the ledger answers, laid out: what recording did, a version's summary, an event's detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

__all__ = ["Recorded", "event_detail", "signed_copies", "summary"]


@dataclass(frozen=True)
class Recorded:
    """What recording a set did: a new version, the same one again, or the same with new files."""

    contract_no: str
    version: int
    outcome: str
    superseded: int | None = None

    def message(self) -> str:
        """Return the line the command line prints (Chinese)."""
        head = f"台账：合同 {self.contract_no} 第 {self.version} 版"
        if self.outcome == "same":
            return f"{head}，与已登记的相同，未新增记录"
        if self.outcome == "files_added":
            return f"{head}，已补登本次新增的文件"
        if self.superseded is not None:
            return f"{head}已登记；第 {self.superseded} 版已被取代"
        return f"{head}已登记"

    def to_dict(self) -> dict[str, Any]:
        """Return it JSON-ready."""
        return {
            "contract_no": self.contract_no,
            "version": self.version,
            "outcome": self.outcome,
            "superseded": self.superseded,
        }


def summary(row: Any) -> dict[str, Any]:
    return {
        "contract_no": row.contract_no,
        "version": row.version,
        "status": row.status,
        "status_reason": row.status_reason,
        "project_name": row.project_name,
        "supplier": row.supplier,
        "amount": row.amount,
        "signed_on": row.signed_on.isoformat(),
        "issued_at": row.issued_at,
        "issued_by": row.issued_by,
        "published_on": row.published_on.isoformat() if row.published_on else None,
        "input_sha256": row.input_sha256,
        "templates_sha256": row.templates_sha256,
        "generator_version": row.generator_version,
        # what its signed copies say: None, partly_signed or signed, and the latest signing time
        "signing": row.signing,
        "signed_at": row.signed_at,
    }


def signed_copies(conn: Connection, set_id: int) -> list[dict[str, Any]]:
    """Return a version's signed copies (see :mod:`.signed`), oldest first."""
    from .signed import copies_of

    return copies_of(conn, set_id)


def event_detail(action: str, body: dict[str, Any]) -> dict[str, Any]:
    if action == "issue":
        return {"supersedes": body.get("supersedes"), "files": len(body.get("files", []))}
    if action == "add_files":
        return {"files": len(body.get("files", []))}
    if action == "sign":
        from .signed import sign_detail

        return sign_detail(body)
    if action == "publish":
        return {"published_on": body.get("published_on"), "files": len(body.get("files", []))}
    return {"reason": body.get("reason", "")}
