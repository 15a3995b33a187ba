"""Lines on the templates' page: keep_tail, and what the built templates lay out with it.

The PDF side (the lines LibreOffice sets) is ``tests/e2e/test_signature_pages.py``;
here the measure itself, table-driven, and the rendered DOCX of the sample.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from markupsafe import Markup

from generator.docx.layout import LINE_EMS, keep_tail
from generator.kinds import parse
from generator.pipeline import render_docx

from ..builtin import KINDS, TEMPLATE_DIR
from ..docx_text import docx_text

BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
#: the agreements' signature cells: 7.33 cm less the cell margins, in ems of 小四
SIGN_CELL = 16.6
HEAD = "乙方（受托人）："

CASES = [
    # a line that fits, and a name that wraps with two or more on its last line: unchanged
    (HEAD + "上海众恒智能系统技术有限公司", LINE_EMS, None),
    (HEAD + "上海市浦东新区张江高科技园区智能信息系统工程有限公司", LINE_EMS, None),
    (HEAD + "上海浦东新区张江高科技园区智能信息系统工程股份有限公司第二", LINE_EMS, None),
    # one over: the last two characters go down together
    (
        HEAD + "上海浦东新区张江高科技园区智能信息系统工程股份有限公司",
        LINE_EMS,
        HEAD + "上海浦东新区张江高科技园区智能信息系统工程股份有限" + BREAK + "公司",
    ),
    # ） may not start a line, so 限） would go down together, 限 alone but for its bracket
    (
        HEAD + "上海浦东新区张江高科技园区智能信息系统工程集（股份有限）",
        LINE_EMS,
        HEAD + "上海浦东新区张江高科技园区智能信息系统工程集（股份" + BREAK + "有限）",
    ),
    # two characters and a bracket: not alone
    (HEAD + "上海浦东新区张江高科技园区智能信息系统工程集团（股份有限）", LINE_EMS, None),
    # the seed's signature line fits a cell by 0.02 em; one more character is one too many
    ("乙方: 上海众恒智能系统技术有限公司", SIGN_CELL, None),
    (
        "乙方: 上海恒智能系统集成技术有限公司",
        SIGN_CELL,
        "乙方: 上海恒智能系统集成技术有限" + BREAK + "公司",
    ),
    (
        "甲方:上海市大数据中心信息安全分中心",
        SIGN_CELL,
        "甲方:上海市大数据中心信息安全分" + BREAK + "中心",
    ),
    # Latin words break at spaces only, and the word before a lone character goes down whole
    ("乙方: Shanghai Zhongheng Data 有限公司", SIGN_CELL, None),
    (
        "乙方: 上海众恒智能系统 Zhongheng 司",
        SIGN_CELL,
        "乙方: 上海众恒智能系统 " + BREAK + "Zhongheng 司",
    ),
    # a line that is one piece: nothing to move
    ("x" * 40 + "司", SIGN_CELL, None),
]


@pytest.mark.parametrize(("text", "width", "expected"), CASES)
def test_keep_tail_breaks_only_before_a_lone_last_character(
    text: str, width: float, expected: str | None
) -> None:
    assert str(keep_tail(Markup(text), width)) == (text if expected is None else expected)


def test_keep_tail_keeps_the_text_escaped() -> None:
    text = HEAD + "上海浦东新区张江高科技园区智能信息系统工程股份有限公司"
    kept = keep_tail(Markup.escape("A&B") + text[2:])  # as narrow as 乙方 less 0.17 em
    assert kept.startswith("A&amp;B") and kept.endswith(BREAK + "公司")
    assert keep_tail(Markup("A&amp;B")) == Markup("A&amp;B")


@pytest.mark.parametrize("kind", KINDS)
def test_the_line_measured_is_the_built_templates_text_width(kind: str) -> None:
    section = Document(TEMPLATE_DIR / f"{kind}.docx").sections[0]
    assert section.page_width is not None and section.left_margin is not None
    assert section.right_margin is not None
    text_width = section.page_width.twips - section.left_margin.twips - section.right_margin.twips
    assert text_width / 240 == LINE_EMS  # in ems of 小四, 12 pt = 240 twips


# ---------------------------------------------------------------- the rendered templates


@pytest.fixture(scope="module")
def documents(seed_data: dict[str, Any]) -> dict[str, bytes]:
    data = dict(seed_data, supplier=dict(seed_data["supplier"]))
    data["supplier"]["name"] = "上海浦东新区张江高科技园区智能信息系统工程股份有限公司"
    return {d.kind: d.docx for d in render_docx(parse(data)).documents}


def test_the_parties_block_breaks_a_long_name_before_its_last_two(
    documents: dict[str, bytes],
) -> None:
    body = Document(io.BytesIO(documents["service_contract"])).paragraphs
    name = next(p.text for p in body if p.text.startswith(HEAD))
    assert name == HEAD + "上海浦东新区张江高科技园区智能信息系统工程股份有限\n公司"


@pytest.mark.parametrize("kind", ["confidentiality_agreement", "integrity_agreement"])
def test_the_agreements_sign_in_rows_shared_by_both_parties(
    documents: dict[str, bytes], kind: str
) -> None:
    table = Document(io.BytesIO(documents[kind])).tables[-1]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0][0].startswith("甲方:") and rows[0][1].startswith("乙方: ")
    assert rows[-1] == ["日期: 2026年01月16日"] * 2


def test_the_filled_acceptance_plan_has_no_blank_form_remark(documents: dict[str, bytes]) -> None:
    text = docx_text(documents["acceptance_plan"])
    assert "备注" not in text and "具体方案内容将在签订采购合同时约定" not in text


def test_the_acceptance_plan_centres_its_numbers_and_widens_its_values(
    documents: dict[str, bytes],
) -> None:
    form, items = Document(io.BytesIO(documents["acceptance_plan"])).tables
    for row in items.rows[2:]:  # under the section and header rows
        number = row.cells[0].paragraphs[0]
        assert number.text.isdigit() and number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    sampling = next(row for row in form.rows if row.cells[0].text == "抽查比例")
    label, value = sampling.cells[0], sampling.cells[1]
    assert value.width > label.width  # its value spans two columns, as 是/否 above it
