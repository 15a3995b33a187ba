"""Signature pages and the parties' block as LibreOffice sets them, read back with PDFium.

Each set is made once: for the seed, for names that take one, two and three lines
in the agreements' signature cells (among them a buyer of 15 characters, which
would leave its last one alone there, and a supplier of 27, which would leave its
司 alone on the contract's first page), and for the cross-year sample, whose
contract's signature block would stand alone on its last page. What is checked
is where the text lands: the baselines of both parties' dates, the lines of the
parties' block and of the signature cells, and what the contract's signature page
holds besides the signatures.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from generator import Generator
from generator.inputs.load import load_data
from generator.pipeline import ContractSet

from ..conftest import SAMPLES
from ..pdfs import text_lines

#: names by the lines they take in a signature cell (甲方:… / 乙方: …, 16.6 ems)
NAMES: dict[str, dict[str, str]] = {
    "one": {},  # the seed's: 上海市大数据中心, 上海众恒智能系统技术有限公司
    "two": {
        "supplier": "上海浦东新区张江高科技园区智能信息系统工程股份有限公司"
    },  # 27: 司 on page 1
    "three": {
        "buyer": "上海市大数据中心信息安全分中心",  # 15: two lines, else 心 alone on the second
        "supplier": "上海市浦东新区张江高科技园区智能信息系统集成与数据安全服务有限公司第二分公司",
    },
}
AGREEMENTS = ("confidentiality_agreement", "integrity_agreement")
DATE = re.compile(r"(日期:)?\d{4}年\d{2}月\d{2}日")


@pytest.fixture(scope="module")
def sets(seed_data: dict[str, Any]) -> Iterator[dict[str, ContractSet]]:
    made = {}
    with Generator(workers=2) as generator:
        for lines, names in NAMES.items():
            data = copy.deepcopy(seed_data)
            for party, name in names.items():
                data[party]["name"] = name
            made[lines] = generator.render(data)
        # its contract's signature block, alone, would start page 14
        made["cross_year"] = generator.render(load_data(SAMPLES / "cross_year.yaml"))
    yield made


def _pdf(contract_set: ContractSet, kind: str) -> bytes:
    document = next(d for d in contract_set.documents if d.kind == kind)
    assert document.pdf is not None
    return document.pdf


@pytest.mark.parametrize("lines", list(NAMES))
@pytest.mark.parametrize("kind", [*AGREEMENTS, "service_contract"])
def test_both_dates_stand_on_one_baseline(
    sets: dict[str, ContractSet], lines: str, kind: str
) -> None:
    page = text_lines(_pdf(sets[lines], kind), -1)
    dates = [(baseline, left) for baseline, left, text in page if DATE.fullmatch(text)]
    assert len(dates) == 2, page
    (buyer, buyer_left), (supplier, supplier_left) = sorted(dates, key=lambda d: d[1])
    assert buyer == supplier, (kind, lines, dates)
    assert buyer_left < supplier_left  # side by side, the buyer's on the left


@pytest.mark.parametrize("lines", ["two", "three"])
@pytest.mark.parametrize("kind", AGREEMENTS)
def test_a_wrapped_name_takes_its_lines_in_its_own_cell(
    sets: dict[str, ContractSet], lines: str, kind: str
) -> None:
    page = text_lines(_pdf(sets[lines], kind), -1)
    contract = sets[lines].contract
    for label, name in (("甲方:", contract.buyer.name), ("乙方:", contract.supplier.name)):
        start = next(i for i, line in enumerate(page) if line[2].startswith(label))
        left = page[start][1]
        cell = [t for _, x, t in page[start:] if x == left and not DATE.fullmatch(t)]
        assert "".join(cell).removeprefix(label) == name
        assert all(len(line) > 1 for line in cell), cell  # no character alone on a line


@pytest.mark.parametrize("lines", list(NAMES))
def test_no_line_of_the_parties_block_holds_one_character(
    sets: dict[str, ContractSet], lines: str
) -> None:
    page = [text for _, _, text in text_lines(_pdf(sets[lines], "service_contract"), 1)]
    block = page[
        page.index("合同双方：") + 1 : next(i for i, t in enumerate(page) if t.startswith("账号："))
    ]
    assert block[0].startswith("甲方（委托人）：")
    for line in block:
        # 司 alone, or 司 and its bracket: one character on its line either way
        assert sum(c.isalnum() for c in line) != 1, (lines, block)
    supplier = NAMES[lines].get("supplier")
    if supplier:
        at = next(i for i, t in enumerate(block) if t.startswith("乙方（受托人）："))
        assert (block[at] + block[at + 1]).removeprefix("乙方（受托人）：") == supplier


@pytest.mark.parametrize("name", ["one", "cross_year"])
def test_the_contract_s_signature_page_holds_its_last_clause(
    sets: dict[str, ContractSet], name: str
) -> None:
    page = [text for _, _, text in text_lines(_pdf(sets[name], "service_contract"), -1)]
    clause = page.index("15.3本合同附件与合同具有同等效力。")
    assert page[clause + 1 : clause + 3] == ["（以下无正文）", "签约各方："]
    assert page[clause + 3].startswith("甲方（盖章）：")
    if name == "cross_year":
        assert clause == 1  # under the page header: the clause came over with the block
