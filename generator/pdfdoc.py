"""Finish LibreOffice's PDFs: document metadata, reproducible bytes, and the set's bundle.

Pure post-processing with pypdf; nothing here runs LibreOffice.

:func:`finish` sets the document information (Title, Subject = contract
number, Author, Creator ``contractgen``, CreationDate = ModDate = the signing
date at 00:00 China time) and the catalog's /Lang, and makes the output a
function of the input's content only. LibreOffice's PDFs differ from run to
run in three places, all of which are rewritten:

* the info dictionary's /CreationDate and, in PDF/A, the XMP ``xmp:CreateDate``
  carry the conversion time;
* the trailer /ID is random; it becomes a hash of the finished file;
* every CJK font LibreOffice embeds as Type 1 carries a ``/UniqueID`` taken from
  a counter that lives as long as the office process (4100001, 4100002, … for
  the first document, higher for the next ones), both in the clear part of the
  font program and inside its eexec-encrypted Private dictionary. The IDs of a
  document are renumbered from 4100001 in their original order, which is what
  a freshly started office would have written.

PDF/A: when the input has XMP metadata, the properties PDF/A requires to agree
with the info dictionary (dc:title, dc:creator, dc:description, pdf:Producer,
pdf:Keywords, xmp:CreatorTool, xmp:CreateDate, xmp:ModifyDate) are rewritten to
match it and everything else in the packet (pdfaid, extension schemas) is kept.
:func:`bundle` carries the first part's OutputIntents and XMP into the bundle
when every part declares the same PDF/A level, so a set of PDF/A-2b documents
gives a bundle that still says PDF/A-2b (its tagging, which 2b does not
require, is not merged).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    Fit,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

__all__ = ["CREATOR", "bundle", "finish", "page_count"]

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
    reader = PdfReader(io.BytesIO(pdf))
    # keep_initial_header: a PDF/A-2 file from LibreOffice says %PDF-1.6, not pypdf's 1.3.
    writer = PdfWriter(clone_from=reader, keep_initial_header=True)
    _renumber_type1_ids(writer)
    _apply_metadata(
        writer,
        _Meta(title, subject, author, date, language),
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
        _Meta(title, subject, author, date, language),
        producer=_info_text(first, "/Producer") or "pypdf",
        keywords=None,
    )
    return _write_reproducibly(writer)


def _info_text(reader: PdfReader, key: str) -> str | None:
    """Return an entry of the document information as text, or None when absent or empty."""
    info = reader.metadata
    value = info.get(key) if info is not None else None
    return str(value) if value else None


def _apply_metadata(writer: PdfWriter, meta: _Meta, *, producer: str, keywords: str | None) -> None:
    """Replace the info dictionary, set /Lang, and bring existing XMP into line with both."""
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
    # Replaced, not merged: whatever else LibreOffice put there (its own
    # CreationDate above all) must not survive.
    writer.metadata = DictionaryObject(
        {NameObject(key): TextStringObject(value) for key, value in info.items()}
    )
    writer.root_object[NameObject("/Lang")] = TextStringObject(meta.language)
    if "/Metadata" in writer.root_object:
        xmp = cast(StreamObject, writer.root_object["/Metadata"].get_object())
        writer.xmp_metadata = _update_xmp(xmp.get_data(), meta, producer, keywords)


def _write_reproducibly(writer: PdfWriter) -> bytes:
    """Write the document with a trailer /ID that is a hash of everything else."""
    # Written once with a zero ID, hashed, written again with the hash: the ID is
    # then a function of the content, and still changes whenever anything does.
    writer._ID = ArrayObject([ByteStringObject(bytes(16))] * 2)
    draft = io.BytesIO()
    writer.write(draft)
    digest = ByteStringObject(hashlib.sha256(draft.getvalue()).digest()[:16])
    writer._ID = ArrayObject([digest, digest])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
    clear_len, secret_len = _int(stream, "/Length1"), _int(stream, "/Length2")
    clear, secret = data[:clear_len], data[clear_len : clear_len + secret_len]
    trailer = data[clear_len + secret_len :]
    if _is_hex(secret[:4]):
        # A PFA-style hex section: never produced by LibreOffice; left alone.
        return
    replacement = b"/UniqueID %d def" % new_id
    clear = _UNIQUE_ID.sub(replacement, clear, count=1)
    # The cipher chains through the ciphertext: after the edit everything that
    # follows re-encrypts differently, so the whole section is redone.
    secret = _eexec(_UNIQUE_ID.sub(replacement, _uneexec(secret), count=1))
    # Re-encoded even when the number did not change, so that the stream's bytes
    # never depend on whether LibreOffice's counter happened to start afresh.
    stream.set_data(clear + secret + trailer)
    stream[NameObject("/Length1")] = NumberObject(len(clear))
    stream[NameObject("/Length2")] = NumberObject(len(secret))


def _int(stream: StreamObject, key: str) -> int:
    """Return an integer entry of a stream dictionary."""
    return int(cast(NumberObject, stream[key]))


def _is_hex(head: bytes) -> bool:
    """Tell whether the first bytes of an eexec section are hexadecimal digits."""
    return len(head) == 4 and all(chr(b) in "0123456789abcdefABCDEF" for b in head)


def _uneexec(cipher: bytes) -> bytes:
    """Return the plaintext of an eexec-encrypted section (Type 1 spec, ch. 7)."""
    r = _EEXEC_KEY
    out = bytearray(len(cipher))
    for i, c in enumerate(cipher):
        out[i] = c ^ (r >> 8)
        r = ((c + r) * 52845 + 22719) & 0xFFFF
    return bytes(out)


def _eexec(plain: bytes) -> bytes:
    """Return ``plain`` eexec-encrypted; its first four bytes are the cipher's seed bytes."""
    r = _EEXEC_KEY
    out = bytearray(len(plain))
    for i, p in enumerate(plain):
        c = p ^ (r >> 8)
        out[i] = c
        r = ((c + r) * 52845 + 22719) & 0xFFFF
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
    data = _xmp_bytes(reader)
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
