"""Read the text of a .docx in reading order, as a person would see it."""

from __future__ import annotations

import io
from collections.abc import Iterator

from docx import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph


def _paragraph_text(paragraph: Paragraph) -> str:
    parts = []
    for node in paragraph._p.iter():
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        elif node.tag == qn("w:br"):
            parts.append("\n")
        elif node.tag == qn("w:tab"):
            parts.append("\t")
    return "".join(parts)


def _table_lines(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue  # a merged cell is returned once per grid column it spans
            seen.add(id(cell._tc))
            cells.append("\n".join(_paragraph_text(p) for p in cell.paragraphs))
        yield " | ".join(cells)


def docx_lines(data: bytes) -> list[str]:
    """Return the body of a .docx as lines: one per paragraph, one per table row."""
    document = Document(io.BytesIO(data))
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(_paragraph_text(Paragraph(child, document)))
        elif child.tag == qn("w:tbl"):
            lines.extend(_table_lines(Table(child, document)))
    return lines


def docx_text(data: bytes) -> str:
    """Return the body text of a .docx, empty paragraphs dropped."""
    return "\n".join(line for line in docx_lines(data) if line.strip()) + "\n"


def header_footer_text(data: bytes) -> str:
    """Return the text of the first section's header and footer."""
    section = Document(io.BytesIO(data)).sections[0]
    header = "\n".join(_paragraph_text(p) for p in section.header.paragraphs)
    footer = "\n".join(_paragraph_text(p) for p in section.footer.paragraphs)
    return f"{header}\n{footer}"
