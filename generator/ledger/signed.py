"""Signed copies: the sealed PDF the e-signing platform returns, checked and recorded.

A file is a signed copy of an issued PDF when

* its first bytes are exactly a PDF the ledger issued (that file's SHA-256 is in
  ``files``), followed only by incremental updates;
* pyHanko's difference analysis (:mod:`pyhanko.sign.diff_analysis`, its standard
  policy, from the issued revision on) finds nothing but form filling in those
  updates: no page added, no content changed, no annotation added;
* every field filled or signed is one of that document's own seal fields (the
  manifest's ``seals``), each holding a signature;
* every signature is intact and valid (its digest covers the revision it says).

The certificates are reported, never trusted blindly: with trust roots configured
(``--trust FILE.pem``, ``CONTRACTGEN_TRUST``) each signer's chain must validate
against them; without, the answer says that the chain was not validated, only the
signatures' integrity. Nothing is fetched from the network (no OCSP, no CRL).

pyHanko comes with ``contractgen[signing]``; this module imports it when used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..clock import utc_text
from .chain import canonical
from .matches import Match, matching
from .schema import FILES, SETS, SIGNED_COPIES
from .signatures import (
    PARTY_TITLES,
    TRUST_ENVIRONMENT,
    Examined,
    Signer,
    examine,
    latest,
    load_trust,
    missing,
    trust_paths,
)
from .store import Ledger, default_actor

__all__ = [
    "PARTY_TITLES",
    "SIGNING_STATES",
    "TRUST_ENVIRONMENT",
    "Examined",
    "SignedRecorded",
    "Signer",
    "copies_of",
    "examine",
    "load_trust",
    "missing",
    "record_signed",
    "sign_detail",
    "signed_matches",
    "signing_state",
    "trust_paths",
]

#: a version's signing, in Chinese
SIGNING_STATES = {"partly_signed": "部分签署", "signed": "已签署"}
#: the formats of issued PDFs
_PDF_FORMATS = ("pdf", "pdfa")


@dataclass(frozen=True)
class SignedRecorded:
    """What taking a signed copy back did: recorded, or the same file again."""

    contract_no: str
    version: int
    name: str
    outcome: str
    signing: str | None
    signed_at: str | None
    signers: list[dict[str, Any]] = field(default_factory=list)
    trust: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        """Return the line the command line prints (Chinese)."""
        head = f"签署件：合同 {self.contract_no} 第 {self.version} 版 {self.name}"
        state = SIGNING_STATES.get(self.signing or "", "未签署")
        if self.outcome == "same":
            return f"{head}，与已登记的签署件相同，未新增记录（该版本：{state}）"
        return f"{head}已登记（该版本：{state}）"

    def to_dict(self) -> dict[str, Any]:
        """Return it JSON-ready."""
        return dict(self.__dict__)


def sealed_fields(files: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """Return (document kind, seal field) of every field the issued PDFs ask to be signed."""
    wanted = set()
    for file in files:
        if file["format"] in _PDF_FORMATS:
            for seal in (file["seals"] or {}).get("seals") or []:
                wanted.add((file["kind"], seal["field"]))
    return wanted


def signing_state(
    files: Iterable[dict[str, Any]], copies: Iterable[dict[str, Any]]
) -> tuple[str | None, str | None]:
    """Return a version's signing (None, ``partly_signed``, ``signed``) and its latest time.

    ``files`` are the version's files as recorded (``kind``, ``format``, ``seals``),
    ``copies`` its signed copies (``kind``, ``signers``). Signed: every seal field of
    every sealed document (both parties') signed in some copy.
    """
    copies = list(copies)
    if not copies:
        return None, None
    done = {(c["kind"], s["field"]) for c in copies for s in c["signers"]}
    wanted = sealed_fields(files)
    state = "signed" if wanted and wanted <= done else "partly_signed"
    return state, latest(s.get("signed_at") for c in copies for s in c["signers"])


# --- recording --------------------------------------------------------------------------------


def _files(conn: Connection, set_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(FILES.c.kind, FILES.c.format, FILES.c.seals).where(FILES.c.set_id == set_id)
    )
    return [{"kind": r.kind, "format": r.format, "seals": json.loads(r.seals)} for r in rows]


def copies_of(conn: Connection, set_id: int) -> list[dict[str, Any]]:
    """Return a version's signed copies as recorded, oldest first."""
    rows = conn.execute(
        select(SIGNED_COPIES).where(SIGNED_COPIES.c.set_id == set_id).order_by(SIGNED_COPIES.c.id)
    )
    return [
        {
            "name": r.name,
            "format": r.format,
            "kind": r.kind,
            "issued_sha256": r.issued_sha256,
            "sha256": r.sha256,
            "content_md5": r.content_md5,
            "size": r.size,
            "signers": json.loads(r.signers),
            "signed_at": r.signed_at,
            "trust": json.loads(r.trust),
            "recorded_at": r.recorded_at,
            "recorded_by": r.recorded_by,
        }
        for r in rows
    ]


def record_signed(
    ledger: Ledger, data: bytes, roots: Sequence[Any] = (), actor: str | None = None
) -> SignedRecorded:
    """Check a signed copy and record it as a ``sign`` event of its version.

    The same file again records nothing (outcome ``same``). :class:`LedgerError`
    (``signed.…``) when the file is refused: nothing is recorded.
    """
    found = examine(ledger, data, roots)
    actor = actor or default_actor()
    with ledger.writing() as conn:
        row = conn.execute(
            select(SETS).where(
                SETS.c.contract_no == found.contract_no, SETS.c.version == found.version
            )
        ).one()
        signers = [s.to_dict() for s in found.signers]
        known = conn.execute(
            select(SIGNED_COPIES.c.id).where(
                SIGNED_COPIES.c.set_id == row.id, SIGNED_COPIES.c.sha256 == found.sha256
            )
        ).first()
        if known is not None:
            return SignedRecorded(
                row.contract_no,
                row.version,
                found.name,
                "same",
                row.signing,
                row.signed_at,
                signers,
                found.trust,
            )
        at = utc_text()
        record = found.record()
        conn.execute(
            insert(SIGNED_COPIES).values(
                set_id=row.id,
                name=found.name,
                format=found.format,
                issued_sha256=found.issued_sha256,
                kind=found.kind,
                sha256=found.sha256,
                content_md5=found.content_md5,
                size=found.size,
                signers=canonical(signers),
                signed_at=found.signed_at,
                trust=canonical(found.trust),
                recorded_at=at,
                recorded_by=actor,
            )
        )
        state, signed_at = signing_state(_files(conn, row.id), copies_of(conn, row.id))
        conn.execute(
            update(SETS).where(SETS.c.id == row.id).values(signing=state, signed_at=signed_at)
        )
        ledger.append(conn, "sign", row.contract_no, row.version, {"signed": record}, actor, at)
    return SignedRecorded(
        row.contract_no, row.version, found.name, "new", state, signed_at, signers, found.trust
    )


def signed_matches(conn: Connection, sha256: str) -> list[Match]:
    """Return the signed copies with that SHA-256, as matches of the files they extend."""
    return matching(conn, SIGNED_COPIES, sha256, signed_copy=True)


def sign_detail(body: dict[str, Any]) -> dict[str, Any]:
    """Return what the history shows of a ``sign`` event."""
    signed = body.get("signed", {})
    return {
        "files": 1,
        "name": signed.get("name"),
        "sha256": signed.get("sha256"),
        "signed_at": signed.get("signed_at"),
        "signers": [
            {k: s.get(k) for k in ("party", "field", "organization", "common_name")}
            for s in signed.get("signers", [])
        ],
    }
