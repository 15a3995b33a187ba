"""Rendering: escaping, strictness, determinism, template checking."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from generator import TemplateError
from generator.docx.render import DocumentTemplate, TemplateSet
from generator.inputs.load import load_data
from generator.kinds import parse
from generator.pipeline import kind_templates, render_docx

from ..builtin import KIND, KINDS, TEMPLATE_DIR, build_context
from ..conftest import SAMPLES
from ..docx_text import docx_text

#: values of the seed contract that must never leak into a contract made from other data
SEED_VALUES = (
    "11NMB2F042362026201",
    "上海众恒",
    "高吉瑞",
    "刘体斌",
    "黄旻",
    "1578000",
    "壹佰伍拾柒万捌仟",
    "市金融办",
    "中共上海市委金融委员会办公室",
    "2026年01月16日",
    "网上签约",
    "大沽路",
    "31050161393600002908",
)


def _texts(data: dict[str, Any]) -> dict[str, str]:
    return {d.kind: docx_text(d.docx) for d in render_docx(parse(data)).documents}


def _all_xml(docx: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return "".join(
            archive.read(n).decode() for n in archive.namelist() if n.startswith("word/")
        )


def test_same_data_gives_identical_bytes(seed: dict[str, Any]) -> None:
    first = render_docx(parse(seed))
    fresh = TemplateSet(
        KIND.folder,
        KIND.documents,
        declaration=(KIND.folder / "kind.yaml").read_bytes(),
        built_in=True,
    )
    second = render_docx(parse(seed), fresh)
    assert [d.docx for d in first.documents] == [d.docx for d in second.documents]
    assert first.manifest_bytes() == second.manifest_bytes()


def test_markup_and_template_syntax_print_literally(seed: dict[str, Any]) -> None:
    seed["supplier"]["name"] = "A&B <科技> 有限公司"
    seed["project_name"] = "{{ contract_no }}{% raw %}项目"
    texts = _texts(seed)
    for kind in ("service_contract", "confidentiality_agreement", "integrity_agreement"):
        assert "A&B <科技> 有限公司" in texts[kind]
    assert "{{ contract_no }}{% raw %}项目" in texts["service_contract"]


def test_newline_in_an_address_is_a_line_break(seed: dict[str, Any]) -> None:
    seed["supplier"]["address"] = "上海市浦东新区\n张江路 1 号"
    contract_set = render_docx(parse(seed))
    assert "上海市浦东新区\n张江路 1 号" in docx_text(contract_set.documents[0].docx)
    assert "<w:br/>" in _all_xml(contract_set.documents[0].docx)


def test_other_data_leaves_no_seed_value_and_no_tag() -> None:
    texts = _texts(dict(load_data(SAMPLES / "cross_year.yaml")))
    for kind, text in texts.items():
        for value in SEED_VALUES:
            assert value not in text, (kind, value)
        assert "{{" not in text and "{%" not in text, kind


def test_no_tag_survives_in_any_part(seed: dict[str, Any]) -> None:
    for document in render_docx(parse(seed)).documents:
        xml = _all_xml(document.docx)
        assert "{{" not in xml and "{%" not in xml, document.kind


def test_core_properties_come_from_the_data(seed: dict[str, Any]) -> None:
    document = render_docx(parse(seed)).documents[1]
    props = Document(io.BytesIO(document.docx)).core_properties
    assert (props.title, props.subject, props.language) == (
        "保密协议",
        "11NMB2F042362026201",
        "zh-CN",
    )
    # midnight of the signing date in China, written in UTC as W3CDTF wants: 16:00 the day before
    assert props.created is not None
    assert props.created.replace(tzinfo=None).isoformat() == "2026-01-15T16:00:00"


def test_explicit_instalments_are_exact_to_the_fen(seed: dict[str, Any]) -> None:
    seed["amount"] = "100.01"
    seed["payment"]["instalments"] = [
        {"percent": "33.33", "condition": "合同签订生效"},
        {"percent": "33.33", "condition": "中期考核合格"},
        {"percent": "33.34", "condition": "最终验收合格"},
    ]
    text = _texts(seed)["service_contract"]
    assert "本项目按照三期分期付款" in text
    assert "支付中标金额的 33.33%，即人民币 33.33 元（大写叁拾叁元叁角叁分）" in text
    assert "支付中标金额的 33.34%，即人民币 33.35 元（大写叁拾叁元叁角伍分）" in text


def test_default_schedule_uses_the_seed_wording(seed: dict[str, Any]) -> None:
    text = _texts(seed)["service_contract"]
    assert "对于中标金额低于 500 万元且不属于跨年项目的，按照两期分期付款" in text
    assert "支付中标金额的 70 %" in text or "支付中标金额的 70%" in text


def _template_with(tmp_path: Path, paragraphs: list[str]) -> Path:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    path = tmp_path / "service_contract.docx"
    document.save(str(path))
    return path


def test_undefined_variable_names_template_and_paragraph(
    tmp_path: Path, seed: dict[str, Any]
) -> None:
    template = DocumentTemplate(_template_with(tmp_path, ["第一段", "甲方：{{ buyer.nmae }}"]))
    with pytest.raises(TemplateError) as caught:
        template.render(build_context(parse(seed)), {})
    message = str(caught.value)
    assert "service_contract.docx" in message
    assert "第 2 段：«甲方：{{ buyer.nmae }}»" in message
    assert "未定义的变量 buyer.nmae" in message


def test_syntax_error_names_template_and_paragraph(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        DocumentTemplate(_template_with(tmp_path, ["第一段", "第二段", "{% if x %}没有结束"]))
    assert "service_contract.docx" in str(caught.value)
    assert "第 3 段" in str(caught.value)


def test_template_check_passes_on_the_bundled_templates() -> None:
    contexts = [build_context(parse(load_data(p))) for p in sorted(SAMPLES.glob("*.yaml"))]
    assert kind_templates(KIND).check(contexts) == []


def test_template_check_reports_full_paths_inside_loops(tmp_path: Path) -> None:
    source = TEMPLATE_DIR
    for kind in KINDS:
        (tmp_path / f"{kind}.docx").write_bytes((source / f"{kind}.docx").read_bytes())
    _template_with(
        tmp_path,
        [
            "{{ supplier.bank.swift }}",
            "{%p for i in payment.instalments %}",
            "{{ i.condition }} {{ i.due_date }}",
            "{%p endfor %}",
        ],
    )
    contexts = [build_context(parse(load_data(p))) for p in sorted(SAMPLES.glob("*.yaml"))]
    problems = kind_templates(KIND, tmp_path).check(contexts)
    assert any("supplier.bank.swift" in p and "第 1 段" in p for p in problems), problems
    assert any("payment.instalments[].due_date" in p for p in problems), problems
    assert not any("instalments[].condition" in p for p in problems)


def test_a_template_cannot_run_code(tmp_path: Path, seed: dict[str, Any]) -> None:
    # A maintainer's template is data: the classic escape from Jinja to os.popen must fail.
    witness = tmp_path / "ran"
    escape = f"{{{{ cycler.__init__.__globals__.os.popen('touch {witness}').read() }}}}"
    template = DocumentTemplate(_template_with(tmp_path, ["第一段", escape]))
    with pytest.raises(TemplateError) as caught:
        template.render(build_context(parse(seed)), {})
    assert "第 2 段" in str(caught.value)
    assert not witness.exists()
