"""Build the docxtpl templates of the kind folders and the 合同公告 from their plain-text sources.

Run ``python tools/build_templates.py [FOLDER ...]``. In each folder (by default every kind
folder under ``templates/`` and the publication's ``generator/docx/templates/``),
``src/NAME.txt`` becomes ``NAME.docx``. The sources are the legal text; this script only lays it
out, so that every paragraph carries a named style and every Jinja tag sits in
one run (a tag split across runs is a build error).

Source markup, one paragraph per line (blank lines are ignored):

    !header 合同编号：{{ contract_no }}   page-header text (right-aligned, 小五)
    # 运维服务合同                       Title (标题): 二号 黑体, centred
    ## 一、定义                          条标题: article heading, 四号 黑体
    ### 2.1 项目服务内容及范围           款标题: sub-clause heading
    : 合同编号：{{ contract_no }}         合同首部: head field, no indent; one holding a value is
                                         wrapped in ``{% filter keep_tail %}`` so that its
                                         last line never holds one character alone
    - (1) …                              列项: list item, hanging indent
    @ 附件：履约验收方案                 附件标识: attachment label
    > 签约各方：                          签署引导: kept on the page of the signatures
    >> 【本页为…签字页，无正文】          签字页题注: as 签署引导, starts a new page
    ~ 备注：…                            表注: note under a table
    any other line                       条款正文: body clause, first-line indent 2 chars
    {%p if … %}                          docxtpl paragraph tag, alone in its paragraph

Inline, ``**…**`` is bold (character style Strong); a Jinja tag may not
straddle a ``**``.

Tables run from ``[form W W …]`` or ``[sign W W …]`` to ``[/form]`` / ``[/sign]``;
the numbers are column widths in cm, a ``c`` after one centres that column's body
cells (``[form 1.4c 3.2 …]``: a 序号 column). ``form`` is a bordered 五号 table,
``sign`` a borderless signature table kept on one page, a cell holding a value kept
whole as a head field is (``keep_tail`` given the cell's width). Rows:

    | a |2 b |^        cells; ``|N`` spans N columns, ``|^`` continues the cell above
    = 一、验收组织       one shaded, bold cell across the row (section row)
    H| … / H= …        header row, repeated at the top of each page
    {%tr for … %}      docxtpl row tag, a row of its own

Inside a cell `` ¶ `` separates paragraphs; an empty one leaves room for a seal.
"""

from __future__ import annotations

import io
import math
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tc
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Length, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from lxml import etree

from generator._version import __version__
from generator.docx import layout, native
from generator.docx.render import TEMPLATE_DIR, tag_problems, write_entry
from generator.domain.filters import FILTERS
from generator.kinds import BUILTIN_DIR, DECLARATION

ROOT = Path(__file__).resolve().parent.parent

#: Folders built by default: every built-in kind's, then the publication's (the 合同公告).
FOLDERS = (
    *sorted(p for p in BUILTIN_DIR.iterdir() if (p / DECLARATION).is_file()),
    TEMPLATE_DIR,
)

#: Latin face next to the Chinese one; Word and WPS readers have both.
LATIN_FONT = "Times New Roman"

#: Fixed so that rebuilding unchanged sources yields identical bytes.
BUILD_TIME = datetime(2026, 1, 1, tzinfo=UTC)

#: Space between a table cell's edges and its text, in twips.
CELL_MARGIN = 85

#: Shading of form section rows and of the items header row.
SECTION_FILL = "D9D9D9"
HEADER_FILL = "F2F2F2"

#: Jinja looks ``a.items`` up as an attribute first, so on a dict it finds the method;
#: such keys must be written ``a['items']``.
DICT_METHOD_ATTR = re.compile(
    r"\.(items|keys|values|get|copy|pop|popitem|update|clear|setdefault|fromkeys)\b"
)

#: Complete Jinja tags; what is left of a run's text after removing them must hold no tag mark.
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
TAG_MARKS = ("{{", "}}", "{%", "%}", "{#", "#}")

#: Word 2010's copy of the styles; it would still hold the default template's styles.
RT_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


class BuildError(Exception):
    """A source or a built template that would not render as intended."""


class SourceError(BuildError, ValueError):
    """A line of a template source that does not follow the markup."""

    def __init__(self, path: Path, lineno: int, line: str, message: str) -> None:
        super().__init__(f"{path.name}:{lineno}: {message}\n    {line}")


# ---------------------------------------------------------------- styles


@dataclass(frozen=True)
class StyleSpec:
    """Paragraph style settings; sizes in points, indents in characters."""

    name: str
    style_id: str
    base: str | None = "Normal"
    east_asia: str = "宋体"
    size: float = 12
    bold: bool = False
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY
    first_line_chars: int = 0
    left_chars: int = 0
    hanging_chars: int = 0
    line_spacing: float = 1.5
    line_exact: float | None = None
    space_before: float = 0
    space_after: float = 0
    keep_with_next: bool = False
    page_break_before: bool = False
    outline_level: int | None = None
    builtin: bool = False


#: Word and WPS show Normal as 正文 in Chinese; the custom names below avoid
#: clashing with that localized built-in name.
NORMAL = StyleSpec("Normal", "Normal", base=None, builtin=True)
STYLES = (
    StyleSpec(
        "Title",
        "Title",
        east_asia="黑体",
        size=22,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line_spacing=1.0,
        space_after=18,
        keep_with_next=True,
        outline_level=0,
        builtin=True,
    ),
    StyleSpec(
        "条标题",
        "ArticleHeading",
        east_asia="黑体",
        size=14,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        space_before=6,
        space_after=3,
        keep_with_next=True,
        outline_level=1,
    ),
    StyleSpec(
        "款标题",
        "ClauseHeading",
        bold=True,
        first_line_chars=2,
        keep_with_next=True,
        outline_level=2,
    ),
    StyleSpec("条款正文", "Clause", first_line_chars=2),
    StyleSpec("列项", "ListItem", left_chars=4, hanging_chars=2),
    StyleSpec("合同首部", "HeadField", align=WD_ALIGN_PARAGRAPH.LEFT),
    StyleSpec(
        "附件标识",
        "AttachmentLabel",
        east_asia="黑体",
        size=14,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        keep_with_next=True,
    ),
    StyleSpec("签署引导", "SignLead", base="Clause", first_line_chars=2, keep_with_next=True),
    StyleSpec(
        "签字页题注",
        "SignPageCaption",
        base="SignLead",
        first_line_chars=2,
        space_after=12,
        keep_with_next=True,
        page_break_before=True,
    ),
    StyleSpec("签署栏", "SignCell", align=WD_ALIGN_PARAGRAPH.LEFT, keep_with_next=True),
    StyleSpec("表格文字", "FormText", size=10.5, align=WD_ALIGN_PARAGRAPH.LEFT, line_spacing=1.0),
    StyleSpec(
        "表格表头",
        "FormHeading",
        base="FormText",
        size=10.5,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line_spacing=1.0,
        keep_with_next=True,
    ),
    StyleSpec(
        "表格节标题",
        "FormSection",
        base="FormText",
        size=10.5,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        line_spacing=1.0,
        keep_with_next=True,
    ),
    StyleSpec("表注", "TableNote", size=10.5, align=WD_ALIGN_PARAGRAPH.LEFT, space_before=6),
    # Word joins two tables that touch, and wants a paragraph after a final table.
    StyleSpec("表间隔", "TableGap", size=6, align=WD_ALIGN_PARAGRAPH.LEFT, line_exact=6),
    StyleSpec(
        "Header",
        "Header",
        size=9,
        align=WD_ALIGN_PARAGRAPH.RIGHT,
        line_spacing=1.0,
        builtin=True,
    ),
    StyleSpec(
        "Footer",
        "Footer",
        size=9,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line_spacing=1.0,
        builtin=True,
    ),
)

#: Style used for each paragraph marker, longest marker first.
MARKERS = (
    ("### ", "ClauseHeading"),
    ("## ", "ArticleHeading"),
    ("# ", "Title"),
    (">> ", "SignPageCaption"),
    ("> ", "SignLead"),
    (": ", "HeadField"),
    ("- ", "ListItem"),
    ("@ ", "AttachmentLabel"),
    ("~ ", "TableNote"),
)

#: Styles of python-docx's default template worth keeping; the rest would only clutter
#: the style gallery of whoever edits the templates.
KEPT_STYLE_IDS = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList"}


def set_fonts(rpr: BaseOxmlElement, east_asia: str) -> None:
    """Name the Latin and the East Asian face explicitly, dropping theme fonts."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), east_asia)


def set_doc_defaults(doc: DocxDocument) -> None:
    """Replace the template's theme-font defaults with 宋体 / Times New Roman, zh-CN."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    set_fonts(rpr, "宋体")
    for tag, value in (("w:sz", "24"), ("w:szCs", "24")):
        rpr.find(qn(tag)).set(qn("w:val"), value)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}")
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")


def apply_style(style: ParagraphStyle, spec: StyleSpec, base: StyleSpec | None) -> None:
    """Write into a paragraph style what its spec sets differently from its base style."""

    def differs(name: str) -> bool:
        return base is None or getattr(spec, name) != getattr(base, name)

    font, fmt = style.font, style.paragraph_format
    if differs("size"):
        font.size = Pt(spec.size)
    if differs("bold"):
        font.bold = spec.bold
    if differs("east_asia"):
        set_fonts(style.element.get_or_add_rPr(), spec.east_asia)
    if differs("align"):
        fmt.alignment = spec.align
    if spec.line_exact is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(spec.line_exact)
    elif differs("line_spacing") or differs("line_exact"):
        fmt.line_spacing = spec.line_spacing
    if differs("space_before"):
        fmt.space_before = Pt(spec.space_before)
    if differs("space_after"):
        fmt.space_after = Pt(spec.space_after)
    if differs("keep_with_next"):
        fmt.keep_with_next = spec.keep_with_next
    if differs("page_break_before"):
        fmt.page_break_before = spec.page_break_before
    if base is None:
        fmt.widow_control = True
    if any(differs(name) for name in ("left_chars", "first_line_chars", "hanging_chars")):
        set_indent(style, spec)
    if spec.outline_level is not None:
        outline = style.element.get_or_add_pPr().get_or_add_outlineLvl()
        outline.set(qn("w:val"), str(spec.outline_level))


def set_indent(style: ParagraphStyle, spec: StyleSpec) -> None:
    """Indent in characters (w:*Chars) with the same amount in twips beside it."""
    char = Pt(spec.size)
    fmt = style.paragraph_format
    fmt.left_indent = char * spec.left_chars
    if spec.hanging_chars:
        fmt.first_line_indent = -char * spec.hanging_chars
    else:
        fmt.first_line_indent = char * spec.first_line_chars
    # Word and WPS measure *Chars in characters of the paragraph's font and let them
    # win over the twips, which remain for readers (LibreOffice) that ignore them.
    ind = style.element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:leftChars"), str(spec.left_chars * 100))
    if spec.hanging_chars:
        ind.set(qn("w:hangingChars"), str(spec.hanging_chars * 100))
    else:
        ind.set(qn("w:firstLineChars"), str(spec.first_line_chars * 100))


def add_table_style(doc: DocxDocument, style_id: str, name: str, border: str) -> None:
    """Add a table style whose borders are all ``border`` (single or nil)."""
    size = ' w:sz="4" w:space="0" w:color="000000"' if border == "single" else ""
    edges = "".join(
        f'<w:{edge} w:val="{border}"{size}/>'
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    xml = (
        f'<w:style xmlns:w="{W_NS}" w:type="table" w:customStyle="1" w:styleId="{style_id}">'
        f'<w:name w:val="{name}"/><w:basedOn w:val="TableNormal"/><w:uiPriority w:val="59"/>'
        f"<w:tblPr><w:tblBorders>{edges}</w:tblBorders>"
        f'<w:tblCellMar><w:left w:w="{CELL_MARGIN}" w:type="dxa"/>'
        f'<w:right w:w="{CELL_MARGIN}" w:type="dxa"/>'
        "</w:tblCellMar></w:tblPr></w:style>"
    )
    doc.styles.element.append(etree.fromstring(xml))


def define_styles(doc: DocxDocument) -> None:
    """Replace the default template's styles with the contract set's named styles."""
    root = doc.styles.element
    for style in list(root.findall(qn("w:style"))):
        if style.get(qn("w:styleId")) not in KEPT_STYLE_IDS:
            root.remove(style)
    set_doc_defaults(doc)
    apply_style(doc.styles["Normal"], NORMAL, None)
    for spec in STYLES:
        style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH, builtin=spec.builtin)
        style.style_id = spec.style_id
        style.quick_style = True
    # Base styles resolved only now: a style may be based on one defined after it.
    by_id = {spec.style_id: spec for spec in (NORMAL, *STYLES)}
    for spec in STYLES:
        style = style_by_id(doc, spec.style_id)
        base = spec.base or "Normal"
        style.base_style = style_by_id(doc, base)
        apply_style(style, spec, by_id[base])
    strong = doc.styles.add_style("Strong", WD_STYLE_TYPE.CHARACTER, builtin=True)
    strong.font.bold = True
    strong.quick_style = True
    add_table_style(doc, "FormTable", "表格（带框线）", "single")
    add_table_style(doc, "SignTable", "签署表格（无框线）", "nil")


def style_by_id(doc: DocxDocument, style_id: str) -> ParagraphStyle:
    """Return the paragraph style with the given id."""
    for style in doc.styles:
        if style.style_id == style_id and isinstance(style, ParagraphStyle):
            return style
    raise KeyError(style_id)


# ---------------------------------------------------------------- source parsing


@dataclass
class Para:
    """A paragraph of a given style."""

    style_id: str
    text: str


@dataclass
class CellSpec:
    """One cell of a table row in the source."""

    text: str
    span: int = 1
    continues: bool = False


@dataclass
class RowSpec:
    """A table row: cells, or a docxtpl row tag."""

    cells: list[CellSpec] = field(default_factory=list)
    header: bool = False
    section: bool = False
    tag: str | None = None


@dataclass
class TableSpec:
    """A ``[form …]`` or ``[sign …]`` block."""

    kind: str
    widths: list[float]
    rows: list[RowSpec] = field(default_factory=list)
    #: the columns whose body cells are centred
    centred: set[int] = field(default_factory=set)


@dataclass
class Source:
    """A parsed template source."""

    header: str
    blocks: list[Para | TableSpec]


TABLE_START = re.compile(r"^\[(form|sign)((?:\s+\d+(?:\.\d+)?c?)+)\]$")
CELL_MARK = re.compile(r"^(\d+|\^)?(.*)$", re.DOTALL)


def check_runs(text: str) -> list[tuple[str, bool]]:
    """Split text at ``**`` into (text, bold) runs; raise if a run holds part of a tag."""
    parts = text.split("**")
    if len(parts) % 2 == 0:
        raise ValueError("unbalanced **")
    runs = [(part, index % 2 == 1) for index, part in enumerate(parts) if part]
    for part, _bold in runs:
        if any(mark in JINJA_TAG.sub("", part) for mark in TAG_MARKS):
            raise ValueError(f"Jinja tag cut by ** or left open: {part!r}")
    return runs


def parse_row(line: str, ncols: int, previous: list[RowSpec]) -> RowSpec:
    """Parse one table row line."""
    header = line.startswith("H")
    body = line[1:] if header else line
    if body.startswith("="):
        text = body[1:].strip()
        return RowSpec([CellSpec(text, ncols)], header=header, section=True)
    if not body.startswith("|"):
        raise ValueError("a table row starts with |, =, H| or H=")
    cells = []
    # A | inside a Jinja tag is a filter ({{ x | tick }}), not a cell separator.
    for raw in re.split(r"\|(?![^{]*\}\})", body)[1:]:
        cell_mark = CELL_MARK.match(raw)
        assert cell_mark is not None  # the pattern matches any text
        mark, text = cell_mark.groups()
        if mark == "^":
            cells.append(CellSpec("", continues=True))
        else:
            cells.append(CellSpec(text.strip(), int(mark) if mark else 1))
    row = RowSpec(cells, header=header)
    # A continued cell takes the span of the cell it continues.
    above = next((r for r in reversed(previous) if r.tag is None), None)
    offset = 0
    for cell in cells:
        if cell.continues:
            start = grid_starts(above).get(offset) if above else None
            if start is None:
                raise ValueError("|^ has no cell above it starting in the same column")
            cell.span = start.span
        offset += cell.span
    if offset != ncols:
        raise ValueError(f"row spans {offset} columns, the table has {ncols}")
    return row


def grid_starts(row: RowSpec) -> dict[int, CellSpec]:
    """Map grid column offsets to the cells that start there."""
    starts, offset = {}, 0
    for cell in row.cells:
        starts[offset] = cell
        offset += cell.span
    return starts


def parse_table_line(table: TableSpec, line: str) -> bool:
    """Add a line inside a table block to the table; return whether the line closes it."""
    if line == f"[/{table.kind}]":
        return True
    if line.startswith("{%tr ") and line.endswith("%}"):
        table.rows.append(RowSpec(tag=line))
        return False
    row = parse_row(line, len(table.widths), table.rows)
    for cell in row.cells:
        for paragraph in cell.text.split("¶"):
            check_runs(paragraph.strip())
    table.rows.append(row)
    return False


def parse_paragraph(line: str) -> Para:
    """Parse a paragraph line: a ``{%p … %}`` tag, or text with an optional style marker."""
    if line.startswith("{%p "):
        if not line.endswith("%}") or line.count("{%") != 1:
            raise ValueError("a {%p … %} line holds that one tag and nothing else")
        return Para("Normal", line)
    if "{%p" in line or "{%tr" in line:
        raise ValueError("{%p and {%tr tags stand on a line of their own")
    style_id, text = "Clause", line
    for marker, marker_style in MARKERS:
        if line.startswith(marker):
            style_id, text = marker_style, line.removeprefix(marker).strip()
            break
    check_runs(text)
    return Para(style_id, text)


def parse_source(path: Path) -> Source:
    """Parse a template source into paragraphs and tables."""
    header = ""
    blocks: list[Para | TableSpec] = []
    table: TableSpec | None = None
    lineno, line = 0, ""
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.rstrip()
        if not line.strip():
            continue
        try:
            if table is not None:
                if parse_table_line(table, line):
                    blocks.append(table)
                    table = None
            elif match := TABLE_START.match(line):
                columns = match.group(2).split()
                table = TableSpec(
                    match.group(1),
                    [float(w.removesuffix("c")) for w in columns],
                    centred={i for i, w in enumerate(columns) if w.endswith("c")},
                )
            elif line.startswith("!header "):
                header = line.removeprefix("!header ").strip()
                check_runs(header)
            else:
                blocks.append(parse_paragraph(line))
        except ValueError as exc:
            raise SourceError(path, lineno, line, str(exc)) from exc
    if table is not None:
        raise SourceError(path, lineno, line, f"[{table.kind}] is not closed")
    if not header:
        raise SourceError(path, 1, "", "missing !header line")
    return Source(header, blocks)


# ---------------------------------------------------------------- document building


def kept_whole(text: str, width: float | None = None) -> str:
    """Return a paragraph holding a value (in one run) as ``keep_tail`` sets it, else as it is.

    ``width`` is its line in ems of its size; none is the page's line of 小四.
    """
    if "{{" not in text or "**" in text:
        return text
    # Hundredths of an em, rounded down: a line measured a little short breaks no later.
    args = "" if width is None else f"({math.floor(width * 100) / 100})"
    return f"{{% filter keep_tail{args} %}}{text}{{% endfilter %}}"


def add_runs(paragraph: Paragraph, text: str) -> None:
    """Append text to a paragraph, ``**…**`` spans in the Strong character style."""
    for part, bold in check_runs(text):
        paragraph.add_run(part, style="Strong" if bold else None)


def set_page(doc: DocxDocument) -> None:
    """A4 portrait with Word's Chinese default margins (the page keep_tail measures lines on)."""
    section = doc.sections[0]
    section.page_width, section.page_height = (Cm(cm) for cm in layout.PAGE_CM)
    top, side = layout.MARGIN_CM
    section.top_margin = section.bottom_margin = Cm(top)
    section.left_margin = section.right_margin = Cm(side)
    section.header_distance, section.footer_distance = Cm(1.5), Cm(1.75)


def add_field(paragraph: Paragraph, instruction: str) -> None:
    """Append a simple field (PAGE, NUMPAGES) with a placeholder result."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def set_header_footer(doc: DocxDocument, header: str) -> None:
    """Contract number in the header, 第 X 页 共 Y 页 in the footer."""
    section = doc.sections[0]
    head = section.header.paragraphs[0]
    head.style = style_by_id(doc, "Header")
    add_runs(head, header)
    foot = section.footer.paragraphs[0]
    foot.style = style_by_id(doc, "Footer")
    foot.add_run("第 ")
    add_field(foot, "PAGE")
    foot.add_run(" 页 共 ")
    add_field(foot, "NUMPAGES")
    foot.add_run(" 页")


def set_tc_fill(cell: _Cell, fill: str) -> None:
    """Shade a cell; w:shd goes before w:vAlign, which is set afterwards."""
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def fill_cell(
    doc: DocxDocument, cell: _Cell, text: str, style_id: str, width: float | None = None
) -> None:
    """Write ¶-separated paragraphs into a cell; given its width in ems, values kept whole."""
    style = style_by_id(doc, style_id)
    for index, chunk in enumerate(text.split("¶")):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.style = style
        chunk = chunk.strip()
        add_runs(paragraph, chunk if width is None else kept_whole(chunk, width))


def add_table(doc: DocxDocument, spec: TableSpec) -> None:
    """Append a form or signature table."""
    form = spec.kind == "form"
    table: Table = doc.add_table(rows=0, cols=len(spec.widths))
    table.style = doc.styles["表格（带框线）" if form else "签署表格（无框线）"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Cm(width) for width in spec.widths]
    for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        grid_col.w = width
    tbl_w = table._tbl.tblPr.find(qn("w:tblW"))
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(sum(width.twips for width in widths)))
    previous_tcs: dict[int, CT_Tc] = {}
    for row in spec.rows:
        tr = table._tbl.add_tr()
        tr_pr = tr.get_or_add_trPr()
        # A row never breaks across pages: a form line or a signature stays whole.
        tr_pr.append(OxmlElement("w:cantSplit"))
        if row.header:
            tr_pr.append(OxmlElement("w:tblHeader"))
        cells = row.cells if row.tag is None else [CellSpec(row.tag, len(widths))]
        offset = 0
        current: dict[int, CT_Tc] = {}
        for cell_spec in cells:
            tc = tr.add_tc()
            tc.width = Length(sum(widths[offset : offset + cell_spec.span]))
            if cell_spec.span > 1:
                tc.grid_span = cell_spec.span
            if cell_spec.continues:
                tc.vMerge = "continue"
                previous_tcs[offset].vMerge = previous_tcs[offset].vMerge or "restart"
            cell = _Cell(tc, table)
            if row.section:
                set_tc_fill(cell, SECTION_FILL)
            elif row.header:
                set_tc_fill(cell, HEADER_FILL)
            if form:
                style_id = (
                    "FormSection" if row.section else "FormHeading" if row.header else "FormText"
                )
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            else:
                style_id = "SignCell"
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
            # A signature's name never leaves its last character alone under it.
            width = None if form else (tc.width.twips - 2 * CELL_MARGIN) / 240
            fill_cell(doc, cell, cell_spec.text, style_id, width)
            if style_id == "FormText" and cell_spec.span == 1 and offset in spec.centred:
                for paragraph in cell.paragraphs:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            current[offset] = tc
            offset += cell_spec.span
        if row.tag is None:
            previous_tcs = current
        if form and row.tag is None:
            # Room to write in by hand on the printed blank form.
            height = OxmlElement("w:trHeight")
            height.set(qn("w:val"), str(Cm(0.8).twips))
            height.set(qn("w:hRule"), "atLeast")
            tr_pr.append(height)


def build_document(source: Source) -> DocxDocument:
    """Lay out a parsed source as a python-docx document."""
    doc = Document()
    # The default template's thumbnail and custom XML describe some other document.
    for rels, reltype in (
        (doc.part.package.rels, RT.THUMBNAIL),
        (doc.part.rels, RT.CUSTOM_XML),
        # Its list definitions name styles the templates do not have; no paragraph is numbered.
        (doc.part.rels, RT.NUMBERING),
        (doc.part.rels, RT_STYLES_WITH_EFFECTS),
    ):
        for r_id in [r_id for r_id, rel in rels.items() if rel.reltype == reltype]:
            rels.pop(r_id)
    define_styles(doc)
    set_page(doc)
    set_header_footer(doc, source.header)
    title = ""
    previous: Para | TableSpec | None = None
    for block in source.blocks:
        if isinstance(block, TableSpec):
            if isinstance(previous, TableSpec):
                doc.add_paragraph(style=style_by_id(doc, "TableGap"))
            add_table(doc, block)
        else:
            paragraph = doc.add_paragraph(style=style_by_id(doc, block.style_id))
            head = block.style_id == "HeadField"
            add_runs(paragraph, kept_whole(block.text) if head else block.text)
            if block.style_id == "Title" and not title:
                title = block.text
        previous = block
    if isinstance(previous, TableSpec):
        doc.add_paragraph(style=style_by_id(doc, "TableGap"))
    props = doc.core_properties
    props.title = title
    props.author = props.last_modified_by = props.comments = props.subject = ""
    props.keywords = props.category = ""
    props.created = props.modified = BUILD_TIME
    props.revision = 1
    return doc


#: parts whose w:rFonts name the faces a document uses
FONT_PARTS = re.compile(r"^word/(document|styles|header\d*|footer\d*)\.xml$")


def finish_package(data: bytes, name: str) -> bytes:
    """Re-zip a saved package with Word-native parts and fixed timestamps (equal in, equal out).

    python-docx's default template leaves a Word 2010 for Mac document in
    Japanese; :mod:`generator.docx.native` has the parts that replace it.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    used = native.fonts_named(blob for part, blob in parts.items() if FONT_PARTS.match(part))
    parts["docProps/app.xml"] = native.app_properties(__version__)
    parts["word/theme/theme1.xml"] = native.theme(parts["word/theme/theme1.xml"])
    parts["word/fontTable.xml"] = native.font_table(used)
    parts["word/settings.xml"] = native.settings(parts["word/settings.xml"], f"template/{name}")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for part, blob in parts.items():
            write_entry(dst, part, blob)
    return out.getvalue()


# ---------------------------------------------------------------- checks


def check_tags(name: str, docx: bytes) -> None:
    """Fail unless every Jinja tag lies inside one w:t and docxtpl can parse the template."""
    problems = tag_problems(docx)
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        for part in package.namelist():
            if not re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", part):
                continue
            root = etree.fromstring(package.read(part))
            for text in root.iter(qn("w:t")):
                for tag in JINJA_TAG.findall(text.text or ""):
                    if match := DICT_METHOD_ATTR.search(tag):
                        problems.append(
                            f"{part}: {tag} reads the dict method {match.group(1)}();"
                            f" write ['{match.group(1)}']"
                        )
    if problems:
        raise BuildError(f"{name}:\n  " + "\n  ".join(problems))
    try:
        env = jinja2.Environment()
        env.filters.update(FILTERS)
        env.filters.update(layout.FILTERS)
        DocxTemplate(io.BytesIO(docx)).get_undeclared_template_variables(env)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"{name}: {exc.message} (template line {exc.lineno})") from exc


def make(name: str, folder: Path) -> bytes:
    """Return NAME.docx as built from FOLDER/src/NAME.txt, checked."""
    path = folder / "src" / f"{name}.txt"
    if not path.is_file():
        raise BuildError(f"no template source {path}")
    buffer = io.BytesIO()
    build_document(parse_source(path)).save(buffer)
    docx = finish_package(buffer.getvalue(), name)
    check_tags(f"{name}.docx", docx)
    return docx


def build(name: str, folder: Path) -> Path:
    """Build FOLDER/NAME.docx from FOLDER/src/NAME.txt; write it only if it passes."""
    docx = make(name, folder)
    target = folder / f"{name}.docx"
    target.write_bytes(docx)
    return target


def main(argv: list[str] | None = None) -> int:
    """Build the templates of the given folders (all by default); return the exit status."""
    folders = [Path(arg) for arg in argv] if argv else list(FOLDERS)
    try:
        for folder in folders:
            for source in sorted((folder / "src").glob("*.txt")):
                target = build(source.stem, folder)
                print(f"built {target}")
    except BuildError as exc:
        print(f"build_templates: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
