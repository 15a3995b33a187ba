"""Find where each party's seal goes in a finished PDF and add empty signature fields there.

Pure PDF post-processing: nothing here runs LibreOffice.

Each document kind names, per party, a keyword printed where that party seals
(:data:`SEAL_KEYWORDS`). :func:`add_seal_fields` requires every keyword exactly
once, never guesses, and adds an empty AcroForm signature field of a seal's
size there, so that an e-signing platform (or pyHanko) can sign into it; the
records it returns give the same positions as coordinates, for platforms that
place seals by coordinates instead of by field.

Keywords per kind, chosen from the rendered PDFs:

* ``service_contract``: ``甲方（盖章）`` and ``乙方（盖章）`` in the signature
  table; full-width parentheses, found nowhere else in the contract. The
  whole document is searched.
* ``confidentiality_agreement``, ``integrity_agreement``: the signature page
  reads ``甲方:上海市大数据中心`` / ``乙方: 上海众恒…`` with an ASCII colon, while
  the parties block on page 1 uses the full-width ``甲方：``. ``甲方:`` and
  ``乙方:`` are searched on the last page only, which is the signature page by
  construction (【本页为…签字页，无正文】 after a page break): free text such as
  保密协议 1.1(12) could otherwise contain them too.
* ``acceptance_plan``: none. It is an attachment of the contract, a form
  without a signature place, and is not sealed on its own.

Positions come from pdfminer.six's per-character boxes (the text of a PDF is
only split into words by poppler, which gives no box for part of a word such
as ``甲方:`` in ``甲方:上海市大数据中心``). Horizontally they are the glyphs'
advance widths, and agree with poppler's word edges to 0.001 pt on our PDFs;
vertically a box spans the font size from the baseline plus the font's
descent, which LibreOffice writes as 0 for its CJK subsets, so the box is
[baseline, baseline + size]: 0.12 em above the ideographic em box (1.4 pt at
12 pt), well within what placing a 42 mm seal needs.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import subprocess
import unicodedata
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTContainer, LTItem
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.utils import Matrix
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pypdf import PdfReader

from .errors import SealPlacementError

__all__ = [
    "LAST_PAGE_ONLY",
    "SEAL_KEYWORDS",
    "SEAL_SIZE",
    "Rect",
    "add_seal_fields",
    "find_keyword",
]

#: a rectangle (x0, y0, x1, y1) in PDF points, origin at the bottom left of the page
Rect = tuple[float, float, float, float]

#: for each document kind, the (party, keyword) pairs marking where each party seals
SEAL_KEYWORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "service_contract": (("buyer", "甲方（盖章）"), ("supplier", "乙方（盖章）")),
    "confidentiality_agreement": (("buyer", "甲方:"), ("supplier", "乙方:")),
    "integrity_agreement": (("buyer", "甲方:"), ("supplier", "乙方:")),
    "acceptance_plan": (),
}

#: kinds whose keywords are looked for on the last page (their signature page) only
LAST_PAGE_ONLY: frozenset[str] = frozenset({"confidentiality_agreement", "integrity_agreement"})

#: side of a seal field in points: an official round seal is 42 mm (119 pt) across
SEAL_SIZE = 120


def find_keyword(
    pdf: bytes, keyword: str, *, pages: Collection[int] | None = None
) -> list[tuple[int, Rect]]:
    """Return every occurrence of ``keyword`` as (1-based page, rectangle), in reading order.

    White space is ignored on both sides, so a keyword matches across the
    separate text chunks and spaces a PDF may put between its characters; a
    keyword broken over two lines is found too, its rectangle then enclosing
    both parts. ``pages`` limits the search to those page numbers.
    """
    return _find_all(pdf, [keyword], pages)[keyword]


def _find_all(
    pdf: bytes, keywords: Collection[str], pages: Collection[int] | None
) -> dict[str, list[tuple[int, Rect]]]:
    """Return the occurrences of each keyword, reading the PDF once."""
    needles = {kw: "".join(_normal(ch) for ch in kw if not ch.isspace()) for kw in keywords}
    if not all(needles.values()):
        raise ValueError("empty keyword")
    if pages is None:
        pages = _candidate_pages(pdf, needles.values())
    found: dict[str, list[tuple[int, Rect]]] = {kw: [] for kw in keywords}
    for number, chars in _page_chars(pdf, pages):
        text = "".join(ch for ch, _ in chars)
        for keyword, needle in needles.items():
            start = text.find(needle)
            while start >= 0:
                boxes = [box for _, box in chars[start : start + len(needle)]]
                found[keyword].append((number, _union(boxes)))
                start = text.find(needle, start + 1)
    return found


def add_seal_fields(pdf: bytes, kind: str) -> tuple[bytes, list[dict[str, Any]]]:
    """Return the PDF with an empty signature field per party of ``kind``, and their records.

    Raise SealPlacementError when a keyword is missing or found more than once.
    A kind without seals gives the PDF back unchanged and no records.
    """
    try:
        parties = SEAL_KEYWORDS[kind]
    except KeyError:
        raise SealPlacementError(f"{kind}: unknown document kind") from None
    if not parties:
        return pdf, []
    reader = PdfReader(io.BytesIO(pdf))
    taken = set(reader.get_fields() or {}) & {f"seal_{party}" for party, _ in parties}
    if taken:
        raise SealPlacementError(f"{kind}: the PDF already has the fields {sorted(taken)}")
    last = len(reader.pages)
    pages = {last} if kind in LAST_PAGE_ONLY else None
    where = f"page {last} (the signature page)" if pages else "the document"
    occurrences = _find_all(pdf, [keyword for _, keyword in parties], pages)
    records: list[dict[str, Any]] = []
    for party, keyword in parties:
        hits = occurrences[keyword]
        if len(hits) != 1:
            places = ", ".join(f"page {page}" for page, _ in hits)
            raise SealPlacementError(
                f"{kind}: seal keyword {keyword!r} for the {party} found {len(hits)} times "
                f"in {where}, expected exactly once" + (f" ({places})" if places else "")
            )
        page, keyword_rect = hits[0]
        pdf_page = reader.pages[page - 1]
        if int(pdf_page.get("/Rotate", 0)) % 360:
            raise SealPlacementError(f"{kind}: page {page} is rotated; cannot place a seal on it")
        crop = tuple(float(v) for v in pdf_page.cropbox)
        records.append(
            {
                "party": party,
                "field": f"seal_{party}",
                "keyword": keyword,
                "page": page,
                "keyword_rect": _rounded(keyword_rect),
                "rect": _rounded(_seal_rect(keyword_rect, (crop[0], crop[1], crop[2], crop[3]))),
            }
        )
    return _with_fields(pdf, records), records


def _seal_rect(keyword: Rect, page: Rect) -> Rect:
    """Return the seal field's rectangle for a keyword: whole points, inside the page."""
    x0, y0, x1, y1 = keyword
    # The seal starts at the middle of the keyword and covers the blank (or the
    # party's name) after it, centred on the keyword's line: where a person
    # stamps it, half on the label, half on the space left for it.
    left = round((x0 + x1) / 2)
    bottom = round((y0 + y1) / 2 - SEAL_SIZE / 2)
    # Whole points, because pyHanko sizes the field's appearance by truncating
    # the rectangle's width and height: 575.79 - 455.79 would give 119.
    left = _clamp(left, math.ceil(page[0]), math.floor(page[2] - SEAL_SIZE))
    bottom = _clamp(bottom, math.ceil(page[1]), math.floor(page[3] - SEAL_SIZE))
    return (left, bottom, left + SEAL_SIZE, bottom + SEAL_SIZE)


def _clamp(value: int, low: int, high: int) -> int:
    """Return ``value`` moved into [low, high]; ``low`` wins when the range is empty."""
    return max(low, min(value, high))


def _rounded(rect: Rect) -> list[float]:
    """Return a rectangle as a JSON-ready list rounded to 0.01 pt."""
    return [round(v, 2) + 0.0 for v in rect]


class _FieldWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the info dictionary and the XMP alone.

    On every write pyHanko stamps /ModDate (and xmp:ModifyDate) with the wall
    clock and adds itself to /Producer, and it gives the new revision a random
    second /ID. Adding empty fields is not a new version of the document's
    content, and its output must be reproducible: the metadata stays as
    :func:`generator.pdfdoc.finish` made it (which also keeps the info
    dictionary and the XMP of a PDF/A file in agreement), and the /ID is set
    from a hash in :func:`_with_fields`.
    """

    def _update_meta(self) -> None:
        """Do not touch the document's metadata."""


def _with_fields(pdf: bytes, records: list[dict[str, Any]]) -> bytes:
    """Return ``pdf`` with an incremental update adding one empty signature field per record."""
    writer = _FieldWriter(io.BytesIO(pdf))
    for record in records:
        x0, y0, x1, y1 = record["rect"]
        append_signature_field(
            writer,
            SigFieldSpec(
                sig_field_name=record["field"],
                on_page=record["page"] - 1,
                box=(x0, y0, x1, y1),
            ),
        )
    # The first ID stays (ISO 32000 14.4); the second, random in pyHanko, becomes a
    # hash of what this update is made from.
    recipe = json.dumps(records, ensure_ascii=False, sort_keys=True).encode()
    second = hashlib.sha256(pdf + recipe).digest()[:16]
    writer._document_id = generic.ArrayObject(
        [writer._document_id[0], generic.ByteStringObject(second)]
    )
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]  # pyHanko leaves write() unannotated
    return out.getvalue()


# --- characters and their boxes ------------------------------------------------------


def _candidate_pages(pdf: bytes, needles: Iterable[str]) -> set[int] | None:
    """Return the pages whose text holds any needle, or None to search every page.

    pdfminer reads a page in pure Python (about 0.1 s for a page of contract
    text); poppler's pdftotext reads the whole document in a few milliseconds.
    It only narrows the search: the boxes, and the count that decides whether a
    keyword is missing or repeated, still come from pdfminer on those pages. A
    needle poppler cannot see at all sends the search back to every page.
    """
    try:
        result = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-", "-"],
            input=pdf,
            capture_output=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    texts = [
        "".join(_normal(ch) for ch in page if not ch.isspace())
        for page in result.stdout.decode("utf-8", "replace").split("\f")
    ]
    pages: set[int] = set()
    for needle in needles:
        hits = {number for number, text in enumerate(texts, 1) if needle in text}
        if not hits:
            return None
        pages |= hits
    return pages


class _Collector(PDFPageAggregator):
    """A layout-free aggregator that remembers the page's base transformation."""

    page_ctm: Matrix = (1, 0, 0, 1, 0, 0)

    def begin_page(self, page: PDFPage, ctm: Matrix) -> None:
        """Start a page, keeping the matrix that maps user space to pdfminer's page space."""
        self.page_ctm = ctm
        super().begin_page(page, ctm)


def _page_chars(
    pdf: bytes, pages: Collection[int] | None
) -> Iterator[tuple[int, list[tuple[str, Rect]]]]:
    """Yield each wanted page's characters with their boxes in user space, white space left out."""
    document = PDFDocument(PDFParser(io.BytesIO(pdf)))
    manager = PDFResourceManager(caching=True)
    # laparams=None: no layout analysis, just every glyph in content-stream order.
    device = _Collector(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    for number, page in enumerate(PDFPage.create_pages(document), 1):
        if pages is not None and number not in pages:
            continue
        interpreter.process_page(page)
        layout = device.get_result()
        to_user = _inverse(device.page_ctm)
        chars: list[tuple[str, Rect]] = []
        for glyph in _glyphs(layout):
            box = _transform_rect(to_user, glyph.bbox)
            for ch in glyph.get_text():
                if not ch.isspace():
                    chars.append((_normal(ch), box))
        yield number, chars


def _glyphs(item: LTItem) -> Iterator[LTChar]:
    """Yield every character of a layout tree, form XObjects included."""
    if isinstance(item, LTChar):
        yield item
    elif isinstance(item, LTContainer):
        for child in item:
            yield from _glyphs(child)


def _normal(ch: str) -> str:
    """Return a character with Kangxi and CJK radicals mapped to the ideographs they show.

    Some fonts' ToUnicode maps give U+2F45 ⽅ for 方; only those blocks are
    folded. Full NFKC would also fold the full-width colon into ":", which
    tells the agreements' signature lines (甲方:) from their parties block (甲方：).
    """
    if "\u2e80" <= ch <= "\u2fdf" or "\uf900" <= ch <= "\ufaff":
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1:
            return folded
    return ch


def _inverse(m: Matrix) -> Matrix:
    """Return the inverse of an affine matrix (a, b, c, d, e, f)."""
    a, b, c, d, e, f = m
    det = a * d - b * c
    return (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)


def _transform_rect(m: Matrix, rect: tuple[float, float, float, float]) -> Rect:
    """Return the bounding box of a rectangle mapped through ``m``."""
    a, b, c, d, e, f = m
    x0, y0, x1, y1 = rect
    xs, ys = [], []
    for x, y in ((x0, y0), (x0, y1), (x1, y0), (x1, y1)):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return (min(xs), min(ys), max(xs), max(ys))


def _union(boxes: list[Rect]) -> Rect:
    """Return the smallest rectangle holding all boxes."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
