"""Whether an event is what the ledger's key signed: its hash recomputed, its signature checked.

The chain alone is keyless: whoever can write the database can rewrite an
event and recompute every hash after it. A signature over the hash (see
:mod:`.keys`) makes each event self-authenticating: a changed event no longer
gives its hash, and a recomputed hash no longer carries a signature from a
trusted key. ``ledger check`` runs this over every event; ``verify`` over the
events of the contract number a file belongs to and the newest event (which
any recomputed chain changes), so one file is verified without walking the
whole chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .chain import event_hash
from .keys import signature_holds

__all__ = ["Flaw", "content_of", "flaw_of", "no_keys"]

#: every flaw's words, by its stable code
_WORDS = {
    "ledger.event_changed": "内容与其哈希不符（被改动）",
    "ledger.event_unsigned": "未签名（签名之前所记，或签名被去除）",
    "ledger.event_signature": "签名与其哈希不符（事件被改写、添加或链被重算，签名者并无台账密钥）",
    "ledger.event_key_unknown": "签名所用的密钥 {key} 不在所信任的公钥（{trusted}）之中",
}


@dataclass(frozen=True)
class Flaw:
    """Why one event cannot be trusted: a stable code, and the key it names."""

    code: str
    key_id: str | None = None

    def words(self, trusted: Mapping[str, object]) -> str:
        """Return the flaw in Chinese, with its code."""
        shown = "、".join(sorted(trusted)) or "无"
        text = _WORDS[self.code].format(key=self.key_id, trusted=shown)
        return f"{text} [{self.code}]"


def content_of(row: Any) -> dict[str, Any]:
    """Return what an event's hash covers, from its row."""
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "contract_no": row.contract_no,
        "version": row.version,
        "body": row.body,
    }


def flaw_of(row: Any, keys: Mapping[str, Ed25519PublicKey]) -> Flaw | None:
    """Return why an event row is not authentic, or None when it is (hash and signature)."""
    if event_hash(row.prev_hash, content_of(row)) != row.hash:
        return Flaw("ledger.event_changed")
    if not row.signature or not row.key_id:
        return Flaw("ledger.event_unsigned")
    public = keys.get(row.key_id)
    if public is None:
        return Flaw("ledger.event_key_unknown", row.key_id)
    if not signature_holds(public, row.hash, row.signature):
        return Flaw("ledger.event_signature")
    return None


def no_keys() -> str:
    """Return the problem of a ledger whose events cannot be checked: no public key known."""
    from .keys import KEY_ENVIRONMENT, PUBKEY_ENVIRONMENT

    return (
        "未配置台账公钥，无法核对事件签名（请以 --ledger-pubkey FILE 或环境变量 "
        f"{PUBKEY_ENVIRONMENT} 指定公钥，或以 --ledger-key FILE、{KEY_ENVIRONMENT} 指定密钥）"
        " [ledger.no_pubkey]"
    )
