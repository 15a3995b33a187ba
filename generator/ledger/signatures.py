"""Reading a signed copy with pyHanko: its issued part, its changes, its signatures.

See :mod:`.signed` for what is accepted. pyHanko comes with ``contractgen[signing]``;
this module imports it when a file is examined.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..clock import utc_text
from ..errors import LedgerError
from .schema import FILES, SETS
from .store import Ledger

__all__ = [
    "EXTRA",
    "MODULES",
    "PARTY_TITLES",
    "TRUST_ENVIRONMENT",
    "Examined",
    "Signer",
    "examine",
    "latest",
    "load_trust",
    "missing",
    "missing_text",
    "trust_paths",
]

#: the extra that installs pyHanko
EXTRA = "signing"
#: the modules of ``contractgen[signing]`` this stage imports
MODULES = ("pyhanko", "pyhanko_certvalidator")
#: the environment variable naming the office's trust roots (PEM files joined by ``:``)
TRUST_ENVIRONMENT = "CONTRACTGEN_TRUST"
#: the parties' names as a clerk reads them
PARTY_TITLES = {"buyer": "甲方", "supplier": "乙方"}
#: the formats of issued PDFs
_PDF_FORMATS = ("pdf", "pdfa")
#: what may follow a PDF's last ``%%EOF``
_TRAILING = re.compile(rb"[\x00\t\n\f\r ]*")


@dataclass(frozen=True)
class Signer:
    """One signature of a signed copy: whose seal field, which certificate, signed when."""

    party: str
    field: str
    organization: str
    common_name: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    #: the signing time the signature carries (UTC), from its timestamp or its signer
    signed_at: str | None
    time_source: str | None
    #: whether its chain validated against the office's trust roots (False without roots)
    trusted: bool
    chain: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return it JSON-ready."""
        return {**self.__dict__, "chain": list(self.chain)}


@dataclass(frozen=True)
class Examined:
    """A file found to be a signed copy: of which issued file, signed by whom."""

    sha256: str
    size: int
    content_md5: str
    contract_no: str
    version: int
    name: str
    format: str
    kind: str
    issued_sha256: str
    signers: tuple[Signer, ...]
    trust: dict[str, Any]

    @property
    def signed_at(self) -> str | None:
        """Return the latest signing time of its signatures."""
        return latest(s.signed_at for s in self.signers)

    def record(self) -> dict[str, Any]:
        """Return what the ``sign`` event says of it."""
        return {
            "sha256": self.sha256,
            "size": self.size,
            "content_md5": self.content_md5,
            "name": self.name,
            "format": self.format,
            "kind": self.kind,
            "issued_sha256": self.issued_sha256,
            "signers": [s.to_dict() for s in self.signers],
            "signed_at": self.signed_at,
            "trust": self.trust,
        }


def missing() -> list[str]:
    """Return the modules of ``contractgen[signing]`` that cannot be imported here."""
    import importlib.util

    return [name for name in MODULES if importlib.util.find_spec(name) is None]


def missing_text(names: Sequence[str]) -> str:
    """Return the Chinese line saying the extra is missing, naming its modules."""
    return f"未安装 contractgen[{EXTRA}]（缺少 {'、'.join(names)}），不能核验签署件"


def _refused(message: str, code: str) -> LedgerError:
    return LedgerError(message, code=code)


def latest(times: Iterable[str | None]) -> str | None:
    """Return the latest of stored UTC times (they sort as text), None when there is none."""
    known = [t for t in times if t]
    return max(known) if known else None


# --- trust roots ------------------------------------------------------------------------------


def trust_paths(given: Sequence[Path] | None) -> list[Path]:
    """Return the trust roots' files: those given, else ``$CONTRACTGEN_TRUST`` (joined by ``:``)."""
    if given:
        return list(given)
    named = os.environ.get(TRUST_ENVIRONMENT, "")
    return [Path(part) for part in named.split(":") if part.strip()]


def load_trust(paths: Sequence[Path]) -> list[Any]:
    """Return the certificates of PEM (or DER) files; :class:`LedgerError` for one unreadable."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    roots = []
    for path in paths:
        try:
            data = path.read_bytes()
            if pem.detect(data):
                found = [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, True)]
            else:
                found = [asn1_x509.Certificate.load(data)]
            for cert in found:
                cert.native  # noqa: B018 - parse it all now: a broken file is refused here
        except (OSError, ValueError, TypeError) as exc:
            raise _refused(f"信任根证书文件 {path} 无法读取：{exc}", "signed.trust") from None
        if not found:
            raise _refused(f"信任根证书文件 {path} 中没有证书", "signed.trust")
        roots.extend(found)
    return roots


def _trust(roots: Sequence[Any]) -> dict[str, Any]:
    if not roots:
        return {
            "validated": False,
            "roots": [],
            "note": "未配置信任根：证书链未验证，仅核验签名完整性",
        }
    return {
        "validated": True,
        "roots": [{"subject": r.subject.human_friendly, "sha256": r.sha256.hex()} for r in roots],
        "note": "证书链已按本处配置的信任根验证",
    }


# --- examining a file -------------------------------------------------------------------------


def _quiet() -> None:
    """Keep pyHanko's own warnings (a chain it cannot build, with tracebacks) off stderr."""
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _issued_candidates(data: bytes) -> list[int]:
    """Return the lengths of the prefixes of ``data`` that end a PDF revision (``%%EOF``)."""
    ends = []
    for found in re.finditer(rb"%%EOF", data):
        end = found.end()
        if data[end : end + 2] == b"\r\n":
            end += 2
        elif data[end : end + 1] in (b"\n", b"\r"):
            end += 1
        ends.append(end)
    return ends


def _issued_file(ledger: Ledger, data: bytes) -> tuple[int, Any]:
    """Return the length of the issued PDF ``data`` begins with, and its file and set row."""
    with ledger.reading() as conn:
        for end in _issued_candidates(data):
            digest = hashlib.sha256(data[:end]).hexdigest()
            rows = list(
                conn.execute(
                    select(FILES, SETS.c.contract_no, SETS.c.version, SETS.c.status)
                    .join(SETS, FILES.c.set_id == SETS.c.id)
                    .where(FILES.c.sha256 == digest, FILES.c.format.in_(_PDF_FORMATS))
                )
            )
            if rows:
                # the same bytes in several versions: the one in force, else the newest
                rows.sort(key=lambda r: (r.status == "issued", r.version))
                return end, rows[-1]
    raise _refused(
        "该文件不是本台账签发的 PDF 的签署件：其开头不是任何已登记的 PDF"
        "（文件被改动，或并非本处签发）",
        "signed.not_issued",
    )


def _certificate(cert: Any) -> dict[str, str]:
    subject = cert.subject.native
    validity = cert["tbs_certificate"]["validity"]
    return {
        "organization": str(subject.get("organization_name", "")),
        "common_name": str(subject.get("common_name", "")),
        "issuer": cert.issuer.human_friendly,
        "serial": format(cert.serial_number, "x"),
        "not_before": utc_text(validity["not_before"].native),
        "not_after": utc_text(validity["not_after"].native),
    }


def _signing_time(status: Any) -> tuple[str | None, str | None]:
    stamp = getattr(status, "timestamp_validity", None)
    if stamp is not None and getattr(stamp, "timestamp", None) is not None:
        return utc_text(stamp.timestamp), "timestamp"
    reported: dt.datetime | None = getattr(status, "signer_reported_dt", None)
    if reported is not None:
        return utc_text(reported), "signer"
    return None, None


def _changes(reader: Any, base: int, own: dict[str, str]) -> None:
    """Refuse a file whose updates after the issued revision do more than fill its own fields."""
    from pyhanko.sign.diff_analysis import (
        DEFAULT_DIFF_POLICY,
        FormUpdatingRule,
        ModificationLevel,
        StandardDiffPolicy,
        SuspiciousModification,
    )
    from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON

    # The standard policy, reviewing from the unsigned issued revision: the first signature
    # also sets /SigFlags in the form, which every signer does (and a signed revision has).
    form = DEFAULT_DIFF_POLICY.form_rule
    assert form is not None
    policy = StandardDiffPolicy(
        global_rules=DEFAULT_DIFF_POLICY.global_rules,
        form_rule=FormUpdatingRule(
            field_rules=form.field_rules,
            ignored_acroform_keys={*ACROFORM_EXEMPT_STRICT_COMPARISON, "/SigFlags"},
        ),
    )
    try:
        found = policy.review_file(reader, base)
    except SuspiciousModification as exc:  # review_file returns it; a rule may still raise
        found = exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _refused(f"签署件的增量更新无法分析：{exc}", "signed.modified") from None
    if isinstance(found, SuspiciousModification):
        raise _refused(
            f"签署件在签发文件之后有签名以外的改动（页面、内容或注释）：{str(found)[:300]}",
            "signed.modified",
        )
    if found.modification_level > ModificationLevel.FORM_FILLING:
        raise _refused(
            "签署件在签发文件之后有签名以外的改动（页面、内容或注释）", "signed.modified"
        )
    foreign = sorted(set(found.changed_form_fields) - set(own))
    if foreign:
        raise _refused(
            f"签署件改动或签署了本文件盖章位以外的字段：{'、'.join(foreign)}"
            f"（本文件的盖章位为 {'、'.join(sorted(own))}）",
            "signed.foreign_field",
        )


def _signatures(reader: Any, roots: Sequence[Any], own: dict[str, str]) -> list[Signer]:
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    signers = []
    for sig in reader.embedded_signatures:
        name = sig.field_name
        if name not in own:
            raise _refused(
                f"签名位于本文件盖章位以外的字段“{name}”"
                f"（本文件的盖章位为 {'、'.join(sorted(own))}）",
                "signed.foreign_field",
            )
        context = ValidationContext(trust_roots=list(roots), allow_fetching=False)
        try:
            status = validate_pdf_signature(sig, context, skip_diff=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise _refused(f"字段“{name}”的签名无法核验：{exc}", "signed.invalid") from None
        covered = status.coverage in (
            SignatureCoverageLevel.ENTIRE_REVISION,
            SignatureCoverageLevel.ENTIRE_FILE,
        )
        if not (status.intact and status.valid and covered):
            raise _refused(
                f"字段“{name}”的签名不完整或无效：签名摘要与其所覆盖的内容不符", "signed.invalid"
            )
        party = own[name]
        if roots and not status.trusted:
            raise _refused(
                f"{PARTY_TITLES.get(party, party)}（字段“{name}”）的证书链"
                "未能按本处配置的信任根验证",
                "signed.untrusted",
            )
        path = status.validation_path if status.trusted else None
        chain = tuple(c.subject.human_friendly for c in path.iter_certs(True)) if path else ()
        at, source = _signing_time(status)
        signers.append(
            Signer(
                party=party,
                field=name,
                **_certificate(status.signing_cert),
                signed_at=at,
                time_source=source,
                trusted=bool(status.trusted),
                chain=chain,
            )
        )
    return signers


def examine(ledger: Ledger, data: bytes, roots: Sequence[Any] = ()) -> Examined:
    """Return what a signed copy is; :class:`LedgerError` (``signed.…``) when it is refused.

    CPU-bound (signatures, difference analysis): call it outside a write transaction.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    _quiet()
    if not data.startswith(b"%PDF-"):
        raise _refused("该文件不是 PDF", "signed.not_pdf")
    end, issued = _issued_file(ledger, data)
    own = {s["field"]: s["party"] for s in (json.loads(issued.seals).get("seals") or [])}
    where = f"合同 {issued.contract_no} 第 {issued.version} 版 {issued.name}"
    if not own:
        raise _refused(f"{where} 没有盖章位，不能有签署件", "signed.foreign_field")
    if end == len(data):
        raise _refused(f"该文件就是签发的 {where}，尚未签署", "signed.unsigned")
    last = _issued_candidates(data)[-1]
    if not _TRAILING.fullmatch(data, last):
        raise _refused("签署件在最后一次更新之后还有其他内容", "signed.modified")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        base = PdfFileReader(io.BytesIO(data[:end]), strict=False).xrefs.total_revisions - 1
        if reader.xrefs.total_revisions <= base + 1:
            raise _refused(f"该文件在签发的 {where} 之后没有增量更新", "signed.modified")
        signers = _signatures(reader, roots, own)
        if not signers:
            raise _refused(f"该文件在签发的 {where} 之后没有签名", "signed.unsigned")
        _changes(reader, base, own)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, LedgerError):
            raise
        raise _refused(f"签署件无法读取：{exc}", "signed.not_pdf") from None
    return Examined(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content_md5=base64.b64encode(hashlib.md5(data).digest()).decode(),
        contract_no=issued.contract_no,
        version=issued.version,
        name=issued.name,
        format=issued.format,
        kind=issued.kind,
        issued_sha256=issued.sha256,
        signers=tuple(signers),
        trust=_trust(roots),
    )
