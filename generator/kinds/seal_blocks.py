"""What a seal block prints from the data, measured before anything is made.

A party seals where its keyword is printed (``乙方:``); the seal covers the party's
block: the keyword's line, the lines a wrapped value continues it on, and the first
line below with a date, which the seal presses (see :mod:`generator.pdf.seal`). A value
printed on the keyword's line whose wrapped part holds a date of its own
(``…信息2026年1月16日技术有限公司``) ends the block there: the signing date below is
then no longer the party's, and the seal would cover it. Rendering fails, whatever
the retries; so validation finds it first.

The lines are measured as the templates set them (:func:`generator.domain.lines.line_starts`:
exact for CJK text, close for Latin): each paragraph of a kind's templates holding a
seal keyword and a value, its width the ``keep_tail`` width the templates' build gives a
signature cell, else its table cell's width in ems of 小四, else the page's line. A date
that begins on the keyword's line is no date of a line below (cut in two by the line's
end, neither part reads as a date): it is left alone. The kind's own templates are
measured; an office's ``--templates`` folder is not (a set it cannot seal still fails at
the seal placement, said in Chinese with its code, never as 请稍后重试).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from ..domain.documents import SIGNING_DATE, DocumentKind
from ..domain.lines import LINE_EMS, line_starts
from ..errors import Issue

__all__ = ["SEAL_BLOCK_DATE", "SealLine", "check_seal_lines", "seal_lines"]

#: the stable code of a value whose wrapped line would read as the signing date
SEAL_BLOCK_DATE = "text.seal_block_date"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: a value printed as it is: ``{{ supplier.name }}`` (a filter after it changes nothing here)
_VALUE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|[^}]*)?\}\}")
_EXPRESSION = re.compile(r"\{\{.*?\}\}")
_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}")
#: the width the templates' build gives a signature cell: ``{% filter keep_tail(16.6) %}``
_KEEP_TAIL = re.compile(r"\{%-?\s*filter\s+keep_tail\(\s*([\d.]+)\s*\)\s*-?%\}")
#: Word's default cell margins, left and right, in twips (0.19 cm each)
_CELL_MARGINS = 216
#: twips in an em of 小四 (12 pt)
_EM = 240


@dataclass(frozen=True)
class SealLine:
    """A paragraph of a template that holds a seal keyword and values: what to measure."""

    document: str
    keyword: str
    #: the paragraph's template text, Jinja tags removed, its ``{{ … }}`` kept
    text: str
    #: its line, in ems of its size
    width: float


def seal_lines(folder: Path, documents: Sequence[DocumentKind]) -> tuple[SealLine, ...]:
    """Return every paragraph of a kind's templates that prints a value on a seal's line.

    A template that cannot be read yields nothing here: rendering says what is wrong.
    """
    found: list[SealLine] = []
    for document in documents:
        if not document.seals:
            continue
        try:
            with zipfile.ZipFile(folder / document.template_name) as docx:
                root = etree.fromstring(docx.read("word/document.xml"))
        except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
            continue
        for paragraph in root.iter(f"{_W}p"):
            raw = "".join(
                "\n" if node.tag == f"{_W}br" else node.text or ""
                for node in paragraph.iter(f"{_W}t", f"{_W}br")
            )
            if "{{" not in raw:
                continue
            width = _width(paragraph, raw)
            for text in _TAG.sub("", raw).split("\n"):  # a line break ends the keyword's line
                for seal in document.seals:
                    if "{{" in text and seal.keyword in _EXPRESSION.sub("", text):
                        found.append(SealLine(document.title, seal.keyword, text, width))
    return tuple(found)


def _width(paragraph: Any, raw: str) -> float:
    """Return a paragraph's line in ems: its keep_tail width, its cell's, or the page's."""
    kept = _KEEP_TAIL.search(raw)
    if kept:
        return float(kept.group(1))
    cell = next((a for a in paragraph.iterancestors(f"{_W}tc")), None)
    width = None if cell is None else cell.find(f"{_W}tcPr/{_W}tcW")
    if width is not None and width.get(f"{_W}type") == "dxa":
        try:
            return (int(width.get(f"{_W}w", "0")) - _CELL_MARGINS) / _EM
        except ValueError:
            pass
    return LINE_EMS


def check_seal_lines(lines: Sequence[SealLine], data: Mapping[str, Any]) -> list[Issue]:
    """Return an issue for each value whose wrapped part would hold a date of its own.

    One issue per value and date, naming every document it would fail in. Only text
    values are measured; a value missing or of another type is the fields' own issue.
    """
    found: dict[tuple[str, str, str], list[str]] = {}
    for line in lines:
        printed, spans = _filled(line.text, data)
        if printed is None:
            continue
        starts = line_starts(printed, line.width) or []
        at = printed.find(line.keyword)
        following = next((s for s in starts if s > at), None)
        if following is None:
            continue  # the keyword's line is the last
        for match in SIGNING_DATE.finditer(printed, following):
            path = next(
                (p for p, (a, b) in spans.items() if a <= match.start() and match.end() <= b),
                None,
            )
            if path is None:
                continue  # the template's own text: kinds check's matter
            documents = found.setdefault((path, line.keyword, match.group(0)), [])
            if line.document not in documents:
                documents.append(line.document)
    return [
        Issue(
            path,
            SEAL_BLOCK_DATE,
            f"在{''.join(f'《{d}》' for d in documents)}的盖章处“{keyword.rstrip(':：')}”"
            f"折行后，“{date}”落在下一行，会被当作签署日期，印章无法盖下；"
            "请改写其中的日期（如 2026-01-16）",
        )
        for (path, keyword, date), documents in found.items()
    ]


def _filled(text: str, data: Mapping[str, Any]) -> tuple[str | None, dict[str, tuple[int, int]]]:
    """Return a seal line's text with its values put in, and where each value stands.

    None when a value is not text given in the data (nothing honest to measure).
    """
    out: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    size, last = 0, 0
    for expression in _EXPRESSION.finditer(text):
        named = _VALUE.fullmatch(expression.group(0))
        value = _value_at(data, named.group(1)) if named else None
        if not isinstance(value, str) or named is None:
            return None, {}
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        before = text[last : expression.start()]
        out += [before, value]
        size += len(before)
        spans[named.group(1)] = (size, size + len(value))
        size += len(value)
        last = expression.end()
    out.append(text[last:])
    return "".join(out), spans


def _value_at(data: Mapping[str, Any], path: str) -> Any:
    """Return the raw value at a dotted path (None where a step is absent or not a mapping)."""
    value: Any = data
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
