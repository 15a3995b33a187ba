"""The stages of one contract set: DOCX from the templates, then PDFs from one office pass."""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..docx.join import join
from ..docx.render import TemplateSet
from ..errors import ConversionError
from ..kinds import DECLARATION, DEFAULT_KIND, Contract, ContractKind, default_kind, parse
from ..office import ConverterPool
from ..pdf import Meta, Part, SealSpec, finish_set
from .contract_set import ContractSet, Document, input_digest

__all__ = [
    "FORMATS",
    "add_pdfs",
    "default_converter",
    "kind_templates",
    "render_contract",
    "render_docx",
    "render_set",
    "seal_specs",
    "set_templates",
]

_log = logging.getLogger(__name__)

#: output formats a set can be made in
FORMATS = ("docx", "pdf")


_templates: dict[tuple[int, Path | None], TemplateSet] = {}
_templates_lock = threading.Lock()


def kind_templates(kind: ContractKind, directory: Path | None = None) -> TemplateSet:
    """Return a kind's templates (or an office's rewording in ``directory``), compiled once."""
    key = (id(kind), directory.resolve() if directory else None)
    with _templates_lock:
        if key not in _templates:
            _templates[key] = TemplateSet(
                directory or kind.folder,
                kind.documents,
                declaration=(kind.folder / DECLARATION).read_bytes(),
                built_in=directory is None and kind.built_in,
            )
        return _templates[key]


def set_templates(kind: ContractKind, office: Path | None = None) -> TemplateSet:
    """Return the templates a kind's sets are made from: ``office`` rewords the default kind."""
    return kind_templates(kind, office if kind.id == DEFAULT_KIND and kind.built_in else None)


def seal_specs(kind: str, contract_kind: ContractKind | None = None) -> tuple[SealSpec, ...]:
    """Return where the PDF stage places each party's seal on a document (its kind's)."""
    document = (contract_kind or default_kind()).document(kind)
    return tuple(
        SealSpec(place.party, place.keyword, last_page_only=place.last_page_only)
        for place in document.seals
    )


def render_docx(
    contract: Contract,
    templates: TemplateSet | None = None,
    kinds: Iterable[str] | None = None,
) -> ContractSet:
    """Return the contract set with its documents (all, or the given keys) as DOCX."""
    kind = contract.kind
    templates = templates or kind_templates(kind)
    context = kind.context(contract)
    wanted = _kinds(kinds, kind)
    envelope = contract.envelope
    documents = []
    for doc in kind.documents:
        if doc.kind not in wanted:
            continue
        properties = {
            "title": doc.title,
            "subject": envelope.contract_no,
            "creator": envelope.buyer,
            "language": "zh-CN",
            "date": contract.signed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        documents.append(
            Document(
                doc.kind,
                doc.title,
                templates.render(doc.kind, context, properties),
                stem=doc.stem,
            )
        )
    return ContractSet(
        contract,
        documents,
        input_digest(contract),
        templates.version,
        templates=templates.describe(),
    )


def _kinds(kinds: Iterable[str] | None, contract_kind: ContractKind) -> set[str]:
    """Return the documents asked for (all when None); raise UnknownDocumentError."""
    if kinds is None:
        return set(contract_kind.keys)
    return {contract_kind.document(key).kind for key in kinds}


_default_pool: ConverterPool | None = None
_default_lock = threading.Lock()


def default_converter() -> ConverterPool:
    """Return the process-wide LibreOffice pool, started on first use and closed at exit."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = ConverterPool()
            atexit.register(_default_pool.close)
        return _default_pool


def add_pdfs(
    contract_set: ContractSet,
    converter: ConverterPool,
    *,
    pdfa: bool = False,
    deadline: float | None = None,
) -> None:
    """Convert each document of a set to a sealable PDF and make the bundle.

    A whole set is joined into one DOCX and converted in one LibreOffice
    pass, then cut into its documents (see ``generator/docx/join.py``); documents
    that cannot be joined, and sets of some documents only, convert one by one.
    Nothing is tried past ``deadline`` (a :func:`time.monotonic` time).
    """
    contract = contract_set.contract
    kind = contract.kind
    envelope = contract.envelope
    documents = contract_set.documents

    def part(doc: Document, pages: int | None = None) -> Part:
        meta = Meta(doc.title, envelope.contract_no, envelope.buyer, contract.signed_at)
        crossing = kind.document(doc.kind).cross_page_seal
        return Part(doc.kind, meta, pages, seal_specs(doc.kind, kind), crossing)

    whole = len(documents) == len(kind.keys)
    bundle = Meta(kind.set_title, envelope.contract_no, envelope.buyer, contract.signed_at)
    joined = join([doc.docx for doc in documents]) if whole else None
    made = None
    for attempt in (1, 2) if joined is not None else ():
        assert joined is not None
        try:
            raw, counts = converter.convert_sections(
                joined.docx,
                [asdict(section) for section in joined.sections],
                pdfa=pdfa,
                deadline=deadline,
                hanging_off=joined.hanging_off,
            )
            parts = [part(doc, pages) for doc, pages in zip(documents, counts, strict=True)]
            made = finish_set([(raw, parts)], bundle)
            break
        except ConversionError as exc:
            # A layout the bridge could not measure (see _uno_worker.count_pages), once
            # more; then one by one, which gives the same pages in other bytes. Never
            # past the deadline: the caller has given up by then.
            if deadline is not None and time.monotonic() >= deadline:
                raise
            _log.warning(
                "%s: the joined set failed (%s), attempt %d", envelope.contract_no, exc, attempt
            )
    if made is None:
        # The documents convert side by side: the pool bounds how many offices run at once.
        def convert(doc: Document) -> bytes:
            return converter.convert_bytes(doc.docx, pdfa=pdfa, deadline=deadline)

        with ThreadPoolExecutor(max_workers=len(documents)) as fan_out:
            raws = list(fan_out.map(convert, documents))
        made = finish_set(
            [(raw, [part(doc)]) for raw, doc in zip(raws, documents, strict=True)],
            bundle if whole else None,
        )
    finished, contract_set.bundle = made
    for doc, pdf in zip(documents, finished, strict=True):
        doc.pdf, doc.pages, doc.seals = pdf.pdf, pdf.pages, pdf.seals
        doc.cross_page_seal = pdf.cross_page_seal
    contract_set.pdfa = pdfa
    if contract_set.bundle is not None:
        contract_set.bundle_pages = sum(pdf.pages for pdf in finished)


def render_set(
    contract: Contract,
    *,
    formats: Iterable[str] = FORMATS,
    pdfa: bool = False,
    converter: ConverterPool | None = None,
    templates: TemplateSet | None = None,
    kinds: Iterable[str] | None = None,
    deadline: float | None = None,
) -> ContractSet:
    """Return the contract set in the given formats (DOCX is always rendered: PDFs come from it).

    ``kinds`` limits the set to some documents (then no bundle is made). Their
    PDFs are still made with the whole set, so that a document's PDF is the
    same bytes however it was asked for. No conversion runs past ``deadline``
    (a :func:`time.monotonic` time).
    """
    chosen = _formats(formats)
    wanted = _kinds(kinds, contract.kind)
    if "pdf" not in chosen:
        contract_set = render_docx(contract, templates, wanted)
        contract_set.formats = chosen
        return contract_set
    contract_set = render_docx(contract, templates)
    add_pdfs(contract_set, converter or default_converter(), pdfa=pdfa, deadline=deadline)
    return _selected(contract_set, chosen, wanted)


def _formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Return the known formats asked for, in their canonical order."""
    return tuple(f for f in FORMATS if f in set(formats))


def _selected(whole: ContractSet, formats: tuple[str, ...], kinds: set[str]) -> ContractSet:
    """Return a whole set made with PDFs as a set of some formats and documents.

    A new object sharing the documents' bytes: the whole set is left as it is.
    """
    documents = [doc for doc in whole.documents if doc.kind in kinds]
    everything = len(documents) == len(whole.documents)
    return dataclasses.replace(
        whole,
        documents=documents,
        formats=formats,
        bundle=whole.bundle if everything else None,
        bundle_pages=whole.bundle_pages if everything else None,
    )


def render_contract(
    data: Mapping[str, Any], formats: Iterable[str] = FORMATS, pdfa: bool = False
) -> ContractSet:
    """Validate raw data and return its set in memory; raise InvalidContractError for bad data.

    Uses a process-wide LibreOffice pool; long-running callers should own a
    :class:`Generator` instead.
    """
    return render_set(parse(data), formats=formats, pdfa=pdfa)
