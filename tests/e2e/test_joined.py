"""A set converted in one LibreOffice pass and split equals its documents converted one by one."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pikepdf
import pytest

import generator
from generator.docx.join import join
from generator.errors import ConversionError
from generator.kinds import parse
from generator.office import FONTS_CONF, ConverterPool, find_soffice, find_uno_python
from generator.office.worker import Worker
from generator.pdf import Meta, Part, finish_set, page_count, type1
from generator.pipeline import (
    ContractSet,
    Generator,
    kind_templates,
    render_docx,
    render_set,
    seal_specs,
)

from ..builtin import KIND, KINDS, TEMPLATE_DIR
from ..pdfs import UNIQUE_ID, open_bytes, page_texts, unique_ids

BRIDGE = Path(generator.__file__).parent / "office" / "_uno_worker.py"


def split(pdf: bytes, counts: list[int], contract_set: ContractSet) -> tuple[list[bytes], bytes]:
    """Return the documents and the bundle the PDF stage makes of a joined set's PDF."""
    contract = contract_set.contract

    def meta(title: str) -> Meta:
        return Meta(title, contract.contract_no, contract.buyer.name, contract.signed_at)

    parts = [
        Part(doc.kind, meta(doc.title), count, seal_specs(doc.kind))
        for doc, count in zip(contract_set.documents, counts, strict=True)
    ]
    finished, bundle = finish_set([(pdf, parts)], meta("运维服务合同（全套）"))
    assert bundle is not None
    return [doc.pdf for doc in finished], bundle


@pytest.fixture(scope="module")
def pool() -> Iterator[ConverterPool]:
    with ConverterPool(1) as converter:
        yield converter


@pytest.fixture(scope="module")
def contract_set(seed_data: dict[str, Any]) -> ContractSet:
    return render_docx(parse(seed_data))


@pytest.fixture(scope="module")
def converted(pool: ConverterPool, contract_set: ContractSet) -> tuple[bytes, list[int]]:
    joined = join([doc.docx for doc in contract_set.documents])
    assert joined is not None
    sections = [dataclasses.asdict(section) for section in joined.sections]
    return pool.convert_sections(joined.docx, sections)


@pytest.fixture(scope="module")
def one_by_one(pool: ConverterPool, contract_set: ContractSet) -> list[bytes]:
    return [pool.convert_bytes(doc.docx) for doc in contract_set.documents]


@pytest.fixture(scope="module")
def cut(converted: tuple[bytes, list[int]], contract_set: ContractSet) -> tuple[list[bytes], bytes]:
    return split(*converted, contract_set)


def test_page_counts_are_those_of_the_documents_alone(
    converted: tuple[bytes, list[int]], one_by_one: list[bytes]
) -> None:
    pdf, counts = converted
    assert counts == [page_count(alone) for alone in one_by_one]
    assert sum(counts) == page_count(pdf)  # no blank page between documents


def test_every_page_reads_as_when_converted_alone(
    cut: tuple[list[bytes], bytes], one_by_one: list[bytes], tmp_path: Path
) -> None:
    documents, _ = cut
    for part, alone in zip(documents, one_by_one, strict=True):
        texts = page_texts(part, tmp_path)
        assert texts == page_texts(alone, tmp_path)
        # 第 X 页 共 Y 页 counts the document's own pages.
        for number, text in enumerate(texts, 1):
            assert re.search(rf"第\s*{number}\s*页\s*共\s*{len(texts)}\s*页", text), number


def test_each_document_is_finished_with_its_own_title_and_bookmarks(
    cut: tuple[list[bytes], bytes], contract_set: ContractSet
) -> None:
    documents, bundle = cut
    for part, doc in zip(documents, contract_set.documents, strict=True):
        with open_bytes(part) as pdf:
            assert str(pdf.docinfo["/Title"]) == doc.title
            assert str(pdf.docinfo["/Subject"]) == contract_set.contract_no
            assert str(pdf.Root.Lang) == "zh-CN"
            with pdf.open_outline() as outline:
                assert [item.title for item in outline.root] == [doc.title]
            # Every font a page uses is embedded (Type 1 /FontFile or TrueType /FontFile2).
            for page in pdf.pages:
                for font in page.Resources.Font.values():
                    descriptor = font.FontDescriptor
                    assert "/FontFile" in descriptor or "/FontFile2" in descriptor
    with open_bytes(bundle) as pdf:
        with pdf.open_outline() as outline:
            top = [item.title for item in outline.root]
        assert top == [doc.title for doc in contract_set.documents]
        assert len(pdf.pages) == sum(page_count(p) for p in documents)


def test_each_page_names_only_the_fonts_it_draws_with(cut: tuple[list[bytes], bytes]) -> None:
    documents, _ = cut
    for document in documents:
        with open_bytes(document) as pdf:
            for page in pdf.pages:
                used = {
                    str(operands[0]) for operands, _ in pikepdf.parse_content_stream(page, "Tf")
                }
                assert used == set(page.Resources.Font.keys())


def test_the_split_is_byte_identical_whichever_office_run_made_the_pdf(
    pool: ConverterPool, contract_set: ContractSet, cut: tuple[list[bytes], bytes]
) -> None:
    # The same office again: its Type 1 /UniqueID counter has moved on.
    joined = join([doc.docx for doc in contract_set.documents])
    assert joined is not None
    sections = [dataclasses.asdict(section) for section in joined.sections]
    pdf, counts = pool.convert_sections(joined.docx, sections)
    ids = sorted(unique_ids(pdf))
    assert ids and ids[0] > 4100001  # not what a fresh office writes
    assert split(pdf, counts, contract_set) == cut
    assert min(unique_ids(cut[1])) == 4100001


def test_page_counts_that_do_not_add_up_are_an_error(
    converted: tuple[bytes, list[int]], contract_set: ContractSet
) -> None:
    pdf, counts = converted
    with pytest.raises(ConversionError, match="pages"):
        split(pdf, [*counts[:-1], counts[-1] + 1], contract_set)
    with pytest.raises(ConversionError, match="pages"):
        split(pdf, [0, *counts[1:-1], counts[-1] + counts[0]], contract_set)


def test_a_section_mark_missing_from_the_file_is_an_error(
    pool: ConverterPool, contract_set: ContractSet
) -> None:
    joined = join([doc.docx for doc in contract_set.documents])
    assert joined is not None
    sections = [dataclasses.asdict(section) for section in joined.sections]
    lacking = [dict(section) for section in sections]
    lacking[2]["end"] = "无此书签"
    with pytest.raises(ConversionError, match="找不到分节书签 无此书签"):
        pool.convert_sections(joined.docx, lacking)
    # The office is still there for the next set.
    assert len(pool.convert_sections(joined.docx, sections)[1]) == len(sections)


def test_templates_that_cannot_be_joined_convert_one_by_one(
    tmp_path: Path, pool: ConverterPool, seed_data: dict[str, Any], cut: tuple[list[bytes], bytes]
) -> None:
    # The same templates, but the integrity agreement's styles differ by a comment.
    for kind in KINDS:
        source = TEMPLATE_DIR / f"{kind}.docx"
        target = tmp_path / source.name
        if kind != "integrity_agreement":
            shutil.copyfile(source, target)
            continue
        with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
            for name in old.namelist():
                data = old.read(name)
                if name == "word/styles.xml":
                    data = data.replace(b"</w:styles>", b"<!-- local --></w:styles>")
                new.writestr(name, data)
    templates = kind_templates(KIND, tmp_path)
    contract = parse(seed_data)
    assert join([doc.docx for doc in render_docx(contract, templates).documents]) is None
    made = render_set(contract, converter=pool, templates=templates)
    documents, bundle = cut
    assert made.bundle is not None and made.bundle_pages == page_count(bundle)
    for doc, joined_pdf in zip(made.documents, documents, strict=True):
        assert doc.pdf is not None and doc.pdf != joined_pdf  # converted alone
        assert page_texts(doc.pdf, tmp_path) == page_texts(joined_pdf, tmp_path)
    assert [len(doc.seals) for doc in made.documents] == [2, 2, 2, 0]


class _MismeasuringPool(ConverterPool):
    """A real pool whose joined conversions report page counts that do not add up."""

    def convert_sections(self, *args: Any, **kwargs: Any) -> tuple[bytes, list[int]]:
        pdf, counts = super().convert_sections(*args, **kwargs)
        self.mismeasured = getattr(self, "mismeasured", 0) + 1
        return pdf, [*counts[:-1], counts[-1] + 1]


def test_a_set_whose_pages_do_not_add_up_is_tried_again_then_converted_one_by_one(
    seed_data: dict[str, Any],
    cut: tuple[list[bytes], bytes],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with _MismeasuringPool(1) as pool:
        made = render_set(parse(seed_data), converter=pool)
        assert pool.mismeasured == 2
    assert [r.message.count("the joined set failed") for r in caplog.records] == [1, 1]
    documents, _ = cut
    for doc, joined_pdf in zip(made.documents, documents, strict=True):
        assert doc.pdf is not None
        assert page_texts(doc.pdf, tmp_path) == page_texts(joined_pdf, tmp_path)


@pytest.mark.parametrize(
    ("spans", "last", "expected"),
    [
        ([[1, 13], [14, 25], [26, 29], [30, 30]], 30, True),
        ([[1, 13], [15, 26], [27, 30], [31, 31]], 31, True),  # a blank page after the first
        ([[13, 13], [14, 25], [26, 29], [30, 30]], 30, False),  # the start read wrong
        ([[1, 13], [14, 25], [26, 29], [30, 30]], 31, False),  # not up to the last page
        ([[1, 13], [17, 25], [26, 29], [30, 30]], 30, False),  # a gap of pages
        ([[1, 13], [14, 12], [13, 29], [30, 30]], 30, False),  # a section ending before it starts
    ],
)
def test_the_bridge_accepts_only_consistent_section_pages(
    spans: list[list[int]], last: int, expected: bool
) -> None:
    # The bridge runs under Debian's python3 (it imports uno): asked there.
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('bridge', {str(BRIDGE)!r})\n"
        "bridge = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(bridge)\n"
        "print(json.dumps(bridge.consistent(*json.loads(sys.argv[1]))))\n"
    )
    out = subprocess.run(
        [find_uno_python(), "-c", script, json.dumps([spans, last])],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) is expected


#: what the office showed, look by look, in a set counted wrong before two looks were
#: asked to agree: a layout being redone (19 pages), then the final one
_LOOKS = [
    [[[1, 8], [9, 14], [15, 17], [19, 19]], 19],
    [[[1, 13], [15, 26], [27, 30], [31, 31]], 31],
    [[[1, 13], [15, 26], [27, 30], [31, 31]], 31],
]


def test_section_pages_count_only_when_two_looks_agree() -> None:
    # The bridge's own count_pages, under Debian's python3, given a document that shows
    # the looks above one after the other (each look: every mark's page, then the last).
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('bridge', {str(BRIDGE)!r})\n"
        "bridge = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(bridge)\n"
        "looks = json.loads(sys.argv[1])\n"
        "class Document:\n"
        "    refreshed = 0\n"
        "    replaced = []\n"
        "    def refresh(self):\n"
        "        spans, last = looks[min(self.refreshed, len(looks) - 1)]\n"
        "        self.pages = [page for span in spans for page in span] + [last]\n"
        "        self.refreshed += 1\n"
        "    def getCurrentController(self):\n"
        "        return self\n"
        "    def getViewCursor(self):\n"
        "        return self\n"
        "    def gotoRange(self, mark, expand):\n"
        "        self.at = mark\n"
        "    def jumpToLastPage(self):\n"
        "        self.at = len(self.pages) - 1\n"
        "    def getPage(self):\n"
        "        return self.pages[self.at]\n"
        "    def createReplaceDescriptor(self):\n"
        "        return type('Search', (), {})()\n"
        "    def replaceAll(self, search):\n"
        "        self.replaced.append((search.SearchString, search.ReplaceString))\n"
        "doc = Document()\n"
        "sections = [{'total': f'T{n}'} for n in range(4)]\n"
        "counts = bridge.count_pages(doc, sections, list(range(8)))\n"
        "print(json.dumps([counts, doc.refreshed, doc.replaced]))\n"
    )
    out = subprocess.run(
        [find_uno_python(), "-c", script, json.dumps(_LOOKS)],
        capture_output=True,
        text=True,
        check=True,
    )
    counts, refreshed, replaced = json.loads(out.stdout)
    assert counts == [13, 12, 4, 1]
    assert refreshed == 3
    assert replaced == [["T0", "13"], ["T1", "12"], ["T2", "4"], ["T3", "1"]]


def test_the_generator_makes_a_set_once_for_requests_at_the_same_time(
    seed_data: dict[str, Any],
) -> None:
    with Generator(workers=2) as generator:
        start = threading.Barrier(4)

        def one(kind: str) -> ContractSet:
            start.wait()
            return generator.render(seed_data, formats=("pdf",), kinds=(kind,))

        with ThreadPoolExecutor(4) as threads:
            made = list(threads.map(one, KINDS))
        assert generator.counts == {"made": 1, "cached": 0}
        assert generator.converter.stats["conversions"] == 1
        again = generator.render(seed_data)
        assert generator.counts == {"made": 1, "cached": 1}
        # Each answer holds its own document, the bytes of the whole set.
        for kind, answer in zip(KINDS, made, strict=True):
            assert [doc.kind for doc in answer.documents] == [kind]
            assert answer.bundle is None and answer.formats == ("pdf",)
            assert answer.documents[0].pdf == again.documents[list(KINDS).index(kind)].pdf
        assert again.bundle is not None and again.formats == ("docx", "pdf")


def rasters(pdf: bytes, tmp: Path, first: int, last: int) -> list[bytes]:
    """Return pages ``first`` to ``last`` of a PDF rendered in grey at 40 dpi."""
    source = tmp / "raster.pdf"
    source.write_bytes(pdf)
    for old in tmp.glob("raster-*.pgm"):
        old.unlink()
    pages = ["-f", str(first), "-l", str(last)]
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", *pages, str(source), str(tmp / "raster")], check=True
    )
    return [path.read_bytes() for path in sorted(tmp.glob("raster-*.pgm"))]


def test_each_document_keeps_only_the_glyphs_it_shows_and_looks_the_same(
    cut: tuple[list[bytes], bytes], tmp_path: Path
) -> None:
    documents, bundle = cut
    first = 1
    for document in documents:
        pages = page_count(document)
        # The bundle keeps the set's whole subsets: a missing glyph would show here.
        whole = rasters(bundle, tmp_path, first, first + pages - 1)
        assert rasters(document, tmp_path, 1, pages) == whole
        first += pages
    # The one-page form carries far less than the set's fonts.
    assert len(documents[-1]) < 0.6 * len(bundle)


def renumbered_by_the_office(pdf: bytes) -> bytes:
    """Return LibreOffice's PDF as an office that numbered its fonts the other way round would
    have written it: the same programs, their /UniqueIDs given in reverse."""
    with open_bytes(pdf) as doc:
        programs = [
            obj for obj in doc.objects if isinstance(obj, pikepdf.Stream) and "/Length2" in obj
        ]
        ids = [int(UNIQUE_ID.search(p.read_bytes()).group(1)) for p in programs]  # type: ignore[union-attr]
        for program, new in zip(programs, reversed(ids), strict=True):
            data = program.read_bytes()
            clear, secret = int(program.Length1), int(program.Length2)
            plain = type1.decrypt(data[clear : clear + secret])
            replacement = b"/UniqueID %d def" % new
            head = UNIQUE_ID.sub(replacement, data[:clear], count=1)
            plain = UNIQUE_ID.sub(replacement, plain, count=1)
            program.write(head + type1.encrypt(plain) + data[clear + secret :])
            program.Length1, program.Length2 = len(head), secret
        buffer = io.BytesIO()
        doc.save(buffer)
        return buffer.getvalue()


def test_fonts_are_numbered_whatever_order_the_office_numbered_them_in(
    converted: tuple[bytes, list[int]], contract_set: ContractSet, cut: tuple[list[bytes], bytes]
) -> None:
    pdf, counts = converted
    other = renumbered_by_the_office(pdf)
    assert sorted(unique_ids(other)) == sorted(unique_ids(pdf)) and other != pdf
    assert split(other, counts, contract_set) == cut


def test_text_that_looks_like_the_page_placeholder_prints_literally(
    pool: ConverterPool, seed_data: dict[str, Any], tmp_path: Path
) -> None:
    # The old placeholder (#cg-pages-1#) was replaced wherever it stood, data included.
    data = {**seed_data, "other_terms": "见附件#cg-pages-1#及#cg-pages-4#", "project_name": "#cg"}
    made = render_set(parse(data), converter=pool)
    contract = made.documents[0]
    assert contract.pdf is not None
    text = re.sub(r"\s", "", "".join(page_texts(contract.pdf, tmp_path)))
    assert "见附件#cg-pages-1#及#cg-pages-4#" in text
    body = zipfile.ZipFile(io.BytesIO(contract.docx)).read("word/document.xml").decode()
    assert "见附件#cg-pages-1#及#cg-pages-4#" in re.sub(r"<[^>]+>", "", body)


def _contents(pdf: bytes) -> list[bytes]:
    """Return what each page draws (its content streams, decoded)."""
    with open_bytes(pdf) as doc:
        return [page.Contents.read_bytes() for page in doc.pages]


def test_a_joined_set_comes_in_with_hanging_punctuation_off_and_is_laid_out_once(
    contract_set: ContractSet, tmp_path: Path
) -> None:
    """The joined file turns hanging punctuation off itself; the bridge then sets nothing.

    The same pages as when the bridge sets it after loading (what it does for any
    other document, and what it falls back to when the import did not turn it off).
    """
    joined = join([doc.docx for doc in contract_set.documents])
    assert joined is not None and joined.hanging_off
    package = zipfile.ZipFile(io.BytesIO(joined.docx))
    styles = package.read("word/styles.xml")
    assert styles.count(b"overflowPunct") == 1 and b'<w:overflowPunct w:val="1"/>' in styles
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as out:
        for name in package.namelist():
            data = package.read(name)
            if name == "word/styles.xml":
                data = data.replace(b'<w:overflowPunct w:val="1"/>', b"")
            out.writestr(name, data)
    (tmp_path / "joined.docx").write_bytes(joined.docx)
    (tmp_path / "plain.docx").write_bytes(plain.getvalue())
    sections = [dataclasses.asdict(section) for section in joined.sections]
    worker = Worker(0, find_soffice(), find_uno_python(), FONTS_CONF, 60.0, tmp_path)
    worker.start()
    try:
        imported = worker.convert(
            tmp_path / "joined.docx", tmp_path / "a.pdf", False, 120.0, sections, True
        )
        # told so, but the file does not say it: hanging is on after loading, so it is set
        fallback = worker.convert(
            tmp_path / "plain.docx", tmp_path / "b.pdf", False, 120.0, sections, True
        )
        before = worker.convert(
            tmp_path / "plain.docx", tmp_path / "c.pdf", False, 120.0, sections, False
        )
    finally:
        worker.stop()
    assert imported["punctuation"] == "imported"
    assert fallback["punctuation"] == "set" and before["punctuation"] == "set"
    assert imported["pages"] == before["pages"] == fallback["pages"]
    drawn = _contents((tmp_path / "c.pdf").read_bytes())
    assert _contents((tmp_path / "a.pdf").read_bytes()) == drawn
    assert _contents((tmp_path / "b.pdf").read_bytes()) == drawn
