"""Every character of each DOCX reaches its PDF's text layer, in order.

LibreOffice 7.4 hangs a full-width comma or stop that follows an exactly full
justified CJK line into the margin, and its PDF export then drops it (drawn
nowhere, absent from the text layer); ``generator/office/_uno_worker.py`` turns hanging
punctuation off. Contracts of varied lengths move the line ends around.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from generator import Generator
from generator.inputs.load import load_data
from generator.pipeline import ContractSet

from ..conftest import SAMPLES
from ..pdfs import page_texts

#: each page's running header and footer, which the DOCX body does not hold
HEADER = re.compile(r"(合同编号|协议编号)：\S*")
FOOTER = re.compile(r"第\s*\d+\s*页\s*共\s*\d+\s*页")
WHITESPACE = re.compile(r"\s+")

HAN = "的是在不了有和人中大为上个国以要时来用生到作地于出分对成会可主发年动同工能下过"
PUNCTUATION = "，、。；：）」！？"
#: about one character in six is punctuation, so that some land where a line is full
ALPHABET = tuple(HAN) + tuple(PUNCTUATION)


@pytest.fixture(scope="module")
def generator() -> Iterator[Generator]:
    with Generator(workers=2) as made:
        yield made


def docx_chars(docx: bytes) -> str:
    """Return the body text of a DOCX without whitespace, tables cell by cell.

    Not ``tests/docx_text.docx_lines``: python-docx gives a vertically merged cell
    once per row it spans, while the PDF (and the DOCX) hold its text once.
    """
    body = Document(io.BytesIO(docx)).element.body
    return WHITESPACE.sub("", "".join(node.text or "" for node in body.iter(qn("w:t"))))


def pdf_chars(pdf: bytes, tmp: Path) -> str:
    """Return the text layer of a PDF without whitespace, page headers and footers.

    ``pdftotext -raw`` keeps the order of the content stream, which LibreOffice writes
    in document order; the default layout mode would read the cells of side-by-side
    tables (signature blocks, the acceptance plan) across by position instead.
    """
    pages = []
    for page in page_texts(pdf, tmp, "-raw"):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if lines and HEADER.fullmatch(lines[0]):
            lines = lines[1:]
        if lines and FOOTER.fullmatch(lines[-1]):
            lines = lines[:-1]
        pages.append("".join(lines))
    return WHITESPACE.sub("", "".join(pages))


def differences(expected: str, found: str) -> str:
    """Return where two texts differ, each place with a little context."""
    matcher = difflib.SequenceMatcher(None, expected, found, autojunk=False)
    places = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            before, after = expected[max(0, i1 - 12) : i1], expected[i2 : i2 + 12]
            places.append(
                f"{op}: …{before}[DOCX {expected[i1:i2]!r} | PDF {found[j1:j2]!r}]{after}…"
            )
    return "\n".join(places)


def assert_text_kept(contract_set: ContractSet, tmp: Path) -> None:
    """Assert that each PDF of a set, and its bundle, holds its DOCX text in order."""
    failures = []
    for document in contract_set.documents:
        assert document.pdf is not None
        expected, found = docx_chars(document.docx), pdf_chars(document.pdf, tmp)
        if expected != found:
            failures.append(f"{document.stem}:\n{differences(expected, found)}")
    assert contract_set.bundle is not None
    whole = "".join(docx_chars(document.docx) for document in contract_set.documents)
    found = pdf_chars(contract_set.bundle, tmp)
    if whole != found:
        failures.append(f"{contract_set.bundle_name}:\n{differences(whole, found)}")
    assert not failures, "text of the DOCX not in the PDF:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("sample", "pdfa"), [("seed", False), ("seed", True), ("cross_year", False)]
)
def test_the_samples_keep_every_character(
    generator: Generator, sample: str, pdfa: bool, tmp_path: Path
) -> None:
    data = load_data(SAMPLES / f"{sample}.yaml")
    assert_text_kept(generator.render(data, pdfa=pdfa), tmp_path)


def cjk(low: int, high: int) -> st.SearchStrategy[str]:
    """Return Chinese text of low to high characters, a Han character first."""
    first = st.sampled_from(HAN)
    return st.builds(str.__add__, first, st.text(ALPHABET, min_size=low - 1, max_size=high - 1))


SEED = load_data(SAMPLES / "seed.yaml")


@st.composite
def contracts(draw: st.DrawFn) -> dict[str, Any]:
    """Return the seed with its free texts at other lengths, so lines end elsewhere."""
    data: dict[str, Any] = copy.deepcopy(dict(SEED))
    data["project_name"] = draw(cjk(4, 40))
    data["service"]["site"] = draw(cjk(4, 60))
    data["other_terms"] = draw(cjk(1, 160))
    data["supplier"]["name"] = draw(cjk(2, 24)) + "有限公司"
    data["owner_unit"] = draw(cjk(4, 30))
    data["confidential_extra"] = draw(cjk(1, 80))
    data["acceptance_plan"]["time"] = draw(cjk(4, 80))
    note(f"varied: {data['project_name']=} {data['service']['site']=} {data['other_terms']=}")
    note(f"varied: {data['supplier']['name']=} {data['owner_unit']=}")
    note(f"varied: {data['confidential_extra']=} {data['acceptance_plan']['time']=}")
    return data


@settings(
    max_examples=5,
    deadline=None,
    database=None,
    # A failing example fails on the first try; shrinking its ~1 s renders takes minutes.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=contracts())
def test_contracts_of_any_length_keep_every_character(
    generator: Generator, data: dict[str, Any], tmp_path: Path
) -> None:
    assert_text_kept(generator.render(data), tmp_path)
