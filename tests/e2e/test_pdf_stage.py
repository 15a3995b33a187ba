"""What each finished PDF holds, read object by object with tools this project did not write.

Nothing hidden (every object reachable, every page object a page of the
document, no text or glyph of another document), one instant for the DOCX and
the PDF, and PDF/A-2b as pikepdf's validator sees it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from docx import Document as DocxDocument
from pikepdf import pdfa

from generator import ContractSet, Generator
from generator.identity import identity
from generator.inputs.load import load_data

from ..conftest import SAMPLES
from ..pdfs import open_bytes, page_objects, page_texts, unreachable

#: midnight of the seed's signing date in China, the instant every date of its set names
SIGNED = dt.datetime(2026, 1, 16, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="module")
def sets(seed_data: dict[str, Any]) -> Iterator[dict[str, ContractSet]]:
    with Generator(workers=2) as generator:
        yield {
            "seed": generator.render(seed_data),
            "pdfa": generator.render(seed_data, pdfa=True),
            "cross_year": generator.render(load_data(SAMPLES / "cross_year.yaml")),
        }


def pdfs(contract_set: ContractSet) -> dict[str, bytes]:
    """Return every PDF of a set by file name, the bundle included."""
    return {name: data for name, data in contract_set.files().items() if name.endswith(".pdf")}


@pytest.mark.parametrize("name", ["seed", "pdfa", "cross_year"])
def test_every_object_is_reachable_and_every_page_object_is_a_page(
    sets: dict[str, ContractSet], name: str
) -> None:
    for file, pdf in pdfs(sets[name]).items():
        pages, in_tree = page_objects(pdf)
        assert pages == in_tree, file
        assert unreachable(pdf) == [], file


def to_unicode_text(pdf: bytes) -> set[str]:
    """Return every character any font's ToUnicode map in the file can give, found by walking
    every object of the file."""
    found: set[str] = set()
    with open_bytes(pdf) as doc:
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Dictionary) and "/ToUnicode" in obj:
                cmap = obj.ToUnicode.read_bytes().decode("latin-1")
                for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
                    for target in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]*)>", block):
                        found.add(bytes.fromhex(target).decode("utf-16-be"))
    return found


@pytest.mark.parametrize("name", ["seed", "pdfa"])
def test_a_document_holds_nothing_of_the_others(
    sets: dict[str, ContractSet], name: str, tmp_path: Path
) -> None:
    contract = sets[name].contract
    for doc in sets[name].documents:
        assert doc.pdf is not None
        own = "".join(page_texts(doc.pdf, tmp_path))
        # Every page object of the file, put in a new page tree, as one would repair a
        # catalog that was pointed at an old tree: the document's pages and nothing more.
        with open_bytes(doc.pdf) as source:
            repaired = pikepdf.new()
            for obj in source.objects:
                if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Page":
                    repaired.pages.append(pikepdf.Page(obj))
                    if "/Annots" in repaired.pages[-1].obj:  # the seal fields: not text
                        del repaired.pages[-1].obj.Annots
            buffer = io.BytesIO()
            repaired.save(buffer)
        assert "".join(page_texts(buffer.getvalue(), tmp_path)) == own, doc.kind
        # The fonts can give no character the document does not show.
        assert to_unicode_text(doc.pdf) <= set(own) | {" "}, doc.kind
        if doc.kind == "acceptance_plan":
            raw = doc.pdf.decode("latin-1")
            for secret in (contract.supplier.bank.account, contract.supplier.bank.name):
                assert secret not in own and secret.encode("utf-16-be").decode("latin-1") not in raw


def pdf_instant(value: str) -> dt.datetime:
    """Return the instant of a PDF date string, D:YYYYMMDDHHmmSS+HH'mm'."""
    found = re.fullmatch(r"D:(\d{14})([+-])(\d\d)'(\d\d)'?", value)
    assert found, value
    sign = 1 if found.group(2) == "+" else -1
    offset = dt.timedelta(hours=int(found.group(3)), minutes=int(found.group(4)))
    moment = dt.datetime.strptime(found.group(1), "%Y%m%d%H%M%S")
    return moment.replace(tzinfo=dt.timezone(sign * offset))


@pytest.mark.parametrize("name", ["seed", "pdfa"])
def test_docx_and_pdf_carry_one_instant(sets: dict[str, ContractSet], name: str) -> None:
    for doc in sets[name].documents:
        core = DocxDocument(io.BytesIO(doc.docx)).core_properties
        assert core.created is not None and core.modified is not None
        # python-docx reads W3CDTF ...Z as a naive UTC time
        assert core.created.replace(tzinfo=dt.UTC) == SIGNED, doc.kind
        assert core.modified.replace(tzinfo=dt.UTC) == SIGNED, doc.kind
    for file, pdf in pdfs(sets[name]).items():
        with open_bytes(pdf) as document:
            for key in ("/CreationDate", "/ModDate"):
                assert pdf_instant(str(document.docinfo[key])) == SIGNED, (file, key)
            if name == "pdfa":
                xmp = document.open_metadata()
                for key in ("xmp:CreateDate", "xmp:ModifyDate"):
                    assert dt.datetime.fromisoformat(str(xmp[key])) == SIGNED, (file, key)
                assert "xmp:MetadataDate" not in xmp


def test_document_information(sets: dict[str, ContractSet]) -> None:
    contract_set = sets["seed"]
    titles = {doc.stem + ".pdf": doc.title for doc in contract_set.documents}
    titles[contract_set.bundle_name] = "运维服务合同（全套）"
    for file, pdf in pdfs(contract_set).items():
        with open_bytes(pdf) as document:
            info = {key: str(value) for key, value in document.docinfo.items()}
            assert info["/Title"] == titles[file]
            assert info["/Subject"] == contract_set.contract_no
            assert info["/Author"] == contract_set.contract.buyer.name
            assert info["/Creator"] == "contractgen"
            assert info["/Producer"].startswith("LibreOffice")
            assert str(document.Root.Lang) == "zh-CN"


def validate(pdf: bytes) -> pdfa.ValidationReport:
    return pdfa.validate_written(io.BytesIO(pdf), "2b")


def test_pdfa_2b_passes_pikepdf_s_validator(sets: dict[str, ContractSet]) -> None:
    contract_set = sets["pdfa"]
    assert validate(contract_set.bundle or b"").passed
    for doc in contract_set.documents:
        assert doc.pdf is not None
        report = validate(doc.pdf)
        if not doc.seals:
            assert report.passed, (doc.kind, report.findings)
            continue
        # The validator does not know signature fields (interactive forms) yet: that is
        # its only finding, and the same file without the fields passes.
        assert not report.passed
        assert {str(f).split("/AcroForm")[0] != str(f) for f in report.findings} == {True}
        with open_bytes(doc.pdf) as document:
            del document.Root.AcroForm
            for page in document.pages:
                if "/Annots" in page.obj:
                    del page.obj.Annots
            buffer = io.BytesIO()
            document.save(buffer, deterministic_id=True)
        assert validate(buffer.getvalue()).passed, doc.kind


#: a child process that places every document's seals from several threads at once, as the
#: service does when it finishes sets in its worker threads; it prints each thread's records
_THREADS = """
import json, sys, threading
from pathlib import Path
from generator.pipeline import seal_specs
from generator.pdf.seal import TextLayer, place

files = {kind: Path(path).read_bytes() for kind, path in json.loads(sys.argv[1]).items()}
pages = json.loads(sys.argv[2])
def alone():
    records = []
    for kind, data in files.items():
        layer = TextLayer(data)
        try:
            records.append(place(layer, range(pages[kind]), seal_specs(kind), kind))
        finally:
            layer.close()
    return records

start = threading.Barrier(4)
results = [None] * 4

def work(slot):
    start.wait()
    records = []
    for _ in range(15):
        for kind, data in files.items():
            layer = TextLayer(data)
            try:
                records.append(place(layer, range(pages[kind]), seal_specs(kind), kind))
            finally:
                layer.close()
    results[slot] = records

threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"alone": alone(), "threads": results}))
"""


def test_seals_are_placed_soundly_from_several_threads_at_once(
    sets: dict[str, ContractSet], tmp_path: Path
) -> None:
    """PDFium is not thread-safe: without one lock around it, this child dies of SIGSEGV."""
    contract_set = sets["seed"]
    paths, pages, expected = {}, {}, []
    for doc in contract_set.documents:
        path = tmp_path / f"{doc.kind}.pdf"
        path.write_bytes(doc.pdf)
        paths[doc.kind], pages[doc.kind] = str(path), doc.pages
        expected.append(doc.seals)
    child = subprocess.run(
        [sys.executable, "-c", _THREADS, json.dumps(paths), json.dumps(pages)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    results = json.loads(child.stdout)
    alone = results["alone"]
    # the seals fall where the manifest says (read from the finished files, not LibreOffice's)
    assert [[r["rect"] for r in doc] for doc in alone] == [
        [r["rect"] for r in doc] for doc in expected
    ]
    assert len(results["threads"]) == 4
    for records in results["threads"]:
        assert records == alone * 15


#: a child process that draws every page as the workbench's previews do, from four threads,
#: while two more place seals, as the service does in its worker threads
_PICTURES = """
import hashlib, json, sys, threading
from pathlib import Path
from generator.pdf import page_png
from generator.pipeline import seal_specs
from generator.pdf.seal import TextLayer, place

files = {kind: Path(path).read_bytes() for kind, path in json.loads(sys.argv[1]).items()}
pages = json.loads(sys.argv[2])

def pictures():
    return [
        hashlib.sha256(page_png(data, n, 40)).hexdigest()
        for kind, data in files.items()
        for n in range(pages[kind])
    ]

def seals():
    for kind, data in files.items():
        layer = TextLayer(data)
        try:
            place(layer, range(pages[kind]), seal_specs(kind), kind)
        finally:
            layer.close()

start = threading.Barrier(6)
results = [None] * 4

def draw(slot):
    start.wait()
    results[slot] = [pictures() for _ in range(3)]

def sealer():
    start.wait()
    for _ in range(5):
        seals()

threads = [threading.Thread(target=draw, args=(n,)) for n in range(4)]
threads += [threading.Thread(target=sealer) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"alone": pictures(), "threads": results}))
"""


def test_pages_are_drawn_soundly_from_several_threads_while_seals_are_placed(
    sets: dict[str, ContractSet], tmp_path: Path
) -> None:
    """The workbench's page pictures share PDFium with the seals: one lock, or SIGSEGV."""
    paths, pages = {}, {}
    for doc in sets["seed"].documents:
        path = tmp_path / f"{doc.kind}.pdf"
        path.write_bytes(doc.pdf)
        paths[doc.kind], pages[doc.kind] = str(path), doc.pages
    child = subprocess.run(
        [sys.executable, "-c", _PICTURES, json.dumps(paths), json.dumps(pages)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    results = json.loads(child.stdout)
    assert len(results["alone"]) == sum(pages.values())
    for drawn in results["threads"]:
        assert drawn == [results["alone"]] * 3


#: the SHA-256 of every DOCX and PDF of the fixture's sets, taken before the PDF stage was
#: made faster (issue 25), with the LibreOffice and the fonts that made them
PINNED = Path(__file__).resolve().parent.parent / "fixtures" / "pdf_bytes.json"


def _digests(sets: dict[str, ContractSet]) -> dict[str, Any]:
    """Return, per set, the SHA-256 of each DOCX and PDF and of its seal records."""
    out: dict[str, Any] = {}
    for name, contract_set in sets.items():
        files = {
            file: hashlib.sha256(data).hexdigest()
            for file, data in contract_set.files().items()
            if file.endswith((".docx", ".pdf"))
        }
        seals = [[doc.seals, doc.cross_page_seal] for doc in contract_set.documents]
        files["seals"] = hashlib.sha256(json.dumps(seals, sort_keys=True).encode()).hexdigest()
        out[name] = files
    return out


def test_the_pdf_stage_gives_the_bytes_it_gave_before(
    sets: dict[str, ContractSet], request: pytest.FixtureRequest
) -> None:
    """The same DOCX through the same office give the same PDFs, byte for byte, and seals.

    A change of the templates changes the DOCX and so what LibreOffice gives: the pins
    are then retaken (``pytest tests/e2e/test_pdf_stage.py --update-golden``), never
    while changing the PDF stage itself.
    """
    made = {"office": identity().office, "fonts": identity().fonts_sha256, "sets": _digests(sets)}
    if request.config.getoption("--update-golden"):
        PINNED.write_text(
            json.dumps(made, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    if (made["office"], made["fonts"]) != (pinned["office"], pinned["fonts"]):
        pytest.skip(f"pinned with {pinned['office']} and other fonts, not {made['office']}")
    docx = {
        name: {f: h for f, h in files.items() if f.endswith(".docx")}
        for name, files in made["sets"].items()
    }
    if docx != {
        name: {f: h for f, h in files.items() if f.endswith(".docx")}
        for name, files in pinned["sets"].items()
    }:
        pytest.skip("the templates changed since the pins were taken: retake them")
    assert made["sets"] == pinned["sets"]
