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

Positions are pdfminer.six's per-character boxes (the text of a PDF is only
split into words by poppler, which gives no box for part of a word such as
``甲方:`` in ``甲方:上海市大数据中心``). Horizontally they are the glyphs'
advance widths, and agree with poppler's word edges to 0.001 pt on our PDFs;
vertically a box spans the font size from the baseline plus the font's
descent, which LibreOffice writes as 0 for its CJK subsets, so the box is
[baseline, baseline + size]: 0.12 em above the ideographic em box (1.4 pt at
12 pt), well within what placing a 42 mm seal needs.

The fields are written as pyHanko's ``append_signature_field`` writes them;
for :func:`generator.pdfdoc.finish`'s output the update is written directly
(:func:`_with_fields_classic`, the same objects without pyHanko reading the
whole file), for anything else by pyHanko.

pdfminer itself costs some 30 ms a page, so LibreOffice's files are read
directly (:class:`_PageText`): simple fonts with ToUnicode maps, hex strings,
the text operators, computed with pdfminer's own matrix functions in
pdfminer's order, which gives its characters and boxes exactly (the tests
compare every page). A quick look at the codes drawn after each font
selection skips the pages that cannot hold a keyword. Anything else in a
page sends the whole search to poppler (to choose pages) and pdfminer.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import re
import subprocess
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from pdfminer.converter import PDFPageAggregator
from pdfminer.fontmetrics import FONT_METRICS
from pdfminer.layout import LTChar, LTContainer, LTItem
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.utils import Matrix, apply_matrix_rect, mult_matrix, translate_matrix
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pypdf import PdfReader
from pypdf.generic import (
    DictionaryObject,
    IndirectObject,
    TextStringObject,
    read_object,
)

from ._pdfbytes import XREF_ENTRY as _XREF_ENTRY
from ._pdfbytes import Irregular as _Irregular
from ._pdfbytes import page_refs as _page_refs
from ._pdfbytes import parse_object as _parse_object
from ._pdfbytes import read_trailer as _read_trailer
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
    pdf: bytes,
    keywords: Collection[str],
    pages: Collection[int] | None,
    pdf_pages: list[Any] | None = None,
) -> dict[str, list[tuple[int, Rect]]]:
    """Return the occurrences of each keyword, reading the PDF once."""
    needles = {kw: "".join(_normal(ch) for ch in kw if not ch.isspace()) for kw in keywords}
    if not all(needles.values()):
        raise ValueError("empty keyword")
    try:
        text = _PageText(pdf_pages if pdf_pages is not None else _open(pdf)[1])
        return _search(text.pages_with(needles.values(), pages), needles)
    except (_Unsupported, KeyError, TypeError, ValueError, AttributeError, IndexError):
        pass  # something LibreOffice does not write: pdfminer reads it
    if pages is None:
        pages = _candidate_pages(pdf, needles.values())
    return _search(_pdfminer_pages(pdf, pages), needles)


def _search(
    pages: Iterable[tuple[int, str, Callable[[int], Rect]]], needles: dict[str, str]
) -> dict[str, list[tuple[int, Rect]]]:
    """Return each keyword's occurrences in pages of (number, text, box of a character)."""
    found: dict[str, list[tuple[int, Rect]]] = {kw: [] for kw in needles}
    for number, text, box in pages:
        for keyword, needle in needles.items():
            start = text.find(needle)
            while start >= 0:
                boxes = [box(i) for i in range(start, start + len(needle))]
                found[keyword].append((number, _union(boxes)))
                start = text.find(needle, start + 1)
    return found


def _pdfminer_pages(
    pdf: bytes, pages: Collection[int] | None
) -> Iterator[tuple[int, str, Callable[[int], Rect]]]:
    """Yield (number, text, box of a character) of the wanted pages, read by pdfminer."""
    for number, chars in _page_chars(pdf, pages):
        boxes = [box for _, box in chars]
        yield number, "".join(ch for ch, _ in chars), boxes.__getitem__


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
    doc, pdf_pages, fields = _open(pdf)
    taken = fields & {f"seal_{party}" for party, _ in parties}
    if taken:
        raise SealPlacementError(f"{kind}: the PDF already has the fields {sorted(taken)}")
    last = len(pdf_pages)
    pages = {last} if kind in LAST_PAGE_ONLY else None
    where = f"page {last} (the signature page)" if pages else "the document"
    occurrences = _find_all(pdf, [keyword for _, keyword in parties], pages, pdf_pages)
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
        pdf_page = pdf_pages[page - 1]
        if int(_get(pdf_page, "/Rotate", 0)) % 360:
            raise SealPlacementError(f"{kind}: page {page} is rotated; cannot place a seal on it")
        box = _get(pdf_page, "/CropBox", None) or _get(pdf_page, "/MediaBox", None)
        crop = tuple(float(_get(box, i, 0)) for i in range(4))
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
    return _with_fields(pdf, records, doc), records


def _open(pdf: bytes) -> tuple[_Table | None, list[Any], set[str]]:
    """Return the file's table (for finish's output), its pages, and its form's field names.

    :func:`generator.pdfdoc.finish`'s output is read through its own table
    (no form: no fields); anything else through pypdf's reader.
    """
    try:
        doc = _Table.read(pdf)
        if "/AcroForm" not in doc.dictionary(doc.root):
            return doc, doc.pages(), set()
    except _Irregular:
        pass
    reader = PdfReader(io.BytesIO(pdf))
    return None, list(reader.pages), set(reader.get_fields() or {})


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


def _with_fields(pdf: bytes, records: list[dict[str, Any]], doc: _Table | None = None) -> bytes:
    """Return ``pdf`` with an incremental update adding one empty signature field per record.

    ``doc`` is the file's table when :func:`_open` read it so.
    """
    # The first ID stays (ISO 32000 14.4); the second, random in pyHanko, becomes a
    # hash of what this update is made from.
    recipe = json.dumps(records, ensure_ascii=False, sort_keys=True).encode()
    second = hashlib.sha256(pdf + recipe).digest()[:16]
    try:
        return _with_fields_classic(pdf, records, second, doc)
    except _Irregular:
        pass  # not finish's output, or a form already: pyHanko adds the fields
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
    writer._document_id = generic.ArrayObject(
        [writer._document_id[0], generic.ByteStringObject(second)]
    )
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]  # pyHanko leaves write() unannotated
    return out.getvalue()


# --- finish's output, read through its own table -------------------------------------


_OBJ_HEAD = re.compile(rb"(\d+) 0 obj[\x00\t\n\x0c\r ]*")


@dataclass
class _Table:
    """A file with one classic cross-reference table, its objects read on demand.

    What :func:`generator.pdfdoc.finish` writes. Only the trailer is read up
    front; each object is found through its table entry, checked to be the
    object the entry names, and parsed (with pypdf's object types) when first
    asked for. As the reader of pypdf's objects it resolves their references
    (``IndirectObject.get_object``).
    """

    data: bytes
    table_at: int
    size: int
    root: int
    info: int
    first_id: bytes | None
    entries_at: int
    parsed: dict[int, Any] = field(default_factory=dict, repr=False)
    strict = True  # pypdf raises instead of guessing

    @classmethod
    def read(cls, data: bytes) -> _Table:
        """Read the trailer of a one-table file; raise _Irregular on anything else."""
        trailer = _read_trailer(data)
        first_id = re.search(rb"/ID\s*\[\s*<([0-9A-Fa-f]{32})>", trailer.keys)
        return cls(
            data,
            trailer.table_at,
            trailer.size,
            trailer.root,
            trailer.info,
            first_id.group(1) if first_id else None,
            trailer.entries_at,
        )

    def start(self, number: int) -> int:
        """Return where an object's value begins, after ``N 0 obj``."""
        if not 0 < number < self.size:
            raise _Irregular(f"no object {number}")
        at = self.entries_at + 20 * number
        entry = _XREF_ENTRY.fullmatch(self.data, at, at + 20)
        if entry is None or entry.group(3) != b"n" or entry.group(2) != b"00000":
            raise _Irregular(f"object {number}")
        head = _OBJ_HEAD.match(self.data, int(entry.group(1)), self.table_at)
        if head is None or int(head.group(1)) != number:
            raise _Irregular(f"object {number}")
        return head.end()

    def body(self, number: int) -> bytes:
        """Return a dictionary object's bytes (not a stream's), ``<<`` to ``>>``."""
        start = self.start(number)
        close = self.data.find(b"endobj", start, self.table_at)
        body = self.data[start:close].rstrip() if close >= 0 else b""
        if not (body.startswith(b"<<") and body.endswith(b">>")):
            raise _Irregular(f"object {number} is not a dictionary")
        return body

    def get_object(self, ref: int | IndirectObject) -> Any:
        """Return the object a reference (or object number) points at, parsed once."""
        number = ref if isinstance(ref, int) else ref.idnum
        if number in self.parsed:
            return self.parsed[number]
        start = self.start(number)
        close = self.data.find(b"endobj", start, self.table_at)
        fast = _parse_object(self.data, start, close, self) if close >= 0 else None
        if fast is not None and not self.data[fast[1] : close].strip():
            value = fast[0]
        else:  # a stream, or something only pypdf parses
            stream = io.BytesIO(self.data)
            stream.seek(start)
            try:
                value = read_object(stream, cast(Any, self))
            except Exception as error:  # pypdf raises many kinds on what it cannot parse
                raise _Irregular(f"object {number}: {error}") from error
        self.parsed[number] = value
        return value

    def dictionary(self, number: int) -> DictionaryObject:
        """Return a dictionary object (the same each time: not to be changed)."""
        value = self.get_object(number)
        if not isinstance(value, DictionaryObject):
            raise _Irregular(f"object {number} is not a dictionary")
        return value

    def pages(self) -> list[DictionaryObject]:
        """Return the page dictionaries of a one-level page tree, inherited entries filled in."""
        tree = self.dictionary(self.root).get("/Pages")
        tree = self.get_object(tree) if isinstance(tree, IndirectObject) else None
        kids = tree.get("/Kids") if isinstance(tree, DictionaryObject) else None
        if not isinstance(tree, DictionaryObject) or not isinstance(kids, list):
            raise _Irregular("page tree")
        if tree.get("/Count") != len(kids):
            raise _Irregular("page tree")
        inherited = {
            key: tree.raw_get(key)
            for key in ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
            if key in tree
        }
        pages = []
        for kid in kids:
            page = kid.get_object() if isinstance(kid, IndirectObject) else None
            if not isinstance(page, DictionaryObject) or page.get("/Type") != "/Page":
                raise _Irregular("page tree")
            missing = {key: value for key, value in inherited.items() if key not in page}
            pages.append(DictionaryObject({**page, **missing}) if missing else page)
        return pages


def _with_fields_classic(
    pdf: bytes, records: list[dict[str, Any]], second_id: bytes, doc: _Table | None = None
) -> bytes:
    """Return :func:`_with_fields`'s update, written directly for a file :func:`finish` made.

    The objects pyHanko's ``append_signature_field`` writes for an empty field
    on a page without annotations, in a document without a form: the page
    with /Annots, the catalog with /AcroForm (and /Version 1.7, as pyHanko
    raises it), the form, and per field its widget and empty appearance. The
    changed dictionaries keep their entries byte for byte. pyHanko costs 2 to 5 ms
    a document for this, most of it reading the file; anything else raises
    _Irregular.
    """
    doc = doc or _Table.read(pdf)
    catalog = doc.dictionary(doc.root)
    if "/AcroForm" in catalog or "/Version" in catalog:
        raise _Irregular("a form or a version in the catalog")
    kids = _page_refs(doc)
    if doc.first_id is None:
        raise _Irregular("/ID")
    form = doc.size + 1  # pyHanko leaves the number /Size names unused
    bodies: dict[int, bytes] = {}
    annots: dict[int, list[int]] = {}
    fields = []
    for n, record in enumerate(records):
        widget, appearance = form + 1 + 2 * n, form + 2 + 2 * n
        page_ref = kids[record["page"] - 1]
        rect = [float(v) for v in record["rect"]]
        if not isinstance(page_ref, IndirectObject) or not all(v.is_integer() for v in rect):
            raise _Irregular("page or rectangle")
        x0, y0, x1, y1 = (int(v) for v in rect)
        name = TextStringObject(record["field"])
        bodies[widget] = (
            b"<<\n/FT /Sig\n/T %s\n/Type /Annot\n/Subtype /Widget\n/F 132\n"
            b"/Rect [ %d %d %d %d ]\n/P %d 0 R\n/AP <<\n/N %d 0 R\n>>\n>>"
            % (_written(name), x0, y0, x1, y1, page_ref.idnum, appearance)
        )
        bodies[appearance] = (
            b"<<\n/BBox [ 0 %d %d 0 ]\n/Resources <<\n>>\n/Type /XObject\n/Subtype /Form\n"
            b"/Length 0\n>>\nstream\n\nendstream" % (y1 - y0, x1 - x0)
        )
        annots.setdefault(page_ref.idnum, []).append(widget)
        fields.append(widget)
    for number, widgets in annots.items():
        page = doc.dictionary(number)
        if page.get("/Type") != "/Page" or "/Annots" in page:
            raise _Irregular("page with annotations")
        body = doc.body(number)
        refs = b" ".join(b"%d 0 R" % widget for widget in widgets)
        bodies[number] = body[:-2] + b"/Annots [ %s ]\n>>" % refs
    bodies[form] = b"<<\n/Fields [ %s ]\n/SigFlags 1\n>>" % b" ".join(
        b"%d 0 R" % field for field in fields
    )
    version = b""
    if not re.match(rb"%PDF-(1\.[7-9]|[2-9]\.)", pdf):
        version = b"/Version /1.7\n"  # pyHanko's writer raises the version to 1.7
    bodies[doc.root] = doc.body(doc.root)[:-2] + version + b"/AcroForm %d 0 R\n>>" % form

    pieces = [pdf if pdf.endswith(b"\n") else pdf + b"\n"]
    at = len(pieces[0])
    offsets: dict[int, int] = {}
    for number in sorted(bodies):
        whole = b"%d 0 obj\n" % number + bodies[number] + b"\nendobj\n"
        offsets[number] = at
        pieces.append(whole)
        at += len(whole)
    table = [b"xref\n0 1\n0000000000 65535 f \n"]
    numbers = sorted(offsets)
    run: list[int] = []
    for number in [*numbers, -1]:
        if run and number != run[-1] + 1:
            table.append(b"%d %d\n" % (run[0], len(run)))
            table += [b"%010d 00000 n \n" % offsets[n] for n in run]
            run = []
        run.append(number)
    pieces.append(b"".join(table))
    pieces.append(
        b"trailer\n<<\n/Size %d\n/Root %d 0 R\n/Info %d 0 R\n/ID [ <%s> <%s> ]\n/Prev %d\n>>\n"
        b"startxref\n%d\n%%%%EOF\n"
        % (
            form + 1 + 2 * len(records),
            doc.root,
            doc.info,
            doc.first_id.lower(),
            second_id.hex().encode(),
            doc.table_at,
            at,
        )
    )
    return b"".join(pieces)


def _written(obj: TextStringObject) -> bytes:
    """Return a PDF object's bytes as pypdf writes them."""
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


# --- LibreOffice's text, read directly ---------------------------------------------------


class _Unsupported(Exception):
    """A page holds something the direct reader does not handle: pdfminer reads it instead."""


# Content-stream syntax, as far as LibreOffice writes it: one regular expression
# match per operation (its operands and its operator). Literal strings nest one
# level, dictionaries two; anything else stops the match, and the page goes to
# pdfminer.
_WS = rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*"
_NUM = rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_NAME = rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*"
_HEX = rb"<[0-9A-Fa-f\x00\t\n\x0c\r ]*>"
_LITERAL = rb"\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)"
_KEYWORD = rb"(?:true|false|null)(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
_ATOM = rb"(?:" + rb"|".join((_NUM, _NAME, _HEX, _LITERAL, _KEYWORD)) + rb")"
_ARRAY = rb"\[(?:" + _WS + _ATOM + rb")*" + _WS + rb"\]"
_INNER = rb"<<(?:" + _WS + rb"(?:" + _ATOM + rb"|" + _ARRAY + rb"))*" + _WS + rb">>"
_DICT = rb"<<(?:" + _WS + rb"(?:" + _ATOM + rb"|" + _ARRAY + rb"|" + _INNER + rb"))*" + _WS + rb">>"
_OPERATION = re.compile(
    _WS + rb"((?:(?:" + _DICT + rb"|" + _ATOM + rb"|" + _ARRAY + rb")" + _WS + rb")*)"
    rb"([A-Za-z'\"][A-Za-z0-9*'\"]*)",
    re.S,
)
_END = re.compile(_WS + rb"\Z")
#: a hex string with white space or an odd number of digits ("<<" opens a dictionary)
_ODD_HEX = re.compile(rb"<(?<!<<)(?!<)(?:[0-9A-Fa-f]{2})*+(?!>)")
_HEX_DIGITS = re.compile(rb"<([0-9A-Fa-f]*)>")
#: a font selection, split on: the font's name is kept
_TF = re.compile(
    rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)[\x00\t\n\x0c\r ]+" + _NUM + _WS + rb"Tf"
    rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
)
_LAST_HEX = re.compile(rb"<([0-9A-Fa-f\x00\t\n\x0c\r ]*)>" + _WS + rb"\Z")
_TJ_ITEM = re.compile(rb"<([0-9A-Fa-f\x00\t\n\x0c\r ]*)>|(" + _NUM + rb")|([^\x00\t\n\x0c\r \[\]])")
_BFCHAR_BLOCK = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFCHAR = re.compile(rb"\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")
_IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)


class _Font:
    """What the direct reader knows of a simple font: text, advance widths, descent."""

    def __init__(self, spec: Any) -> None:
        """Read a font dictionary the way pdfminer does, or raise _Unsupported."""
        if spec.get("/Subtype") not in ("/Type1", "/MMType1", "/TrueType"):
            raise _Unsupported("not a simple font")
        if str(spec.get("/BaseFont", "/"))[1:] in FONT_METRICS:
            raise _Unsupported("a standard font: pdfminer takes its widths from its own tables")
        if "/ToUnicode" not in spec:
            raise _Unsupported("no ToUnicode map")
        descriptor = _get(spec, "/FontDescriptor", {})
        first = int(_get(spec, "/FirstChar", 0))
        widths = _get(spec, "/Widths", [0] * 256)
        self.widths = {first + i: float(_get(widths, i, 0)) for i in range(len(widths))}
        self.missing = float(_get(descriptor, "/MissingWidth", 0))
        descent = float(_get(descriptor, "/Descent", 0))
        self.descent = (-descent if descent > 0 else descent) * 0.001
        #: per code: its characters, white space left out and radicals folded, or None;
        #: per character: the codes (as one-byte strings) whose text holds it
        self.text, self.codes = _code_text(spec["/ToUnicode"].get_data())

    def show(self, data: bytes) -> str:
        """Return the characters a string of codes shows."""
        try:
            return "".join([self.text[code] for code in data])  # type: ignore[misc]
        except TypeError:
            raise _Unsupported("a code without a ToUnicode entry") from None

    def width(self, code: int) -> float:
        """Return a code's advance width in text space units per unit of font size."""
        return self.widths.get(code, self.missing) * 0.001


@functools.lru_cache(maxsize=64)
def _code_text(cmap: bytes) -> tuple[list[str | None], dict[str, set[bytes]]]:
    """Return what a ToUnicode map says each code shows, and which codes show each character.

    Cached: the documents split from one set share their fonts (not to be changed by callers).
    """
    text: list[str | None] = [None] * 256
    codes: dict[str, set[bytes]] = {}
    for code, value in _to_unicode(cmap).items():
        if 0 <= code < 256:
            shown = text[code] = "".join(_normal(ch) for ch in value if not ch.isspace())
            for ch in shown:
                codes.setdefault(ch, set()).add(bytes((code,)))
    return text, codes


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """Return a ToUnicode CMap made of bfchar entries only, as pdfminer reads it."""
    if any(word in cmap for word in (b"bfrange", b"cidrange", b"cidchar", b"usecmap")):
        raise _Unsupported("ToUnicode map with ranges")
    out: dict[int, str] = {}
    for block in _BFCHAR_BLOCK.findall(cmap):
        pairs = _BFCHAR.findall(block)
        if _BFCHAR.sub(b"", block).strip() or any(len(src) % 2 for src, _ in pairs):
            raise _Unsupported("ToUnicode entry")
        for src, dst in pairs:
            if len(dst) % 2:
                raise _Unsupported("ToUnicode entry")
            code, value = int(src, 16), bytes.fromhex(dst.decode()).decode("utf-16-be", "ignore")
            if value == "\u00a0" and out.get(code) == " ":
                continue  # pdfminer keeps a space over a later no-break space
            out[code] = value
    return out


def _hex(data: bytes) -> bytes:
    """Return the bytes of a hex string's digits (white space allowed)."""
    digits = bytes(b for b in data if b not in b"\x00\t\n\x0c\r ")
    if len(digits) % 2:
        raise _Unsupported("odd hex string")
    return bytes.fromhex(digits.decode())


def _numbers(operands: bytes, count: int) -> list[float]:
    """Return an operation's operands as ``count`` numbers."""
    try:
        values = [float(v) for v in operands.split()]
    except ValueError:
        raise _Unsupported("operands") from None
    if len(values) != count:
        raise _Unsupported("operands")
    return values


def _shown(operands: bytes) -> bytes:
    """Return the (hex) string a Tj, ' or \" operation shows: its last operand."""
    found = _LAST_HEX.search(operands)
    if found is None:
        raise _Unsupported("a literal string shown")
    return _hex(found.group(1))


def _tj_items(operands: bytes) -> list[bytes | float]:
    """Return the strings and adjustments of a TJ array."""
    inside = operands.strip()
    if not (inside.startswith(b"[") and inside.endswith(b"]")):
        raise _Unsupported("TJ operand")
    items: list[bytes | float] = []
    for string, number, other in _TJ_ITEM.findall(inside[1:-1]):
        if other:
            raise _Unsupported("TJ item")
        items.append(float(number) if number else _hex(string))
    return items


def _get(container: Any, key: str | int, default: Any) -> Any:
    """Return an entry of a pypdf dictionary or array, resolved, or ``default``."""
    if isinstance(key, str) and key not in container:
        return default
    value = container[key]
    return value.get_object() if hasattr(value, "get_object") else value


def _key(ref: Any) -> Any:
    """Return what identifies a PDF object: its number when indirect, else the value itself."""
    return (ref.idnum, ref.generation) if hasattr(ref, "idnum") else id(ref)


class _PageText:
    """The characters of LibreOffice's pages, read from the content streams directly.

    pdfminer spends about 30 ms per page of contract text (parsing the content
    stream token by token and the embedded font programs); this reader handles
    only what LibreOffice writes (simple fonts with ToUnicode maps, hex
    strings, no form XObjects or inline images) and raises _Unsupported on
    anything else. Its characters and boxes are pdfminer's, computed with
    pdfminer's own matrix functions in the same order, for the pages that may
    hold a keyword (:meth:`_may_hold`).
    """

    def __init__(self, pages: list[Any]) -> None:
        self.pdf_pages = pages
        #: fonts by their object, and font resource dictionaries by theirs
        self.fonts: dict[Any, _Font] = {}
        self.by_name: dict[Any, dict[bytes, _Font]] = {}

    def pages_with(
        self, needles: Iterable[str], pages: Collection[int] | None
    ) -> Iterator[tuple[int, str, Callable[[int], Rect]]]:
        """Yield (number, text, box of a character) of the wanted pages that may hold a needle."""
        wanted = [set(needle) for needle in needles]
        for number, page in enumerate(self.pdf_pages, 1):
            if pages is not None and number not in pages:
                continue
            if int(_get(page, "/Rotate", 0)) % 360:
                raise _Unsupported("rotated page")
            data = self._contents(page)
            resources = _get(page, "/Resources", {})
            if self._may_hold(data, resources, wanted):
                text, box = self._chars(page, data, resources)
                yield number, text, box

    def _may_hold(self, data: bytes, resources: Any, needles: list[set[str]]) -> bool:
        """Tell whether a page may show every character of some needle.

        Reading a page costs milliseconds; this look at the codes of the hex
        strings after each font selection costs a fraction of one. It never says
        no wrongly: a string drawn in a font follows that font's Tf, before any
        Q (after which the font is taken as unknown). Pages that show literal
        strings, irregular hex strings or form XObjects, or whose Tf operations
        are not all understood, are always read.
        """
        if b"(" in data or _ODD_HEX.search(data) or self._has_forms(resources):
            return True
        parts = _TF.split(data)
        if len(parts) // 2 != data.count(b"Tf"):
            return True
        fonts = self._fonts(resources)
        runs: dict[_Font | None, list[bytes]] = {None: [parts[0]]}
        for i in range(1, len(parts), 2):
            font, run = fonts.get(parts[i]), parts[i + 1]
            if font is None:
                return True
            cut = run.find(b"Q")  # whatever follows a Q may be in the font it restores
            if cut < 0:
                runs.setdefault(font, []).append(run)
            else:
                runs.setdefault(font, []).append(run[:cut])
                runs[None].append(run[cut:])
        shown = {
            font: bytes.fromhex(b"".join(_HEX_DIGITS.findall(b"".join(part))).decode())
            for font, part in runs.items()
        }
        anywhere = shown.pop(None)

        def drawn(ch: str) -> bool:
            for font, codes in shown.items():
                for code in font.codes.get(ch, ()) if font is not None else ():
                    if code in codes:
                        return True
            return any(
                code in anywhere for font in fonts.values() for code in font.codes.get(ch, ())
            )

        return any(all(drawn(ch) for ch in needle) for needle in needles)

    def _fonts(self, resources: Any) -> dict[bytes, _Font]:
        """Return the fonts of a resource dictionary by name (without the slash)."""
        ref = resources.raw_get("/Font") if "/Font" in resources else None
        if ref is None:
            return {}
        fonts = self.by_name.get(_key(ref))
        if fonts is None:
            fonts = {}
            table = ref.get_object()
            for name in table:
                font_ref = table.raw_get(name)
                font = self.fonts.get(_key(font_ref))
                if font is None:
                    font = self.fonts[_key(font_ref)] = _Font(font_ref.get_object())
                fonts[name[1:].encode("latin-1")] = font
            self.by_name[_key(ref)] = fonts
        return fonts

    @staticmethod
    def _has_forms(resources: Any) -> bool:
        """Tell whether a resource dictionary has an XObject other than an image."""
        xobjects = resources.get("/XObject")
        if xobjects is None:
            return False
        xobjects = xobjects.get_object()
        return any(xobjects[name].get("/Subtype") != "/Image" for name in xobjects)

    @staticmethod
    def _contents(page: Any) -> bytes:
        """Return a page's content stream, decoded."""
        contents = page.get("/Contents")
        if contents is None:
            return b""
        contents = contents.get_object()
        if isinstance(contents, list):
            if len(contents) != 1:
                raise _Unsupported("several content streams")
            contents = contents[0].get_object()
        return bytes(contents.get_data())

    def _font(self, resources: Any, operands: bytes) -> tuple[_Font, float]:
        """Return the font and size a Tf operation selects."""
        parts = operands.split()
        if len(parts) != 2 or not parts[0].startswith(b"/"):
            raise _Unsupported("Tf operands")
        font = self._fonts(resources).get(parts[0][1:])
        if font is None:
            raise _Unsupported("unknown font")
        return font, _numbers(parts[1], 1)[0]

    @staticmethod
    def _xobject(resources: Any, operands: bytes) -> None:
        """Refuse a form XObject: pdfminer would read the text inside it."""
        xobjects = resources.get("/XObject")
        name = "/" + operands.strip()[1:].decode("latin-1")
        xobject = xobjects.get_object().get(name) if xobjects is not None else None
        if xobject is not None and xobject.get_object().get("/Subtype") != "/Image":
            raise _Unsupported("form XObject")

    def _operations(self, data: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Yield each (operands, operator) of a content stream."""
        match = _OPERATION.match
        pos = 0
        while True:
            found = match(data, pos)
            if found is None:
                break
            pos = found.end()
            yield found.group(1), found.group(2)
        if not _END.match(data, pos):
            raise _Unsupported(f"content stream syntax at {pos}")

    def _chars(self, page: Any, data: bytes, resources: Any) -> tuple[str, Callable[[int], Rect]]:
        """Return a page's characters and a function giving the box of each, as pdfminer would.

        Mirrors pdfminer's PDFPageInterpreter and PDFTextDevice.render_string
        (including its text state being saved by q and its leading quirks).
        """
        media = _get(page, "/MediaBox", None)
        if media is None or len(media) != 4:
            raise _Unsupported("/MediaBox")
        x0, y0 = float(_get(media, 0, 0)), float(_get(media, 1, 0))
        base: Matrix = (1, 0, 0, 1, -x0, -y0)
        to_user = _inverse(base)
        ctm = base
        font: _Font | None = None
        size = charspace = wordspace = leading = rise = 0.0
        scaling = 100.0
        matrix: Matrix = _IDENTITY
        line: tuple[float, float] = (0, 0)
        saved: list[tuple[Any, ...]] = []
        text: list[str] = []
        glyphs: list[tuple[Matrix, float, float, float]] = []

        def show(items: list[bytes | float]) -> None:
            nonlocal line
            assert font is not None
            rendering = mult_matrix(matrix, ctm)
            scale = scaling * 0.01
            space = charspace * scale
            word = wordspace * scale
            dxscale = 0.001 * size * scale
            bottom = font.descent * size + rise
            top = bottom + size
            x, y = line
            spaced = False
            for item in items:
                if not isinstance(item, bytes):
                    x -= item * dxscale
                    spaced = True
                    continue
                for code in item:
                    if spaced:
                        x += space
                    advance = font.width(code) * size * scale
                    chars = font.text[code]
                    if chars is None:
                        raise _Unsupported("a code without a ToUnicode entry")
                    if chars:
                        glyph = (translate_matrix(rendering, (x, y)), advance, bottom, top)
                        for ch in chars:
                            text.append(ch)
                            glyphs.append(glyph)
                    x += advance
                    if code == 32 and word:
                        x += word
                    spaced = True
            line = (x, y)

        for operands, op in self._operations(data):
            if op == b"Tj":
                if font is not None:
                    show([_shown(operands)])
            elif op == b"TJ":
                if font is not None:
                    show(_tj_items(operands))
            elif op == b"Tm":
                a, b, c, d, e, f = _numbers(operands, 6)
                matrix, line = (a, b, c, d, e, f), (0, 0)
            elif op == b"Tf":
                font, size = self._font(resources, operands)
            elif op == b"Td" or op == b"TD":
                tx, ty = _numbers(operands, 2)
                a, b, c, d, e, f = matrix
                matrix = (a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f)
                line = (0, 0)
                if op == b"TD":
                    leading = ty
            elif op == b"BT":
                matrix, line = _IDENTITY, (0, 0)
            elif op == b"q":
                saved.append(
                    (ctm, font, size, charspace, wordspace, scaling, leading, rise, matrix, line)
                )
            elif op == b"Q":
                if saved:
                    (
                        ctm,
                        font,
                        size,
                        charspace,
                        wordspace,
                        scaling,
                        leading,
                        rise,
                        matrix,
                        line,
                    ) = saved.pop()
            elif op == b"cm":
                a, b, c, d, e, f = _numbers(operands, 6)
                ctm = mult_matrix((a, b, c, d, e, f), ctm)
            elif op == b"Tc":
                charspace = _numbers(operands, 1)[0]
            elif op == b"Tw":
                wordspace = _numbers(operands, 1)[0]
            elif op == b"Tz":
                scaling = _numbers(operands, 1)[0]
            elif op == b"TL":
                leading = -_numbers(operands, 1)[0]
            elif op == b"Ts":
                rise = _numbers(operands, 1)[0]
            elif op == b"T*" or op == b"'" or op == b'"':
                if op == b'"':
                    found = _LAST_HEX.search(operands)
                    if found is None:
                        raise _Unsupported("a literal string shown")
                    wordspace, charspace = _numbers(operands[: found.start()], 2)
                else:
                    a, b, c, d, e, f = matrix
                    matrix = (a, b, c, d, leading * c + e, leading * d + f)
                    line = (0, 0)
                if op != b"T*" and font is not None:
                    show([_shown(operands)])
            elif op == b"Do":
                self._xobject(resources, operands)
            elif op == b"BI":
                raise _Unsupported("inline image")

        def box(index: int) -> Rect:
            rendering, advance, bottom, top = glyphs[index]
            return _transform_rect(to_user, apply_matrix_rect(rendering, (0, bottom, advance, top)))

        return "".join(text), box


# --- characters and their boxes ------------------------------------------------------


def _candidate_pages(pdf: bytes, needles: Iterable[str]) -> set[int] | None:
    """Return the pages whose text holds any needle, or None to search every page.

    For PDFs the direct reader does not handle. pdfminer reads a page in pure
    Python (about 30 ms for a page of contract text); poppler's pdftotext
    reads the whole document in 4 ms a page. It only narrows the search: the
    boxes, and the count that decides whether a keyword is missing or
    repeated, still come from pdfminer on those pages. A needle poppler cannot
    see at all sends the search back to every page.
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
