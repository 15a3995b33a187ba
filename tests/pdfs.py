"""Read finished PDFs as a second tool would: every object of the file, not a reader's view."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pikepdf

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
