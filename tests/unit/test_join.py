"""generator.docx.join: a set's documents as the sections of one DOCX, or None if they cannot be."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest

from generator.docx.join import join
from generator.kinds import parse
from generator.pipeline import render_docx


def parts(docx: bytes) -> dict[str, str]:
    """Return the XML parts of a DOCX by name."""
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {n: package.read(n).decode() for n in package.namelist() if n.endswith(".xml")}


def rels(docx: bytes) -> str:
    """Return the main part's relationships."""
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return package.read("word/_rels/document.xml.rels").decode()


def replaced(docx: bytes, name: str, old: str, new: str) -> bytes:
    """Return the DOCX with ``old`` replaced by ``new`` in one part."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for item in source.namelist():
            data = source.read(item)
            if item == name:
                assert old.encode() in data, (name, old)
                data = data.replace(old.encode(), new.encode())
            package.writestr(item, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def documents(seed_data: dict[str, Any]) -> list[bytes]:
    return [doc.docx for doc in render_docx(parse(seed_data)).documents]


def test_each_document_becomes_a_section(documents: list[bytes]) -> None:
    joined = join(documents)
    assert joined is not None
    assert len(joined.sections) == 4
    xml = parts(joined.docx)
    body = xml["word/document.xml"]
    # Three sections end in a paragraph, the last in the body; each restarts at page 1.
    assert body.count("<w:sectPr") == 4
    assert body.count('<w:pgNumType w:start="1"/>') == 4
    assert re.search(r"</w:sectPr>\s*</w:body>", body)
    for section in joined.sections:
        for mark in (section.start, section.end):
            assert body.count(f'w:name="{mark}"') == 1
    # Each document's text is there once, in set order.
    titles = [body.index(title) for title in ("运维服务合同", "保密协议</w:t>", "廉洁协议</w:t>")]
    assert titles == sorted(titles)


def test_each_section_has_its_own_footer_with_a_placeholder_for_its_page_count(
    documents: list[bytes],
) -> None:
    joined = join(documents)
    assert joined is not None
    xml = parts(joined.docx)
    body = xml["word/document.xml"]
    relationships = rels(joined.docx)
    footers = []
    for properties in re.findall(r"<w:sectPr\b.*?</w:sectPr>", body):
        (ref,) = re.findall(r'<w:footerReference [^>]*r:id="([^"]+)"', properties)
        target = re.search(rf'Id="{ref}"[^>]*Target="([^"]+)"', relationships)
        assert target is not None
        footers.append(xml[f"word/{target.group(1)}"])
    assert len(set(footers)) == 4
    for footer, section in zip(footers, joined.sections, strict=True):
        assert "NUMPAGES" not in footer
        assert footer.count(section.total) == 1
        assert " PAGE " in footer  # 第 X 页 stays a field
    content_types = zipfile.ZipFile(io.BytesIO(joined.docx)).read("[Content_Types].xml").decode()
    for name in re.findall(r'Target="(cg\d_[^"]+)"', relationships):
        assert f'PartName="/word/{name}"' in content_types


@pytest.mark.parametrize(
    ("part", "old", "new", "why"),
    [
        ("word/styles.xml", "</w:styles>", "<!-- other --></w:styles>", "styles differ"),
        (
            "word/settings.xml",
            '<w:zoom w:val="bestFit"/>',
            '<w:zoom w:percent="90"/>',
            "settings differ in more than the document ids",
        ),
        (
            "word/document.xml",
            "<w:body>",
            '<w:body><w:p><w:r><w:drawing><a:blip r:embed="rId99"/></w:drawing></w:r></w:p>',
            "a picture",
        ),
        (
            "word/document.xml",
            "<w:body>",
            '<w:body><w:p><w:fldSimple w:instr=" NUMPAGES "/></w:p>',
            "a page count in the body",
        ),
        (
            "word/document.xml",
            "<w:body>",
            '<w:body><w:p><w:bookmarkStart w:id="0" w:name="x"/></w:p>',
            "a bookmark",
        ),
        (
            "word/footer1.xml",
            '<w:fldSimple w:instr=" NUMPAGES ">',
            '<w:r><w:instrText>NUMPAGES</w:instrText></w:r><w:fldSimple w:instr=" PAGE ">',
            "a complex NUMPAGES field",
        ),
    ],
)
def test_documents_that_cannot_be_joined_give_none(
    documents: list[bytes], part: str, old: str, new: str, why: str
) -> None:
    changed = [documents[0], replaced(documents[1], part, old, new), *documents[2:]]
    assert join(changed) is None, why


def test_documents_differing_in_their_ids_only_are_joined_with_the_first_one_s(
    documents: list[bytes],
) -> None:
    ids = [
        re.findall(r'w1[45]:docId w1[45]:val="([^"]+)"', parts(d)["word/settings.xml"])
        for d in documents
    ]
    assert all(len(each) == 2 for each in ids) and len({tuple(each) for each in ids}) == 4
    joined = join(documents)
    assert joined is not None
    assert parts(joined.docx)["word/settings.xml"] == parts(documents[0])["word/settings.xml"]


def test_one_document_or_something_else_is_not_joined(documents: list[bytes]) -> None:
    assert join(documents[:1]) is None
    assert join([documents[0], b"not a zip"]) is None
    assert join(documents[:2]) is not None


SPACING = '<w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'


def test_the_joined_file_turns_hanging_punctuation_off_in_its_defaults(
    documents: list[bytes],
) -> None:
    joined = join(documents)
    assert joined is not None and joined.hanging_off
    styles = parts(joined.docx)["word/styles.xml"]
    assert styles.count("overflowPunct") == 1
    # before w:spacing, as CT_PPrBase orders them
    assert '<w:pPr><w:overflowPunct w:val="1"/><w:spacing ' in styles
    assert all("overflowPunct" not in xml for xml in parts(documents[0]).values())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the defaults already say something: the bridge sets it after loading, as before
        (SPACING, SPACING.replace("<w:spacing", '<w:overflowPunct w:val="0"/><w:spacing')),
        # no paragraph defaults written as expected
        (SPACING, '<w:pPrDefault><w:pPrX/><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'),
    ],
)
def test_defaults_that_say_otherwise_are_left_to_the_bridge(
    documents: list[bytes], old: str, new: str
) -> None:
    changed = [replaced(doc, "word/styles.xml", old, new) for doc in documents]
    joined = join(changed)
    assert joined is not None and not joined.hanging_off
    assert parts(joined.docx)["word/styles.xml"] == parts(changed[0])["word/styles.xml"]


def test_a_paragraph_that_sets_hanging_punctuation_itself_is_left_to_the_bridge(
    documents: list[bytes],
) -> None:
    changed = list(documents)
    own = '<w:p><w:pPr><w:overflowPunct w:val="0"/>'
    changed[1] = replaced(documents[1], "word/document.xml", "<w:p><w:pPr>", own)
    joined = join(changed)
    assert joined is not None and not joined.hanging_off
    assert "overflowPunct" not in parts(joined.docx)["word/styles.xml"]


def test_the_element_follows_the_properties_that_come_before_it() -> None:
    from generator.docx.join import _hanging_off

    styles = (
        '<w:docDefaults><w:pPrDefault><w:pPr><w:keepNext/><w:numPr><w:ilvl w:val="0"/>'
        '</w:numPr><w:jc w:val="both"/></w:pPr></w:pPrDefault></w:docDefaults>'
    )
    assert _hanging_off(styles, []) == styles.replace(
        "</w:numPr><w:jc", '</w:numPr><w:overflowPunct w:val="1"/><w:jc'
    )
    empty = "<w:docDefaults><w:pPrDefault><w:pPr></w:pPr></w:pPrDefault></w:docDefaults>"
    assert _hanging_off(empty, []) == empty.replace(
        "<w:pPr></w:pPr>", '<w:pPr><w:overflowPunct w:val="1"/></w:pPr>'
    )
    assert _hanging_off(styles, ['<w:overflowPunct w:val="0"/>']) is None
