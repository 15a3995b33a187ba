"""A file found in the ledger, and what the ledger says of it: current, outdated or unknown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select

from .schema import SETS

__all__ = ["Match", "verdict"]


@dataclass(frozen=True)
class Match:
    """A file found in the ledger: which contract, version and document, and its status."""

    sha256: str
    contract_no: str
    version: int
    name: str
    kind: str
    status: str
    current_version: int | None
    #: a signed copy of that file (an issued PDF with its seal fields signed), not the file
    signed_copy: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return it JSON-ready."""
        return dict(self.__dict__)


def verdict(matches: list[Match]) -> str:
    """Return what the ledger says of a file: ``current``, ``outdated`` or ``unknown``.

    Current: one of its records is an issued version that is still the number's
    current one; outdated: known, but superseded or voided; unknown: not issued here.
    """
    if not matches:
        return "unknown"
    if any(m.status == "issued" and m.version == m.current_version for m in matches):
        return "current"
    return "outdated"


def matching(
    conn: Connection, files: Table, sha256: str, *, signed_copy: bool = False
) -> list[Match]:
    """Return the rows of ``files`` (issued files, or signed copies) with that SHA-256."""
    rows = conn.execute(
        select(files.c.sha256, files.c.name, files.c.kind, SETS)
        .join(SETS, files.c.set_id == SETS.c.id)
        .where(files.c.sha256 == sha256)
        .order_by(SETS.c.contract_no, SETS.c.version)
    ).all()
    matches = []
    for row in rows:
        current = conn.execute(
            select(SETS.c.version).where(
                SETS.c.contract_no == row.contract_no, SETS.c.status == "issued"
            )
        ).scalar()
        matches.append(
            Match(
                row.sha256,
                row.contract_no,
                row.version,
                row.name,
                row.kind,
                row.status,
                current,
                signed_copy=signed_copy,
            )
        )
    return matches
