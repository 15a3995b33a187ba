"""generator.pdfdoc on real LibreOffice PDFs: metadata, reproducible bytes, the bundle."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.dom import minidom

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from pypdf import PdfReader, PdfWriter
from pypdf.generic import StreamObject

from generator import pdfdoc, seal
from generator.convert import ConverterPool

from ..type1 import unique_ids

DATE = dt.date(2024, 3, 5)  # far from any day the tests run on: no clock can produce it
META: dict[str, Any] = {
    "title": "运维服务合同",
    "subject": "11NMB2F042362026201",
    "author": "上海市大数据中心",
    "date": DATE,
}
CHINA = dt.timezone(dt.timedelta(hours=8))
XMP_DATE = "2024-03-05T00:00:00+08:00"


def _song(paragraph: Paragraph, text: str) -> None:
    """Add a run of ``text`` in 宋体 12 pt (Noto Serif CJK through our fontconfig map)."""
    run = paragraph.add_run(text)
    run.font.size = Pt(12)
    run.font.name = "宋体"  # creates w:rFonts (ascii, hAnsi); eastAsia is set below
    run._element.get_or_add_rPr().rFonts.set(qn("w:eastAsia"), "宋体")


def make_docx(title: str, pages: int, *, bold_heading: bool = True) -> bytes:
    """Return a DOCX of ``pages`` pages, each with a heading (a bookmark in the PDF)."""
    doc = Document()
    doc.add_heading(title, level=1)
    for n in range(pages):
        if n:
            doc.add_page_break()
        heading = doc.add_heading(level=2)
        _song(heading, f"第{n + 1}条 约定")
        heading.runs[0].bold = bold_heading
        _song(doc.add_paragraph(), "甲方和乙方本着平等自愿的原则订立本协议。" * 4)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pool() -> Iterator[ConverterPool]:
    """One LibreOffice for the module: one worker, so repeated conversions share its counters."""
    with ConverterPool(1) as converter:
        yield converter


@pytest.fixture(scope="module")
def docx() -> bytes:
    return make_docx("运维服务合同", 3)


@pytest.fixture(scope="module")
def raw(pool: ConverterPool, docx: bytes) -> bytes:
    return pool.convert_bytes(docx)


@pytest.fixture(scope="module")
def raw_pdfa(pool: ConverterPool, docx: bytes) -> bytes:
    return pool.convert_bytes(docx, pdfa=True)


@pytest.fixture(scope="module")
def parts(pool: ConverterPool) -> list[tuple[str, bytes, bytes]]:
    """Return three documents of 3, 1 and 2 pages as (title, PDF, PDF/A), finished."""
    out = []
    for title, pages in (("运维服务合同", 3), ("保密协议", 1), ("廉洁协议", 2)):
        source = make_docx(title, pages)
        plain = pdfdoc.finish(pool.convert_bytes(source), **{**META, "title": title})
        pdfa = pdfdoc.finish(pool.convert_bytes(source, pdfa=True), **{**META, "title": title})
        out.append((title, plain, pdfa))
    return out


def xmp_doc(pdf: bytes) -> minidom.Document:
    """Return the parsed XMP packet of a PDF."""
    stream = PdfReader(io.BytesIO(pdf)).root_object["/Metadata"].get_object()
    return minidom.parseString(stream.get_data())


def xmp_values(doc: minidom.Document, namespace: str, name: str) -> list[str]:
    """Return the text of every occurrence of an XMP property (one per element)."""
    return [node.toxml() for node in doc.getElementsByTagNameNS(namespace, name)]


def text_of(doc: minidom.Document, namespace: str, name: str) -> str:
    """Return the text inside the single occurrence of a property."""
    (node,) = doc.getElementsByTagNameNS(namespace, name)
    return "".join(t.data for t in _texts(node)).strip()


def _texts(node: minidom.Node) -> Iterator[minidom.Text]:
    for child in node.childNodes:
        if isinstance(child, minidom.Text):
            yield child
        else:
            yield from _texts(child)


def test_page_count(raw: bytes) -> None:
    assert pdfdoc.page_count(raw) == 3


def test_page_count_reads_the_page_tree_through_every_update(
    raw: bytes, parts: list[tuple[str, bytes, bytes]]
) -> None:
    # LibreOffice's file, a finished one, pyHanko's update, a bundle: all read
    # through their tables (no _Irregular), all agreeing with pypdf's walk.
    finished = pdfdoc.finish(raw, **META)
    field = {"field": "seal_test", "page": 2, "rect": [100, 100, 220, 220]}
    sealed = seal._with_fields(finished, [field])
    bundled = pdfdoc.bundle([(title, pdf) for title, pdf, _ in parts], **META)
    files = [raw, finished, sealed, bundled]
    files += [pdf for _, pdf, _ in parts] + [pdfa for _, _, pdfa in parts]
    for pdf in files:
        assert pdfdoc._page_count_classic(pdf) == len(PdfReader(io.BytesIO(pdf)).pages)
    # pypdf's own update ends in a cross-reference stream: pypdf counts.
    writer = PdfWriter(io.BytesIO(raw), incremental=True)
    writer.add_metadata({"/Title": "updated"})
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(pdfdoc._Irregular):
        pdfdoc._page_count_classic(buffer.getvalue())
    assert pdfdoc.page_count(buffer.getvalue()) == 3


def test_metadata_round_trip(raw: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdfdoc.finish(raw, **META)))
    info = reader.metadata
    assert info is not None
    assert info.title == "运维服务合同"
    assert info.subject == "11NMB2F042362026201"
    assert info.author == "上海市大数据中心"
    assert info.creator == "contractgen"
    assert info.producer == PdfReader(io.BytesIO(raw)).metadata.producer  # type: ignore[union-attr]
    midnight = dt.datetime(2024, 3, 5, tzinfo=CHINA)
    assert info.creation_date == midnight
    assert info.modification_date == midnight
    assert reader.root_object["/Lang"] == "zh-CN"
    # Nothing of LibreOffice's info survives but its /Producer.
    assert set(info) == {
        "/Title",
        "/Subject",
        "/Author",
        "/Creator",
        "/Producer",
        "/CreationDate",
        "/ModDate",
    }


def test_language_is_a_parameter(raw: bytes) -> None:
    finished = pdfdoc.finish(raw, **META, language="en-GB")
    assert PdfReader(io.BytesIO(finished)).root_object["/Lang"] == "en-GB"


def test_no_xmp_is_added_to_a_pdf_without_one(raw: bytes) -> None:
    assert "/Metadata" not in PdfReader(io.BytesIO(raw)).root_object
    assert "/Metadata" not in PdfReader(io.BytesIO(pdfdoc.finish(raw, **META))).root_object


def test_pdfa_xmp_agrees_with_the_info_dictionary(raw_pdfa: bytes) -> None:
    finished = pdfdoc.finish(raw_pdfa, **META)
    doc = xmp_doc(finished)
    ns = {
        "dc": "http://purl.org/dc/elements/1.1/",
        "pdf": "http://ns.adobe.com/pdf/1.3/",
        "xmp": "http://ns.adobe.com/xap/1.0/",
        "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    }
    assert text_of(doc, ns["pdfaid"], "part") == "2"
    assert text_of(doc, ns["pdfaid"], "conformance") == "B"
    info = PdfReader(io.BytesIO(finished)).metadata
    assert info is not None
    assert text_of(doc, ns["dc"], "title") == info.title
    assert text_of(doc, ns["dc"], "creator") == info.author
    assert text_of(doc, ns["dc"], "description") == info.subject
    assert text_of(doc, ns["pdf"], "Producer") == info.producer
    assert text_of(doc, ns["xmp"], "CreatorTool") == "contractgen"
    assert text_of(doc, ns["xmp"], "CreateDate") == XMP_DATE
    assert text_of(doc, ns["xmp"], "ModifyDate") == XMP_DATE
    # LibreOffice's own dc:creator and CreateDate were replaced, not joined.
    for namespace, name in (
        (ns["dc"], "title"),
        (ns["dc"], "creator"),
        (ns["xmp"], "CreateDate"),
        (ns["pdf"], "Producer"),
    ):
        assert len(xmp_values(doc, namespace, name)) == 1
    li = doc.getElementsByTagNameNS(ns["dc"], "title")[0].getElementsByTagName("rdf:li")[0]
    assert li.getAttribute("xml:lang") == "x-default"
    # The metadata stream stays uncompressed and typed, as PDF/A wants it.
    stream = PdfReader(io.BytesIO(finished)).root_object["/Metadata"].get_object()
    assert stream["/Type"] == "/Metadata"
    assert stream["/Subtype"] == "/XML"
    assert "/Filter" not in stream


def test_no_wall_clock_time_is_left(raw: bytes, raw_pdfa: bytes) -> None:
    today = dt.datetime.now(dt.UTC)
    stamps = {
        today.strftime("D:%Y%m%d").encode(),
        today.strftime("%Y-%m-%dT").encode(),
        today.astimezone().strftime("D:%Y%m%d").encode(),
    }
    assert any(stamp in raw_pdfa for stamp in stamps), "LibreOffice no longer dates its PDFs?"
    for source in (raw, raw_pdfa):
        finished = pdfdoc.finish(source, **META)
        assert not any(stamp in finished for stamp in stamps)


def test_output_intent_profile_carries_the_contract_date(raw_pdfa: bytes) -> None:
    # LibreOffice makes the sRGB profile at export time: its header holds the wall
    # clock to the second, and two conversions a second apart would differ.
    reader = PdfReader(io.BytesIO(pdfdoc.finish(raw_pdfa, **META)))
    intents: Any = reader.root_object["/OutputIntents"]
    profile = intents[0].get_object()["/DestOutputProfile"].get_data()
    assert profile[36:40] == b"acsp"
    assert struct.unpack(">6H", profile[24:36]) == (2024, 3, 5, 0, 0, 0)


def test_icc_date_and_v4_profile_id() -> None:
    header = bytearray(os.urandom(128))
    header[36:40] = b"acsp"
    profile = bytes(header) + os.urandom(300)
    dated = pdfdoc._icc_dated(profile, DATE)
    assert struct.unpack(">6H", dated[24:36]) == (2024, 3, 5, 0, 0, 0)
    assert dated[:24] == profile[:24] and dated[36:84] == profile[36:84]
    assert dated[100:] == profile[100:]
    unsigned = bytearray(dated)
    unsigned[44:48] = unsigned[64:68] = bytes(4)
    unsigned[84:100] = bytes(16)
    assert dated[84:100] == hashlib.md5(unsigned).digest()  # a version 4 profile ID
    v2 = profile[:84] + bytes(16) + profile[100:]
    assert pdfdoc._icc_dated(v2, DATE)[84:100] == bytes(16)  # no ID: none is made
    assert pdfdoc._icc_dated(b"not a profile", DATE) == b"not a profile"


def test_finish_is_reproducible(raw: bytes) -> None:
    once = pdfdoc.finish(raw, **META)
    assert pdfdoc.finish(raw, **META) == once
    # Finishing a finished file changes nothing.
    assert pdfdoc.finish(once, **META) == once


def test_id_is_a_hash_of_the_content(raw: bytes) -> None:
    first = PdfReader(io.BytesIO(pdfdoc.finish(raw, **META))).trailer["/ID"]
    other = PdfReader(io.BytesIO(pdfdoc.finish(raw, **{**META, "title": "保密协议"})))
    assert first[0] == first[1]
    assert len(first[0].original_bytes) == 16
    assert other.trailer["/ID"][0] != first[0]
    assert PdfReader(io.BytesIO(raw)).trailer["/ID"][0] != first[0]


@pytest.mark.parametrize("pdfa", [False, True], ids=["pdf", "pdfa"])
def test_two_libreoffice_runs_finish_to_the_same_bytes(
    pool: ConverterPool, docx: bytes, pdfa: bool
) -> None:
    # The same worker converts twice: its Type 1 UniqueID counter and the clock
    # have moved on between the two.
    first = pool.convert_bytes(docx, pdfa=pdfa)
    second = pool.convert_bytes(docx, pdfa=pdfa)
    assert pdfdoc.finish(first, **META) == pdfdoc.finish(second, **META)


def test_type1_unique_ids_are_renumbered_and_fonts_still_render(
    pool: ConverterPool, docx: bytes, tmp_path: Path
) -> None:
    later = pool.convert_bytes(docx)  # not this worker's first document: high IDs
    before = unique_ids(later)
    if not before:
        pytest.skip("this LibreOffice embeds no Type 1 fonts with a UniqueID")
    assert min(before) > 4100001
    finished = pdfdoc.finish(later, **META)
    after = unique_ids(finished)
    assert sorted(after) == list(range(4100001, 4100001 + len(set(before))))
    # Same order: the renumbering keeps LibreOffice's embedding order.
    assert sorted(range(len(after)), key=lambda i: after[i]) == sorted(
        range(len(before)), key=lambda i: before[i]
    )
    # The re-encrypted font programs draw exactly the same pixels.
    images = []
    for name, pdf in (("raw", later), ("finished", finished)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / name)],
            check=True,
        )
        (image,) = tmp_path.glob(f"{name}-*.png")
        images.append(image.read_bytes())
    assert images[0] == images[1]


def test_eexec_round_trip() -> None:
    data = os.urandom(2048)
    assert pdfdoc._eexec(pdfdoc._uneexec(data)) == data
    # The Type 1 spec's worked start: key 55665 turns plaintext 0x00 into 0xD9.
    assert pdfdoc._eexec(b"\x00")[0] == 55665 >> 8


@pytest.mark.parametrize(
    ("at", "old", "new"),
    [
        (300, b"/UniqueID 4100123 def", b"/UniqueID 4100001 def"),
        (5000, b"/UniqueID 4100123 def", b"/UniqueID 4100001 def"),  # past the first 4 KiB
        (300, b"/UniqueID  9 def", b"/UniqueID 4100001 def"),  # the length changes
        (300, b"/UniqueID 4100001 def", b"/UniqueID 4100001 def"),  # nothing changes
    ],
)
def test_reencrypting_from_the_edit_equals_a_full_round_trip(
    at: int, old: bytes, new: bytes
) -> None:
    body = bytes(b for b in os.urandom(9000) if b not in b"/")  # no stray /UniqueID
    plain = b"HDU " + body[:at] + old + body[at:]
    cipher = pdfdoc._eexec(plain)
    assert pdfdoc._reencrypt(cipher, new) == pdfdoc._eexec(plain.replace(old, new, 1))
    assert pdfdoc._reencrypt(cipher[:200], new) == cipher[:200]  # no UniqueID: unchanged


def test_the_c_loop_gives_the_python_loop_s_bytes() -> None:
    # tools/setup.sh installs a C compiler, so the accelerator is built wherever the suite runs.
    assert pdfdoc._eexec_c is not None, "generator/_eexec.c was not built"
    for size, start, replacement in (
        (9000, 300, b"/UniqueID 4100001 def"),
        (50, 0, b""),
        (21, 0, b"x" * 21),
    ):
        cipher = os.urandom(size)
        fast = pdfdoc._eexec_c.reencrypt_from(cipher, start, replacement)
        assert fast == pdfdoc._reencrypt_from_python(cipher, start, replacement)
    with pytest.raises(ValueError):
        pdfdoc._eexec_c.reencrypt_from(b"short", 3, b"too long")
    data = os.urandom(3000)
    assert pdfdoc._eexec_c.crypt(data, False) == pdfdoc._eexec_python(data)
    assert pdfdoc._eexec_c.crypt(data, True) == pdfdoc._uneexec_python(data)


def test_font_program_deflate_round_trip() -> None:
    clear, secret, trailer = b"%!FontType1 " * 50, os.urandom(70000), b"0" * 512 + b"cleartomark"
    packed = pdfdoc._deflate(clear, secret, trailer)
    assert zlib.decompress(packed) == clear + secret + trailer
    assert len(packed) < len(clear + secret + trailer)
    assert zlib.decompress(pdfdoc._deflate(b"", b"", b"")) == b""


def _streams(pdf: bytes) -> list[bytes]:
    """Return the decoded data of every stream of a PDF, sorted."""
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for number in range(1, reader.trailer["/Size"].as_numeric()):  # type: ignore[attr-defined]
        obj = reader.get_object(number)
        if isinstance(obj, StreamObject):
            found.append(obj.get_data())
    return sorted(found)


@pytest.mark.parametrize("pdfa", [False, True], ids=["pdf", "pdfa"])
def test_byte_level_path_agrees_with_the_general_one(
    pool: ConverterPool, docx: bytes, pdfa: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = pool.convert_bytes(docx, pdfa=pdfa)  # high UniqueIDs: every font is renumbered
    meta = pdfdoc._Meta(META["title"], META["subject"], META["author"], DATE, "zh-CN")
    fast = pdfdoc._finish_classic(later, meta)  # LibreOffice's files take it: no _Irregular
    assert pdfdoc.finish(later, **META) == fast

    def irregular(pdf: bytes, meta: pdfdoc._Meta) -> bytes:
        raise pdfdoc._Irregular("test")

    monkeypatch.setattr(pdfdoc, "_finish_classic", irregular)
    general = pdfdoc.finish(later, **META)
    one, other = PdfReader(io.BytesIO(fast)), PdfReader(io.BytesIO(general))
    assert one.metadata == other.metadata
    assert str(one.root_object["/Lang"]) == str(other.root_object["/Lang"]) == "zh-CN"
    assert set(one.root_object) == set(other.root_object)
    # The same content (fonts renumbered alike, XMP alike), page for page.
    assert _streams(fast) == _streams(general)
    assert len(one.pages) == len(other.pages)
    for mine, theirs in zip(one.pages, other.pages, strict=True):
        assert mine.get_contents() is not None and theirs.get_contents() is not None
        assert mine.get_contents().get_data() == theirs.get_contents().get_data()  # type: ignore[union-attr]


def test_finish_remembers_the_table_of_what_it_returns(raw: bytes, raw_pdfa: bytes) -> None:
    for source in (raw, raw_pdfa):
        finished = pdfdoc.finish(source, **META)
        known, parsed = pdfdoc._Classic.of(finished), pdfdoc._Classic.parse(finished)
        assert known is not parsed
        assert (known.spans, known.size, known.root, known.info, known.table_at) == (
            parsed.spans,
            parsed.size,
            parsed.root,
            parsed.info,
            parsed.table_at,
        )
        # Equal bytes in another object are parsed, not taken for the remembered file.
        assert pdfdoc._Classic.of(bytes(bytearray(finished))) is not known


def test_files_not_shaped_like_libreoffice_s_take_the_general_path(raw: bytes) -> None:
    # An incremental update: a second table and trailer (/Prev).
    writer = PdfWriter(io.BytesIO(raw), incremental=True)
    writer.add_metadata({"/Title": "old"})
    buffer = io.BytesIO()
    writer.write(buffer)
    updated = buffer.getvalue()
    with pytest.raises(pdfdoc._Irregular):
        pdfdoc._Classic.parse(updated)
    finished = pdfdoc.finish(updated, **META)
    reader = PdfReader(io.BytesIO(finished))
    assert reader.metadata is not None and reader.metadata.title == META["title"]
    assert unique_ids(finished) == unique_ids(pdfdoc.finish(raw, **META))
    assert pdfdoc.finish(updated, **META) == finished


def outline_entries(pdf: bytes) -> list[tuple[int, str, int]]:
    """Return (depth, title, 0-based page) of every outline item, in order."""
    reader = PdfReader(io.BytesIO(pdf))
    out: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                page = reader.get_destination_page_number(item)
                out.append((depth, str(item.title), -1 if page is None else page))

    walk(list(reader.outline), 0)
    return out


def test_bundle_has_one_top_level_bookmark_per_part(parts: list[tuple[str, bytes, bytes]]) -> None:
    bundled = pdfdoc.bundle([(title, pdf) for title, pdf, _ in parts], **{**META, "title": "全套"})
    assert pdfdoc.page_count(bundled) == 3 + 1 + 2
    entries = outline_entries(bundled)
    top = [(title, page) for depth, title, page in entries if depth == 0]
    assert top == [("运维服务合同", 0), ("保密协议", 3), ("廉洁协议", 4)]
    # Each part's headings follow under its item, on the part's pages; the part's
    # own title heading is not repeated below the item that already names it.
    nested = [(title, page) for depth, title, page in entries if depth == 1]
    assert nested == [
        ("第1条 约定", 0),
        ("第2条 约定", 1),
        ("第3条 约定", 2),
        ("第1条 约定", 3),
        ("第1条 约定", 4),
        ("第2条 约定", 5),
    ]
    reader = PdfReader(io.BytesIO(bundled))
    assert reader.metadata is not None
    assert reader.metadata.title == "全套"
    assert reader.metadata.subject == META["subject"]
    assert reader.root_object["/Lang"] == "zh-CN"
    # No PDF/A claim from parts that make none.
    assert "/Metadata" not in reader.root_object


def test_bundle_is_reproducible(parts: list[tuple[str, bytes, bytes]]) -> None:
    items = [(title, pdf) for title, pdf, _ in parts]
    assert pdfdoc.bundle(items, **META) == pdfdoc.bundle(items, **META)


def test_bundle_of_pdfa_parts_keeps_the_pdfa_claim(parts: list[tuple[str, bytes, bytes]]) -> None:
    bundled = pdfdoc.bundle(
        [(title, pdfa) for title, _, pdfa in parts], **{**META, "title": "全套"}
    )
    reader = PdfReader(io.BytesIO(bundled))
    assert "/OutputIntents" in reader.root_object
    stream = reader.root_object["/Metadata"].get_object()
    assert (stream["/Type"], stream["/Subtype"]) == ("/Metadata", "/XML")
    doc = xmp_doc(bundled)
    assert text_of(doc, "http://www.aiim.org/pdfa/ns/id/", "part") == "2"
    assert text_of(doc, "http://purl.org/dc/elements/1.1/", "title") == "全套"


def test_bundle_of_mixed_parts_claims_no_pdfa(parts: list[tuple[str, bytes, bytes]]) -> None:
    (t1, _, a1), (t2, p2, _), _ = parts
    reader = PdfReader(io.BytesIO(pdfdoc.bundle([(t1, a1), (t2, p2)], **META)))
    assert "/Metadata" not in reader.root_object
    assert "/OutputIntents" not in reader.root_object


def _page_content(pdf: bytes) -> list[tuple[Any, ...]]:
    """Return per page: its content, its fonts' programs and maps, its size and keys."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        fonts = resources["/Font"]
        programs = []
        for name in fonts:
            font = fonts[name]
            descriptor = font["/FontDescriptor"]
            files = [
                descriptor[key].get_data()
                for key in ("/FontFile", "/FontFile2", "/FontFile3")
                if key in descriptor
            ]
            programs.append(
                (
                    name,
                    str(font["/BaseFont"]),
                    str(font["/Widths"]),
                    font["/ToUnicode"].get_data(),
                    files,
                )
            )
        content = page.get_contents()
        assert content is not None
        pages.append((content.get_data(), sorted(programs), list(page.mediabox), sorted(page)))
    return pages


@pytest.mark.parametrize("pdfa", [False, True], ids=["pdf", "pdfa"])
def test_byte_level_bundle_agrees_with_pypdf_s_merge(
    parts: list[tuple[str, bytes, bytes]], pdfa: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [(title, pdfa_pdf if pdfa else pdf) for title, pdf, pdfa_pdf in parts]
    meta = pdfdoc._Meta("全套", META["subject"], META["author"], DATE, "zh-CN")
    fast = pdfdoc._bundle_classic(items, meta)  # finish's output takes it: no _Irregular
    assert pdfdoc.bundle(items, **{**META, "title": "全套"}) == fast

    def irregular(parts: Any, meta: pdfdoc._Meta) -> bytes:
        raise pdfdoc._Irregular("test")

    monkeypatch.setattr(pdfdoc, "_bundle_classic", irregular)
    merged = pdfdoc.bundle(items, **{**META, "title": "全套"})
    one, other = PdfReader(io.BytesIO(fast)), PdfReader(io.BytesIO(merged))
    assert one.metadata == other.metadata
    assert set(one.root_object) == set(other.root_object)
    assert str(one.root_object["/Lang"]) == "zh-CN"
    assert outline_entries(fast) == outline_entries(merged)
    assert _page_content(fast) == _page_content(merged)
    if pdfa:
        assert xmp_doc(fast).toxml() == xmp_doc(merged).toxml()
        intents = [
            reader.root_object["/OutputIntents"][0].get_object()  # type: ignore[index]
            for reader in (one, other)
        ]
        assert (
            intents[0]["/DestOutputProfile"].get_data()
            == intents[1]["/DestOutputProfile"].get_data()
        )
        assert intents[0]["/OutputConditionIdentifier"] == intents[1]["/OutputConditionIdentifier"]


def test_bundle_of_other_files_goes_through_pypdf(parts: list[tuple[str, bytes, bytes]]) -> None:
    # Parts with an incremental update (as sealing makes them): not finish's shape.
    field = {"field": "seal_test", "page": 1, "rect": [100, 100, 220, 220]}
    items = [(title, seal._with_fields(pdf, [field])) for title, pdf, _ in parts]
    meta = pdfdoc._Meta("全套", META["subject"], META["author"], DATE, "zh-CN")
    with pytest.raises(pdfdoc._Irregular):
        pdfdoc._bundle_classic(items, meta)
    bundled = pdfdoc.bundle(items, **META)
    plain = pdfdoc.bundle([(title, pdf) for title, pdf, _ in parts], **META)
    assert outline_entries(bundled) == outline_entries(plain)
    assert pdfdoc.page_count(bundled) == 6


def test_bundle_needs_parts() -> None:
    with pytest.raises(ValueError, match="at least one"):
        pdfdoc.bundle([], **META)


def test_xmp_update_replaces_every_form_of_a_managed_property() -> None:
    packet = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xap="http://ns.adobe.com/xap/1.0/"
      xap:CreateDate="2026-11-24T00:47:51Z" xap:MetadataDate="2026-11-24T00:47:51Z"/>
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
      xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaExtension:schemas><rdf:Bag><rdf:li><rdf:Description rdf:about="">
    <pdfaExtension:note>kept</pdfaExtension:note>
   </rdf:Description></rdf:li></rdf:Bag></pdfaExtension:schemas>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Writer</rdf:li></rdf:Alt></dc:title>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()
    meta = pdfdoc._Meta("保密协议", "11NMB2F042362026201", "上海市大数据中心", DATE, "zh-CN")
    doc = minidom.parseString(pdfdoc._update_xmp(packet, meta, "LibreOffice 7.4", None))
    xmp = "http://ns.adobe.com/xap/1.0/"
    assert text_of(doc, xmp, "CreateDate") == XMP_DATE
    assert text_of(doc, "http://purl.org/dc/elements/1.1/", "title") == "保密协议"
    assert not doc.getElementsByTagNameNS(xmp, "MetadataDate")
    descriptions = doc.getElementsByTagNameNS(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description"
    )
    assert not any(d.hasAttributeNS(xmp, "CreateDate") for d in descriptions)
    assert not any(d.hasAttributeNS(xmp, "MetadataDate") for d in descriptions)
    # The PDF/A identification and the extension schema (with its nested description) stay.
    assert text_of(doc, "http://www.aiim.org/pdfa/ns/id/", "part") == "2"
    assert text_of(doc, "http://www.aiim.org/pdfa/ns/extension/", "note") == "kept"
    # The xpacket wrapper stays, and no XML declaration is added.
    out = pdfdoc._update_xmp(packet, meta, "LibreOffice 7.4", None)
    assert out.startswith(b"<?xpacket begin=")
    assert out.endswith(b'<?xpacket end="w"?>')
