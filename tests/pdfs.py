"""Read finished PDFs as a second tool would: every object of the file, not a reader's view."""

from __future__ import annotations

import ctypes
import io
import re
import subprocess
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

UNIQUE_ID = re.compile(rb"/UniqueID (\d+) def")
#: an indirect reference as qpdf writes it back
REFERENCE = re.compile(rb"(?<![\d.])(\d+) (\d+) R\b")


def open_bytes(pdf: bytes) -> pikepdf.Pdf:
    """Open a PDF held in memory with pikepdf."""
    return pikepdf.open(io.BytesIO(pdf))


def unique_ids(pdf: bytes) -> list[int]:
    """Return the /UniqueID of every embedded Type 1 font program, in object order."""
    ids = []
    with open_bytes(pdf) as doc:
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Stream) and "/Length2" in obj:
                found = UNIQUE_ID.search(obj.read_bytes()[: int(obj.Length1)])
                if found:
                    ids.append(int(found.group(1)))
    return ids


def page_objects(pdf: bytes) -> tuple[int, int]:
    """Return (page objects anywhere in the file, pages in its page tree)."""
    with open_bytes(pdf) as doc:
        pages = sum(
            1
            for obj in doc.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Page"
        )
        return pages, len(doc.pages)


def unreachable(pdf: bytes) -> list[tuple[int, int]]:
    """Return the objects of the file that nothing reachable from the trailer refers to."""
    with open_bytes(pdf) as doc:
        edges: dict[tuple[int, int], set[tuple[int, int]]] = {}
        for obj in doc.objects:
            if obj.objgen == (0, 0):
                continue
            stream = isinstance(obj, pikepdf.Stream)
            text = (obj.stream_dict if stream else obj).unparse(resolved=True)
            edges[obj.objgen] = {(int(n), int(g)) for n, g in REFERENCE.findall(text)}
        seen: set[tuple[int, int]] = set()
        todo = {(int(n), int(g)) for n, g in REFERENCE.findall(doc.trailer.unparse())}
        while todo:
            objgen = todo.pop()
            if objgen not in seen:
                seen.add(objgen)
                todo |= edges.get(objgen, set())
        return sorted(set(edges) - seen)


def page_texts(pdf: bytes, tmp: Path, mode: str = "-layout") -> list[str]:
    """Return the text of each page as poppler's ``pdftotext`` reads it (``-layout``, ``-raw``)."""
    path = tmp / "page-texts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", mode, str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split("\f")[:-1]


def widget_rects(pdf: bytes) -> dict[str, tuple[int, list[float]]]:
    """Return each signature widget's (1-based page, /Rect) by field name."""
    found = {}
    with open_bytes(pdf) as doc:
        for number, page in enumerate(doc.pages, 1):
            for annot in page.obj.get("/Annots", []):
                if annot.get("/FT") == "/Sig":
                    rect = [round(float(v), 2) for v in annot.Rect]
                    found[str(annot.T)] = (number, rect)
    return found


def text_lines(pdf: bytes, page: int) -> list[tuple[float, float, str]]:
    """Return a page's lines as PDFium reads them: (baseline, left, text), spaces dropped.

    Characters one after the other in the text on the same baseline (to 0.5 pt), less than
    two ems apart, are one line; the cells of a row side by side are lines of their own.
    ``page`` counts from 1, or from the end when negative.
    """
    doc = pdfium.PdfDocument(pdf)
    try:
        text_page = doc[page - 1 if page > 0 else len(doc) + page].get_textpage()
        x, y = ctypes.c_double(), ctypes.c_double()
        found: list[list[float | str]] = []
        right = 0.0
        for index in range(text_page.count_chars()):
            char = text_page.get_text_range(index, 1)
            if char.isspace():
                continue
            pdfium_c.FPDFText_GetCharOrigin(text_page.raw, index, x, y)
            size = pdfium_c.FPDFText_GetFontSize(text_page.raw, index)
            line = found[-1] if found else None
            if (
                line is not None
                and abs(float(line[0]) - y.value) < 0.5
                and x.value - right < 2 * size
            ):
                line[2] = f"{line[2]}{char}"
            else:
                found.append([y.value, x.value, char])
            right = text_page.get_charbox(index)[2]
        return [(round(float(b), 2), round(float(left), 2), str(t)) for b, left, t in found]
    finally:
        doc.close()
