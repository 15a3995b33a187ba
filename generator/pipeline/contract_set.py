"""A contract set in memory: its documents, its files and the manifest that describes them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..docx.render import write_entry
from ..identity import identity
from ..kinds import DEFAULT_KIND, Contract

__all__ = [
    "MANIFEST",
    "ContractSet",
    "Document",
    "folder_zip",
    "input_digest",
    "read_set",
    "set_zip",
]

#: the file in every contract's folder that describes the set
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
    #: where a cross-page seal (骑缝章) goes: pages, edge and height (None for one page)
    cross_page_seal: dict[str, Any] | None = None

    #: the file name without extension (``01_运维服务合同``); set by whoever made the document
    stem: str = ""


@dataclass
class ContractSet:
    """The documents of one contract and the manifest that describes them."""

    contract: Contract
    documents: list[Document]
    input_sha256: str
    template_version: str
    bundle: bytes | None = None
    bundle_pages: int | None = None
    formats: tuple[str, ...] = ("docx",)
    pdfa: bool = False
    #: which templates made the set: built in or an office's own folder, and their SHA-256
    templates: dict[str, Any] = field(default_factory=dict)
    #: the files described already (the manifest is read three times a set): by name,
    #: the very bytes described and their description
    _described: dict[str, tuple[bytes, dict[str, Any]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def contract_no(self) -> str:
        """Return the contract number, which names the set's folder."""
        return self.contract.envelope.contract_no

    def files(self) -> dict[str, bytes]:
        """Return every output file of the set by name, the manifest last."""
        out: dict[str, bytes] = {}
        for doc in self.documents:
            if "docx" in self.formats:
                out[f"{doc.stem}.docx"] = doc.docx
            if doc.pdf is not None:
                out[f"{doc.stem}.pdf"] = doc.pdf
        if self.bundle is not None:
            out[self.bundle_name] = self.bundle
        out[MANIFEST] = self.manifest_bytes()
        return out

    @property
    def bundle_name(self) -> str:
        """Return the file name of the whole set as one PDF."""
        return f"{self.contract_no}_合同全套.pdf"

    def manifest(self) -> dict[str, Any]:
        """Return the manifest: versions, input hash, and each file with its hash."""
        documents = []
        for doc in self.documents:
            entry: dict[str, Any] = {"kind": doc.kind, "title": doc.title}
            if "docx" in self.formats:
                entry["docx"] = self._describe(f"{doc.stem}.docx", doc.docx)
            if doc.pdf is not None:
                entry["pdf"] = {**self._describe(f"{doc.stem}.pdf", doc.pdf), "pages": doc.pages}
                entry["seals"] = doc.seals
                entry["cross_page_seal"] = doc.cross_page_seal
            documents.append(entry)
        made_by = identity()
        manifest: dict[str, Any] = {
            "contract_no": self.contract_no,
            "contract_kind": self.contract.kind.describe(),
            "generator_version": str(made_by),
            "generator": made_by.describe(),
            "template_version": self.template_version,
            "templates": self.templates,
            "input_sha256": self.input_sha256,
            "formats": list(self.formats),
            "pdfa": self.pdfa,
            "documents": documents,
        }
        if self.bundle is not None:
            manifest["bundle"] = {
                **self._describe(self.bundle_name, self.bundle),
                "pages": self.bundle_pages,
            }
        return manifest

    def _describe(self, name: str, data: bytes) -> dict[str, Any]:
        """Return a file's entry, hashed once for the same bytes."""
        known = self._described.get(name)
        if known is None or known[0] is not data:
            known = self._described[name] = (data, _describe(name, data))
        return dict(known[1])

    def manifest_bytes(self) -> bytes:
        """Return the manifest as UTF-8 JSON."""
        return (json.dumps(self.manifest(), ensure_ascii=False, indent=2) + "\n").encode()


def read_set(contract: Contract, files: Mapping[str, bytes]) -> ContractSet | None:
    """Return the set that ``files`` (a set's files, its manifest among them) are of ``contract``.

    None unless the set read back gives exactly these files again, the manifest too (the
    files were changed, or another release of the program made them).
    """
    try:
        manifest = json.loads(files[MANIFEST])
        documents = [_read_document(entry, files) for entry in manifest["documents"]]
        bundle = manifest.get("bundle")
        made = ContractSet(
            contract,
            documents,
            manifest["input_sha256"],
            manifest["template_version"],
            bundle=files[bundle["file"]] if bundle else None,
            bundle_pages=bundle["pages"] if bundle else None,
            formats=tuple(manifest["formats"]),
            pdfa=bool(manifest["pdfa"]),
            templates=manifest["templates"],
        )
    except (KeyError, TypeError, ValueError):
        return None
    return made if made.files() == dict(files) else None


def _read_document(entry: dict[str, Any], files: Mapping[str, bytes]) -> Document:
    pdf = entry.get("pdf")
    name = entry["docx"]["file"] if "docx" in entry else entry["pdf"]["file"]
    stem = name.rsplit(".", 1)[0]
    return Document(
        entry["kind"],
        entry["title"],
        files.get(f"{stem}.docx", b""),
        pdf=files[pdf["file"]] if pdf else None,
        pages=pdf["pages"] if pdf else None,
        seals=entry.get("seals", []),
        cross_page_seal=entry.get("cross_page_seal"),
        stem=stem,
    )


def _describe(name: str, data: bytes) -> dict[str, Any]:
    return {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        # Content-MD5 (RFC 1864), which some e-signing platforms require on upload
        "content_md5": base64.b64encode(hashlib.md5(data).digest()).decode(),
        "size": len(data),
    }


def input_digest(contract: Contract) -> str:
    """Return the SHA-256 of the contract's normalised data (canonical JSON).

    The publication block is left out: it changes the public copy and the notice,
    never the contract set, so adding a 项目编号 after signing is the same contract.
    A kind other than the built-in O&M kind is part of the data (its id under
    ``kind``); the O&M kind's data hashes as it did before kinds were declared, so
    the digests the ledger holds keep naming the same data.
    """
    data = contract.model_dump(mode="json", exclude={"publication"})
    if not contract.kind.built_in or contract.kind.id != DEFAULT_KIND:
        data["kind"] = contract.kind.id
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def folder_zip(folder: str, files: Mapping[str, bytes]) -> bytes:
    """Return ``files`` zipped in ``folder/``, in their order, deterministic for equal files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            write_entry(archive, f"{folder}/{name}", data)
    return buffer.getvalue()


def zip_tree(source: Path, target: Path) -> None:
    """Write every file under ``source`` (hidden ones aside) to the zip ``target``, as
    :func:`folder_zip` writes its entries: sorted, fixed times, one file in memory at a time."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                write_entry(archive, relative.as_posix(), path.read_bytes())


def set_zip(contract_set: ContractSet) -> bytes:
    """Return every file of a set in one zip, deterministic for the same set."""
    return folder_zip(contract_set.contract_no, contract_set.files())
