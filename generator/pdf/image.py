"""A page of a PDF as a PNG picture, drawn by PDFium: what the web workbench shows as a preview."""

from __future__ import annotations

import io

import pypdfium2 as pdfium

from ..errors import ConversionError
from .seal import PDFIUM_LOCK

__all__ = ["PREVIEW_DPI_MAX", "page_png"]

#: the finest preview drawn: an A4 page at 200 dpi is about 1654 × 2339 pixels
PREVIEW_DPI_MAX = 200


def page_png(pdf: bytes, index: int, dpi: int = 96) -> bytes:
    """Return page ``index`` (from 0) of a PDF as a PNG at ``dpi`` dots per inch."""
    if not 1 <= dpi <= PREVIEW_DPI_MAX:
        raise ValueError(f"dpi must be 1–{PREVIEW_DPI_MAX}, not {dpi}")
    # PDFium is not thread-safe, even across documents: the service draws pages for the
    # workbench in threads while others place seals, so every call holds the one lock
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as exc:
            raise ConversionError("PDF 无法读取，不能生成页面图像") from exc
        try:
            if not 0 <= index < len(document):
                raise IndexError(f"page {index} of a {len(document)}-page PDF")
            page = document[index]
            try:
                bitmap = page.render(scale=dpi / 72)
                try:
                    # a copy: the bitmap's memory is PDFium's, freed (in the lock) below
                    picture = bitmap.to_pil().copy()
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False)
    return out.getvalue()
