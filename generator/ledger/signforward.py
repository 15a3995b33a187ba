"""Signing forward a ledger from before signing (0.2.0): ``contractgen ledger key sign-old``.

Its events carry no signature; the key's holder may sign them once, after the
whole ledger checks out (chain and every row) and only when the unsigned events
are the oldest ones: an unsigned event after a signed one was not written by
0.2.0 and is never signed. The signature columns are not part of an event's
hash, so the chain is unchanged. Signing adopts what the ledger holds at that
moment: run it on a ledger known to be the office's own (straight after the
upgrade, or a copy checked against a head hash kept before).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from ..errors import LedgerError
from .audit import audit
from .schema import EVENTS
from .store import Ledger

__all__ = ["sign_old"]


def sign_old(ledger: Ledger) -> dict[str, Any]:
    """Sign every unsigned event (the oldest ones); return what was signed."""
    key = ledger.signing_key()
    keys = {**ledger.trusted_keys(), key.key_id: key.private.public_key()}
    with ledger.writing() as conn:
        first_signed = conn.execute(
            select(EVENTS.c.seq).where(EVENTS.c.signature.is_not(None)).order_by(EVENTS.c.seq)
        ).scalar()
        unsigned = conn.execute(
            select(EVENTS.c.seq, EVENTS.c.hash)
            .where(EVENTS.c.signature.is_(None))
            .order_by(EVENTS.c.seq)
        ).all()
        late = [row.seq for row in unsigned if first_signed is not None and row.seq > first_signed]
        if late:
            raise LedgerError(
                f"事件 {late[0]} 未签名，却在已签名的事件 {first_signed} 之后：不是签名之前所记，"
                "不予补签（请运行 contractgen ledger check）",
                code="ledger.sign_old_refused",
                url=ledger.masked_url,
            )
        found = audit(conn, keys)
        other = [p for p in found.problems if "[ledger.event_unsigned]" not in p]
        if other:
            raise LedgerError(
                f"台账检查未通过，不予补签：{other[0]}",
                code="ledger.sign_old_refused",
                url=ledger.masked_url,
            )
        for row in unsigned:
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.seq == row.seq)
                .values(key_id=key.key_id, signature=key.sign(row.hash))
            )
    return {
        "signed": len(unsigned),
        "first": unsigned[0].seq if unsigned else None,
        "last": unsigned[-1].seq if unsigned else None,
        "key_id": key.key_id,
    }
