"""The PDF stage: LibreOffice's PDFs in, the finished documents and the bundle out.

pikepdf (qpdf) copies pages into new files and writes them; pypdfium2 (PDFium)
reads where the text is, for the seals. Hand-written here only what no library
does: the Type 1 font work (:mod:`.type1`) and the ICC profile's date.

A set converted as one PDF is cut into its documents; documents converted
one by one are finished each on its own; either way the bundle is every
document's pages in one file with one top-level bookmark per document.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConversionError
from .document import CREATOR, Meta, Pages, Source, assemble, page_count
from .image import PREVIEW_DPI_MAX, page_png
from .seal import SEAL_SIZE, SealSpec, TextLayer, add_fields, cross_page_seal, place
from .text import pdf_metadata_text, pdf_text

__all__ = [
    "CREATOR",
    "PREVIEW_DPI_MAX",
    "SEAL_SIZE",
    "Finished",
    "Meta",
    "Part",
    "SealSpec",
    "finish_set",
    "page_count",
    "page_png",
    "pdf_metadata_text",
    "pdf_text",
]


@dataclass(frozen=True)
class Part:
    """One document in a PDF from LibreOffice: its kind, metadata, page count and seals.

    ``pages`` None means all the pages of its PDF.
    """

    kind: str
    meta: Meta
    pages: int | None = None
    seals: Sequence[SealSpec] = ()
    #: whether it gets a cross-page seal (骑缝章) place when it has more than one page
    cross_page: bool = True


@dataclass
class Finished:
    """A finished document: its PDF, page count, seal fields and cross-page seal."""

    pdf: bytes
    pages: int
    seals: list[dict[str, Any]] = field(default_factory=list)
    cross_page_seal: dict[str, Any] | None = None


def finish_set(
    converted: Sequence[tuple[bytes, Sequence[Part]]], bundle: Meta | None = None
) -> tuple[list[Finished], bytes | None]:
    """Return the finished documents of LibreOffice's PDFs and, given its metadata, the bundle.

    ``converted`` pairs each PDF with the documents it holds, in page order
    (one PDF of a joined set, or one PDF per document). Raise ConversionError
    when the documents' pages do not add up to a PDF's, SealPlacementError
    when a seal cannot be placed.
    """
    sources: list[tuple[Source, TextLayer]] = []
    finished: list[Finished] = []
    runs: list[Pages] = []
    try:
        for data, parts in converted:
            source = Source(data)
            layer = TextLayer(data, source.chars)
            sources.append((source, layer))
            total = len(source.pdf.pages)
            counts = [total if part.pages is None else part.pages for part in parts]
            if sum(counts) != total or any(count < 1 for count in counts):
                raise ConversionError(f"a PDF of {total} pages holds documents of {counts} pages")
            first = 0
            for part, count in zip(parts, counts, strict=True):
                run = Pages(source, first, count)
                records = place(layer, run.indexes, part.seals, part.kind, part.meta.title)
                pdf = assemble(
                    [run], part.meta, edit=functools.partial(add_fields, records=records)
                )
                crossing = (
                    cross_page_seal(count, list(source.pdf.pages[first].mediabox))
                    if part.cross_page
                    else None
                )
                finished.append(Finished(pdf, count, records, crossing))
                runs.append(run)
                first += count
        whole = None
        if bundle is not None:
            titles = [part.meta.title for _, parts in converted for part in parts]
            whole = assemble(runs, bundle, top_titles=titles)
    finally:
        for source, layer in sources:
            layer.close()
            source.close()
    return finished, whole
