"""The publication's documents at the DOCX level: the notice template, its fields, the page mark."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from datetime import date
from types import ModuleType

import pytest
from docx import Document as open_docx

from generator.docx.public import mark_public
from generator.docx.render import TEMPLATE_DIR, publication_template
from generator.domain.documents import NOTICE, PUBLICATION_DOCUMENTS
from generator.domain.filters import MARK
from generator.errors import TemplateError
from generator.inputs.load import load_data
from generator.kinds import parse
from generator.pipeline import kind_templates
from generator.publication import NOTICE_SECTIONS, withheld_paths
from generator.publication.notice import notice_context, notice_values

from ..builtin import DOCUMENTS, KINDS, withheld_context
from ..conftest import ROOT, SAMPLES


def _build_templates() -> ModuleType:
    path = ROOT / "tools" / "build_templates.py"
    spec = importlib.util.spec_from_file_location("build_templates", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def _seed() -> dict[str, object]:
    data = dict(load_data(SAMPLES / "seed.yaml"))
    data["publication"] = {"project_no": "P-2026-001"}
    return data


def test_the_notice_template_is_built_from_its_source() -> None:
    build = _build_templates()
    assert TEMPLATE_DIR in build.FOLDERS
    assert build.make(NOTICE.kind, TEMPLATE_DIR) == (TEMPLATE_DIR / NOTICE.template).read_bytes()


def test_publication_documents_are_not_the_set_s() -> None:
    assert {doc.kind for doc in PUBLICATION_DOCUMENTS}.isdisjoint(KINDS)
    assert [doc.public_stem for doc in DOCUMENTS] == [
        "01_运维服务合同（公开文本）",
        "02_保密协议（公开文本）",
        "03_廉洁协议（公开文本）",
        "04_履约验收方案（公开文本）",
    ]
    assert NOTICE.stem == "00_合同公告"


def test_every_declared_field_has_a_value_and_nothing_else() -> None:
    contract = parse(_seed())
    context = withheld_context(contract, withheld_paths(contract))
    values = notice_values(contract, context, date(2026, 1, 19))
    assert list(values) == [f.key for s in NOTICE_SECTIONS for f in s.fields]
    assert [s.heading for s in NOTICE_SECTIONS] == [
        "一、合同编号",
        "二、合同名称",
        "三、项目编号",
        "四、项目名称",
        "五、合同主体",
        "六、合同主要信息",
        "七、合同签订日期",
        "八、合同公告日期",
        "九、其他补充事宜",
    ]


def test_the_notice_renders_its_sections_in_order() -> None:
    contract = parse(_seed())
    context = withheld_context(contract, withheld_paths(contract))
    values = notice_values(contract, context, date(2026, 1, 19))
    docx = publication_template(NOTICE.kind).render(
        notice_context(values, ["运维服务合同（公开文本）"], MARK), {"title": "t"}
    )
    lines = [p.text for p in open_docx(io.BytesIO(docx)).paragraphs if p.text]
    assert lines[:3] == [
        NOTICE.title,
        "一、合同编号：11NMB2F042362026201",
        "二、合同名称：" + values["contract_name"],
    ]
    assert "五、合同主体" in lines and "联系方式：黄旻，电话：＊＊＊" in lines
    assert lines[-1] == "1. 运维服务合同（公开文本）"


def _parts(docx: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {n: package.read(n).decode() for n in package.namelist() if n.endswith(".xml")}


def test_every_header_and_footer_is_marked_and_the_ids_are_the_copy_s() -> None:
    contract = parse(_seed())
    rendered = kind_templates(contract.kind).render(
        "service_contract", withheld_context(contract, ()), {"title": "t"}
    )
    marked = mark_public(rendered, word="公开文本　", line="本文本为合同公开文本", name="x/public")
    before, after = _parts(rendered), _parts(marked)
    assert (
        "公开文本　" in after["word/header1.xml"] and "公开文本" not in before["word/header1.xml"]
    )
    assert after["word/footer1.xml"].index("本文本为合同公开文本") < after[
        "word/footer1.xml"
    ].index("PAGE")
    assert after["word/settings.xml"] != before["word/settings.xml"]
    assert after["word/document.xml"] == before["word/document.xml"]


def test_a_document_without_header_or_footer_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(TemplateError, match="页眉或页脚"):
        mark_public(buffer.getvalue(), word="公开文本", line="…", name="x")
