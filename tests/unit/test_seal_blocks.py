"""Validation measures what the seal blocks print: a wrapped line read as the signing date.

Nothing is rendered here: the lines are the templates' as the kind reads them, the values
measured with the layout's line breaks. ``tests/e2e/test_seal.py`` renders the borderline
names once, to show the measure predicts what the seal placement does; the faces test
(``tests/e2e/test_faces.py``) holds ``validate``, ``/v1/validate``, the workbench and a
batch's rows to the same answer.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from generator.domain.documents import SIGNING_DATE
from generator.domain.lines import line_starts
from generator.errors import SealPlacementError, TemplateError, unrenderable
from generator.kinds import registry
from generator.kinds.seal_blocks import SEAL_BLOCK_DATE, SealLine, check_seal_lines
from generator.pdf import seal

#: 14 ideographs fill the agreements' signature cell after 乙方: (16.6 ems); a date after a
#: 15th lies on the name's second line, where the seal placement would take it for the date
DATED_NAME = "上海市浦东新区张江高科技园区信2026年1月16日技术有限公司"
#: the same date after 7 ideographs ends exactly at the first line's end: nothing below
EDGE_NAME = "上海市浦东新区2026年1月16日技术有限公司"
#: … after 8, the line's end cuts it: 日 alone below, no date
CUT_NAME = "上海市浦东新区张2026年1月16日技术有限公司"


def _with(seed: dict[str, Any], **names: str) -> dict[str, Any]:
    data = copy.deepcopy(seed)
    for party, name in names.items():
        data[party]["name"] = name
    return data


def _seal_issues(data: dict[str, Any]) -> list[Any]:
    return [i for i in registry().kinds["om_service"].validate(data) if i.code == SEAL_BLOCK_DATE]


def test_the_kind_reads_the_agreements_signature_cells_as_its_seal_lines() -> None:
    lines = registry().kinds["om_service"].seal_lines
    assert {(line.document, line.keyword, line.text, line.width) for line in lines} == {
        (document, keyword, f"{keyword}{gap}{{{{ {party}.name }}}}", 16.6)
        for document in ("保密协议", "廉洁协议")
        for keyword, gap, party in (("甲方:", "", "buyer"), ("乙方:", " ", "supplier"))
    }
    # the contract's own seal cells print no value: nothing of the data to measure there
    assert not registry().kinds["supplement"].seal_lines


@pytest.mark.parametrize(
    "name",
    [
        "Shanghai Zhongheng Intelligent Systems Co., Ltd.",  # issue #23's name: it renders
        "上海市浦东新区张江高科技园区智能信息系统集成与数据安全服务有限公司第二分公司",  # 3 lines
        "上海2026年1月16日技术有限公司",  # a date on the keyword's line: the block goes on
        EDGE_NAME,
        CUT_NAME,
    ],
)
def test_names_the_seal_places_are_left_alone(seed: dict[str, Any], name: str) -> None:
    assert registry().kinds["om_service"].validate(_with(seed, supplier=name)) == []


def test_the_layout_puts_the_dates_where_the_names_say() -> None:
    def lines(name: str) -> list[str]:
        text = "乙方: " + name
        starts = [*(line_starts(text, 16.6) or []), len(text)]
        return [text[a:b] for a, b in itertools.pairwise(starts)]

    assert lines(DATED_NAME)[1] == "信2026年1月16日技术有限公司"
    assert lines(EDGE_NAME)[0].endswith("2026年1月16日")
    assert lines(CUT_NAME)[1].startswith("日")


def test_a_date_on_a_wrapped_line_is_refused_naming_the_field_and_both_documents(
    seed: dict[str, Any],
) -> None:
    issues = _seal_issues(_with(seed, supplier=DATED_NAME))
    assert len(issues) == 1  # one issue for the two agreements the name is printed in
    issue = issues[0]
    assert (issue.path, issue.title) == ("supplier.name", "乙方 · 名称")
    assert str(issue) == (
        "乙方 · 名称（supplier.name）：在《保密协议》《廉洁协议》的盖章处“乙方”折行后，"
        "“2026年1月16日”落在下一行，会被当作签署日期，印章无法盖下；"
        "请改写其中的日期（如 2026-01-16） [text.seal_block_date]"
    )


def test_the_buyer_is_measured_in_its_own_cell(seed: dict[str, Any]) -> None:
    # 甲方: is narrower than 乙方: by its space; 14 ideographs still fill its first line
    buyer = "上海市大数据中心信息安全分中心2026年1月16日处"
    issues = _seal_issues(_with(seed, buyer=buyer))
    assert [(i.path, i.title) for i in issues] == [("buyer.name", "甲方 · 名称")]
    assert "盖章处“甲方”" in issues[0].message


def test_every_problem_at_once_a_field_s_error_beside_the_seal_s(seed: dict[str, Any]) -> None:
    data = _with(seed, supplier=DATED_NAME)
    data["supplier"]["postcode"] = "20120"
    codes = [i.code for i in registry().kinds["om_service"].validate(data)]
    assert codes == ["postcode.format", SEAL_BLOCK_DATE]


def test_a_value_that_is_not_text_is_the_field_s_issue_alone(seed: dict[str, Any]) -> None:
    data = copy.deepcopy(seed)
    data["supplier"]["name"] = 2026
    issues = registry().kinds["om_service"].validate(data)
    assert [i.path for i in issues] == ["supplier.name"]
    assert SEAL_BLOCK_DATE not in {i.code for i in issues}


def test_a_line_s_values_and_the_template_s_own_date() -> None:
    line = SealLine("协议", "乙方:", "乙方: {{ supplier.name }}签于2026年1月16日", 8)
    # the date is the template's text, not the data's: kinds check's matter, not the clerk's
    assert check_seal_lines([line], {"supplier": {"name": "上海众恒智能系统"}}) == []
    computed = SealLine("协议", "乙方:", "乙方: {{ supplier.name }}{{ upper(x) }}", 8)
    assert check_seal_lines([computed], {"supplier": {"name": DATED_NAME}}) == []


def test_errors_that_retrying_cannot_fix_are_said_in_chinese_with_a_code() -> None:
    covered = SealPlacementError(
        kind="confidentiality_agreement",
        party="supplier",
        keyword="乙方:",
        count=1,
        covered="日期:2026年01月16日",
        title="保密协议",
    )
    missing = SealPlacementError(
        kind="contract", party="buyer", keyword="丙方（盖章）", count=0, where="the document"
    )
    said = [unrenderable(e) for e in (covered, missing, TemplateError("缺少变量", template="a"))]
    assert [(i.code, i.message) for i in said if i is not None] == [
        ("seal.covers_text", "保密协议：“乙方:”处的盖章会盖住其他文字：“日期:2026年01月16日”"),
        ("seal.keyword_count", "contract：盖章标记“丙方（盖章）”在全文出现 0 次，应恰好一次"),
        ("template.unusable", "合同模板有误，请联系管理员：a: 缺少变量"),
    ]
    assert unrenderable(RuntimeError("LibreOffice crashed")) is None  # may recover: retried


def test_validation_reads_a_date_as_the_seal_placement_does() -> None:
    # the PDF stage imports nothing of the domain: the one pattern, held here to be the same
    assert seal._DATE.pattern == SIGNING_DATE.pattern
