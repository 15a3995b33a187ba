"""generator.seal on the real contract set: keywords, positions, and signing into the fields.

The PDFs come from the real templates and the real LibreOffice, finished by
generator.pdfdoc as the pipeline does. The proof that the fields are usable:
each is signed, one after the other, with a throw-away self-signed
certificate, and pyHanko validates both signatures.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from asn1crypto import x509 as asn1_x509
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject, read_object

from generator import pdfdoc, seal
from generator.api import render_docx
from generator.convert import ConverterPool
from generator.errors import SealPlacementError
from generator.load import load_data
from generator.render import KINDS
from generator.validate import parse

from ..conftest import SAMPLES
from ..signing import make_pki, sign_field, signature_statuses, widget_rects

SEALED = [kind for kind, parties in seal.SEAL_KEYWORDS.items() if parties]
DATE = dt.date(2026, 1, 16)


@pytest.fixture(scope="module")
def pool() -> Iterator[ConverterPool]:
    with ConverterPool(1) as converter:
        yield converter


@pytest.fixture(scope="module")
def docx() -> dict[str, bytes]:
    """Return the seed contract's four documents as DOCX, by kind."""
    contract_set = render_docx(parse(load_data(SAMPLES / "seed.yaml")))
    return {doc.kind: doc.docx for doc in contract_set.documents}


def finish(raw: bytes, kind: str) -> bytes:
    return pdfdoc.finish(
        raw, title=KINDS[kind], subject="11NMB2F042362026201", author="上海市大数据中心", date=DATE
    )


@pytest.fixture(scope="module")
def finished(pool: ConverterPool, docx: dict[str, bytes]) -> dict[str, bytes]:
    """Return the four documents as finished PDFs, by kind."""
    return {kind: finish(pool.convert_bytes(data), kind) for kind, data in docx.items()}


@pytest.fixture(scope="module")
def sealed(finished: dict[str, bytes]) -> dict[str, tuple[bytes, list[dict[str, Any]]]]:
    return {kind: seal.add_seal_fields(pdf, kind) for kind, pdf in finished.items()}


def docx_of(*pages: list[str]) -> bytes:
    """Return a DOCX with the given paragraphs, one list per page."""
    doc = Document()
    for n, paragraphs in enumerate(pages):
        if n:
            doc.add_page_break()
        for text in paragraphs:
            run = doc.add_paragraph().add_run(text)
            run.font.size = Pt(12)
            run.font.name = "宋体"
            run._element.get_or_add_rPr().rFonts.set(qn("w:eastAsia"), "宋体")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def crop_text(pdf: bytes, page: int, rect: list[float], tmp_path: Path) -> str:
    """Return the text poppler finds inside ``rect`` (bottom-left origin) of a page."""
    path = tmp_path / "crop.pdf"
    path.write_bytes(pdf)
    height = float(PdfReader(io.BytesIO(pdf)).pages[page - 1].mediabox.top)
    x0, y0, x1, y1 = rect
    # pdftotext crops in pixels from the top left: at 720 dpi a pixel is 0.1 pt.
    scale = 10
    box = [x0, height - y1, x1 - x0, y1 - y0]
    args = [str(round(v * scale)) for v in box]
    pages = ["-f", str(page), "-l", str(page), "-r", str(72 * scale)]
    area = ["-x", args[0], "-y", args[1], "-W", args[2], "-H", args[3]]
    out = subprocess.run(
        ["pdftotext", *pages, *area, str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return re.sub(r"\s", "", out.stdout)


def grow(rect: list[float], by: float) -> list[float]:
    x0, y0, x1, y1 = rect
    return [x0 - by, y0 - by, x1 + by, y1 + by]


def test_every_kind_has_its_keywords() -> None:
    assert set(seal.SEAL_KEYWORDS) == set(KINDS)
    assert seal.SEAL_KEYWORDS["acceptance_plan"] == ()
    assert set(SEALED) >= seal.LAST_PAGE_ONLY


@pytest.mark.parametrize("kind", SEALED)
def test_one_field_per_party_where_the_keyword_is(
    sealed: dict[str, tuple[bytes, list[dict[str, Any]]]], finished: dict[str, bytes], kind: str
) -> None:
    pdf, records = sealed[kind]
    last = pdfdoc.page_count(finished[kind])
    assert [(r["party"], r["field"], r["keyword"]) for r in records] == [
        (party, f"seal_{party}", keyword) for party, keyword in seal.SEAL_KEYWORDS[kind]
    ]
    page_box = PdfReader(io.BytesIO(pdf)).pages[last - 1].cropbox
    for record in records:
        # The signature blocks are on the last page of each document.
        assert record["page"] == last
        kx0, ky0, kx1, ky1 = record["keyword_rect"]
        x0, y0, x1, y1 = record["rect"]
        assert (x1 - x0, y1 - y0) == (seal.SEAL_SIZE, seal.SEAL_SIZE)
        assert page_box.left <= x0 and x1 <= page_box.right
        assert page_box.bottom <= y0 and y1 <= page_box.top
        # Over the keyword's second half and on to its right, centred on its line.
        assert abs(x0 - (kx0 + kx1) / 2) <= 0.5
        assert x0 < kx1 < x1
        assert abs((y0 + y1) / 2 - (ky0 + ky1) / 2) <= 0.5
    buyer, supplier = (r["rect"] for r in records)
    assert buyer[2] <= supplier[0], "the two seals overlap"


def _form(pdf: bytes) -> dict[str, Any]:
    """Return what a sealed file's update holds: trailer, catalog keys, form, widgets."""
    reader = PdfReader(io.BytesIO(pdf))

    def plain(obj: Any) -> Any:
        obj = obj.get_object() if hasattr(obj, "get_object") else obj
        if isinstance(obj, dict):
            # /P and /Parent point back up: left out to keep this finite.
            return {k: plain(v) for k, v in obj.items() if k not in ("/P", "/Parent")}
        if isinstance(obj, list):
            return [plain(v) for v in obj]
        return obj

    root: Any = reader.root_object
    trailer: Any = reader.trailer
    return {
        "id": [value.original_bytes for value in trailer["/ID"]],
        "size": trailer["/Size"],
        "catalog": sorted(root),
        "version": root.get("/Version"),
        "form": plain(root["/AcroForm"]),
        "annots": [plain(page.get("/Annots", [])) for page in reader.pages],
        "page keys": [sorted(page) for page in reader.pages],
    }


@pytest.mark.parametrize("kind", SEALED)
def test_fields_written_directly_are_pyhanko_s(
    finished: dict[str, bytes],
    finished_pdfa: bytes,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    originals = [finished[kind], finished_pdfa] if kind == "service_contract" else [finished[kind]]
    direct = [seal.add_seal_fields(pdf, kind) for pdf in originals]
    for pdf, (_, records) in zip(originals, direct, strict=True):
        assert seal._with_fields_classic(pdf, records, b"0" * 16)  # finish's output takes it

    def irregular(*args: Any) -> bytes:
        raise seal._Irregular("test")

    monkeypatch.setattr(seal, "_with_fields_classic", irregular)
    for pdf, (sealed, records) in zip(originals, direct, strict=True):
        by_pyhanko, again = seal.add_seal_fields(pdf, kind)
        assert again == records
        assert _form(sealed) == _form(by_pyhanko)


def test_acceptance_plan_is_not_sealed(
    sealed: dict[str, tuple[bytes, list[dict[str, Any]]]], finished: dict[str, bytes]
) -> None:
    assert sealed["acceptance_plan"] == (finished["acceptance_plan"], [])


@pytest.mark.parametrize("kind", SEALED)
def test_keyword_rect_lies_on_the_keyword(
    sealed: dict[str, tuple[bytes, list[dict[str, Any]]]], kind: str, tmp_path: Path
) -> None:
    pdf, records = sealed[kind]
    for record in records:
        rect, keyword = record["keyword_rect"], record["keyword"]
        assert keyword in crop_text(pdf, record["page"], grow(rect, 1), tmp_path)
        # Tight: the same box one keyword-width to the right holds none of it.
        width = rect[2] - rect[0]
        shifted = [rect[0] + width + 1, rect[1], rect[2] + width + 1, rect[3]]
        assert keyword[0] not in crop_text(pdf, record["page"], shifted, tmp_path)


def test_find_keyword_agrees_with_poppler_word_boxes(
    finished: dict[str, bytes], tmp_path: Path
) -> None:
    pdf = finished["service_contract"]
    last = pdfdoc.page_count(pdf)
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf)
    xhtml = subprocess.run(
        ["pdftotext", "-f", str(last), "-l", str(last), "-bbox", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    height = float(PdfReader(io.BytesIO(pdf)).pages[last - 1].mediabox.top)
    for word in ("甲方（盖章）：", "乙方（盖章）："):
        found = re.search(
            rf'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">{word}<', xhtml
        )
        assert found, f"poppler does not see {word} as one word"
        px0, ptop, px1, pbottom = map(float, found.groups())
        ((page, (x0, y0, x1, y1)),) = seal.find_keyword(pdf, word)
        assert page == last
        # Horizontally the same edges (both from the glyph advance widths) ...
        assert abs(x0 - px0) < 0.01
        assert abs(x1 - px1) < 0.01
        # ... vertically on the same line: ours runs from the baseline up one font
        # size, poppler's from 0.35 em below the baseline to 0.95 em above it.
        assert height - pbottom < y0 < height - ptop
        assert abs(y1 - (height - ptop)) < 0.1 * (y1 - y0)


def test_keyword_ignores_white_space_between_chunks(finished: dict[str, bytes]) -> None:
    # The signature page prints "乙方: 上海众恒…" with a space after the colon.
    pdf = finished["integrity_agreement"]
    ((page, rect),) = seal.find_keyword(pdf, "乙方:上海众恒")
    ((_, colon),) = seal.find_keyword(pdf, "乙方:")
    assert page == pdfdoc.page_count(pdf)
    assert rect[0] == colon[0] and rect[2] > colon[2] + 24


@pytest.mark.parametrize("kind", list(KINDS))
def test_direct_reader_agrees_with_pdfminer_on_every_page(
    finished: dict[str, bytes], pdfa_contract: tuple[bytes, list[Any]], kind: str
) -> None:
    # Every character and box, exactly: the direct reader mirrors pdfminer's arithmetic.
    # Finished files are read through their own table, sealed ones (an update) by pypdf.
    for pdf in (
        (finished[kind], pdfa_contract[0]) if kind == "service_contract" else (finished[kind],)
    ):
        doc, pages, _ = seal._open(pdf)
        assert (doc is None) == (pdf is pdfa_contract[0])
        direct = seal._PageText(pages)
        for number, chars in seal._page_chars(pdf, None):
            page = pages[number - 1]
            data = direct._contents(page)
            resources = page["/Resources"].get_object()
            text, box = direct._chars(page, data, resources)
            assert text == "".join(ch for ch, _ in chars), (kind, number)
            assert [box(i) for i in range(len(chars))] == [b for _, b in chars], (kind, number)
            # The quick look that skips pages never skips one showing the text.
            for start in range(0, len(text), 5):
                assert direct._may_hold(data, resources, [set(text[start : start + 4])])


def test_own_table_reader_parses_objects_as_pypdf_does(
    finished: dict[str, bytes], finished_pdfa: bytes
) -> None:
    class Reader:
        strict = True

    compared = 0
    for pdf in [*finished.values(), finished_pdfa]:
        table = seal._Table.read(pdf)
        for number in range(1, table.size):
            start = table.start(number)
            close = pdf.find(b"endobj", start)
            fast = seal._parse_object(pdf, start, close, Reader())
            if fast is None or pdf[fast[1] : close].strip():
                continue  # a stream: pypdf parses it
            stream = io.BytesIO(pdf)
            stream.seek(start)
            expected = read_object(stream, cast(Any, Reader()))
            assert type(fast[0]) is type(expected), number
            assert _written(fast[0]) == _written(expected), number
            compared += 1
    assert compared > 1000


def _written(obj: Any) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def test_other_pdfs_are_read_by_pdfminer(tmp_path: Path) -> None:
    # A standard font and a literal string: not what LibreOffice writes.
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    content = StreamObject()
    content.set_data(b"BT /F1 12 Tf 100 700 Td (Seal: here) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    buffer = io.BytesIO()
    writer.write(buffer)
    pdf = buffer.getvalue()
    with pytest.raises(seal._Unsupported):
        list(seal._PageText(seal._open(pdf)[1]).pages_with(["Seal:"], None))
    ((number, (x0, y0, x1, y1)),) = seal.find_keyword(pdf, "Seal:")
    assert number == 1
    # From pdfminer's metrics of Helvetica: the descent reaches below the baseline.
    assert round(x0, 2) == 100 and y0 < 700 < y1
    assert 25 < x1 - x0 < 35 and round(y1 - y0, 6) == 12


def test_kangxi_radicals_match_their_ideographs() -> None:
    assert seal._normal("\u2f45") == "方"
    assert seal._normal("：") == "："  # full width stays full width


def test_add_seal_fields_is_reproducible(
    pool: ConverterPool, docx: dict[str, bytes], sealed: dict[str, tuple[bytes, list[Any]]]
) -> None:
    # A second conversion of the same document by the same, now older, office.
    again = finish(pool.convert_bytes(docx["service_contract"]), "service_contract")
    assert seal.add_seal_fields(again, "service_contract") == sealed["service_contract"]


def test_missing_keyword_is_an_error(pool: ConverterPool) -> None:
    pdf = pool.convert_bytes(docx_of(["签约各方：", "甲方（盖章）：", "乙方：", "2026年01月16日"]))
    with pytest.raises(SealPlacementError) as caught:
        seal.add_seal_fields(pdf, "service_contract")
    message = str(caught.value)
    assert "service_contract" in message
    assert "'乙方（盖章）'" in message
    assert "0 times" in message


def test_duplicated_keyword_is_an_error(pool: ConverterPool) -> None:
    pdf = pool.convert_bytes(
        docx_of(["甲方（盖章）：", "乙方（盖章）："], ["甲方（盖章）：再次出现"])
    )
    with pytest.raises(SealPlacementError, match=r"'甲方（盖章）'.* 2 times.*page 1, page 2"):
        seal.add_seal_fields(pdf, "service_contract")


def test_agreements_look_on_the_signature_page_only(pool: ConverterPool) -> None:
    body = ["协议正文中出现 甲方:上海市大数据中心 与 乙方:某公司 的写法。"]
    signature = ["甲方:上海市大数据中心", "乙方: 上海众恒智能系统技术有限公司"]
    pdf = pool.convert_bytes(docx_of(body, signature))
    _, records = seal.add_seal_fields(pdf, "confidentiality_agreement")
    assert [r["page"] for r in records] == [2, 2]
    twice = pool.convert_bytes(docx_of(body, [*signature, "甲方:重复"]))
    with pytest.raises(SealPlacementError, match=r"integrity_agreement.*'甲方:'.* 2 times.*page 2"):
        seal.add_seal_fields(twice, "integrity_agreement")


def test_fields_are_added_once(sealed: dict[str, tuple[bytes, list[Any]]]) -> None:
    pdf, _ = sealed["integrity_agreement"]
    with pytest.raises(SealPlacementError, match="already has the fields"):
        seal.add_seal_fields(pdf, "integrity_agreement")


def test_unknown_kind_is_an_error(finished: dict[str, bytes]) -> None:
    with pytest.raises(SealPlacementError, match="unknown document kind"):
        seal.add_seal_fields(finished["service_contract"], "lease")


# --- the proof: sign into the fields --------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]]:
    return make_pki()


@pytest.fixture(scope="module")
def finished_pdfa(pool: ConverterPool, docx: dict[str, bytes]) -> bytes:
    raw = pool.convert_bytes(docx["service_contract"], pdfa=True)
    return finish(raw, "service_contract")


@pytest.fixture(scope="module")
def pdfa_contract(finished_pdfa: bytes) -> tuple[bytes, list[Any]]:
    return seal.add_seal_fields(finished_pdfa, "service_contract")


@pytest.mark.parametrize("kind", [*SEALED, "service_contract/pdfa"])
def test_fields_can_be_signed_one_after_the_other(
    sealed: dict[str, tuple[bytes, list[dict[str, Any]]]],
    pdfa_contract: tuple[bytes, list[dict[str, Any]]],
    pki: tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]],
    kind: str,
) -> None:
    pdf, records = pdfa_contract if kind.endswith("/pdfa") else sealed[kind]
    root, parties = pki
    signed = pdf
    for record in records:  # buyer first, then supplier
        signed = sign_field(signed, record["field"], parties[record["party"]])
    statuses = signature_statuses(signed, root)
    assert [name for name, _ in statuses] == [r["field"] for r in records]
    for name, status in statuses:
        assert status.intact, name
        assert status.valid, name
        assert status.trusted, name
        # What came after the buyer's signature is the supplier's: form filling.
        assert status.modification_level is not None
        assert status.modification_level <= ModificationLevel.FORM_FILLING
    # The signed fields are where the records say.
    assert widget_rects(signed) == {r["field"]: (r["page"], r["rect"]) for r in records}
