"""Join the rendered documents of a set into one DOCX, so LibreOffice lays them out in one pass.

LibreOffice pays a fixed cost per document it loads and exports (about 50 ms
to load even a one-page form, more to start each PDF export), so the sample's
set of four converts in 0.35 s as one document against 0.57 s one by one.
The PDF is then split back into the four documents (:func:`generator.pdfdoc.split`).
The joined file is internal: it is never written next to the outputs.

Each document becomes one section of the joined file, as it would in Word:

* its body is copied unchanged; its final section properties move into its
  last paragraph, which ends the section, and gain ``pgNumType start=1`` so
  that 第 X 页 counts from 1 again;
* its headers and footers are copied under new part names;
* ``NUMPAGES`` (共 Y 页) would count the whole joined file, and LibreOffice 7.4
  has no field for the pages of one section. It is replaced by a placeholder
  text that the UNO bridge overwrites with the section's page count once the
  layout is done (see :class:`Section`). The placeholder is fenced by a
  private-use character that no document may contain (validation refuses
  them in data; :func:`join` refuses documents holding one), so no text of
  the contract can be mistaken for it;
* two bookmarks mark the section's first and last paragraph, so the bridge
  can ask the layout on which pages the section starts and ends;
* hanging punctuation is turned off in the document defaults (see
  :func:`_hanging_off`), so that LibreOffice lays the set out once, with the
  punctuation the bridge would otherwise set after loading, at the price of a
  second layout of every page.

Only documents made from one family of templates can be joined: the parts
that are not text (styles, numbering, settings, fonts, theme) must be the
same bytes in every document (the settings but for each document's own ids;
the joined file, never written, keeps the first one's), and the bodies must
hold nothing that refers to another part (pictures, links) or that would
clash or count across documents (bookmarks, comments, page references). :func:`join` returns None
for anything else, and the caller converts the documents one by one.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from .native import without_doc_ids

__all__ = ["Joined", "Section", "join"]

_HEADER_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
_FOOTER_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.{}+xml"

#: parts rewritten or replaced when joining; every other part must be identical
_OWN_PARTS = re.compile(
    r"^(word/document\.xml|word/(header|footer)\d*\.xml|word/_rels/document\.xml\.rels"
    r"|\[Content_Types\]\.xml|docProps/.*)$"
)
#: the settings differ in the document ids only; the joined file keeps the first document's
_SETTINGS = "word/settings.xml"
_BODY = re.compile(r"<w:body>(.*)</w:body>", re.S)
_FINAL_SECTION = re.compile(r"<w:sectPr\b[^>]*>.*?</w:sectPr>\s*\Z", re.S)
_RELATIONSHIP = re.compile(r"<Relationship\s([^>]*)/>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_REFERENCE = re.compile(r'<w:(header|footer)Reference\b[^>]*?r:id="([^"]+)"[^>]*/>')
#: a simple NUMPAGES field, in digits (\* MERGEFORMAT and \* Arabic change nothing)
_NUMPAGES = re.compile(
    r'<w:fldSimple w:instr="\s*NUMPAGES(?:\s+\\\*\s+(?:MERGEFORMAT|Arabic))*\s*"\s*>'
    r"(.*?)</w:fldSimple>",
    re.S,
)
_FIELD_TEXT = re.compile(r"(<w:t(?:\s[^>]*)?>)[^<]*(</w:t>)")
#: what a body may not contain to be joined (see the module docstring)
_REFUSED = re.compile(
    r'r:(?:id|embed|link|pict)="|<w:bookmarkStart\b|<w:commentReference\b|<w:txbxContent\b'
    r"|<w:footnoteReference\b|<w:endnoteReference\b|<w:pPrChange\b|<w:sectPr\b"
    r"|NUMPAGES|SECTIONPAGES|PAGEREF|\bREF\s|\ue000"
)
#: the page-count placeholder is fenced by a private-use character: the bridge replaces it
#: wherever it appears, so no text of the documents may hold one (validation refuses them)
_MARK = "\ue000"
_PARAGRAPH_START = re.compile(r"<w:p(?:\s[^>]*)?>")
_STYLES = "word/styles.xml"
#: the paragraph defaults' properties, to which ``w:overflowPunct`` is added
_PPR_DEFAULT = re.compile(r"<w:pPrDefault>\s*<w:pPr>(.*?)</w:pPr>\s*</w:pPrDefault>", re.S)
#: the paragraph properties that come before w:overflowPunct (ECMA-376 CT_PPrBase order)
_BEFORE_OVERFLOW = re.compile(
    r"(?:\s*<w:(?:pStyle|keepNext|keepLines|pageBreakBefore|framePr|widowControl|numPr"
    r"|suppressLineNumbers|pBdr|shd|tabs|suppressAutoHyphens|kinsoku|wordWrap)\b"
    r"(?:[^>]*/>|.*?</w:(?:pStyle|keepNext|keepLines|pageBreakBefore|framePr|widowControl"
    r"|numPr|suppressLineNumbers|pBdr|shd|tabs|suppressAutoHyphens|kinsoku|wordWrap)>))*",
    re.S,
)
#: hanging punctuation off, as LibreOffice 7.4 reads it (see :func:`_hanging_off`)
_OVERFLOW_OFF = '<w:overflowPunct w:val="1"/>'
#: section property elements that follow w:pgNumType (ECMA-376 CT_SectPr order)
_AFTER_PGNUMTYPE = re.compile(
    r"<w:(?:cols|formProt|vAlign|noEndnote|titlePg|textDirection|bidi|rtlGutter|docGrid"
    r"|printerSettings|sectPrChange)\b|</w:sectPr>"
)


@dataclass(frozen=True)
class Section:
    """How the UNO bridge finds one document in the joined file.

    ``start`` and ``end`` name bookmarks in its first and last paragraph;
    ``total`` is the placeholder text standing for its page count.
    """

    start: str
    end: str
    total: str


@dataclass(frozen=True)
class Joined:
    """The joined DOCX and its sections, in the order of the documents."""

    docx: bytes
    sections: tuple[Section, ...]
    #: whether the file itself turns hanging punctuation off (:func:`_hanging_off`)
    hanging_off: bool = False


class _Refused(Exception):
    """The documents cannot be joined (the reason is for debugging only)."""


def join(documents: Sequence[bytes]) -> Joined | None:
    """Return the documents joined as sections of one DOCX, or None when they cannot be."""
    if len(documents) < 2:
        return None
    try:
        return _join([zipfile.ZipFile(io.BytesIO(docx)) for docx in documents])
    except (_Refused, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None


def _join(packages: list[zipfile.ZipFile]) -> Joined:
    """Return the joined file; raise _Refused when the documents do not allow it."""
    first = packages[0]
    shared = [name for name in first.namelist() if not _OWN_PARTS.match(name)]
    for package in packages[1:]:
        if sorted(n for n in package.namelist() if not _OWN_PARTS.match(n)) != sorted(shared):
            raise _Refused("different parts")
        for name in shared:
            if _shared(name, package.read(name)) != _shared(name, first.read(name)):
                raise _Refused(f"{name} differs")

    document = first.read("word/document.xml").decode()
    body_at = _BODY.search(document)
    if body_at is None:
        raise _Refused("no body")
    parts: dict[str, tuple[str, bytes]] = {}  # name -> (header or footer, XML)
    relationships: list[str] = []
    bodies: list[str] = []
    sections: list[Section] = []
    for number, package in enumerate(packages, 1):
        section = Section(
            f"_cg_start_{number}", f"_cg_end_{number}", f"{_MARK}cg-pages-{number}{_MARK}"
        )
        sections.append(section)
        renamed = _copy_headers(package, number, section.total, parts, relationships)
        body = _section_body(package.read("word/document.xml").decode(), number, section, renamed)
        bodies.append(body if number == len(packages) else _end_section(body))

    joined = document[: body_at.start(1)] + "".join(bodies) + document[body_at.end(1) :]
    styles = first.read(_STYLES).decode() if _STYLES in first.namelist() else None
    others = [joined, *(xml.decode() for _, xml in parts.values())]
    off = None if styles is None else _hanging_off(styles, others)
    out = io.BytesIO()
    # Stored, not deflated: the file goes straight to LibreOffice.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        for name in first.namelist():
            if name == "word/document.xml":
                package.writestr(name, joined)
            elif name == "word/_rels/document.xml.rels":
                package.writestr(name, _relationships(first.read(name).decode(), relationships))
            elif name == "[Content_Types].xml":
                package.writestr(name, _content_types(first.read(name).decode(), parts))
            elif name == _STYLES and off is not None:
                package.writestr(name, off)
            elif not re.match(r"word/(header|footer)\d*\.xml$", name):
                package.writestr(name, first.read(name))
        for name, (_, data) in parts.items():
            package.writestr(name, data)
    return Joined(out.getvalue(), tuple(sections), off is not None)


def _hanging_off(styles: str, others: Sequence[str]) -> str | None:
    """Return the styles with hanging punctuation off in the document defaults, or None.

    The bridge turns hanging punctuation off (see ``_uno_worker.keep_punctuation``);
    done after loading, LibreOffice lays out every page a second time, about 0.04 s
    of a set's 0.3. LibreOffice 7.4 reads ``w:overflowPunct`` inverted, so
    ``w:val="1"`` in the paragraph defaults gives every style the same setting at
    import, and the bridge, told so, checks the default paragraph style and sets
    nothing when it holds. None (the bridge sets it as before) when a style, a
    paragraph, a header or a footer sets ``w:overflowPunct`` itself, or when the
    defaults are not written as expected. The joined file only goes to LibreOffice:
    Word, reading the same element the other way, never sees it.
    """
    if "overflowPunct" in styles or any("overflowPunct" in xml for xml in others):
        return None
    defaults = _PPR_DEFAULT.search(styles)
    if defaults is None:
        return None
    inner = defaults.group(1)
    before = _BEFORE_OVERFLOW.match(inner)
    at = defaults.start(1) + (before.end() if before else 0)
    return styles[:at] + _OVERFLOW_OFF + styles[at:]


def _shared(name: str, data: bytes) -> bytes:
    """Return a shared part as it must be equal in every document: settings without their ids."""
    return without_doc_ids(data) if name == _SETTINGS else data


def _copy_headers(
    package: zipfile.ZipFile,
    number: int,
    total: str,
    parts: dict[str, tuple[str, bytes]],
    relationships: list[str],
) -> dict[str, str]:
    """Copy a document's headers and footers under new names; return old → new relationship id."""
    renamed: dict[str, str] = {}
    rels = package.read("word/_rels/document.xml.rels").decode()
    for found in _RELATIONSHIP.finditer(rels):
        attributes = dict(_ATTRIBUTE.findall(found.group(1)))
        kind = {_HEADER_TYPE: "header", _FOOTER_TYPE: "footer"}.get(attributes.get("Type", ""))
        if kind is None:
            continue
        if attributes.get("TargetMode") == "External" or "/" in attributes["Target"]:
            raise _Refused("header outside word/")
        old_name = attributes["Target"]
        new_name = f"cg{number}_{old_name}"
        new_id = f"cgRel{number}_{attributes['Id']}"
        xml = package.read(f"word/{old_name}").decode()
        if _MARK in xml:
            raise _Refused(f"{old_name}: holds the placeholder's fence")
        xml = _NUMPAGES.sub(lambda field: _placeholder(field.group(1), total), xml)
        if re.search(r'r:(?:id|embed|link)="|NUMPAGES|SECTIONPAGES|PAGEREF', xml):
            raise _Refused(f"{old_name}: a field or a link that cannot be joined")
        parts[f"word/{new_name}"] = (kind, xml.encode())
        renamed[attributes["Id"]] = new_id
        relationships.append(
            f'<Relationship Id="{new_id}" Type="{attributes["Type"]}" Target="{new_name}"/>'
        )
    return renamed


def _placeholder(result: str, total: str) -> str:
    """Return a NUMPAGES field's result runs showing the placeholder instead of a number."""
    first = True

    def text(found: re.Match[str]) -> str:
        nonlocal first
        shown, first = (total if first else ""), False
        return found.group(1) + shown + found.group(2)

    replaced, count = _FIELD_TEXT.subn(text, result)
    return replaced if count else f"<w:r><w:t>{total}</w:t></w:r>"


def _section_body(document: str, number: int, section: Section, renamed: dict[str, str]) -> str:
    """Return a document's body with its bookmarks and final section properties renamed."""
    found = _BODY.search(document)
    if found is None:
        raise _Refused("no body")
    body = found.group(1)
    final = _FINAL_SECTION.search(body)
    if final is None:
        raise _Refused("no final section properties")
    content, properties = body[: final.start()], final.group(0).strip()
    if _REFUSED.search(content):
        raise _Refused("the body holds something that cannot be joined")
    properties = _REFERENCE.sub(
        lambda ref: ref.group(0).replace(
            f'r:id="{ref.group(2)}"', f'r:id="{_renamed(renamed, ref.group(2))}"'
        ),
        properties,
    )
    if (
        re.search(r'r:(?:id|embed|link)="', _REFERENCE.sub("", properties))
        or "<w:pgNumType" in properties
    ):
        raise _Refused("section properties that cannot be joined")
    after = _AFTER_PGNUMTYPE.search(properties)
    assert after is not None  # </w:sectPr> at least
    properties = (
        properties[: after.start()] + '<w:pgNumType w:start="1"/>' + properties[after.start() :]
    )
    content = _bookmark(content, number * 2, section.start, first=True)
    content = _bookmark(content, number * 2 + 1, section.end, first=False)
    return content + properties


def _renamed(renamed: dict[str, str], old: str) -> str:
    """Return the new id of a header or footer relationship."""
    try:
        return renamed[old]
    except KeyError:
        raise _Refused(f"{old} is not a header or footer") from None


def _bookmark(content: str, bookmark_id: int, name: str, *, first: bool) -> str:
    """Return the body with a bookmark at the start of its first or last top-level paragraph."""
    starts = list(_PARAGRAPH_START.finditer(content))
    if not starts:
        raise _Refused("no paragraph")
    start = starts[0] if first else starts[-1]
    if not first and not content.rstrip().endswith("</w:p>"):
        raise _Refused("the body does not end with a paragraph")
    at = start.end()
    if content.startswith("<w:pPr>", at):
        at = content.index("</w:pPr>", at) + len("</w:pPr>")
    mark = f'<w:bookmarkStart w:id="{bookmark_id}" w:name="{name}"/>'
    return content[:at] + mark + f'<w:bookmarkEnd w:id="{bookmark_id}"/>' + content[at:]


def _end_section(body: str) -> str:
    """Return a section's body with its properties moved into its last paragraph."""
    final = _FINAL_SECTION.search(body)
    assert final is not None
    content, properties = body[: final.start()], final.group(0).strip()
    start = list(_PARAGRAPH_START.finditer(content))[-1]
    at = start.end()
    if content.startswith("<w:pPr>", at):
        close = content.index("</w:pPr>", at)
        return content[:close] + properties + content[close:]
    return content[:at] + "<w:pPr>" + properties + "</w:pPr>" + content[at:]


def _relationships(rels: str, added: list[str]) -> str:
    """Return the main part's relationships with its headers and footers replaced by ``added``."""
    found = list(_RELATIONSHIP.finditer(rels))
    if not found:
        raise _Refused("no relationships")
    kept = [
        each.group(0)
        for each in found
        if dict(_ATTRIBUTE.findall(each.group(1))).get("Type") not in (_HEADER_TYPE, _FOOTER_TYPE)
    ]
    return rels[: found[0].start()] + "".join(kept + added) + rels[found[-1].end() :]


def _content_types(types: str, parts: dict[str, tuple[str, bytes]]) -> str:
    """Return [Content_Types].xml with the joined headers and footers in place of the first's."""
    types = re.sub(r'<Override PartName="/word/(?:header|footer)\d*\.xml"[^>]*/>', "", types)
    overrides = "".join(
        f'<Override PartName="/{name}" ContentType="{_CONTENT_TYPE.format(kind)}"/>'
        for name, (kind, _) in parts.items()
    )
    return types.replace("</Types>", overrides + "</Types>")
