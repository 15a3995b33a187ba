"""Find where each party seals, by PDFium's character boxes, and add empty signature fields.

Each document kind names, per party, a keyword printed where that party
seals (``甲方（盖章）``, ``乙方:`` …; see :class:`SealSpec`). The keyword must
be found exactly once — never a guess. The seal field (a square of
:data:`SEAL_SIZE` points, an official seal being 42 mm) then sits as
GB/T 9704 puts it for official documents, 上不压正文，下压日期: its top at the
keyword's line, covering the keyword and the space below it down to the
signing date, inside the party's column of the signature block. Before a
field is written, every character under it is checked: only the party's
own block (the keyword's line, a name continuing it, the lines down to the
first line with a date) may be covered; anything else is a
:class:`~generator.errors.SealPlacementError`.

Boxes are PDFium's loose character boxes (the advance width by the font's
height), in PDF points with the origin at the bottom left of the page.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pikepdf
import pypdfium2 as pdfium

from ..errors import SealPlacementError

__all__ = [
    "PDFIUM_LOCK",
    "SEAL_SIZE",
    "Rect",
    "SealSpec",
    "TextLayer",
    "add_fields",
    "cross_page_seal",
    "place",
]

#: a rectangle (x0, y0, x1, y1) in PDF points, origin at the bottom left of the page
Rect = tuple[float, float, float, float]

#: side of a seal field in points: an official round seal is 42 mm (119 pt) across
SEAL_SIZE = 120
#: held around every call into PDFium, which must never run in two threads at once
PDFIUM_LOCK = threading.Lock()
#: the signing date line that closes a party's signature block
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
#: how far two boxes must overlap (points) to count as covering each other
_OVERLAP = 0.5


@dataclass(frozen=True)
class SealSpec:
    """Where one party seals a document: its keyword, searched on the last page only or all."""

    party: str
    keyword: str
    last_page_only: bool = False

    @property
    def field(self) -> str:
        """Return the name of the party's signature field."""
        return f"seal_{self.party}"


@dataclass(frozen=True)
class _Char:
    index: int
    text: str
    box: Rect


class TextLayer:
    """The text and character boxes of a PDF's pages, read by PDFium once per page.

    PDFium is not thread-safe, not even across documents: every call into it
    holds :data:`PDFIUM_LOCK`, so a service converting sets in threads stays
    sound. Text is read per page as the keywords are searched; character boxes
    only for the pages a keyword is on.

    ``chars``, given, tells every character a page can hold (None: not known);
    a page that lacks one of a keyword's is not read for it.
    """

    def __init__(
        self, data: bytes, chars: Callable[[int], frozenset[str] | None] | None = None
    ) -> None:
        with PDFIUM_LOCK:
            self._doc = pdfium.PdfDocument(data)
        self._chars = chars
        self._texts: dict[int, str] = {}
        self._pages: dict[int, tuple[list[_Char], Rect]] = {}
        self._open: dict[int, tuple[pdfium.PdfPage, pdfium.PdfTextPage]] = {}

    def may_hold(self, index: int, keyword: str) -> bool:
        """Tell whether page ``index`` may hold ``keyword`` (False only when it cannot)."""
        if index in self._texts or self._chars is None:
            return True
        chars = self._chars(index)
        return chars is None or all(ch in chars for ch in keyword if not ch.isspace())

    def close(self) -> None:
        """Release PDFium's document and the pages read."""
        self._texts.clear()
        self._pages.clear()
        with PDFIUM_LOCK:
            for page, text_page in self._open.values():
                text_page.close()
                page.close()
            self._open.clear()
            self._doc.close()

    def _text_page(self, index: int) -> tuple[pdfium.PdfPage, pdfium.PdfTextPage]:
        """Return a page and its text, loaded once (call holding :data:`PDFIUM_LOCK`)."""
        if index not in self._open:
            page = self._doc[index]
            self._open[index] = (page, page.get_textpage())
        return self._open[index]

    def text(self, index: int) -> str:
        """Return a page's text as PDFium reads it (character indexes match :meth:`page`)."""
        if index not in self._texts:
            with PDFIUM_LOCK:
                _, text_page = self._text_page(index)
                count = text_page.count_chars()
                self._texts[index] = text_page.get_text_range(0, count) if count else ""
        return self._texts[index]

    def page(self, index: int) -> tuple[str, list[_Char], Rect]:
        """Return a page's text, its visible characters with boxes, and its media box."""
        text = self.text(index)
        if index not in self._pages:
            with PDFIUM_LOCK:
                page, text_page = self._text_page(index)
                chars = [
                    _Char(i, ch, text_page.get_charbox(i, loose=True))
                    for i, ch in enumerate(text)
                    if not ch.isspace()
                ]
                box = tuple(page.get_mediabox())
            self._pages[index] = (chars, (box[0], box[1], box[2], box[3]))
        chars, media = self._pages[index]
        return text, chars, media


def place(
    layer: TextLayer, pages: range, specs: Sequence[SealSpec], kind: str, title: str = ""
) -> list[dict[str, Any]]:
    """Return each party's seal record for a document made of ``pages`` of the layer.

    Pages in the records count from 1 within the document. Raise
    SealPlacementError when a keyword is missing or found more than once, or
    when the seal would cover text other than the party's own block.
    """
    hits: dict[str, list[tuple[int, Rect, list[_Char]]]] = {}
    for spec in specs:
        searched = [pages[-1]] if spec.last_page_only else list(pages)
        hits[spec.keyword] = [
            hit for index in searched for hit in _find(layer, index, spec.keyword)
        ]
    records = []
    for spec in specs:
        found = hits[spec.keyword]
        if len(found) != 1:
            raise SealPlacementError(
                kind=kind,
                party=spec.party,
                keyword=spec.keyword,
                count=len(found),
                pages=[index - pages[0] + 1 for index, _, _ in found],
                where="the last page" if spec.last_page_only else "the document",
                title=title,
            )
        index, keyword_rect, _ = found[0]
        others = [
            rect for s in specs if s is not spec for i, rect, _ in hits[s.keyword] if i == index
        ]
        rect = _seal_rect(layer, index, keyword_rect, others, spec, kind, title)
        records.append(
            {
                "party": spec.party,
                "field": spec.field,
                "keyword": spec.keyword,
                "page": index - pages[0] + 1,
                "keyword_rect": _rounded(keyword_rect),
                "rect": _rounded(rect),
            }
        )
    return records


def _find(layer: TextLayer, index: int, keyword: str) -> list[tuple[int, Rect, list[_Char]]]:
    """Return each occurrence of ``keyword`` on a page: the page, its box and its characters."""
    if not layer.may_hold(index, keyword):
        return []
    text = layer.text(index)
    if keyword not in text:
        return []
    _, chars, _ = layer.page(index)
    by_index = {ch.index: ch for ch in chars}
    found, at = [], text.find(keyword)
    while at >= 0:
        mine = [by_index[i] for i in range(at, at + len(keyword)) if i in by_index]
        found.append((index, _union([ch.box for ch in mine]), mine))
        at = text.find(keyword, at + 1)
    return found


def _seal_rect(
    layer: TextLayer,
    index: int,
    keyword: Rect,
    others: list[Rect],
    spec: SealSpec,
    kind: str,
    title: str = "",
) -> Rect:
    """Return the seal's rectangle for a keyword, checked to cover only the party's block."""
    _, chars, media = layer.page(index)
    # The party's column: from its keyword to the next party's keyword on the same line.
    left = keyword[0]
    right = min(
        [max(ch.box[2] for ch in chars)]
        + [
            o[0]
            for o in others
            if o[0] >= keyword[2] and _overlap(o[1], o[3], keyword[1], keyword[3])
        ]
    )
    block, date = _block(chars, keyword, left, right)
    x0 = math.floor(keyword[0])
    x0 = max(math.ceil(media[0]), min(x0, math.floor(min(right, media[2]) - SEAL_SIZE)))
    top = math.ceil(keyword[3]) + 2
    above = [
        ch.box[1]
        for ch in chars
        if ch.box[1] >= keyword[3] - _OVERLAP
        and _overlap(ch.box[0], ch.box[2], x0, x0 + SEAL_SIZE)
        and ch.index not in block
    ]
    if above:
        top = min(top, math.floor(min(above)))
    top = min(top, math.floor(media[3]))
    if date is not None and (date[1] + date[3]) / 2 < top - SEAL_SIZE:
        # A block taller than a seal (a long name over several lines): the seal still
        # presses the date and covers the name's last lines above it.
        top = math.floor((date[1] + date[3]) / 2) - 1 + SEAL_SIZE
    rect = (float(x0), float(top - SEAL_SIZE), float(x0 + SEAL_SIZE), float(top))
    covered = [
        ch
        for ch in chars
        if ch.index not in block
        and _overlap(ch.box[0], ch.box[2], rect[0], rect[2])
        and _overlap(ch.box[1], ch.box[3], rect[1], rect[3])
    ]
    if covered:
        raise SealPlacementError(
            kind=kind,
            party=spec.party,
            keyword=spec.keyword,
            count=1,
            pages=[],
            where="",
            covered="".join(ch.text for ch in covered),
            title=title,
        )
    return rect


def _block(
    chars: list[_Char], keyword: Rect, left: float, right: float
) -> tuple[set[int], Rect | None]:
    """Return the characters of the party's signature block, by index, and its date's box.

    The block is, in the party's column, the keyword's line, the lines that
    continue it (a wrapped name: each less than three keyword heights under the
    line before, where the room left for the seal is more; a date ends it), and
    the first line below that holds a date. Whatever lies between is not the
    party's. A wrapped line need not reach the column's edge: a name kept whole
    breaks a character early.
    """
    column = [
        ch for ch in chars if left - _OVERLAP <= (ch.box[0] + ch.box[2]) / 2 < right - _OVERLAP
    ]
    below = sorted(
        (ch for ch in column if (ch.box[1] + ch.box[3]) / 2 <= keyword[3]),
        key=lambda ch: (-round((ch.box[1] + ch.box[3]) / 2), ch.box[0]),
    )
    lines: list[list[_Char]] = []
    for ch in below:
        middle = (ch.box[1] + ch.box[3]) / 2
        if lines and abs((lines[-1][0].box[1] + lines[-1][0].box[3]) / 2 - middle) < 3:
            lines[-1].append(ch)
        else:
            lines.append([ch])
    if not lines:
        return set(), None
    block = {ch.index for ch in lines[0]}
    rest = iter(lines[1:])
    line = lines[0]
    near = 3 * (keyword[3] - keyword[1])  # a wrapped line is this close under the one before
    for following in rest:
        if _middle(line) - _middle(following) >= near or _dated(following):
            break
        block.update(ch.index for ch in following)
        line = following
    else:
        return block, None
    for candidate in [following, *rest]:
        if _dated(candidate):
            block.update(ch.index for ch in candidate)
            return block, _union([ch.box for ch in candidate])
    return block, None


def _middle(line: list[_Char]) -> float:
    """Return the height of a line's middle."""
    return (line[0].box[1] + line[0].box[3]) / 2


def _dated(line: list[_Char]) -> bool:
    """Tell whether a line holds a date."""
    return bool(_DATE.search("".join(ch.text for ch in sorted(line, key=lambda c: c.box[0]))))


def _overlap(a0: float, a1: float, b0: float, b1: float) -> bool:
    """Tell whether two intervals overlap by more than the tolerance."""
    return min(a1, b1) - max(a0, b0) > _OVERLAP


def _union(boxes: list[Rect]) -> Rect:
    """Return the smallest rectangle holding every box."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _rounded(rect: Rect) -> list[float]:
    """Return a rectangle as a JSON-ready list rounded to 0.01 pt."""
    return [round(v, 2) + 0.0 for v in rect]


def cross_page_seal(pages: int, mediabox: Sequence[Any]) -> dict[str, Any] | None:
    """Return where a cross-page seal (骑缝章) goes on a document of several pages.

    E-signing platforms take the page range, the edge and the height: the
    seal is cut in as many slices as pages, each on the right edge, its
    centre at half the page's height.
    """
    if pages < 2:
        return None
    box = [float(v) for v in mediabox]
    return {
        "first_page": 1,
        "last_page": pages,
        "edge": "right",
        "y": round((box[1] + box[3]) / 2, 2) + 0.0,
        "size": SEAL_SIZE,
    }


def add_fields(pdf: pikepdf.Pdf, records: Sequence[dict[str, Any]]) -> None:
    """Add an empty, printable signature field for each seal record to the document."""
    if not records:
        return
    appearance = pdf.make_stream(
        b"",
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=[0, 0, SEAL_SIZE, SEAL_SIZE],
        Resources=pikepdf.Dictionary(),
    )
    fields = []
    for record in records:
        page = pdf.pages[record["page"] - 1]
        widget = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Sig,
                T=pikepdf.String(record["field"]),
                Rect=list(record["rect"]),
                F=4,  # printed, as PDF/A wants of every annotation
                P=page.obj,
                AP=pikepdf.Dictionary(N=appearance),
            )
        )
        if "/Annots" not in page.obj:
            page.obj.Annots = pdf.make_indirect(pikepdf.Array())
        page.obj.Annots.append(widget)
        fields.append(widget)
    pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array(fields)))
