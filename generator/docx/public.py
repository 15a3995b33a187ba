"""Mark a rendered document as a public copy: a word in every header, a line in every footer.

The public copy of a contract is rendered from the same templates as the contract, with the
withheld values already replaced in the context (``generator/domain/context.py``). What
this module adds is the mark every page carries, so a printed page cannot be taken for the
contract itself: the header's first line starts with ``公开文本`` and every footer gets a
line saying what the text is, above the page numbers. The document also gets ids of its
own (w14/w15 docId), so Word does not take it for the contract it was made from.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile

from lxml import etree

from ..errors import TemplateError
from .native import set_doc_ids
from .render import write_entry

__all__ = ["mark_public"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_HEADER = re.compile(r"^word/header\d*\.xml$")
_FOOTER = re.compile(r"^word/footer\d*\.xml$")


def _run(text: str) -> etree._Element:
    run = etree.Element(f"{{{_W}}}r")
    node = etree.SubElement(run, f"{{{_W}}}t")
    node.text = text
    node.set(_XML_SPACE, "preserve")
    return run


def _first_paragraph(root: etree._Element) -> etree._Element | None:
    found: etree._Element | None = root.find(f"{{{_W}}}p")
    return found


def _header(xml: bytes, word: str) -> bytes:
    root = etree.fromstring(xml)
    paragraph = _first_paragraph(root)
    if paragraph is None:
        paragraph = etree.SubElement(root, f"{{{_W}}}p")
    properties = paragraph.find(f"{{{_W}}}pPr")
    at = 0 if properties is None else list(paragraph).index(properties) + 1
    paragraph.insert(at, _run(word))
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return result


def _footer(xml: bytes, line: str) -> bytes:
    root = etree.fromstring(xml)
    paragraph = etree.Element(f"{{{_W}}}p")
    first = _first_paragraph(root)
    properties = None if first is None else first.find(f"{{{_W}}}pPr")
    if properties is not None:
        paragraph.append(copy.deepcopy(properties))  # the footer's style: centred, 小五
    else:
        style = etree.SubElement(etree.SubElement(paragraph, f"{{{_W}}}pPr"), f"{{{_W}}}pStyle")
        style.set(f"{{{_W}}}val", "Footer")
    paragraph.append(_run(line))
    root.insert(0 if first is None else list(root).index(first), paragraph)
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return result


def mark_public(docx: bytes, *, word: str, line: str, name: str) -> bytes:
    """Return a rendered DOCX marked as a public copy on every page, with ids of ``name``.

    ``word`` starts every header (``公开文本　``), ``line`` is a new first line of every
    footer. A document with neither header nor footer cannot be marked on its pages and
    is refused with :class:`TemplateError`.
    """
    out = io.BytesIO()
    marked = 0
    with (
        zipfile.ZipFile(io.BytesIO(docx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if _HEADER.match(info.filename):
                data, marked = _header(data, word), marked + 1
            elif _FOOTER.match(info.filename):
                data, marked = _footer(data, line), marked + 1
            elif info.filename == "word/settings.xml":
                data = set_doc_ids(data, name)
            write_entry(target, info.filename, data)
    if not marked:
        raise TemplateError("公开文本须在每页标示，但模板没有页眉或页脚", template=name)
    return out.getvalue()
