"""Every DOCX a user receives is a native Word 2013+ document set in Chinese.

Checked on the rendered documents of both samples (and on the templates and the
joined file they are made from) with tools this project did not write: the
Open XML SDK's validation rules (openxml-audit, for Office 2016 and later),
python-docx and lxml reading the parts.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree
from openxml_audit import FileFormat, OpenXmlValidator

from generator import __version__
from generator.docx.join import join
from generator.inputs.load import load_data
from generator.kinds import parse
from generator.pipeline import render_docx

from ..builtin import KINDS, TEMPLATE_DIR
from ..conftest import SAMPLES

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
APP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"

SAMPLE_NAMES = ("seed", "cross_year")


def _render(sample: str, data: dict[str, Any] | None = None) -> dict[str, bytes]:
    data = data or dict(load_data(SAMPLES / f"{sample}.yaml"))
    return {d.kind: d.docx for d in render_docx(parse(data)).documents}


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, bytes]]:
    """Return each sample's rendered documents by kind."""
    return {sample: _render(sample) for sample in SAMPLE_NAMES}


#: what a user receives (each sample's documents) and what they are made from
RENDERED = [(sample, kind) for sample in SAMPLE_NAMES for kind in KINDS]
EVERY = [*RENDERED, *(("template", kind) for kind in KINDS)]


def _docx(rendered: dict[str, dict[str, bytes]], source: str, kind: str) -> bytes:
    if source == "template":
        return (TEMPLATE_DIR / f"{kind}.docx").read_bytes()
    return rendered[source][kind]


def _part(docx: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return etree.fromstring(package.read(name))


def _names(docx: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return package.namelist()


def _audit(docx: bytes, path: Path) -> list[str]:
    """Return the errors openxml-audit finds validating for Office 2016 and later."""
    path.write_bytes(docx)
    validator = OpenXmlValidator(
        file_format=FileFormat.OFFICE_2016, max_errors=0, security_validation=True
    )
    result = validator.validate(path)
    return [f"{e.part_uri} {e.path}: {e.description}" for e in result.errors]


# ---------------------------------------------------------------- the validator


@pytest.mark.parametrize(("source", "kind"), EVERY)
def test_openxml_audit_finds_no_error(
    rendered: dict[str, dict[str, bytes]], source: str, kind: str, tmp_path: Path
) -> None:
    assert _audit(_docx(rendered, source, kind), tmp_path / f"{kind}.docx") == []


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_the_joined_file_passes_openxml_audit_too(
    rendered: dict[str, dict[str, bytes]], sample: str, tmp_path: Path
) -> None:
    joined = join([rendered[sample][kind] for kind in KINDS])
    assert joined is not None
    assert _audit(joined.docx, tmp_path / "joined.docx") == []


def test_the_validator_does_find_errors(
    rendered: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    # The check above is worth something only if a broken part is reported.
    source = io.BytesIO(rendered["seed"]["service_contract"])
    broken = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(broken, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body><w:notAnElement/>", 1)
            new.writestr(name, data)
    assert _audit(broken.getvalue(), tmp_path / "broken.docx")


# ---------------------------------------------------------------- the parts


@pytest.mark.parametrize(("source", "kind"), EVERY)
def test_word_opens_it_in_its_own_mode_not_compatibility_mode(
    rendered: dict[str, dict[str, bytes]], source: str, kind: str
) -> None:
    settings = Document(io.BytesIO(_docx(rendered, source, kind))).settings.element
    modes = [
        s.get(f"{{{W}}}val")
        for s in settings.iter(f"{{{W}}}compatSetting")
        if s.get(f"{{{W}}}name") == "compatibilityMode"
    ]
    assert modes == ["15"]


@pytest.mark.parametrize(("source", "kind"), EVERY)
def test_app_properties_name_this_generator_and_claim_no_page_count(
    rendered: dict[str, dict[str, bytes]], source: str, kind: str
) -> None:
    app = _part(_docx(rendered, source, kind), "docProps/app.xml")
    fields = {etree.QName(e).localname: e.text for e in app}
    assert fields["Application"] == "contractgen"
    # ECMA-376 wants XX.YYYY: 0.1.0 is 00.0100
    major, minor, patch = (int(n) for n in re.findall(r"\d+", __version__)[:3])
    assert fields["AppVersion"] == f"{major:02d}.{minor:02d}{patch:02d}"
    assert "Pages" not in fields and "Template" not in fields
    assert b"Macintosh" not in etree.tostring(app)


@pytest.mark.parametrize(("source", "kind"), EVERY)
def test_theme_fonts_are_chinese(
    rendered: dict[str, dict[str, bytes]], source: str, kind: str
) -> None:
    docx = _docx(rendered, source, kind)
    lang = _part(docx, "word/settings.xml").find(f"{{{W}}}themeFontLang")
    assert lang is not None and lang.get(f"{{{W}}}eastAsia") == "zh-CN"
    theme = _part(docx, "word/theme/theme1.xml")
    for which, east_asia in (("majorFont", "黑体"), ("minorFont", "宋体")):
        fonts = theme.find(f".//{{{A}}}fontScheme/{{{A}}}{which}")
        assert fonts is not None
        assert fonts.find(f"{{{A}}}ea").get("typeface") == east_asia
        assert fonts.find(f"{{{A}}}latin").get("typeface") == "Times New Roman"
        scripts = {f.get("script"): f.get("typeface") for f in fonts.iter(f"{{{A}}}font")}
        assert scripts.get("Hans") == east_asia
    faces = {e.get("typeface") for e in theme.iter() if e.get("typeface")}
    assert not faces & {"Calibri", "Cambria", "ＭＳ 明朝", "ＭＳ ゴシック"}


def _named_fonts(docx: bytes) -> set[str]:
    """Return the faces the styles, body, headers and footers name."""
    named = set()
    for name in _names(docx):
        if re.fullmatch(r"word/(document|styles|header\d*|footer\d*)\.xml", name):
            for rfonts in _part(docx, name).iter(f"{{{W}}}rFonts"):
                named.update(v for k, v in rfonts.attrib.items() if not k.endswith("hint"))
    return named


@pytest.mark.parametrize(("source", "kind"), EVERY)
def test_font_table_lists_the_fonts_used_and_no_other(
    rendered: dict[str, dict[str, bytes]], source: str, kind: str
) -> None:
    docx = _docx(rendered, source, kind)
    table = {font.get(f"{{{W}}}name"): font for font in _part(docx, "word/fontTable.xml")}
    assert set(table) == _named_fonts(docx)
    assert {"宋体", "黑体", "Times New Roman"} <= set(table)
    for name, panose, charset in (
        ("宋体", "02010600030101010101", "86"),
        ("黑体", "02010609060101010101", "86"),
        ("Times New Roman", "02020603050405020304", "00"),
    ):
        assert table[name].find(f"{{{W}}}panose1").get(f"{{{W}}}val") == panose
        assert table[name].find(f"{{{W}}}charset").get(f"{{{W}}}val") == charset


@pytest.mark.parametrize(("source", "kind"), EVERY)
def test_no_numbering_part_as_no_paragraph_is_numbered(
    rendered: dict[str, dict[str, bytes]], source: str, kind: str
) -> None:
    docx = _docx(rendered, source, kind)
    document = Document(io.BytesIO(docx))
    assert RT.NUMBERING not in {rel.reltype for rel in document.part.rels.values()}
    assert "word/numbering.xml" not in _names(docx)
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        types = package.read("[Content_Types].xml").decode()
        parts = "".join(package.read(n).decode() for n in package.namelist() if n.endswith(".xml"))
    assert "numbering" not in types
    assert "<w:numPr" not in parts and "<w:numId" not in parts


# ---------------------------------------------------------------- document ids


def _doc_ids(docx: bytes) -> tuple[str, str]:
    settings = _part(docx, "word/settings.xml")
    w14 = settings.findall(f"{{{W14}}}docId")
    w15 = settings.findall(f"{{{W15}}}docId")
    assert len(w14) == len(w15) == 1
    return w14[0].get(f"{{{W14}}}val"), w15[0].get(f"{{{W15}}}val")


def test_every_document_has_ids_of_its_own(rendered: dict[str, dict[str, bytes]]) -> None:
    ids = [_doc_ids(_docx(rendered, source, kind)) for source, kind in EVERY]
    for w14, w15 in ids:
        assert re.fullmatch(r"[0-9A-F]{8}", w14) and int(w14, 16) < 0x80000000
        assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", w15)
    assert len({w14 for w14, _ in ids}) == len({w15 for _, w15 in ids}) == len(EVERY)


def test_ids_follow_the_contract_number_and_kind_only(
    rendered: dict[str, dict[str, bytes]], seed: dict[str, Any]
) -> None:
    seed["supplier"]["name"] = "上海另一家科技有限公司"
    corrected = _render("seed", seed)
    seed["contract_no"] = "11NMB2F042362026202"
    other = _render("seed", seed)
    for kind in KINDS:
        assert _doc_ids(corrected[kind]) == _doc_ids(rendered["seed"][kind])
        assert _doc_ids(other[kind]) != _doc_ids(rendered["seed"][kind])
