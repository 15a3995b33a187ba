"""What the ledger records of a set, in canonical JSON, and how each event's hash is made."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..kinds import DEFAULT_KIND
from ..pipeline import ContractSet

__all__ = ["GENESIS", "canonical", "event_hash", "file_records", "set_record"]

#: the "previous hash" of the first event
GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """Return JSON with sorted keys and no spaces: the same value, the same text, always."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """Return the SHA-256 covering the previous event's hash and this event's content."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(content)}".encode()).hexdigest()


def set_record(contract_set: ContractSet) -> dict[str, Any]:
    """Return what is recorded of a set itself: which contract, from what data and templates."""
    manifest = contract_set.manifest()
    contract = contract_set.contract
    kind = contract.kind
    data = contract.model_dump(mode="json")
    if not (kind.built_in and kind.id == DEFAULT_KIND):
        # a version loaded back (ledger show, the workbench) must name its kind
        data = {"kind": kind.id, **data}
    return {
        "contract_no": contract.envelope.contract_no,
        "input_sha256": manifest["input_sha256"],
        "templates_sha256": manifest["templates"]["sha256"],
        # the kind (id, title, version) beside the templates it was made from
        "templates": {**manifest["templates"], "contract_kind": manifest["contract_kind"]},
        "generator_version": manifest["generator_version"],
        "project_name": contract.envelope.project_name,
        "supplier": contract.envelope.supplier,
        "amount": format(contract.envelope.amount, "f"),
        "signed_on": contract.envelope.sign_date.isoformat(),
        "data": data,
    }


def file_records(contract_set: ContractSet) -> list[dict[str, Any]]:
    """Return every file of a set as recorded: name, kind, format, hashes, size, pages, seals.

    The documents and the bundle; not the manifest, which describes them (and differs
    between a whole set and some of its documents).
    """
    manifest = contract_set.manifest()
    records = []
    for doc in manifest["documents"]:
        for fmt in ("docx", "pdf"):
            entry = doc.get(fmt)
            if entry is None:
                continue
            seals = {"seals": doc.get("seals"), "cross_page_seal": doc.get("cross_page_seal")}
            # PDF/A is another rendition of the same version, under the same file name.
            shown = "pdfa" if fmt == "pdf" and contract_set.pdfa else fmt
            records.append(
                _file(entry, doc["kind"], shown, seals if fmt == "pdf" else {}, entry.get("pages"))
            )
    if "bundle" in manifest:
        bundle = manifest["bundle"]
        shown = "pdfa" if contract_set.pdfa else "pdf"
        records.append(_file(bundle, "bundle", shown, {}, bundle["pages"]))
    return sorted(records, key=lambda r: (str(r["name"]), str(r["format"])))


def _file(
    entry: dict[str, Any], kind: str, fmt: str, seals: dict[str, Any], pages: int | None
) -> dict[str, Any]:
    return {
        "name": entry["file"],
        "kind": kind,
        "format": fmt,
        "sha256": entry["sha256"],
        "content_md5": entry["content_md5"],
        "size": entry["size"],
        "pages": pages,
        "seals": seals,
    }
