"""Contract kinds as data: one declaration, and everything derived from it.

A title renamed in ``kind.yaml`` shows in the JSON Schema, the workbook, the form, the
commented sample and CONTEXT.md; a broken declaration is reported with its file, key
path and line; the rule vocabulary checks the goods kind's data; a workbook with the
headers of before still reads.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator import KindError, UnknownKindError, load_kind, registry
from generator.inputs import layout_of, load_data, parse_yaml
from generator.inputs.layout import MAIN_SHEET, records_from_tables
from generator.kinds import BUILTIN_DIR, DEFAULT_KIND, Registry
from generator.kinds.docs import commented_yaml, context_markdown
from generator.web.form import sections

from ..builtin import KIND
from ..conftest import ROOT, SAMPLES

GOODS = ROOT / "tests" / "kinds" / "goods"


def _copy_of(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def _retitled(tmp_path: Path, old: str, new: str) -> Path:
    folder = _copy_of(KIND.folder, tmp_path)
    declaration = folder / "kind.yaml"
    text = declaration.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    declaration.write_text(text.replace(old, new), encoding="utf-8")
    return folder


# ---------------------------------------------------------------- one declaration, every face


def test_a_renamed_title_shows_everywhere(tmp_path: Path) -> None:
    old = "account: {type: account, title: 银行账号,"
    folder = _retitled(tmp_path, old, old.replace("银行账号", "收款账号"))
    kind = load_kind(folder)
    schema = kind.json_schema()
    bank = schema["$defs"]["SupplierBank"]["properties"]["account"]
    assert bank["title"] == "收款账号"
    headers = [column.header for column in layout_of(kind).columns]
    assert "乙方收款账户收款账号" in headers and "乙方收款账户银行账号" not in headers
    labels = [
        child.label
        for section in _sections_of(kind)
        for node in section.nodes
        if node.name == "supplier"
        for group in node.children  # type: ignore[union-attr]
        if group.name == "bank"
        for child in group.children  # type: ignore[union-attr]
    ]
    assert labels == ["开户银行", "收款账号"]
    commented = commented_yaml(kind, dict(load_data(kind.sample)))
    assert "# 收款账号；8至32位数字" in commented
    assert "| `supplier.bank.account` | 乙方收款账户收款账号 |" in context_markdown(kind)
    assert kind.title_of("supplier.bank.account") == "收款账号"


def _sections_of(kind: Any) -> Any:
    from generator.web import form

    return form._sections(kind)


def test_the_default_kinds_form_is_its_declarations() -> None:
    top = {node.name for section in sections() for node in section.nodes}
    assert top == set(KIND.model.model_fields)
    titles = [section.title for section in sections()]
    assert titles[:3] == ["合同", "甲方", "乙方"] and titles[-1] == "合同公告"


@pytest.mark.parametrize("folder", sorted(p for p in BUILTIN_DIR.iterdir() if p.is_dir()))
def test_each_built_in_context_md_is_current(folder: Path) -> None:
    kind = load_kind(folder)
    written = (folder / "CONTEXT.md").read_text(encoding="utf-8")
    assert written == context_markdown(kind), "run contractgen templates export and copy it"


@pytest.mark.parametrize("folder", [KIND.folder, GOODS], ids=["om_service", "goods"])
def test_init_writes_the_sample_commented_and_equal(folder: Path) -> None:
    kind = load_kind(folder)
    for sample in kind.samples:
        data = dict(load_data(sample))
        text = commented_yaml(kind, data)
        assert kind.parse(parse_yaml(text)).model_dump() == kind.parse(data).model_dump()
        assert _english(text) <= _CODE_WORDS, _english(text) - _CODE_WORDS


#: the Latin words a commented sample may hold: the commands a clerk types, a standard's name
_CODE_WORDS = {"contractgen", "validate", "render", "GB", "kind", "om_service", "goods_purchase"}


def _english(text: str) -> set[str]:
    """Return the Latin words of a YAML text's comments."""
    comments = " ".join(line.rsplit("#", 1)[1] for line in text.splitlines() if "#" in line)
    return set(re.findall(r"[A-Za-z_]{2,}", comments))


# ---------------------------------------------------------------- which kind data is of


def test_data_without_a_kind_is_of_the_built_in_kind(seed_data: dict[str, Any]) -> None:
    kinds = registry(())
    assert kinds.of(seed_data) is kinds.default
    assert kinds.default.id == DEFAULT_KIND and kinds.default.built_in
    assert kinds.parse({**seed_data, "kind": DEFAULT_KIND}) == kinds.parse(seed_data)


def test_an_unknown_kind_is_one_issue_naming_the_known_ones(seed_data: dict[str, Any]) -> None:
    contract, issues = registry(()).check({**seed_data, "kind": "lease"})
    assert contract is None
    assert [(i.path, i.code) for i in issues] == [("kind", "kind.unknown")]
    assert "lease" in issues[0].message and DEFAULT_KIND in issues[0].message
    with pytest.raises(UnknownKindError):
        registry(()).get("lease")


def test_an_office_folder_adds_its_kinds(tmp_path: Path) -> None:
    kinds = Registry([GOODS.parent])
    assert [k.id for k in kinds] == [DEFAULT_KIND, "supplement", "goods_purchase"]
    twice = tmp_path / "twice"
    shutil.copytree(GOODS, twice / "a")
    shutil.copytree(GOODS, twice / "b")
    with pytest.raises(KindError) as caught:
        Registry([twice])
    assert "[kind.id.taken]" in str(caught.value) and ":3: id:" in str(caught.value)


# ---------------------------------------------------------------- a broken declaration


@pytest.mark.parametrize(
    ("old", "new", "where", "code"),
    [
        (
            "type: percent\n        default: 70",
            "type: percnt\n        default: 70",
            "fields.payment.fields.first_percent.type",
            "kind.type.unknown",
        ),
        ('version: "2026.1"', 'versoin: "2026.1"', "versoin", "kind.extra_forbidden"),
        (
            "  sign_date: {type: date,",
            "  sign_date: {type: date, titel: 签订,",
            "fields.sign_date.titel",
            "kind.extra_forbidden",
        ),
        (
            "documents:\n  - key: service_contract",
            "documents: 4\nx:\n  - key: service_contract",
            "documents",
            "kind.list_type",
        ),
    ],
    ids=["type", "top-key", "field-key", "not-a-list"],
)
def test_a_broken_declaration_names_file_path_and_line(
    tmp_path: Path, old: str, new: str, where: str, code: str
) -> None:
    folder = _retitled(tmp_path, old, new)
    declaration = folder / "kind.yaml"
    first = new.split("\n")[0].strip()
    line = next(
        n
        for n, text in enumerate(declaration.read_text(encoding="utf-8").splitlines(), start=1)
        if first in text
    )
    with pytest.raises(KindError) as caught:
        load_kind(folder)
    lines = caught.value.lines()
    assert any(
        text.startswith(f"{declaration}:{line}: {where}:") and text.endswith(f"[{code}]")
        for text in lines
    ), lines


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    folder = _retitled(tmp_path, "sample: sample.yaml\n", "sample: sample.yaml\nsample: a.yaml\n")
    with pytest.raises(KindError) as caught:
        load_kind(folder)
    assert "[kind.duplicate_key]" in str(caught.value) and ": sample: " in str(caught.value)


def test_an_attachment_may_not_be_sealed(tmp_path: Path) -> None:
    from generator.kinds.problems import declaration_problems

    folder = _retitled(
        tmp_path,
        "    attachment: true\n",
        "    attachment: true\n    seals: [{party: buyer, keyword: 甲方（盖章）}]\n",
    )
    problems = list(declaration_problems(load_kind(folder)))
    assert [(p[1], p[4]) for p in problems] == [("documents[3].seals", "kind.attachment.sealed")]
    assert problems[0][2] == next(
        n
        for n, line in enumerate((folder / "kind.yaml").read_text("utf-8").splitlines(), 1)
        if "seals: [{party: buyer" in line
    )


def test_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    folder = _retitled(tmp_path, "  - rule: multiple_of\n", "  - rule: multiple\n")
    with pytest.raises(KindError) as caught:
        load_kind(folder)
    assert "未知的规则“multiple”" in str(caught.value)
    assert f"{folder / 'kind.yaml'}:" in str(caught.value)


# ---------------------------------------------------------------- the rule vocabulary


def _goods_data() -> dict[str, Any]:
    return copy.deepcopy(dict(load_data(GOODS / "sample.yaml")))


def _codes(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.path, i.code) for i in load_kind(GOODS).validate(data)]


def test_the_goods_sample_is_valid() -> None:
    assert _codes(_goods_data()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["goods"][0].update(quantity="21"),
            [("goods[0].amount", "goods.amount.product")],
        ),
        (lambda d: d.update(amount="142600"), [("goods", "goods.amount.sum")]),
        (
            lambda d: d["goods"][2].update(name=d["goods"][0]["name"]),
            [("goods[2].name", "goods.name.duplicate")],
        ),
        (lambda d: d.update(sign_date="2026-05-01"), [("sign_date", "sign_date.after_delivery")]),
        (lambda d: d.update(copies="3"), [("copies", "copies.even")]),
        (lambda d: d.update(goods=[]), [("goods", "list.empty")]),
    ],
    ids=["row-product", "sum", "unique", "date-order", "multiple-of", "min-rows"],
)
def test_each_rule_of_the_goods_kind(change: Any, expected: list[tuple[str, str]]) -> None:
    data = _goods_data()
    change(data)
    assert _codes(data) == expected


def test_a_rules_default_message_names_the_fields_by_title() -> None:
    data = _goods_data()
    data["goods"][0]["quantity"] = "21"
    (product,) = load_kind(GOODS).validate(data)
    assert product.message.startswith("金额应等于数量×单价（119280）")


def test_seal_keywords_of_the_kind_are_refused_in_its_data() -> None:
    data = _goods_data()
    data["delivery_place"] = "乙方（盖章）处"
    assert _codes(data) == [("delivery_place", "text.reserved")]


# ---------------------------------------------------------------- the workbook of before


def test_a_workbook_with_the_headers_of_before_still_reads(seed_data: dict[str, Any]) -> None:
    layout = layout_of(KIND)
    by_header = {c.header: c for c in layout.columns}
    renamed = [c for c in layout.columns if c.aliases]
    assert renamed, "the O&M kind keeps the headers its workbook had"
    path = SAMPLES / "batch.xlsx"
    from generator.inputs.sheets import read_workbook

    records = read_workbook(path)
    tables: dict[str, list[list[Any]]] = {}
    from openpyxl import load_workbook

    book = load_workbook(path, data_only=True)
    for ws in book.worksheets:
        tables[ws.title] = [list(row) for row in ws.iter_rows(values_only=True)]
    header = tables[MAIN_SHEET][0]
    old = [
        by_header[h].aliases[0] if h in by_header and by_header[h].aliases else h for h in header
    ]
    tables[MAIN_SHEET] = [old, *tables[MAIN_SHEET][1:]]
    again = records_from_tables(tables, str(path))
    assert [r.data for r in again] == [r.data for r in records]


def test_a_workbook_may_mix_kinds_when_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    from generator.inputs import write_workbook

    goods_kind = load_kind(GOODS)
    kinds = Registry([GOODS.parent])
    goods = _goods_data()
    goods.pop("kind")
    seed = dict(load_data(SAMPLES / "seed.yaml"))
    tables: dict[str, list[list[Any]]] = {}
    headers: list[Any] = ["合同类型"]
    rows: list[dict[Any, Any]] = []
    for kind, data, name in ((KIND, seed, ""), (goods_kind, goods, "货物采购合同")):
        path = tmp_path / f"{kind.id}.xlsx"
        write_workbook(path, [data], kind)
        for ws in load_workbook(path).worksheets:
            table = [list(r) for r in ws.iter_rows(values_only=True)]
            if ws.title != MAIN_SHEET:
                tables[ws.title] = table
                continue
            headers += [h for h in table[0] if h not in headers]
            rows.append({"合同类型": name, **dict(zip(table[0], table[1], strict=True))})
    tables[MAIN_SHEET] = [headers, *([row.get(h) for h in headers] for row in rows)]
    tables[MAIN_SHEET].append(["租赁合同", "ZL-1"] + [None] * (len(headers) - 2))
    monkeypatch.setenv("CONTRACTGEN_KINDS", str(GOODS.parent))  # as --kinds tests/kinds
    assert [k.id for k in registry()] == [k.id for k in kinds]
    records = records_from_tables(tables, "mixed.xlsx")
    assert [r.where for r in records] == [f"工作表 {MAIN_SHEET} 第{n}行" for n in (2, 3, 4)]
    om, bought, unknown = records
    assert KIND.parse(om.data) == KIND.parse(seed)
    assert bought.data["kind"] == "goods_purchase"
    assert goods_kind.parse(bought.data) == goods_kind.parse(goods)
    assert [(i.path, i.code) for i in unknown.issues] == [("kind", "kind.unknown")]
    assert not om.issues and not bought.issues
