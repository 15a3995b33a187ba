"""A set converted in one LibreOffice pass and split equals its documents converted one by one."""

from __future__ import annotations

import dataclasses
import datetime as dt
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

import pytest
from pypdf import PdfReader, PdfWriter

import generator
from generator import pdfdoc
from generator.api import ContractSet, Generator, render_docx, render_set
from generator.convert import ConverterPool, find_uno_python
from generator.join import join
from generator.render import KINDS, TEMPLATE_DIR, TemplateSet
from generator.validate import parse

from ..type1 import unique_ids

META: dict[str, Any] = {
    "title": "运维服务合同（全套）",
    "subject": "11NMB2F042362026201",
    "author": "上海市大数据中心",
    "date": dt.date(2026, 1, 16),
}
BRIDGE = Path(generator.__file__).parent / "_uno_worker.py"


def page_texts(pdf: bytes, tmp: Path) -> list[str]:
    """Return the text of each page as ``pdftotext -layout`` reads it."""
    path = tmp / "page-texts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return out.split("\f")[:-1]


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
def split(
    converted: tuple[bytes, list[int]], contract_set: ContractSet
) -> tuple[list[bytes], bytes]:
    pdf, counts = converted
    parts = [(doc.title, n) for doc, n in zip(contract_set.documents, counts, strict=True)]
    return pdfdoc.split(pdf, parts, **META)


def test_page_counts_are_those_of_the_documents_alone(
    converted: tuple[bytes, list[int]], one_by_one: list[bytes]
) -> None:
    pdf, counts = converted
    assert counts == [pdfdoc.page_count(alone) for alone in one_by_one]
    assert sum(counts) == pdfdoc.page_count(pdf)  # no blank page between documents


def test_every_page_reads_as_when_converted_alone(
    split: tuple[list[bytes], bytes], one_by_one: list[bytes], tmp_path: Path
) -> None:
    documents, _ = split
    for part, alone in zip(documents, one_by_one, strict=True):
        texts = page_texts(part, tmp_path)
        assert texts == page_texts(alone, tmp_path)
        # 第 X 页 共 Y 页 counts the document's own pages.
        for number, text in enumerate(texts, 1):
            assert re.search(rf"第\s*{number}\s*页\s*共\s*{len(texts)}\s*页", text), number


def test_each_document_is_finished_with_its_own_title_and_bookmarks(
    split: tuple[list[bytes], bytes], contract_set: ContractSet
) -> None:
    documents, bundle = split
    for part, doc in zip(documents, contract_set.documents, strict=True):
        reader = PdfReader(io.BytesIO(part))
        assert reader.metadata is not None and reader.metadata.title == doc.title
        assert reader.metadata.subject == META["subject"]
        assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
        top = [item for item in reader.outline if not isinstance(item, list)]
        assert [item.title for item in top] == [doc.title]
        # Every font a page uses is embedded (Type 1 /FontFile or TrueType /FontFile2).
        for page in reader.pages:
            for font in page["/Resources"]["/Font"].values():
                descriptor = font.get_object()["/FontDescriptor"]
                assert "/FontFile" in descriptor or "/FontFile2" in descriptor
    reader = PdfReader(io.BytesIO(bundle))
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [item.title for item in top] == [doc.title for doc in contract_set.documents]
    assert len(reader.pages) == sum(len(PdfReader(io.BytesIO(p)).pages) for p in documents)


def test_a_document_keeps_only_the_fonts_its_pages_use(split: tuple[list[bytes], bytes]) -> None:
    documents, bundle = split
    bundle_fonts = set(PdfReader(io.BytesIO(bundle)).pages[0]["/Resources"]["/Font"])
    service = PdfReader(io.BytesIO(documents[0]))
    used = set()
    for page in service.pages:
        contents = page.get_contents()
        assert contents is not None
        used.update(re.findall(rb"/(\S+) [\d.]+ Tf", contents.get_data()))
    names = set(service.pages[0]["/Resources"]["/Font"])
    assert {f"/{n.decode()}" for n in used} == names
    assert names <= bundle_fonts


def test_the_split_is_byte_identical_whichever_office_run_made_the_pdf(
    pool: ConverterPool, contract_set: ContractSet, split: tuple[list[bytes], bytes]
) -> None:
    # The same office again: its Type 1 /UniqueID counter has moved on.
    joined = join([doc.docx for doc in contract_set.documents])
    assert joined is not None
    sections = [dataclasses.asdict(section) for section in joined.sections]
    pdf, counts = pool.convert_sections(joined.docx, sections)
    ids = sorted(unique_ids(pdf))
    assert ids and ids[0] > 4100001  # not what a fresh office writes
    parts = [(doc.title, n) for doc, n in zip(contract_set.documents, counts, strict=True)]
    assert pdfdoc.split(pdf, parts, **META) == split
    assert min(unique_ids(split[1])) == 4100001


def test_a_file_of_another_shape_is_split_through_pypdf(
    converted: tuple[bytes, list[int]],
    split: tuple[list[bytes], bytes],
    contract_set: ContractSet,
    tmp_path: Path,
) -> None:
    pdf, counts = converted
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)  # a second table: not LibreOffice's
    writer.add_metadata({"/Title": "old"})
    buffer = io.BytesIO()
    writer.write(buffer)
    parts = [(doc.title, n) for doc, n in zip(contract_set.documents, counts, strict=True)]
    documents, bundle = pdfdoc.split(buffer.getvalue(), parts, **META)
    for general, fast in zip([*documents, bundle], [*split[0], split[1]], strict=True):
        assert general != fast
        assert page_texts(general, tmp_path) == page_texts(fast, tmp_path)
        reader = PdfReader(io.BytesIO(general))
        assert reader.metadata is not None
        assert reader.metadata.title == PdfReader(io.BytesIO(fast)).metadata.title  # type: ignore[union-attr]


def test_page_counts_that_do_not_add_up_are_an_error(converted: tuple[bytes, list[int]]) -> None:
    pdf, counts = converted
    with pytest.raises(ValueError, match="pages"):
        pdfdoc.split(pdf, [("a", counts[0]), ("b", 1)], **META)
    with pytest.raises(ValueError):
        pdfdoc.split(pdf, [("a", 0), ("b", sum(counts))], **META)


def test_templates_that_cannot_be_joined_convert_one_by_one(
    tmp_path: Path, pool: ConverterPool, seed_data: dict[str, Any], split: tuple[list[bytes], bytes]
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
    templates = TemplateSet(tmp_path)
    contract = parse(seed_data)
    assert join([doc.docx for doc in render_docx(contract, templates).documents]) is None
    made = render_set(contract, converter=pool, templates=templates)
    documents, bundle = split
    assert made.bundle is not None and made.bundle_pages == pdfdoc.page_count(bundle)
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
    split: tuple[list[bytes], bytes],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with _MismeasuringPool(1) as pool:
        made = render_set(parse(seed_data), converter=pool)
        assert pool.mismeasured == 2
    assert [r.message.count("the joined set failed") for r in caplog.records] == [1, 1]
    documents, _ = split
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
    split: tuple[list[bytes], bytes], tmp_path: Path
) -> None:
    documents, bundle = split
    first = 1
    for document in documents:
        pages = pdfdoc.page_count(document)
        # The bundle keeps the set's whole subsets: a missing glyph would show here.
        whole = rasters(bundle, tmp_path, first, first + pages - 1)
        assert rasters(document, tmp_path, 1, pages) == whole
        first += pages
    # The one-page form carries far less than the set's fonts.
    assert len(documents[-1]) < 0.6 * len(bundle)
