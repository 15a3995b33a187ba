"""Finish LibreOffice's PDFs: document metadata, reproducible bytes, and the set's bundle.

Pure post-processing in Python (pypdf); nothing here runs LibreOffice.

:func:`finish` sets the document information (Title, Subject = contract
number, Author, Creator ``contractgen``, CreationDate = ModDate = the signing
date at 00:00 China time) and the catalog's /Lang, and makes the output a
function of the input's content only. LibreOffice's PDFs differ from run to
run in four places, all of which are rewritten:

* the info dictionary's /CreationDate and, in PDF/A, the XMP ``xmp:CreateDate``
  carry the conversion time;
* in PDF/A, the sRGB profile of the output intent is made at export time and
  its header carries the time to the second; it gets the signing date;
* the trailer /ID is random; it becomes a hash of the finished file;
* every CJK font LibreOffice embeds as Type 1 carries a ``/UniqueID`` taken from
  a counter that lives as long as the office process (4100001, 4100002, … for
  the first document, higher for the next ones), both in the clear part of the
  font program and inside its eexec-encrypted Private dictionary. The IDs of a
  document are renumbered from 4100001 in their original order, which is what
  a freshly started office would have written.

LibreOffice's own files are edited as bytes (:func:`_finish_classic`): one
classic cross-reference table, no object streams, flat stream dictionaries.
Only the info dictionary, the catalog, the XMP packet and the font programs
are rewritten, everything else is copied, and the table is written anew;
pypdf's full clone and two full writes cost four times as much. Re-encrypting
the font programs is most of what is left (about 0.1 µs per byte in pure
Python, some 70 ms per contract set). A file of any other shape raises
:class:`_Irregular` and goes the general way through pypdf, which gives the
same content in other bytes.

PDF/A: when the input has XMP metadata, the properties PDF/A requires to agree
with the info dictionary (dc:title, dc:creator, dc:description, pdf:Producer,
pdf:Keywords, xmp:CreatorTool, xmp:CreateDate, xmp:ModifyDate) are rewritten to
match it and everything else in the packet (pdfaid, extension schemas) is kept.
:func:`bundle` carries the first part's OutputIntents and XMP into the bundle
when every part declares the same PDF/A level, so a set of PDF/A-2b documents
gives a bundle that still says PDF/A-2b (its tagging, which 2b does not
require, is not merged). It copies the parts' pages as bytes when they are
:func:`finish`'s output (:func:`_bundle_classic`), and merges them with pypdf
otherwise.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import functools
import hashlib
import io
import re
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    Fit,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
    read_object,
)

try:  # the optional C loop for re-encrypting font programs (see _reencrypt_from)
    from . import _eexec as _eexec_c  # type: ignore[attr-defined]
except ImportError:  # not built: the Python loop gives the same bytes
    _eexec_c = None
from ._pdfbytes import STARTXREF as _STARTXREF
from ._pdfbytes import TRAILER as _TRAILER
from ._pdfbytes import XREF_ENTRY as _XREF_ENTRY
from ._pdfbytes import Irregular as _Irregular
from ._pdfbytes import page_refs as _page_refs
from ._pdfbytes import parse_object as _parse_object
from ._pdfbytes import read_trailer as _read_trailer

__all__ = ["CREATOR", "bundle", "finish", "page_count", "split"]

#: the /Creator of every finished PDF (the XMP ``xmp:CreatorTool``)
CREATOR = "contractgen"
#: contract dates are Chinese calendar dates: their midnight is taken in UTC+8
_CHINA = dt.timezone(dt.timedelta(hours=8))

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DC = "http://purl.org/dc/elements/1.1/"
_PDF = "http://ns.adobe.com/pdf/1.3/"
_XMP = "http://ns.adobe.com/xap/1.0/"
_PDFAID = "http://www.aiim.org/pdfa/ns/id/"
_XML = "http://www.w3.org/XML/1998/namespace"
_PREFIXES = {_DC: "dc", _PDF: "pdf", _XMP: "xmp"}

#: first UniqueID LibreOffice gives a Type 1 font it makes from a CFF font
_UNIQUE_ID_BASE = 4100001
_UNIQUE_ID = re.compile(rb"/UniqueID\s+(\d+)\s+def")
_EEXEC_KEY = 55665


@dataclass(frozen=True)
class _Meta:
    """The document information every output carries."""

    title: str
    subject: str
    author: str
    date: dt.date
    language: str

    @property
    def moment(self) -> dt.datetime:
        """Return midnight of the date in China time."""
        return dt.datetime.combine(self.date, dt.time(), _CHINA)

    @property
    def pdf_date(self) -> str:
        """Return the date as a PDF date string, D:YYYYMMDDHHmmSS+08'00'."""
        return self.moment.strftime("D:%Y%m%d%H%M%S+08'00'")

    @property
    def xmp_date(self) -> str:
        """Return the date as an XMP (ISO 8601) date, the same instant as ``pdf_date``."""
        return self.moment.isoformat()


def page_count(pdf: bytes) -> int:
    """Return the number of pages of a PDF."""
    try:
        return _page_count_classic(pdf)
    except _Irregular:
        return len(PdfReader(io.BytesIO(pdf)).pages)


def finish(
    pdf: bytes,
    *,
    title: str,
    subject: str,
    author: str,
    language: str = "zh-CN",
    date: dt.date,
) -> bytes:
    """Return the PDF with our metadata and /Lang, byte-identical for identical content."""
    meta = _Meta(title, subject, author, date, language)
    try:
        return _finish_classic(pdf, meta)
    except _Irregular:
        pass  # not shaped like LibreOffice's output: the general (slower) way below
    reader = PdfReader(io.BytesIO(pdf))
    # keep_initial_header: a PDF/A-2 file from LibreOffice says %PDF-1.6, not pypdf's 1.3.
    writer = PdfWriter(clone_from=reader, keep_initial_header=True)
    _renumber_type1_ids(writer)
    for intent in cast(list[Any], writer.root_object.get("/OutputIntents", [])):
        profile = intent.get_object().get("/DestOutputProfile")
        if profile is not None:
            stream = cast(StreamObject, profile.get_object())
            stream.set_data(_icc_dated(stream.get_data(), date))
    _apply_metadata(
        writer,
        meta,
        producer=_info_text(reader, "/Producer") or "pypdf",
        keywords=_info_text(reader, "/Keywords"),
    )
    return _write_reproducibly(writer)


def bundle(
    parts: Sequence[tuple[str, bytes]],
    *,
    title: str,
    subject: str,
    author: str,
    date: dt.date,
    language: str = "zh-CN",
) -> bytes:
    """Return one PDF of all ``(title, pdf)`` parts, with one top-level bookmark per part."""
    if not parts:
        raise ValueError("a bundle needs at least one document")
    meta = _Meta(title, subject, author, date, language)
    try:
        return _bundle_classic(parts, meta)
    except _Irregular:
        pass  # parts not shaped like finish's output: pypdf merges them
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(data)) for _, data in parts]
    for (name, _), reader in zip(parts, readers, strict=True):
        start = len(writer.pages)
        writer.append(reader, import_outline=False)
        top = writer.add_outline_item(title=name, page_number=start, fit=Fit.fit())
        _copy_outline(writer, reader, _own_outline(reader, name), top, start)
    first = readers[0]
    levels = {_pdfa_level(reader) for reader in readers}
    xmp = _xmp_bytes(first)
    if len(levels) == 1 and None not in levels and xmp is not None:
        # Every part claims the same PDF/A level: keep the claim and what backs it.
        intents = first.root_object.get("/OutputIntents")
        if intents is not None:
            writer.root_object[NameObject("/OutputIntents")] = intents.clone(writer)
        writer.xmp_metadata = xmp
        # pypdf makes a bare stream; PDF/A wants it typed like the one it replaces.
        stream = cast(StreamObject, writer.root_object["/Metadata"].get_object())
        stream[NameObject("/Type")] = NameObject("/Metadata")
        stream[NameObject("/Subtype")] = NameObject("/XML")
    _apply_metadata(
        writer,
        meta,
        producer=_info_text(first, "/Producer") or "pypdf",
        keywords=None,
    )
    return _write_reproducibly(writer)


def split(
    pdf: bytes,
    parts: Sequence[tuple[str, int]],
    *,
    title: str,
    subject: str,
    author: str,
    date: dt.date,
    language: str = "zh-CN",
) -> tuple[list[bytes], bytes]:
    """Return the documents of a set converted as one PDF, each finished, and the bundle.

    ``parts`` gives each document's title and page count, in page order; the
    counts must add up to the PDF's pages. Each document comes out as
    :func:`finish` would make it (its own title, its bookmarks), and the
    whole as :func:`bundle` would make it of the documents (``title``, one
    top-level bookmark per document). Fonts are shared by the documents of
    the PDF, so each document carries the subsets it uses, which also hold
    glyphs of the others.
    """
    if not parts or any(pages < 1 for _, pages in parts):
        raise ValueError("a split needs documents of at least one page each")
    metas = [_Meta(name, subject, author, date, language) for name, _ in parts]
    whole = _Meta(title, subject, author, date, language)
    try:
        return _split_classic(pdf, [pages for _, pages in parts], metas, whole)
    except _Irregular:
        pass  # not shaped like LibreOffice's output: pypdf copies the pages
    reader = PdfReader(io.BytesIO(pdf))
    if sum(pages for _, pages in parts) != len(reader.pages):
        raise ValueError(f"{len(reader.pages)} pages, not {sum(p for _, p in parts)}")
    finished, first = [], 0
    for meta, (_, pages) in zip(metas, parts, strict=True):
        writer = PdfWriter()
        writer.pdf_header = reader.pdf_header
        for number in range(first, first + pages):
            writer.add_page(reader.pages[number])
        for key in ("/OutputIntents", "/Metadata"):  # a PDF/A claim and what backs it
            if key in reader.root_object:
                writer.root_object[NameObject(key)] = reader.root_object[key].clone(writer)
        buffer = io.BytesIO()
        writer.write(buffer)
        finished.append(
            finish(
                buffer.getvalue(),
                title=meta.title,
                subject=subject,
                author=author,
                date=date,
                language=language,
            )
        )
        first += pages
    named = [(meta.title, doc) for meta, doc in zip(metas, finished, strict=True)]
    return finished, bundle(
        named, title=title, subject=subject, author=author, date=date, language=language
    )


def _info_text(reader: PdfReader, key: str) -> str | None:
    """Return an entry of the document information as text, or None when absent or empty."""
    info = reader.metadata
    value = info.get(key) if info is not None else None
    return str(value) if value else None


def _info(meta: _Meta, *, producer: str, keywords: str | None) -> DictionaryObject:
    """Return the document information dictionary of a finished PDF."""
    info: dict[str, str] = {
        "/Title": meta.title,
        "/Subject": meta.subject,
        "/Author": meta.author,
        "/Creator": CREATOR,
        "/Producer": producer,
        "/CreationDate": meta.pdf_date,
        "/ModDate": meta.pdf_date,
    }
    if keywords:
        info["/Keywords"] = keywords
    return DictionaryObject(
        {NameObject(key): TextStringObject(value) for key, value in info.items()}
    )


def _apply_metadata(writer: PdfWriter, meta: _Meta, *, producer: str, keywords: str | None) -> None:
    """Replace the info dictionary, set /Lang, and bring existing XMP into line with both."""
    # Replaced, not merged: whatever else LibreOffice put there (its own
    # CreationDate above all) must not survive.
    writer.metadata = _info(meta, producer=producer, keywords=keywords)
    writer.root_object[NameObject("/Lang")] = TextStringObject(meta.language)
    if "/Metadata" in writer.root_object:
        xmp = cast(StreamObject, writer.root_object["/Metadata"].get_object())
        writer.xmp_metadata = _update_xmp(xmp.get_data(), meta, producer, keywords)


def _write_reproducibly(writer: PdfWriter) -> bytes:
    """Write the document with a trailer /ID that is a hash of everything else."""
    # Written with a zero ID and hashed; the hash then replaces the zero ID in
    # the trailer, in place (the same length, so no offset moves): the ID is a
    # function of the content, and still changes whenever anything does.
    zero = ByteStringObject(bytes(16))
    writer._ID = ArrayObject([zero, zero])
    draft = io.BytesIO()
    writer.write(draft)
    data = draft.getvalue()
    digest = hashlib.sha256(data).digest()[:16]
    placeholder = b"<%s>" % bytes(16).hex().encode()
    trailer = data.rfind(b"\ntrailer\n")
    if trailer < 0 or data.count(placeholder, trailer) != 2:
        # Not where pypdf writes it: written again, the slow way.
        writer._ID = ArrayObject([ByteStringObject(digest)] * 2)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    return data[:trailer] + data[trailer:].replace(placeholder, b"<%s>" % digest.hex().encode())


# --- LibreOffice's files, edited as bytes ---------------------------------------------


class _Unresolved:
    """Stands for the document while single objects are parsed: references stay unresolved."""


_HEADER = re.compile(rb"%PDF-1\.[0-7][\r\n]")
#: a stream whose dictionary holds no dictionary, array or string (font programs, XMP)
_FLAT_STREAM = re.compile(
    rb"(\d+) 0 obj\s*<<((?:\s*/\w+\s*(?:\d+ 0 R|\d+|/\w+))*)\s*>>\s*stream\r?\n"
)
_FLAT_ENTRY = re.compile(rb"\s*/(\w+)\s*(\d+ 0 R|\d+|/\w+)")
_ENDSTREAM = re.compile(rb"\r?\n?endstream\s*endobj\s*")
_OBJ_HEAD = re.compile(rb"(\d+) 0 obj\s*")
_LENGTH_REF = re.compile(rb"/Length\s+(\d+)\s+0\s+R")
_FONT_KEYS = {b"Length", b"Filter", b"Length1", b"Length2", b"Length3"}


@dataclass
class _Classic:
    """A PDF with one classic cross-reference table and nothing appended: LibreOffice's kind."""

    data: bytes
    #: object number -> (start, end) of its bytes, end at the next object or the table
    spans: dict[int, tuple[int, int]]
    size: int
    root: int
    info: int
    table_at: int
    #: dictionaries parsed so far, by object number (not to be changed by callers)
    parsed: dict[int, DictionaryObject] = field(default_factory=dict, repr=False)
    #: how often each ``/Length N 0 R`` occurs, counted when first needed
    length_refs: collections.Counter[bytes] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, data: bytes) -> _Classic:
        """Return the table of a file :func:`finish` just returned, or parse it."""
        with _RECENT_LOCK:
            known = _RECENT.get(id(data))
        if known is not None and known.data is data:
            return known
        return cls.parse(data)

    @classmethod
    def parse(cls, data: bytes) -> _Classic:
        """Read the table and check that every entry points at its object; or raise _Irregular."""
        if not _HEADER.match(data):
            raise _Irregular("header")
        trailer = _read_trailer(data)
        table_at, size, root, info = trailer.table_at, trailer.size, trailer.root, trailer.info
        entries = _XREF_ENTRY.findall(data, trailer.entries_at, trailer.entries_at + 20 * size)
        if len(entries) != size:
            raise _Irregular("xref entries")
        starts: list[tuple[int, int]] = []
        for number, (offset, generation, kind) in enumerate(entries):
            if kind == b"f":
                if number:
                    raise _Irregular("free object")
                continue
            at = int(offset)
            if (
                number == 0
                or generation != b"00000"
                or not data.startswith(b"%d 0 obj" % number, at)
                or data[at - 1 : at] not in b"\r\n \t"
            ):
                raise _Irregular(f"object {number}")
            starts.append((at, number))
        starts.sort()
        spans: dict[int, tuple[int, int]] = {}
        for (at, number), (after, _) in zip(starts, [*starts[1:], (table_at, 0)], strict=True):
            close = data.rfind(b"endobj", at, after)
            if close < 0 or data[close + 6 : after].strip():
                raise _Irregular(f"object {number} extent")
            spans[number] = (at, after)
        if not starts or starts[0][0] < 9 or starts[-1][0] >= table_at or root == info:
            raise _Irregular("layout")
        return cls(data, spans, size, root, info, table_at)

    def span(self, number: int) -> tuple[int, int]:
        """Return where an object's bytes are."""
        try:
            return self.spans[number]
        except KeyError:
            raise _Irregular(f"no object {number}") from None

    def body(self, number: int) -> bytes:
        """Return the bytes between ``N 0 obj`` and ``endobj``."""
        start, end = self.span(number)
        head = _OBJ_HEAD.match(self.data, start, end)
        if head is None or int(head.group(1)) != number:
            raise _Irregular(f"object {number}")
        # parse() checked that "endobj" and white space end the span.
        return self.data[head.end() : self.data.rfind(b"endobj", start, end)].rstrip()

    def dictionary(self, number: int) -> DictionaryObject:
        """Return a plain (not stream) dictionary object, its references unresolved.

        The same object each time: callers copy it before changing it.
        """
        if number in self.parsed:
            return self.parsed[number]
        body = self.body(number)
        if not (body.startswith(b"<<") and body.endswith(b">>")):
            raise _Irregular(f"object {number} is not a dictionary")
        fast = _parse_object(body, 0, len(body), _Unresolved())
        if fast is not None and fast[1] == len(body):
            value = fast[0]
        else:
            try:
                value = read_object(io.BytesIO(body), cast(Any, _Unresolved()))
            except Exception as error:  # pypdf raises many kinds on what it cannot parse
                raise _Irregular(f"object {number}: {error}") from error
        if not isinstance(value, DictionaryObject):
            raise _Irregular(f"object {number} is not a dictionary")
        self.parsed[number] = value
        return value

    def flat_stream(self, number: int) -> tuple[dict[bytes, bytes], bytes]:
        """Return the entries of a stream with a flat dictionary, and its (encoded) data."""
        start, end = self.span(number)
        head = _FLAT_STREAM.match(self.data, start, end)
        if head is None or int(head.group(1)) != number:
            raise _Irregular(f"object {number} is not a plain stream")
        entries = dict(_FLAT_ENTRY.findall(head.group(2)))
        length = entries.get(b"Length", b"")
        if length.endswith(b" 0 R"):
            count = self.length_object(int(length.split()[0]))
        elif length.isdigit():
            count = int(length)
        else:
            raise _Irregular(f"object {number}: /Length")
        data_end = head.end() + count
        if not _ENDSTREAM.fullmatch(self.data, data_end, end):
            raise _Irregular(f"object {number}: stream length")
        return entries, self.data[head.end() : data_end]

    def length_object(self, number: int) -> int:
        """Return the value of an object that is a bare integer (a stream's /Length)."""
        body = self.body(number)
        if not body.isdigit():
            raise _Irregular(f"object {number} is not an integer")
        return int(body)


def _finish_classic(pdf: bytes, meta: _Meta) -> bytes:
    """Return :func:`finish`'s result by rewriting only the objects that change.

    LibreOffice writes one classic cross-reference table, no object streams
    and flat stream dictionaries. Everything but the info dictionary, the
    catalog, the XMP packet and the Type 1 font programs (with their /Length
    objects) is copied byte for byte, and the table and trailer are written
    anew. Anything unexpected raises _Irregular, and :func:`finish` then
    takes the general path through pypdf.
    """
    doc = _Classic.parse(pdf)
    replaced: dict[int, bytes] = {}

    info = doc.dictionary(doc.info)
    producer = _text_entry(info, "/Producer") or "pypdf"
    keywords = _text_entry(info, "/Keywords")
    replaced[doc.info] = _serialise(_info(meta, producer=producer, keywords=keywords))

    catalog = DictionaryObject(doc.dictionary(doc.root))
    if catalog.get("/Type") != "/Catalog":
        raise _Irregular("catalog")
    catalog[NameObject("/Lang")] = TextStringObject(meta.language)
    replaced[doc.root] = _serialise(catalog)
    xmp_ref = catalog.get("/Metadata")
    if xmp_ref is not None:
        if not isinstance(xmp_ref, IndirectObject) or xmp_ref.idnum in replaced:
            raise _Irregular("/Metadata")
        entries, packet = doc.flat_stream(xmp_ref.idnum)
        if set(entries) - {b"Type", b"Subtype", b"Length"}:
            raise _Irregular("/Metadata is filtered")
        packet = _update_xmp(packet, meta, producer, keywords)
        replaced[xmp_ref.idnum] = (
            b"<</Type/Metadata/Subtype/XML/Length %d>>\nstream\n" % len(packet)
            + packet
            + b"\nendstream"
        )

    changes = _renumbered_fonts(doc)
    for number, body in {**changes, **_dated_profiles(doc, catalog, meta.date)}.items():
        if number in replaced:
            raise _Irregular(f"object {number} twice")
        replaced[number] = body
    return _rewrite(doc, replaced)


def _dated_profiles(doc: _Classic, catalog: DictionaryObject, date: dt.date) -> dict[int, bytes]:
    """Return the new bodies of the output intents' ICC profiles, dated (see _icc_dated)."""
    bodies: dict[int, bytes] = {}
    for number in _output_profiles(catalog, doc.dictionary):
        entries, encoded = doc.flat_stream(number)
        if (
            set(entries) - {b"N", b"Length", b"Filter", b"Alternate"}
            or entries.get(b"Filter", b"/FlateDecode") != b"/FlateDecode"
        ):
            raise _Irregular(f"output profile {number}")
        profile = zlib.decompress(encoded) if b"Filter" in entries else encoded
        profile = _icc_dated(profile, date)
        encoded = zlib.compress(profile) if b"Filter" in entries else profile
        bodies.update(_stream_bodies(doc, number, entries, encoded))
    return bodies


def _output_profiles(catalog: DictionaryObject, dictionary: Any) -> list[int]:
    """Return the object numbers of the ICC profiles the catalog's output intents name."""
    intents = catalog.get("/OutputIntents")
    if intents is None:
        return []
    if not isinstance(intents, ArrayObject):
        raise _Irregular("/OutputIntents")
    numbers = []
    for ref in intents:
        intent = dictionary(ref.idnum) if isinstance(ref, IndirectObject) else ref
        if not isinstance(intent, DictionaryObject):
            raise _Irregular("/OutputIntents")
        profile = intent.get("/DestOutputProfile")
        if isinstance(profile, IndirectObject):
            numbers.append(profile.idnum)
        elif profile is not None:
            raise _Irregular("/DestOutputProfile")
    return numbers


def _icc_dated(profile: bytes, date: dt.date) -> bytes:
    """Return an ICC profile with the given creation date (midnight).

    LibreOffice makes the sRGB profile of PDF/A's output intent at export
    time, so its header carries the wall clock to the second. A version 4
    profile's ID (an MD5 of the profile with the flags, the rendering intent
    and the ID zeroed) is computed again.
    """
    if len(profile) < 128 or profile[36:40] != b"acsp":
        return profile
    out = bytearray(profile)
    out[24:36] = struct.pack(">6H", date.year, date.month, date.day, 0, 0, 0)
    if any(out[84:100]):
        unsigned = bytearray(out)
        unsigned[44:48] = unsigned[64:68] = bytes(4)
        unsigned[84:100] = bytes(16)
        out[84:100] = hashlib.md5(unsigned, usedforsecurity=False).digest()
    return bytes(out)


def _text_entry(info: DictionaryObject, key: str) -> str | None:
    """Return a text entry of a parsed info dictionary, or None when absent or empty."""
    value = info.get(key)
    if value is None:
        return None
    if isinstance(value, IndirectObject):
        raise _Irregular(f"indirect {key}")
    return str(value) or None


def _serialise(obj: DictionaryObject) -> bytes:
    """Return an object's bytes as pypdf writes them."""
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


@dataclass(frozen=True)
class _Program:
    """A Type 1 font program's stream entries and its three parts, the second in clear."""

    entries: dict[bytes, bytes]
    clear: bytes
    secret: bytes
    trailer: bytes


#: a glyph of a Type 1 encoding, and a charstring of LibreOffice's subsets
_ENCODING_ENTRY = re.compile(rb"dup (\d+) /(\S+) put\n")
_CHARSTRING = re.compile(rb"/(\S+) (\d+) RD ")
#: in a content stream, for pruning: a font selection, or what makes the font of the
#: strings after it unknown (Q) or the stream unsafe to read this way (BI, Do)
_FONT_OR_RESET = re.compile(
    rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)[\x00\t\n\x0c\r ]+[-+.\d]+[\x00\t\n\x0c\r ]+Tf"
    rb"|(?<![A-Za-z])(Q|BI|Do)(?![A-Za-z])"
)
#: a hex string of whole bytes, with no white space in it
_HEX_STRING = re.compile(rb"<((?:[0-9A-Fa-f]{2})*)>")


def _shown_codes(streams: list[bytes]) -> dict[bytes | None, set[int]] | None:
    """Return the codes each font name shows (None: a font not known there), or None.

    None when a stream holds literal strings, other hex strings, inline images
    or forms: then nothing is pruned.
    """
    segments: dict[bytes | None, list[bytes]] = {None: []}
    for data in streams:
        if b"(" in data:
            return None
        parts = _FONT_OR_RESET.split(data)  # text, then (name, operator, text) per match
        segments[None].append(parts[0])
        for at in range(1, len(parts), 3):
            name, operator = parts[at], parts[at + 1]
            if operator is not None and operator != b"Q":
                return None  # an inline image or a form
            if name is not None and b"#" in name:
                return None  # a name spelt otherwise in the resources
            # After a Q the font is unknown: the one it restores.
            segments.setdefault(name, []).append(parts[at + 2])
    shown: dict[bytes | None, set[int]] = {}
    for font, texts in segments.items():
        text = b"".join(texts)
        strings = _HEX_STRING.findall(text)
        if len(strings) != text.count(b"<"):
            return None
        shown[font] = set(bytes.fromhex(b"".join(strings).decode()))
    return shown


def _pruned_program(program: _Program, codes: set[int]) -> _Program | None:
    """Return a font program with only the glyphs of ``codes`` (and .notdef), or None."""
    glyphs = _charstrings(program.secret)
    if glyphs is None:
        return None
    head, entries, tail = glyphs
    encoding = {int(code): name for code, name in _ENCODING_ENTRY.findall(program.clear)}
    kept = {b".notdef"} | {encoding[code] for code in codes if code in encoding}
    clear = _ENCODING_ENTRY.sub(
        lambda entry: entry.group(0) if entry.group(2) in kept else b"", program.clear
    )
    body = b"".join(entry for name, entry in entries if name in kept)
    return _Program(program.entries, clear, _eexec(head + body + tail), program.trailer)


@functools.lru_cache(maxsize=32)
def _charstrings(secret: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes] | None:
    """Return an eexec section in clear as the part before the glyphs, each glyph, and the rest.

    Cached: the documents of a set prune the same programs (not to be changed by callers).
    None for a layout other than LibreOffice's ``/name len RD … ND``.
    """
    plain = _uneexec(secret)
    begin = plain.find(b"/CharStrings")
    begin = plain.find(b"begin\n", begin) + len(b"begin\n") if begin >= 0 else -1
    if begin <= 0:
        return None
    entries, at = [], begin
    while not plain.startswith(b"end end", at):
        entry = _CHARSTRING.match(plain, at)
        if entry is None:
            return None
        end = entry.end() + int(entry.group(2))
        if plain[end : end + 4] != b" ND\n":
            return None
        entries.append((entry.group(1), plain[at : end + 4]))
        at = end + 4
    return plain[:begin], entries, plain[at:]


def _renumbered_fonts(
    doc: _Classic, programs_out: dict[int, _Program] | None = None
) -> dict[int, bytes]:
    """Return the new bodies of the Type 1 font programs and their /Length objects.

    ``programs_out`` receives each renumbered program by object number.
    """
    data = doc.data
    starts = sorted((start, number) for number, (start, _) in doc.spans.items())
    positions = [start for start, _ in starts]
    fonts: dict[int, tuple[dict[bytes, bytes], bytes]] = {}
    # Only Type 1 font programs have a /Length2; every occurrence of the name must
    # be in the dictionary of a stream this code understands.
    at = data.find(b"/Length2")
    while at >= 0:
        index = bisect.bisect_right(positions, at) - 1
        if index < 0 or at > doc.table_at:
            raise _Irregular("/Length2 outside the objects")
        number = starts[index][1]
        if number not in fonts:
            entries, encoded = doc.flat_stream(number)
            head = data.find(b"stream", doc.spans[number][0])
            if not at < head or set(entries) - _FONT_KEYS:
                raise _Irregular(f"/Length2 outside a font program's dictionary (object {number})")
            fonts[number] = (entries, encoded)
        at = data.find(b"/Length2", at + 1)

    programs: list[tuple[int, dict[bytes, bytes], bytes, int]] = []
    for number, (entries, encoded) in sorted(fonts.items()):
        if entries.get(b"Filter", b"/FlateDecode") != b"/FlateDecode":
            raise _Irregular(f"object {number}: filter")
        program = zlib.decompress(encoded) if b"Filter" in entries else encoded
        try:
            clear_len = int(entries[b"Length1"])
        except (KeyError, ValueError):
            raise _Irregular(f"object {number}: /Length1") from None
        found = _UNIQUE_ID.search(program[:clear_len])
        if found:
            programs.append((number, entries, program, int(found.group(1))))
    order = sorted({unique_id for *_, unique_id in programs})
    renumber = {old: _UNIQUE_ID_BASE + n for n, old in enumerate(order)}

    bodies: dict[int, bytes] = {}
    for number, entries, program, old in programs:
        try:
            lengths = int(entries[b"Length1"]), int(entries[b"Length2"])
        except (KeyError, ValueError):
            raise _Irregular(f"object {number}: /Length2") from None
        parts = _renumbered_program(program, *lengths, renumber[old])
        if parts is None:
            continue
        clear, secret, trailer = parts
        if programs_out is not None:
            programs_out[number] = _Program(entries, clear, secret, trailer)
        # Compressed again even when nothing changed, so that the bytes never depend
        # on whether LibreOffice's counter happened to start afresh.
        encoded = (
            _deflate(clear, secret, trailer) if b"Filter" in entries else clear + secret + trailer
        )
        values = {**entries, b"Length1": b"%d" % len(clear), b"Length2": b"%d" % len(secret)}
        for changed, body in _stream_bodies(doc, number, values, encoded).items():
            if changed in bodies or (changed in fonts and changed != number):
                raise _Irregular(f"object {changed} twice")
            bodies[changed] = body
    return bodies


def _stream_bodies(
    doc: _Classic, number: int, entries: dict[bytes, bytes], encoded: bytes
) -> dict[int, bytes]:
    """Return the bodies of a flat stream with new data and, if indirect, of its /Length."""
    values = dict(entries)
    bodies = {}
    length = values.get(b"Length", b"")
    if length.endswith(b" 0 R"):
        length_number = int(length.split()[0])
        if doc.length_refs is None:
            doc.length_refs = collections.Counter(_LENGTH_REF.findall(doc.data))
        if doc.length_refs[b"%d" % length_number] != 1:
            raise _Irregular(f"object {length_number} is the /Length of several streams")
        bodies[length_number] = b"%d" % len(encoded)
    else:
        values[b"Length"] = b"%d" % len(encoded)
    entries_out = b"".join(
        b"/" + key + (b"" if value[:1] == b"/" else b" ") + value for key, value in values.items()
    )
    bodies[number] = b"<<" + entries_out + b">>\nstream\n" + encoded + b"\nendstream"
    return bodies


def _deflate(clear: bytes, secret: bytes, trailer: bytes) -> bytes:
    """Return a Type 1 font program as one zlib stream, its encrypted part stored as it is.

    Ciphertext does not compress (deflate saves nothing on it, at 20 ms per
    contract set); the clear text and the trailer of zeros do. Raw deflate
    parts, each but the last flushed to a byte boundary, concatenate into one
    stream.
    """
    parts = [b"\x78\x9c"]
    for data, level, mode in (
        (clear, 6, zlib.Z_FULL_FLUSH),
        (secret, 0, zlib.Z_FULL_FLUSH),
        (trailer, 6, zlib.Z_FINISH),
    ):
        deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
        parts += [deflater.compress(data), deflater.flush(mode)]
    checksum = zlib.adler32(trailer, zlib.adler32(secret, zlib.adler32(clear)))
    parts.append(checksum.to_bytes(4, "big"))
    return b"".join(parts)


def _rewrite(doc: _Classic, replaced: dict[int, bytes]) -> bytes:
    """Return the file with some objects' bodies replaced, a new table and a hashed /ID."""
    data = doc.data
    pieces: list[bytes] = []
    offsets = [0] * doc.size
    copied = 0  # data[:copied] is in pieces
    shift = 0  # how much further on each object is in the output than in the input
    for start, end, number in sorted((start, end, n) for n, (start, end) in doc.spans.items()):
        offsets[number] = start + shift
        body = replaced.get(number)
        if body is not None:
            pieces.append(data[copied:start])
            whole = b"%d 0 obj\n" % number + body + b"\nendobj\n"
            pieces.append(whole)
            shift += len(whole) - (end - start)
            copied = end
    pieces.append(data[copied : doc.table_at])
    out = _finish_file(pieces, offsets, doc.root, doc.info)
    # Remembered, so that bundling what finish returns need not read its
    # table again: the objects are where the offsets say, in the input's order.
    table_at = int(_STARTXREF.search(out, len(out) - 64).group(1))  # type: ignore[union-attr]
    starts = sorted((offsets[number], number) for number in doc.spans)
    ends = [start for start, _ in starts[1:]] + [table_at]
    spans = {number: (start, end) for (start, number), end in zip(starts, ends, strict=True)}
    _remember(_Classic(out, spans, doc.size, doc.root, doc.info, table_at))
    return out


#: the tables of the files finish returned last, by the identity of their bytes
_RECENT: collections.OrderedDict[int, _Classic] = collections.OrderedDict()
_RECENT_LOCK = threading.Lock()


def _remember(doc: _Classic) -> None:
    """Keep a file's parsed table for :meth:`_Classic.of` (the last few files only)."""
    with _RECENT_LOCK:
        _RECENT[id(doc.data)] = doc
        while len(_RECENT) > 16:
            _RECENT.popitem(last=False)


def _finish_file(pieces: list[bytes], offsets: list[int], root: int, info: int) -> bytes:
    """Return the file's pieces with a cross-reference table and a trailer with a hashed /ID.

    ``offsets[n]`` is where object n starts (``offsets[0]`` is unused); the
    table follows the last piece.
    """
    table_at = sum(map(len, pieces))
    table = [b"xref\n0 %d\n0000000000 65535 f \n" % len(offsets)]
    table += [b"%010d 00000 n \n" % offset for offset in offsets[1:]]
    pieces = [*pieces, b"".join(table)]
    head = b"trailer\n<</Size %d/Root %d 0 R\n/Info %d 0 R\n/ID [ <" % (len(offsets), root, info)
    tail = b">\n<%s> ]\n>>\nstartxref\n%d\n%%%%EOF\n"
    zero = bytes(16).hex().encode()
    # The /ID is a hash of the file written with a zero ID: a function of the
    # content, which still changes whenever anything does.
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    digest.update(head + zero + tail % (zero, table_at))
    hex_id = digest.digest()[:16].hex().upper().encode()
    pieces.append(head + hex_id + tail % (hex_id, table_at))
    return b"".join(pieces)


_XREF_SECTION = re.compile(rb"xref[\x00\t\x0c\r ]*\n")
_SUBSECTION = re.compile(rb"(\d+) (\d+)[\x00\t\x0c\r ]*\n")
_PAGE_TYPE = re.compile(rb"/Type[\x00\t\n\x0c\r ]*/Page(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])")
_OBJ_AT = re.compile(rb"(\d+) (\d+) obj[\x00\t\n\x0c\r ]*")


def _page_count_classic(pdf: bytes) -> int:
    """Return the page count of a file with classic tables (and updates) from its page tree.

    Reading the root's /Count through the tables costs microseconds; pypdf
    parses the whole table and walks the tree (3 ms). The root's kids must all
    be pages, as many as /Count says; anything else raises _Irregular.
    """
    end = _STARTXREF.search(pdf, max(0, len(pdf) - 64))
    if end is None:
        raise _Irregular("startxref")
    sections: list[list[tuple[int, int, int]]] = []
    root: tuple[int, int] | None = None
    at: int | None = int(end.group(1))
    while at is not None:
        if len(sections) > 100:
            raise _Irregular("too many updates")
        head = _XREF_SECTION.match(pdf, at)
        if head is None:
            raise _Irregular("not a classic table")
        subsections, pos = [], head.end()
        while (sub := _SUBSECTION.match(pdf, pos)) is not None:
            first, count = int(sub.group(1)), int(sub.group(2))
            subsections.append((first, count, sub.end()))
            pos = sub.end() + 20 * count
        trailer = _TRAILER.match(pdf, pos)
        if trailer is None or b"/XRefStm" in trailer.group(1) or b"/Encrypt" in trailer.group(1):
            raise _Irregular("trailer")
        sections.append(subsections)
        if root is None:
            found = re.search(rb"/Root\s+(\d+)\s+(\d+)\s+R", trailer.group(1))
            if found is None:
                raise _Irregular("/Root")
            root = int(found.group(1)), int(found.group(2))
        prev = re.search(rb"/Prev\s+(\d+)", trailer.group(1))
        at = int(prev.group(1)) if prev else None
    assert root is not None

    def locate(ref: object) -> int:
        """Return where an object's value starts."""
        if isinstance(ref, IndirectObject):
            number, generation = ref.idnum, ref.generation
        elif isinstance(ref, tuple):
            number, generation = cast(tuple[int, int], ref)
        else:
            raise _Irregular("not a reference")
        for subsections in sections:
            for first, count, start in subsections:
                if first <= number < first + count:
                    at = start + 20 * (number - first)
                    entry = _XREF_ENTRY.fullmatch(pdf, at, at + 20)
                    if entry is None or entry.group(3) != b"n" or int(entry.group(2)) != generation:
                        raise _Irregular(f"object {number}")
                    head = _OBJ_AT.match(pdf, int(entry.group(1)))
                    if head is None or (int(head.group(1)), int(head.group(2))) != (
                        number,
                        generation,
                    ):
                        raise _Irregular(f"object {number}")
                    return head.end()
        raise _Irregular(f"object {number} not in the tables")

    def load(ref: object) -> DictionaryObject:
        """Return a dictionary object, its references unresolved."""
        stream = io.BytesIO(pdf)
        stream.seek(locate(ref))
        try:
            value = read_object(stream, cast(Any, _Unresolved()))
        except Exception as error:  # pypdf raises many kinds
            raise _Irregular(f"{ref}: {error}") from error
        if not isinstance(value, DictionaryObject):
            raise _Irregular(f"{ref} is not a dictionary")
        return value

    def is_page(ref: object) -> bool:
        """Tell whether an object is a page (a leaf of the page tree)."""
        start = locate(ref)
        return _PAGE_TYPE.search(pdf, start, pdf.find(b"endobj", start)) is not None

    pages = load(load(root).get("/Pages"))
    kids, total = pages.get("/Kids"), pages.get("/Count")
    if not isinstance(kids, list) or not isinstance(total, int) or len(kids) != total:
        raise _Irregular("page tree")
    if not all(is_page(kid) for kid in kids):
        raise _Irregular("page tree")
    return total


# --- the bundle, as bytes ------------------------------------------------------------

#: an indirect reference, not part of a name or another number
_REFERENCE = re.compile(
    rb"(?<=[\x00\t\n\x0c\r \[\]<>{}])(\d+)[\x00\t\n\x0c\r ]+0[\x00\t\n\x0c\r ]+R"
    rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
)
_DICT_TOKEN = re.compile(rb"<<|>>|<[^<>]*>|[<>]")
_STREAM_KEYWORD = re.compile(rb"[\x00\t\n\x0c\r ]*stream\r?\n")
_HEADER_VERSION = re.compile(rb"%PDF-1\.([0-7])")
_PAGE_KEYS = {"/Type", "/Parent", "/Resources", "/MediaBox", "/CropBox", "/Contents", "/Rotate"}


@dataclass
class _OutlineItem:
    """A part's bookmark: title, destination array (page reference first), children."""

    title: str
    dest: ArrayObject
    children: list[_OutlineItem]


class _Copier:
    """Copies a part's objects into the bundle under new numbers, references rewritten."""

    def __init__(
        self, doc: _Classic, numbers: list[int], replaced: dict[int, bytes] | None = None
    ) -> None:
        self.doc = doc
        self.numbers = numbers  # the bundle's counter, shared by all parts: [next number]
        self.replaced = replaced or {}  # new bodies of some objects, by their old numbers
        self.new: dict[int, int] = {}
        self.queue: list[int] = []

    def number(self, old: int) -> int:
        """Return an object's number in the bundle, queueing it for copying the first time."""
        new = self.new.get(old)
        if new is None:
            if old not in self.doc.spans:
                raise _Irregular(f"object {old} is missing")
            new = self.new[old] = self.numbers[0]
            self.numbers[0] += 1
            self.queue.append(old)
        return new

    def value(self, obj: Any) -> Any:
        """Return a parsed value with its references renumbered."""
        if isinstance(obj, IndirectObject):
            return IndirectObject(self.number(obj.idnum), 0, cast(Any, _Unresolved()))
        if isinstance(obj, DictionaryObject):
            return DictionaryObject({key: self.value(item) for key, item in obj.items()})
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.value(item) for item in obj)
        return obj

    def body(self, old: int) -> bytes:
        """Return an object's body with its references renumbered, stream data untouched."""
        body = self.replaced.get(old)
        if body is None:
            body = self.doc.body(old)
        head = _dictionary_end(body) if body.startswith(b"<<") else len(body)
        if head < len(body) and not _STREAM_KEYWORD.match(body, head):
            raise _Irregular(f"object {old}: something after its dictionary")
        if b"(" in body[:head]:
            # A literal string could hold "1 0 R": parsed and written again instead.
            if head < len(body):
                raise _Irregular(f"object {old}: a literal string in a stream dictionary")
            return _serialise(self.value(self.doc.dictionary(old)))
        renumbered = _REFERENCE.sub(
            lambda ref: b"%d 0 R" % self.number(int(ref.group(1))), body[:head]
        )
        return renumbered + body[head:]


def _dictionary_end(body: bytes) -> int:
    """Return where a body's leading dictionary ends (past its ``>>``)."""
    depth = 0
    for token in _DICT_TOKEN.finditer(body):
        kind = token.group()
        if kind == b"<<":
            depth += 1
        elif kind == b">>":
            depth -= 1
            if depth == 0:
                return token.end()
        elif kind in (b"<", b">"):
            raise _Irregular("unbalanced dictionary")
    raise _Irregular("unbalanced dictionary")


def _outline_items(doc: _Classic, ref: Any, seen: set[int], depth: int = 0) -> list[_OutlineItem]:
    """Return the bookmarks from ``ref`` on (its /Next chain), with their children."""
    items: list[_OutlineItem] = []
    while ref is not None:
        if not isinstance(ref, IndirectObject) or ref.idnum in seen or depth > 64:
            raise _Irregular("outline")
        seen.add(ref.idnum)
        entry = doc.dictionary(ref.idnum)
        title, dest = entry.get("/Title"), entry.get("/Dest")
        if not isinstance(title, str) or not isinstance(dest, ArrayObject) or len(dest) < 2:
            raise _Irregular("outline item without a title or a destination array")
        if not isinstance(dest[0], IndirectObject):
            raise _Irregular("outline destination")
        children = _outline_items(doc, entry.get("/First"), seen, depth + 1)
        items.append(_OutlineItem(str(title), dest, children))
        ref = entry.get("/Next")
    return items


def _bundle_classic(parts: Sequence[tuple[str, bytes]], meta: _Meta) -> bytes:
    """Return :func:`bundle`'s result by copying the parts' page objects as bytes.

    For parts shaped like :func:`finish`'s output (one classic table, no
    annotations, bookmarks with destination arrays): each part's pages and
    what they use are copied under new numbers, references rewritten; a new
    page tree, outline, catalog and info dictionary join them. The same
    content as pypdf's merge, at a fifth of the cost; anything else raises
    _Irregular.
    """
    docs = [_Classic.of(data) for _, data in parts]
    numbers = [4]  # 1 catalog, 2 info, 3 page tree
    bodies: dict[int, bytes] = {}
    tree: list[tuple[str, int, list[_OutlineItem], dict[int, int]]] = []  # per part
    kids: list[int] = []
    copiers = []
    for (name, _), doc in zip(parts, docs, strict=True):
        catalog = doc.dictionary(doc.root)
        copier = _Copier(doc, numbers)
        copiers.append(copier)
        page_refs = _page_refs(doc)
        index: dict[int, int] = {}  # the part's page numbers -> the bundle's
        if not page_refs:
            raise _Irregular("a part without pages")
        for ref in page_refs:
            if not isinstance(ref, IndirectObject):
                raise _Irregular("page tree")
            page = doc.dictionary(ref.idnum)
            if page.get("/Type") != "/Page" or set(page) - _PAGE_KEYS - {"/StructParents"}:
                raise _Irregular(f"page {ref.idnum}: {sorted(page)}")
            new = copier.number(ref.idnum)
            copier.queue.remove(ref.idnum)  # written from its parsed dictionary below
            # As pypdf's merge: the new parent, and no structure tree entry.
            copy = {key: copier.value(item) for key, item in page.items() if key in _PAGE_KEYS}
            copy[NameObject("/Parent")] = IndirectObject(3, 0, cast(Any, _Unresolved()))
            bodies[new] = _serialise(DictionaryObject(copy))
            index[ref.idnum] = new
            kids.append(new)
        outlines = catalog.get("/Outlines")
        items: list[_OutlineItem] = []
        if isinstance(outlines, IndirectObject):
            items = _outline_items(doc, doc.dictionary(outlines.idnum).get("/First"), set())
        elif outlines is not None:
            raise _Irregular("/Outlines")
        # LibreOffice makes the document title the only top-level heading; under the
        # bundle's own item for the part it would appear twice.
        if len(items) == 1 and items[0].title == name:
            items = items[0].children
        tree.append((name, index[page_refs[0].idnum], items, index))
        while copier.queue:
            old = copier.queue.pop()
            bodies[copier.number(old)] = copier.body(old)

    first = docs[0]
    first_catalog = first.dictionary(first.root)
    xmps = [_catalog_xmp(doc) for doc in docs]
    levels = {_pdfa_level_of(xmp) for xmp in xmps}
    producer = _text_entry(first.dictionary(first.info), "/Producer") or "pypdf"
    catalog_out = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Catalog"),
            NameObject("/Pages"): IndirectObject(3, 0, cast(Any, _Unresolved())),
        }
    )
    outline_root = numbers[0]
    numbers[0] += 1
    bodies.update(_outline_objects(tree, outline_root, numbers))
    catalog_out[NameObject("/Outlines")] = IndirectObject(outline_root, 0, cast(Any, _Unresolved()))
    catalog_out[NameObject("/Lang")] = TextStringObject(meta.language)
    if len(levels) == 1 and None not in levels and xmps[0] is not None:
        # Every part claims the same PDF/A level: keep the claim and what backs it.
        intents = first_catalog.get("/OutputIntents")
        if intents is not None:
            catalog_out[NameObject("/OutputIntents")] = copiers[0].value(intents)
            while copiers[0].queue:
                old = copiers[0].queue.pop()
                bodies[copiers[0].number(old)] = copiers[0].body(old)
        packet = _update_xmp(xmps[0], meta, producer, None)
        bodies[numbers[0]] = (
            b"<</Type/Metadata/Subtype/XML/Length %d>>\nstream\n" % len(packet)
            + packet
            + b"\nendstream"
        )
        catalog_out[NameObject("/Metadata")] = IndirectObject(
            numbers[0], 0, cast(Any, _Unresolved())
        )
        numbers[0] += 1
    bodies[1] = _serialise(catalog_out)
    bodies[2] = _serialise(_info(meta, producer=producer, keywords=None))
    version = max(int(_HEADER_VERSION.match(doc.data).group(1)) for doc in docs)  # type: ignore[union-attr]
    return _new_file(version, bodies, numbers[0], kids)


def _new_file(version: int, bodies: dict[int, bytes], size: int, kids: list[int]) -> bytes:
    """Return a file of the objects 1 to ``size - 1``: 1 the catalog, 2 the info, 3 the pages.

    The page tree (object 3) is made here, of ``kids`` in order.
    """
    bodies[3] = b"<</Type/Pages/Count %d/Kids[%s]>>" % (
        len(kids),
        b" ".join(b"%d 0 R" % kid for kid in kids),
    )
    pieces = [b"%%PDF-1.%d\n%%\xe2\xe3\xcf\xd3\n" % version]
    offsets = [0] * size
    at = len(pieces[0])
    for number in range(1, size):
        whole = b"%d 0 obj\n" % number + bodies[number] + b"\nendobj\n"
        offsets[number] = at
        pieces.append(whole)
        at += len(whole)
    return _finish_file(pieces, offsets, 1, 2)


#: catalog entries a split document keeps from the joined file (besides pages and outline)
_CATALOG_KEPT = ("/ViewerPreferences", "/PageMode", "/PageLayout", "/OutputIntents")
#: a name in a content stream: what a page's resources are looked up by
_CONTENT_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")


def _split_classic(
    pdf: bytes, counts: list[int], metas: list[_Meta], whole: _Meta
) -> tuple[list[bytes], bytes]:
    """Return :func:`split`'s result by copying objects as bytes, as the bundle does.

    The Type 1 font programs get their /UniqueID renumbered and a PDF/A
    output profile its date once, in the joined file; the documents and the
    bundle then copy those objects. Each document's resources keep only what
    its content streams name. Anything unexpected raises _Irregular.
    """
    doc = _Classic.parse(pdf)
    refs = _page_refs(doc)
    if sum(counts) != len(refs) or not all(isinstance(ref, IndirectObject) for ref in refs):
        raise _Irregular(f"{len(refs)} pages, not {sum(counts)}")
    catalog = doc.dictionary(doc.root)
    if catalog.get("/Type") != "/Catalog":
        raise _Irregular("catalog")
    programs: dict[int, _Program] = {}
    replaced = _renumbered_fonts(doc, programs)
    for changed, body in _dated_profiles(doc, catalog, whole.date).items():
        if changed in replaced:
            raise _Irregular(f"object {changed} twice")
        replaced[changed] = body
    outlines = catalog.get("/Outlines")
    items: list[_OutlineItem] = []
    if isinstance(outlines, IndirectObject):
        items = _outline_items(doc, doc.dictionary(outlines.idnum).get("/First"), set())
    elif outlines is not None:
        raise _Irregular("/Outlines")
    producer = _text_entry(doc.dictionary(doc.info), "/Producer") or "pypdf"
    xmp = _catalog_xmp(doc)

    ranges, first = [], 0
    for count in counts:
        ranges.append([ref.idnum for ref in refs[first : first + count]])
        first += count
    documents = [
        _pages_file(doc, replaced, pages, meta, producer, xmp, items, prune=programs)
        for pages, meta in zip(ranges, metas, strict=True)
    ]
    whole_file = _pages_file(
        doc, replaced, [n for pages in ranges for n in pages], whole, producer, xmp, items,
        parts=[(meta.title, pages) for meta, pages in zip(metas, ranges, strict=True)],
    )  # fmt: skip
    return documents, whole_file


def _pages_file(
    doc: _Classic,
    replaced: dict[int, bytes],
    pages: list[int],
    meta: _Meta,
    producer: str,
    xmp: bytes | None,
    items: list[_OutlineItem],
    *,
    prune: dict[int, _Program] | None = None,
    parts: list[tuple[str, list[int]]] | None = None,
) -> bytes:
    """Return a finished file of some pages of ``doc``, with the bookmarks that point at them.

    With ``parts`` (title and pages of each document), the bookmarks are
    grouped under one item per document, as in :func:`bundle`.
    """
    numbers = [4]  # 1 catalog, 2 info, 3 page tree
    streams = _page_streams(doc, pages) if prune is not None else []
    names = {name for data in streams for name in _CONTENT_NAME.findall(data)}
    if prune:
        replaced = {**replaced, **_pruned_fonts(doc, pages, prune, _shown_codes(streams))}
    copier = _Copier(doc, numbers, replaced)
    bodies: dict[int, bytes] = {}
    index: dict[int, int] = {}  # old page number -> new
    resources: dict[Any, Any] = {}  # old /Resources (number or id of a direct one) -> copy
    for old in pages:
        page = doc.dictionary(old)
        if page.get("/Type") != "/Page" or set(page) - _PAGE_KEYS - {"/StructParents"}:
            raise _Irregular(f"page {old}: {sorted(page)}")
        new = index[old] = copier.number(old)
        copier.queue.remove(old)  # written from its parsed dictionary below
        copy = {key: copier.value(item) for key, item in page.items() if key in _PAGE_KEYS}
        copy[NameObject("/Parent")] = _ref(3)
        if prune is not None and "/Resources" in page:
            used = page.get("/Resources")
            key = used.idnum if isinstance(used, IndirectObject) else id(used)
            if key not in resources:
                pruned = _pruned_resources(doc, used, names)
                number = numbers[0]
                numbers[0] += 1
                bodies[number] = _serialise(copier.value(pruned))
                resources[key] = _ref(number)
            copy[NameObject("/Resources")] = resources[key]
        bodies[new] = _serialise(DictionaryObject(copy))

    out_catalog = DictionaryObject(
        {NameObject("/Type"): NameObject("/Catalog"), NameObject("/Pages"): _ref(3)}
    )
    catalog = doc.dictionary(doc.root)
    for entry in _CATALOG_KEPT:
        if entry in catalog:
            out_catalog[NameObject(entry)] = copier.value(catalog.get(entry))
    opening = catalog.get("/OpenAction")
    if isinstance(opening, ArrayObject) and len(opening) > 1:
        out_catalog[NameObject("/OpenAction")] = ArrayObject([_ref(index[pages[0]]), *opening[1:]])
    if parts is not None:
        tree = []
        for name, own in parts:
            own_items = [item for item in items if item.dest[0].idnum in set(own)]
            # LibreOffice makes each document's title its one top-level heading;
            # under the bundle's item for the document it would appear twice.
            if len(own_items) == 1 and own_items[0].title == name:
                own_items = own_items[0].children
            tree.append((name, index[own[0]], own_items, index))
        top = numbers[0]
        numbers[0] += 1
        bodies.update(_outline_objects(tree, top, numbers))
        out_catalog[NameObject("/Outlines")] = _ref(top)
    else:
        level = _outline_level(items, index)
        if level:
            top = numbers[0]
            numbers[0] += 1
            bodies.update(_write_outline(level, top, numbers))
            out_catalog[NameObject("/Outlines")] = _ref(top)
    out_catalog[NameObject("/Lang")] = TextStringObject(meta.language)
    if xmp is not None:
        packet = _update_xmp(xmp, meta, producer, None)
        bodies[numbers[0]] = (
            b"<</Type/Metadata/Subtype/XML/Length %d>>\nstream\n" % len(packet)
            + packet
            + b"\nendstream"
        )
        out_catalog[NameObject("/Metadata")] = _ref(numbers[0])
        numbers[0] += 1
    while copier.queue:
        old = copier.queue.pop()
        bodies[copier.number(old)] = copier.body(old)
    bodies[1] = _serialise(out_catalog)
    bodies[2] = _serialise(_info(meta, producer=producer, keywords=None))
    header = _HEADER_VERSION.match(doc.data)
    assert header is not None  # _Classic.parse checked the header
    return _new_file(int(header.group(1)), bodies, numbers[0], [index[old] for old in pages])


def _page_streams(doc: _Classic, pages: list[int]) -> list[bytes]:
    """Return the decoded content streams of some pages."""
    streams = []
    for old in pages:
        contents = doc.dictionary(old).get("/Contents")
        for ref in contents if isinstance(contents, ArrayObject) else [contents]:
            if not isinstance(ref, IndirectObject):
                raise _Irregular(f"page {old}: /Contents")
            entries, encoded = doc.flat_stream(ref.idnum)
            filters = entries.get(b"Filter")
            if filters not in (None, b"/FlateDecode"):
                raise _Irregular(f"content stream {ref.idnum}: filter")
            streams.append(zlib.decompress(encoded) if filters else encoded)
    return streams


def _pruned_fonts(
    doc: _Classic,
    pages: list[int],
    programs: dict[int, _Program],
    shown: dict[bytes | None, set[int]] | None,
) -> dict[int, bytes]:
    """Return new bodies of the Type 1 programs some pages use, with only the glyphs they show.

    Nothing when the pages cannot be read for it (``shown`` None); a program
    whose fonts are shown by no known name keeps the glyphs of every string
    drawn in an unknown font, as all do.
    """
    if shown is None:
        return {}
    codes: dict[int, set[int]] = {}  # program object -> codes its fonts show
    for old in pages:
        resources = doc.dictionary(old).get("/Resources")
        if isinstance(resources, IndirectObject):
            resources = doc.dictionary(resources.idnum)
        fonts = resources.get("/Font") if isinstance(resources, DictionaryObject) else None
        if isinstance(fonts, IndirectObject):
            fonts = doc.dictionary(fonts.idnum)
        for name, ref in (fonts or {}).items():
            if not isinstance(ref, IndirectObject):
                continue
            descriptor = doc.dictionary(ref.idnum).get("/FontDescriptor")
            if not isinstance(descriptor, IndirectObject):
                continue
            program = doc.dictionary(descriptor.idnum).get("/FontFile")
            if isinstance(program, IndirectObject) and program.idnum in programs:
                used = codes.setdefault(program.idnum, set(shown.get(None, ())))
                used.update(shown.get(name[1:].encode(), ()))
    bodies: dict[int, bytes] = {}
    for number, used in codes.items():
        pruned = _pruned_program(programs[number], used)
        if pruned is None:
            continue
        entries = pruned.entries
        encoded = (
            _deflate(pruned.clear, pruned.secret, pruned.trailer)
            if b"Filter" in entries
            else pruned.clear + pruned.secret + pruned.trailer
        )
        values = {
            **entries,
            b"Length1": b"%d" % len(pruned.clear),
            b"Length2": b"%d" % len(pruned.secret),
        }
        bodies.update(_stream_bodies(doc, number, values, encoded))
    return bodies


def _pruned_resources(doc: _Classic, resources: Any, names: set[bytes]) -> DictionaryObject:
    """Return a resource dictionary with only the named resources the content uses."""
    if isinstance(resources, IndirectObject):
        resources = doc.dictionary(resources.idnum)
    if not isinstance(resources, DictionaryObject):
        raise _Irregular("/Resources")
    out = DictionaryObject()
    for category, value in resources.items():
        if category == "/ProcSet":
            out[NameObject(category)] = value
            continue
        entries = doc.dictionary(value.idnum) if isinstance(value, IndirectObject) else value
        if not isinstance(entries, DictionaryObject):
            raise _Irregular(f"/Resources {category}")
        # A name written with #xx escapes is kept: the content has it in another spelling.
        kept = {
            NameObject(name): item
            for name, item in entries.items()
            if not name[1:].isalnum() or name[1:].encode() in names
        }
        if kept:
            out[NameObject(category)] = DictionaryObject(kept)
    return out


def _catalog_xmp(doc: _Classic) -> bytes | None:
    """Return a part's XMP packet, or None when its catalog has none."""
    ref = doc.dictionary(doc.root).get("/Metadata")
    if ref is None:
        return None
    if not isinstance(ref, IndirectObject):
        raise _Irregular("/Metadata")
    entries, packet = doc.flat_stream(ref.idnum)
    if b"Filter" in entries:
        raise _Irregular("/Metadata is filtered")
    return packet


_Level = list[tuple[str, ArrayObject, list[Any]]]


def _ref(number: int) -> IndirectObject:
    """Return a reference to an object of the file being written."""
    return IndirectObject(number, 0, cast(Any, _Unresolved()))


def _outline_level(items: list[_OutlineItem], pages: dict[int, int]) -> _Level:
    """Return the items pointing at ``pages`` (old page number -> new), with their children."""
    out: _Level = []
    for item in items:
        page = pages.get(item.dest[0].idnum)
        if page is None:
            continue  # not one of the file's pages: left out with its children
        if item.dest[1] == "/XYZ":
            if len(item.dest) != 5:
                raise _Irregular("/XYZ destination")
            dest = ArrayObject([_ref(page), NameObject("/XYZ"), *item.dest[2:]])
        else:
            dest = ArrayObject([_ref(page), NameObject("/Fit")])
        out.append((item.title, dest, _outline_level(item.children, pages)))
    return out


def _outline_objects(
    tree: list[tuple[str, int, list[_OutlineItem], dict[int, int]]],
    root: int,
    numbers: list[int],
) -> dict[int, bytes]:
    """Return the bundle's outline objects: an open item per part, the part's items below it.

    ``tree`` holds per part: its title, its first page's object number in the
    bundle, its bookmarks, and the map from its page numbers to the bundle's.
    """
    top: _Level = [
        (name, ArrayObject([_ref(first), NameObject("/Fit")]), _outline_level(items, pages))
        for name, first, items, pages in tree
    ]
    return _write_outline(top, root, numbers)


def _write_outline(top: _Level, root: int, numbers: list[int]) -> dict[int, bytes]:
    """Return the objects of an outline (root object ``root``) with ``top`` as its first level."""
    bodies: dict[int, bytes] = {}

    def write(level: _Level, parent: int) -> tuple[list[int], int]:
        """Write one level of items under ``parent``; return their numbers and visible count."""
        made: list[tuple[int, DictionaryObject]] = []
        visible = 0
        for title, dest, children in level:
            number = numbers[0]
            numbers[0] += 1
            item = DictionaryObject(
                {
                    NameObject("/Title"): TextStringObject(title),
                    NameObject("/Parent"): _ref(parent),
                    NameObject("/Dest"): dest,
                }
            )
            below, count = write(children, number)
            if below:
                item[NameObject("/First")] = _ref(below[0])
                item[NameObject("/Last")] = _ref(below[-1])
                item[NameObject("/Count")] = NumberObject(count)
            made.append((number, item))
            visible += 1 + count
        for i, (number, item) in enumerate(made):
            if i:
                item[NameObject("/Prev")] = _ref(made[i - 1][0])
            if i + 1 < len(made):
                item[NameObject("/Next")] = _ref(made[i + 1][0])
            bodies[number] = _serialise(item)
        return [number for number, _ in made], visible

    below, count = write(top, root)
    outlines = DictionaryObject({NameObject("/Type"): NameObject("/Outlines")})
    if below:
        outlines[NameObject("/First")] = _ref(below[0])
        outlines[NameObject("/Last")] = _ref(below[-1])
        outlines[NameObject("/Count")] = NumberObject(count)
    bodies[root] = _serialise(outlines)
    return bodies


# --- Type 1 UniqueID -------------------------------------------------------------


def _renumber_type1_ids(writer: PdfWriter) -> None:
    """Renumber the /UniqueID of every embedded Type 1 font from 4100001, in order."""
    programs: list[tuple[StreamObject, int]] = []
    # Every object of the clone, in object order (pypdf has no public iterator):
    # only Type 1 font programs (FontFile streams) have a /Length2.
    for obj in writer._objects:
        if isinstance(obj, StreamObject) and "/Length2" in obj:
            found = _UNIQUE_ID.search(obj.get_data()[: _int(obj, "/Length1")])
            if found:
                programs.append((obj, int(found.group(1))))
    order = sorted({unique_id for _, unique_id in programs})
    renumber = {old: _UNIQUE_ID_BASE + n for n, old in enumerate(order)}
    for stream, old in programs:
        _set_unique_id(stream, renumber[old])


def _set_unique_id(stream: StreamObject, new_id: int) -> None:
    """Write ``new_id`` as the UniqueID of a Type 1 font program, both clear and encrypted."""
    data = stream.get_data()
    program = _renumbered_program(data, _int(stream, "/Length1"), _int(stream, "/Length2"), new_id)
    if program is None:
        return
    clear, secret, trailer = program
    stream.set_data(clear + secret + trailer)
    stream[NameObject("/Length1")] = NumberObject(len(clear))
    stream[NameObject("/Length2")] = NumberObject(len(secret))


def _renumbered_program(
    data: bytes, clear_len: int, secret_len: int, new_id: int
) -> tuple[bytes, bytes, bytes] | None:
    """Return a Type 1 font program's three parts with ``new_id`` as its UniqueID.

    None for a hex (PFA-style) encrypted part, which LibreOffice never writes
    and which is left alone.
    """
    clear, secret = data[:clear_len], data[clear_len : clear_len + secret_len]
    trailer = data[clear_len + secret_len :]
    if _is_hex(secret[:4]):
        return None
    replacement = b"/UniqueID %d def" % new_id
    clear = _UNIQUE_ID.sub(replacement, clear, count=1)
    return clear, _reencrypt(secret, replacement), trailer


def _reencrypt(secret: bytes, replacement: bytes) -> bytes:
    """Return an eexec section with its first UniqueID definition replaced.

    The cipher chains through the ciphertext: the bytes before the edit stay as
    they are, everything after it re-encrypts differently. The ID sits near the
    start of the Private dictionary, so only a short head is decrypted to find it.
    """
    found = None
    for head in (1024, 16384, len(secret)):
        found = _UNIQUE_ID.search(_uneexec(secret[:head]))
        if found or head >= len(secret):
            break
    if found is None:
        return secret
    start, end = found.span()
    if found.group(0) == replacement:
        return secret  # the same plaintext encrypts to the same bytes
    if end - start != len(replacement):
        plain = _uneexec(secret)
        return _eexec(plain[:start] + replacement + plain[end:])
    return secret[:start] + _reencrypt_from(secret, start, replacement)


@functools.cache
def _eexec_table() -> list[int]:
    """Return the eexec key step ``r' = (c + r) * 52845 + 22719`` indexed by ``c + r``."""
    return [(s * 52845 + 22719) & 0xFFFF for s in range(0x10000 + 0x100)]


def _key_at(cipher: bytes, position: int) -> int:
    """Return the eexec key after decrypting ``cipher[:position]``."""
    step = _eexec_table()
    r = _EEXEC_KEY
    for c in cipher[:position]:
        r = step[c + r]
    return r


def _reencrypt_from(cipher: bytes, start: int, replacement: bytes) -> bytes:
    """Return ``cipher[start:]`` re-encrypted with its first plaintext bytes replaced.

    The same loop in C (``generator/_eexec.c``) when that was built.
    """
    if _eexec_c is not None:
        return cast(bytes, _eexec_c.reencrypt_from(cipher, start, replacement))
    return _reencrypt_from_python(cipher, start, replacement)


def _reencrypt_from_python(cipher: bytes, start: int, replacement: bytes) -> bytes:
    """Return ``cipher[start:]`` re-encrypted with its first plaintext bytes replaced.

    One pass decrypts the old ciphertext and encrypts the new plaintext side by
    side: ``r`` follows the old cipher, ``s`` the new one; the key both start from
    is the same, because the ciphertext before ``start`` is unchanged.
    """
    step = _eexec_table()
    r = s = _key_at(cipher, start)
    out: list[int] = []
    put = out.append
    for p, c in zip(replacement, cipher[start : start + len(replacement)], strict=True):
        r = step[c + r]
        n = p ^ (s >> 8)
        put(n)
        s = step[n + s]
    for c in cipher[start + len(replacement) :]:
        n = c ^ ((r ^ s) >> 8)
        r = step[c + r]
        put(n)
        s = step[n + s]
    return bytes(out)


def _int(stream: StreamObject, key: str) -> int:
    """Return an integer entry of a stream dictionary."""
    return int(cast(NumberObject, stream[key]))


def _is_hex(head: bytes) -> bool:
    """Tell whether the first bytes of an eexec section are hexadecimal digits."""
    return len(head) == 4 and all(chr(b) in "0123456789abcdefABCDEF" for b in head)


def _uneexec(cipher: bytes) -> bytes:
    """Return the plaintext of an eexec-encrypted section (Type 1 spec, ch. 7)."""
    if _eexec_c is not None:
        return cast(bytes, _eexec_c.crypt(cipher, True))
    return _uneexec_python(cipher)


def _uneexec_python(cipher: bytes) -> bytes:
    """Return :func:`_uneexec`'s result with the Python loop."""
    step = _eexec_table()
    r = _EEXEC_KEY
    out: list[int] = []
    put = out.append
    for c in cipher:
        put(c ^ (r >> 8))
        r = step[c + r]
    return bytes(out)


def _eexec(plain: bytes) -> bytes:
    """Return ``plain`` eexec-encrypted; its first four bytes are the cipher's seed bytes."""
    if _eexec_c is not None:
        return cast(bytes, _eexec_c.crypt(plain, False))
    return _eexec_python(plain)


def _eexec_python(plain: bytes) -> bytes:
    """Return :func:`_eexec`'s result with the Python loop."""
    step = _eexec_table()
    r = _EEXEC_KEY
    out: list[int] = []
    put = out.append
    for p in plain:
        c = p ^ (r >> 8)
        put(c)
        r = step[c + r]
    return bytes(out)


# --- XMP ---------------------------------------------------------------------------


def _xmp_bytes(reader: PdfReader) -> bytes | None:
    """Return the document's XMP packet, or None when it has none."""
    ref = reader.root_object.get("/Metadata")
    if ref is None:
        return None
    stream = ref.get_object()
    return stream.get_data() if isinstance(stream, StreamObject) else None


def _pdfa_level(reader: PdfReader) -> str | None:
    """Return the PDF/A part and conformance the XMP declares (``"2B"``), or None."""
    return _pdfa_level_of(_xmp_bytes(reader))


def _pdfa_level_of(data: bytes | None) -> str | None:
    """Return the PDF/A part and conformance an XMP packet declares (``"2B"``), or None."""
    if data is None:
        return None
    try:
        doc = minidom.parseString(data)
    except ExpatError:
        return None
    part = _first_value(doc, _PDFAID, "part")
    conformance = _first_value(doc, _PDFAID, "conformance")
    return f"{part}{conformance or ''}".upper() if part else None


def _first_value(doc: minidom.Document, namespace: str, name: str) -> str | None:
    """Return a simple XMP property, written as an element or as an attribute."""
    for node in doc.getElementsByTagNameNS(namespace, name):
        return "".join(t.data for t in node.childNodes if isinstance(t, minidom.Text)).strip()
    for desc in doc.getElementsByTagNameNS(_RDF, "Description"):
        if desc.hasAttributeNS(namespace, name):
            return desc.getAttributeNS(namespace, name)
    return None


def _update_xmp(data: bytes, meta: _Meta, producer: str, keywords: str | None) -> bytes:
    """Return the XMP packet with the properties the info dictionary mirrors replaced."""
    try:
        doc = minidom.parseString(data)
    except ExpatError:
        # Not XML: nothing that could be brought into line; left as it came.
        return data
    rdf = next(iter(doc.getElementsByTagNameNS(_RDF, "RDF")), None)
    if rdf is None:
        return data
    managed: dict[tuple[str, str], tuple[str, str] | None] = {
        (_DC, "title"): ("alt", meta.title),
        (_DC, "creator"): ("seq", meta.author),
        (_DC, "description"): ("alt", meta.subject),
        (_PDF, "Producer"): ("text", producer),
        (_PDF, "Keywords"): ("text", keywords) if keywords else None,
        (_XMP, "CreatorTool"): ("text", CREATOR),
        (_XMP, "CreateDate"): ("text", meta.xmp_date),
        (_XMP, "ModifyDate"): ("text", meta.xmp_date),
        # Written by some producers with the wall-clock time; nothing requires it.
        (_XMP, "MetadataDate"): None,
    }
    # Top-level descriptions only: extension schemas nest their own.
    descriptions = [
        node
        for node in rdf.childNodes
        if isinstance(node, minidom.Element)
        and node.namespaceURI == _RDF
        and node.localName == "Description"
    ]
    about = descriptions[0].getAttributeNS(_RDF, "about") if descriptions else ""
    for desc in descriptions:
        for namespace, name in managed:
            for node in list(desc.childNodes):
                if node.namespaceURI == namespace and node.localName == name:
                    desc.removeChild(node)
            if desc.hasAttributeNS(namespace, name):
                desc.removeAttributeNS(namespace, name)
        if not _has_content(desc):
            rdf.removeChild(desc)
    desc = doc.createElementNS(_RDF, "rdf:Description")
    desc.setAttributeNS(_RDF, "rdf:about", about)
    for namespace, prefix in _PREFIXES.items():
        desc.setAttribute(f"xmlns:{prefix}", namespace)
    for (namespace, name), value in managed.items():
        if value is not None:
            desc.appendChild(_property(doc, f"{_PREFIXES[namespace]}:{name}", *value))
    rdf.appendChild(desc)
    _indent(rdf)
    # Each top-level node on its own: no XML declaration (PDF 2.0, Annex H), and the
    # <?xpacket?> processing instructions stay as they were.
    return b"\n".join(node.toxml(encoding="utf-8") for node in doc.childNodes)


def _indent(rdf: minidom.Element) -> None:
    """Put each rdf:Description of the packet on its own line again after the edits."""
    doc = rdf.ownerDocument
    assert doc is not None
    for node in list(rdf.childNodes):
        if isinstance(node, minidom.Text) and not node.data.strip():
            rdf.removeChild(node)
    for node in list(rdf.childNodes):
        rdf.insertBefore(doc.createTextNode("\n  "), node)
    rdf.appendChild(doc.createTextNode("\n "))


def _has_content(desc: minidom.Element) -> bool:
    """Tell whether an rdf:Description still states anything."""
    if any(isinstance(node, minidom.Element) for node in desc.childNodes):
        return True
    for i in range(desc.attributes.length):
        name = cast(minidom.Attr, desc.attributes.item(i)).name
        if not (name.startswith("xmlns") or name in ("rdf:about", "about")):
            return True
    return False


def _property(doc: minidom.Document, qname: str, kind: str, value: str) -> minidom.Element:
    """Return an XMP property element: plain text, an ordered list, or a language alternative."""
    element = doc.createElement(qname)
    if kind == "text":
        element.appendChild(doc.createTextNode(value))
        return element
    container = doc.createElement("rdf:Seq" if kind == "seq" else "rdf:Alt")
    item = doc.createElement("rdf:li")
    if kind == "alt":
        item.setAttributeNS(_XML, "xml:lang", "x-default")
    item.appendChild(doc.createTextNode(value))
    container.appendChild(item)
    element.appendChild(container)
    return element


# --- outlines ----------------------------------------------------------------------


def _own_outline(reader: PdfReader, name: str) -> list[Any]:
    """Return a part's outline, without its top item when that only repeats the part's title."""
    outline = list(reader.outline)
    # LibreOffice makes the document title the only top-level heading; under the
    # bundle's own item for the part it would appear twice.
    if len(outline) == 2 and isinstance(outline[1], list) and _title(outline[0]) == name:
        return list(outline[1])
    if len(outline) == 1 and _title(outline[0]) == name:
        return []
    return outline


def _title(entry: Any) -> str | None:
    """Return an outline entry's title, or None for a nested list."""
    return None if isinstance(entry, list) else str(entry.title)


def _copy_outline(
    writer: PdfWriter, reader: PdfReader, entries: list[Any], parent: Any, offset: int
) -> None:
    """Add a part's outline entries under ``parent``, their pages shifted by ``offset``."""
    previous: Any = None
    for entry in entries:
        if isinstance(entry, list):
            # A list holds the children of the entry just before it.
            if previous is not None:
                _copy_outline(writer, reader, entry, previous, offset)
            continue
        page = reader.get_destination_page_number(entry)
        if page is None or page < 0:
            previous = None
            continue
        if entry.typ == "/XYZ":
            fit = Fit.xyz(left=entry.left, top=entry.top, zoom=entry.zoom)
        else:
            fit = Fit.fit()
        previous = writer.add_outline_item(
            title=str(entry.title), page_number=offset + page, parent=parent, fit=fit
        )
