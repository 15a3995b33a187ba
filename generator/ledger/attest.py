"""A file's records, and whether the ledger's signed events vouch for them (``verify``).

The tables answer where a SHA-256 is recorded (an index); the events are the
record, and only signed ones can be trusted. So a file's matches hold only
when every event of their contract number is authentic (its hash and a
trusted key's signature, see :mod:`.authentic`), those events, replayed, hold
that file in that version with that status, and the newest event of the whole
ledger is authentic too: a chain rewritten anywhere and recomputed changes
every hash after the change, the newest's included, so a file that is not
found is not silently "not issued here" in a ledger that was rewritten. This
reads the events of a few numbers and one more, not the whole chain; deleting
an event without recomputing is found by ``ledger check``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from .audit import State
from .authentic import flaw_of, no_keys
from .matches import Match, matching, verdict
from .schema import EVENTS, FILES

__all__ = ["UNTRUSTED", "Attested", "attest"]

#: the verdict on a file whose records the signed events do not vouch for
UNTRUSTED = "untrusted"


@dataclass(frozen=True)
class Attested:
    """A file's matches, and every reason the ledger cannot be trusted on them (none: it can)."""

    matches: list[Match]
    problems: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """Return ``untrusted`` when there are problems, else what the matches say."""
        return UNTRUSTED if self.problems else verdict(self.matches)


def _held(said: dict[str, Any], match: Match) -> bool:
    """Return whether the events' state of a version holds the file a match found."""
    if match.signed_copy:
        return match.sha256 in said["signed"]
    return any(f["sha256"] == match.sha256 for f in said["files"].values())


def _number(
    conn: Connection, number: str, matches: list[Match], keys: Mapping[str, Ed25519PublicKey]
) -> list[str]:
    """Return what is wrong with the events of one contract number, for these matches."""
    problems = []
    state = State()
    for row in conn.execute(
        select(EVENTS).where(EVENTS.c.contract_no == number).order_by(EVENTS.c.seq)
    ):
        flaw = flaw_of(row, keys)
        if flaw is not None:
            problems.append(f"合同 {number} 的事件 {row.seq}：{flaw.words(keys)}")
            continue  # what it says is not taken
        try:
            state.apply(row, json.loads(row.body))
        except (ValueError, KeyError, TypeError):
            problems.append(f"合同 {number} 的事件 {row.seq}：内容无法读取")
    current = max(
        (v for (_, v), said in state.sets.items() if said["status"] == "issued"), default=None
    )
    for m in matches:
        said = state.sets.get((m.contract_no, m.version))
        where = f"合同 {m.contract_no} 第 {m.version} 版 {m.name}"
        if said is None or not _held(said, m):
            problems.append(f"{where}：不见于其已签名的登记事件 [ledger.record_unsigned]")
        elif (said["status"], current) != (m.status, m.current_version):
            problems.append(f"{where}：台账所记状态与已签名的登记事件不符 [ledger.record_changed]")
    return problems


def attest(conn: Connection, sha256: str, keys: Mapping[str, Ed25519PublicKey]) -> Attested:
    """Return a file's matches, and why the ledger cannot be trusted on them, if it cannot."""
    from .signed import signed_matches

    matches = matching(conn, FILES, sha256) + signed_matches(conn, sha256)
    newest = conn.execute(select(EVENTS).order_by(EVENTS.c.seq.desc()).limit(1)).first()
    if newest is None:
        return Attested(matches)
    if not keys:
        return Attested(matches, [no_keys()])
    problems = []
    flaw = flaw_of(newest, keys)
    if flaw is not None:
        problems.append(f"台账最新的事件 {newest.seq}：{flaw.words(keys)}")
    for number in sorted({m.contract_no for m in matches}):
        problems.extend(
            _number(conn, number, [m for m in matches if m.contract_no == number], keys)
        )
    return Attested(matches, problems)
