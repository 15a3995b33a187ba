"""What a finished PDF says to whoever reads it: its pages' text, and its metadata as text.

Publication reads its public files back before they are given out
(:mod:`generator.publication.leaks`); the reading is PDFium's (the text a viewer copies)
and pikepdf's (the information dictionary and the XMP).
"""

from __future__ import annotations

import io

import pikepdf
import pypdfium2 as pdfium

__all__ = ["pdf_metadata_text", "pdf_text"]


def pdf_text(pdf: bytes) -> str:
    """Return the text of every page as PDFium extracts it, a line break between pages."""
    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        document.close()
    return "\n".join(pages)


def pdf_metadata_text(pdf: bytes) -> str:
    """Return every value of the information dictionary and the XMP packet, as text."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        info = [str(value) for value in doc.docinfo.values()]
        return "\n".join([*info, str(doc.open_metadata())])
