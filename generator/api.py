"""Make one contract set: validate, render the four documents, describe them in a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__
from .context import build_context
from .model import Contract
from .render import KINDS, TemplateSet, default_templates
from .validate import parse

#: file name of each document inside a contract's folder, numbered in set order
FILE_STEMS: dict[str, str] = {
    kind: f"{n:02d}_{title}" for n, (kind, title) in enumerate(KINDS.items(), 1)
}
MANIFEST = "manifest.json"


@dataclass
class Document:
    """One document of a set, in memory."""

    kind: str
    title: str
    docx: bytes
    pdf: bytes | None = None
    pages: int | None = None
    seals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stem(self) -> str:
        """Return the file name without extension."""
        return FILE_STEMS[self.kind]


@dataclass
class ContractSet:
    """The documents of one contract and the manifest that describes them."""

    contract: Contract
    documents: list[Document]
    input_sha256: str
    template_version: str
    bundle: bytes | None = None

    @property
    def contract_no(self) -> str:
        """Return the contract number, which names the set's folder."""
        return self.contract.contract_no

    def files(self) -> dict[str, bytes]:
        """Return every output file of the set by name, the manifest last."""
        out: dict[str, bytes] = {}
        for doc in self.documents:
            out[f"{doc.stem}.docx"] = doc.docx
            if doc.pdf is not None:
                out[f"{doc.stem}.pdf"] = doc.pdf
        if self.bundle is not None:
            out[f"{self.contract_no}_合同全套.pdf"] = self.bundle
        out[MANIFEST] = self.manifest_bytes()
        return out

    def manifest(self) -> dict[str, Any]:
        """Return the manifest: versions, input hash, and each file with its hash."""
        documents = []
        for doc in self.documents:
            entry: dict[str, Any] = {
                "kind": doc.kind,
                "title": doc.title,
                "docx": _describe(f"{doc.stem}.docx", doc.docx),
            }
            if doc.pdf is not None:
                entry["pdf"] = {**_describe(f"{doc.stem}.pdf", doc.pdf), "pages": doc.pages}
                entry["seals"] = doc.seals
            documents.append(entry)
        manifest: dict[str, Any] = {
            "contract_no": self.contract_no,
            "generator_version": __version__,
            "template_version": self.template_version,
            "input_sha256": self.input_sha256,
            "documents": documents,
        }
        if self.bundle is not None:
            manifest["bundle"] = _describe(f"{self.contract_no}_合同全套.pdf", self.bundle)
        return manifest

    def manifest_bytes(self) -> bytes:
        """Return the manifest as UTF-8 JSON."""
        return (json.dumps(self.manifest(), ensure_ascii=False, indent=2) + "\n").encode()


def _describe(name: str, data: bytes) -> dict[str, Any]:
    return {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def input_digest(contract: Contract) -> str:
    """Return the SHA-256 of the contract's normalised data (canonical JSON)."""
    canonical = json.dumps(
        contract.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def render_docx(contract: Contract, templates: TemplateSet | None = None) -> ContractSet:
    """Return the contract set with the four documents as DOCX."""
    templates = templates or default_templates()
    context = build_context(contract)
    documents = []
    for kind, title in KINDS.items():
        properties = {
            "title": title,
            "subject": contract.contract_no,
            "creator": contract.buyer.name,
            "language": "zh-CN",
            "date": contract.sign_date.isoformat(),
        }
        documents.append(Document(kind, title, templates.render(kind, context, properties)))
    return ContractSet(contract, documents, input_digest(contract), templates.version)


def make_docx(data: Mapping[str, Any], source: str | None = None) -> ContractSet:
    """Validate raw data and return its DOCX set; raise ContractInvalid for bad data."""
    return render_docx(parse(data, source))


def write_set(contract_set: ContractSet, out_dir: Path) -> Path:
    """Write a set to ``out_dir/<contract_no>/`` atomically and return that folder.

    The files are written into a hidden sibling folder and renamed into place,
    so the folder appears complete or not at all; an older folder of the same
    contract is replaced only once the new one is whole.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / contract_set.contract_no
    staging = Path(tempfile.mkdtemp(prefix=f".{contract_set.contract_no}.", dir=out_dir))
    try:
        for name, data in contract_set.files().items():
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{contract_set.contract_no}.old.", dir=out_dir))
            os.replace(target, old / "set")
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
