"""A file found in the ledger, and what the ledger says of it: current, outdated or unknown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
