"""No clause repeats a data value as fixed text: each says what the data says.

Read from the rendered service contract with python-docx, paragraph by
paragraph in document order.
"""

from __future__ import annotations

import io
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from generator.domain.filters import bond_clause
from generator.domain.filters import wan as format_wan
from generator.kinds import default_kind, load_kind, parse
from generator.pipeline import render_docx


def _paragraphs(data: dict[str, Any]) -> list[str]:
    """Return the service contract's body paragraphs, in order."""
    contract = render_docx(parse(data), kinds=["service_contract"]).documents[0]
    return [p.text for p in Document(io.BytesIO(contract.docx)).paragraphs]


def _after(paragraphs: list[str], heading: str) -> str:
    """Return the paragraph that follows a heading."""
    return paragraphs[paragraphs.index(heading) + 1]


# ---------------------------------------------------------------- 六、履约保证金


def test_clause_six_states_the_bond_of_2_5(seed: dict[str, Any]) -> None:
    seed["performance_bond"] = "中标金额的 5%，以银行保函形式在合同签订后 7 日内提交"
    paragraphs = _paragraphs(seed)
    assert "2.5 履约保证金：中标金额的 5%，以银行保函形式在合同签订后 7 日内提交" in paragraphs
    assert (
        _after(paragraphs, "六、履约保证金")
        == "中标金额的 5%，以银行保函形式在合同签订后 7 日内提交。"
    )


def test_clause_six_says_none_when_no_bond_is_taken(seed: dict[str, Any]) -> None:
    paragraphs = _paragraphs(seed)  # the seed: 2.5 履约保证金：不收取
    assert "2.5 履约保证金：不收取" in paragraphs
    assert _after(paragraphs, "六、履约保证金") == "无。"


@pytest.mark.parametrize(
    ("bond", "clause"),
    [
        # no bond, however it is put
        ("不收取", "无。"),
        ("无", "无。"),
        ("无。", "无。"),
        ("免收", "无。"),
        ("不适用", "无。"),
        ("None", "无。"),
        ("不收取履约保证金", "无。"),
        ("无需提交履约保证金。", "无。"),
        # a bond, stated as the data states it, ending with one full stop
        ("中标金额的 2%，以银行保函形式提交", "中标金额的 2%，以银行保函形式提交。"),
        ("人民币 50000 元。", "人民币 50000 元。"),
        ("人民币 50000 元；", "人民币 50000 元。"),
        # 无 starts it, yet it is a bond
        (
            "无条件见索即付银行保函，金额为中标金额的 3%",
            "无条件见索即付银行保函，金额为中标金额的 3%。",
        ),
    ],
)
def test_bond_clause(bond: str, clause: str) -> None:
    assert bond_clause(bond) == clause


# ---------------------------------------------------------------- 2.3 服务期限


@pytest.mark.parametrize(
    ("start", "term"),
    [
        (None, "自合同签订之日起至2026年12月31日。"),
        ("2026-03-01", "自2026年03月01日起至2026年12月31日。"),
    ],
)
def test_2_3_sets_the_term_s_dates_alike_on_both_sides(
    seed: dict[str, Any], start: str | None, term: str
) -> None:
    seed["service"]["start_date"] = start
    paragraph = next(p for p in _paragraphs(seed) if p.startswith("2.3 服务期限："))
    assert paragraph.removeprefix("2.3 服务期限：").startswith(term)


# ---------------------------------------------------------------- 5.2 付款方式


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (Decimal(5_000_000), "500 万元"),
        (Decimal(4_500_000), "450 万元"),
        (Decimal(10_000_000), "1000 万元"),
        (Decimal(1_234_500), "123.45 万元"),
    ],
)
def test_amounts_in_wan(amount: Decimal, written: str) -> None:
    assert format_wan(amount) == written


def test_5_2_states_the_threshold_the_model_applies(seed: dict[str, Any]) -> None:
    limit = format_wan(default_kind().spec.constants["default_schedule_limit"])
    assert limit == "500 万元"  # the seed's
    assert _after(_paragraphs(seed), "5.2 付款方式").startswith(
        f"对于中标金额低于 {limit}且不属于跨年项目的，"
    )


def test_5_2_threshold_comes_from_the_declared_constant(
    seed: dict[str, Any], tmp_path: Path
) -> None:
    folder = shutil.copytree(default_kind().folder, tmp_path / "om")
    declaration = folder / "kind.yaml"
    text = declaration.read_text(encoding="utf-8")
    assert "default_schedule_limit: 5000000" in text
    declaration.write_text(
        text.replace("default_schedule_limit: 5000000", "default_schedule_limit: 4000000"),
        encoding="utf-8",
    )
    kind = load_kind(folder)
    contract = render_docx(kind.parse(seed), kinds=["service_contract"]).documents[0]
    paragraphs = [p.text for p in Document(io.BytesIO(contract.docx)).paragraphs]
    assert _after(paragraphs, "5.2 付款方式").startswith(
        "对于中标金额低于 400 万元且不属于跨年项目的，"
    )
    seed["amount"] = "4500000"  # the rule applies the same threshold: instalments now required
    assert [i.code for i in kind.validate(seed)] == ["payment.instalments.required"]
    assert "达到400 万元" in kind.validate(seed)[0].message


#: a percentage as 5.2 prints it, with whatever space before its sign
PERCENT = re.compile(r"(\d+)(\s*)%")


@pytest.mark.parametrize(
    "instalments",
    [
        None,  # the default two instalments: the first percentage, then the balance
        [
            {"percent": "40", "condition": "合同签订生效"},
            {"percent": "60", "condition": "本项目通过最终验收"},
        ],
    ],
    ids=["default", "stated"],
)
def test_5_2_prints_percentages_as_the_seed_does(
    seed: dict[str, Any], instalments: list[dict[str, str]] | None
) -> None:
    if instalments:
        seed["payment"]["instalments"] = instalments
    paragraphs = _paragraphs(seed)
    start = paragraphs.index("5.2 付款方式")
    clause = "".join(paragraphs[start : paragraphs.index("六、履约保证金")])
    found = PERCENT.findall(clause)
    expected = ["70"] if instalments is None else ["40", "60"]
    # 100%支付, 97%为上限, 30%向甲方: the seed writes a percentage with no space before %
    assert found == [(n, "") for n in expected]
