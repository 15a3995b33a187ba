"""Seal fields on the real contract set: where they are, what they cover, and signing into them.

The sets come from the real templates and the real LibreOffice through the
library, as a user gets them. What a seal covers is read back with PDFium's
character boxes and poppler's text; the proof that the fields are usable: each
is signed, one after the other, with a throw-away certificate, and pyHanko
validates both signatures.
"""

from __future__ import annotations

import copy
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel

from generator import Generator, InvalidContractError, SealPlacementError
from generator.inputs.load import load_data
from generator.pdf import Meta, Part, SealSpec, finish_set
from generator.pipeline import ContractSet, seal_specs

from ..builtin import DOCUMENTS
from ..conftest import SAMPLES
from ..pdfs import open_bytes, widget_rects
from ..signing import make_pki, sign_field, signature_statuses
from ..unit.test_seal_blocks import CUT_NAME, DATED_NAME

SEALED = [doc.kind for doc in DOCUMENTS if doc.seals]

#: data that moves the signature blocks: long names wrap (the buyer's over three lines in the
#: agreements' signature block, the supplier's over two), long terms push the block down
VARIANTS: dict[str, dict[str, Any]] = {
    "seed": {},
    "long_names": {
        "supplier.name": "上海众恒智能系统技术与信息安全服务有限公司第二分公司",
        "buyer.name": "上海市大数据中心（上海市公共数据开放与运营服务中心）信息安全分中心",
        "project_name": "市金融办 2026 年数字化项目运维和综合保障及信息系统安全等级保护测评服务",
    },
    "long_terms": {
        "other_terms": "乙方应按甲方要求提供驻场服务，" * 40 + "其余按本合同执行。",
        "confidential_extra": "项目实施过程中形成的全部过程文档、日志及配置信息，" * 12,
    },
}


def varied(seed: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(seed)
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        target = data
        for parent in parents:
            target = target[parent]
        target[key] = value
    return data


@pytest.fixture(scope="module")
def generator() -> Iterator[Generator]:
    with Generator(workers=2) as made:
        yield made


@pytest.fixture(scope="module")
def sets(generator: Generator, seed_data: dict[str, Any]) -> dict[str, ContractSet]:
    made = {name: generator.render(varied(seed_data, ch)) for name, ch in VARIANTS.items()}
    made["cross_year"] = generator.render(load_data(SAMPLES / "cross_year.yaml"))
    made["pdfa"] = generator.render(seed_data, pdfa=True)
    return made


def chars_in(pdf: bytes, page: int, rect: list[float]) -> list[tuple[str, tuple[float, ...]]]:
    """Return the characters whose PDFium box overlaps ``rect`` by more than 0.5 pt."""
    doc = pdfium.PdfDocument(pdf)
    try:
        text_page = doc[page - 1].get_textpage()
        found = []
        for index in range(text_page.count_chars()):
            char = text_page.get_text_range(index, 1)
            if char.isspace():
                continue
            box = text_page.get_charbox(index, loose=True)
            if (
                min(box[2], rect[2]) - max(box[0], rect[0]) > 0.5
                and min(box[3], rect[3]) - max(box[1], rect[1]) > 0.5
            ):
                found.append((char, box))
        return found
    finally:
        doc.close()


def lines(chars: list[tuple[str, tuple[float, ...]]]) -> list[str]:
    """Return characters grouped into lines (top to bottom), each read left to right."""
    rows: list[list[tuple[str, tuple[float, ...]]]] = []
    for char in sorted(chars, key=lambda c: -(c[1][1] + c[1][3]) / 2):
        middle = (char[1][1] + char[1][3]) / 2
        if rows and abs((rows[-1][0][1][1] + rows[-1][0][1][3]) / 2 - middle) < 3:
            rows[-1].append(char)
        else:
            rows.append([char])
    return ["".join(c for c, _ in sorted(row, key=lambda c: c[1][0])) for row in rows]


def crop_text(pdf: bytes, page: int, rect: list[float], tmp_path: Path) -> str:
    """Return the text poppler finds inside ``rect`` (bottom-left origin) of a page."""
    path = tmp_path / "crop.pdf"
    path.write_bytes(pdf)
    with open_bytes(pdf) as doc:
        height = float(doc.pages[page - 1].mediabox[3])
    x0, y0, x1, y1 = rect
    scale = 10  # pdftotext crops in pixels from the top left: at 720 dpi a pixel is 0.1 pt
    args = [str(round(v * scale)) for v in (x0, height - y1, x1 - x0, y1 - y0)]
    pages = ["-f", str(page), "-l", str(page), "-r", str(72 * scale)]
    area = ["-x", args[0], "-y", args[1], "-W", args[2], "-H", args[3]]
    out = subprocess.run(
        ["pdftotext", *pages, *area, str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return re.sub(r"\s", "", out.stdout)


@pytest.mark.parametrize("name", [*VARIANTS, "cross_year", "pdfa"])
def test_each_party_has_one_field_on_its_keyword(
    sets: dict[str, ContractSet], name: str, tmp_path: Path
) -> None:
    for doc in sets[name].documents:
        assert doc.pdf is not None
        assert [s["party"] for s in doc.seals] == [s.party for s in seal_specs(doc.kind)]
        assert widget_rects(doc.pdf) == {s["field"]: (s["page"], s["rect"]) for s in doc.seals}
        for seal in doc.seals:
            # poppler, not PDFium, reads the keyword inside the recorded keyword box
            grown = [v + d for v, d in zip(seal["keyword_rect"], (-1, -1, 1, 1), strict=True)]
            assert seal["keyword"] in crop_text(doc.pdf, seal["page"], grown, tmp_path)
            x0, y0, x1, y1 = seal["rect"]
            assert x1 - x0 == y1 - y0 == 120
            kx0, ky0, kx1, ky1 = seal["keyword_rect"]
            if name != "long_names":  # there the block is taller than a seal: see below
                assert x0 <= kx0 + 0.5 and kx1 <= x1 and y0 <= ky0 and ky1 <= y1
        if doc.kind in ("confidentiality_agreement", "integrity_agreement"):
            assert {s["page"] for s in doc.seals} == {doc.pages}  # the signature page


@pytest.mark.parametrize("name", [*VARIANTS, "cross_year", "pdfa"])
def test_a_seal_covers_its_party_s_label_name_and_date_and_no_other_text(
    sets: dict[str, ContractSet], name: str
) -> None:
    contract = sets[name].contract
    date = contract.sign_date.strftime("%Y年%m月%d日")
    names = {"buyer": contract.buyer.name, "supplier": contract.supplier.name}
    for doc in sets[name].documents:
        assert doc.pdf is not None
        for seal in doc.seals:
            covered = lines(chars_in(doc.pdf, seal["page"], seal["rect"]))
            # 上不压正文，下压日期: the label (with the party's name after it), then the date
            own = names[seal["party"]]
            allowed = [seal["keyword"] + own, seal["keyword"] + "：" + own, "日期:" + date]
            for line in covered:
                assert any(line in text for text in allowed), (doc.kind, seal["party"], covered)
            if name != "long_names":
                assert covered[0].startswith(seal["keyword"]), covered
            # 下压日期: the last line it covers is the date (the seal may end before its 日)
            assert date.startswith(covered[-1].removeprefix("日期:")[:9]), (doc.kind, covered)
            assert len(covered[-1].removeprefix("日期:")) >= 9, (doc.kind, covered)


def test_a_block_taller_than_a_seal_keeps_the_seal_on_the_name_and_the_date(
    sets: dict[str, ContractSet],
) -> None:
    # A name over three lines pushes both dates down: label to date is 137 pt, a seal 120
    # (a name over two lines fits under one: 111 pt).
    agreement = sets["long_names"].documents[1]
    assert agreement.pdf is not None
    buyer = agreement.seals[0]
    covered = lines(chars_in(agreement.pdf, buyer["page"], buyer["rect"]))
    assert covered[0].startswith("数据开放与运营") and covered[-1] == "日期:2026年01月16日"


@pytest.mark.parametrize("name", ["seed", "long_names"])
def test_multi_page_documents_say_where_the_cross_page_seal_goes(
    sets: dict[str, ContractSet], name: str
) -> None:
    for doc in sets[name].documents:
        assert doc.pdf is not None and doc.pages is not None
        with open_bytes(doc.pdf) as pdf:
            height = float(pdf.pages[0].mediabox[3])
        if doc.pages == 1:
            assert doc.cross_page_seal is None
        else:
            assert doc.cross_page_seal == {
                "first_page": 1,
                "last_page": doc.pages,
                "edge": "right",
                "y": round(height / 2, 2),
                "size": 120,
            }


@pytest.fixture(scope="module")
def pki() -> tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]]:
    return make_pki()


@pytest.mark.parametrize(("name", "kind"), [*(("seed", k) for k in SEALED), ("pdfa", SEALED[0])])
def test_fields_can_be_signed_one_after_the_other(
    sets: dict[str, ContractSet],
    pki: tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]],
    name: str,
    kind: str,
) -> None:
    doc = next(d for d in sets[name].documents if d.kind == kind)
    assert doc.pdf is not None
    root, parties = pki
    signed = doc.pdf
    for record in doc.seals:  # buyer first, then supplier
        signed = sign_field(signed, record["field"], parties[record["party"]])
    statuses = signature_statuses(signed, root)
    assert [field for field, _ in statuses] == [r["field"] for r in doc.seals]
    for field, status in statuses:
        assert status.intact and status.valid and status.trusted, field
        # What came after the buyer's signature is the supplier's: form filling.
        assert status.modification_level is not None
        assert status.modification_level <= ModificationLevel.FORM_FILLING
    assert widget_rects(signed) == {r["field"]: (r["page"], r["rect"]) for r in doc.seals}


def test_acceptance_plan_has_no_field(sets: dict[str, ContractSet]) -> None:
    doc = sets["seed"].documents[-1]
    assert doc.kind == "acceptance_plan" and doc.seals == [] and doc.pdf is not None
    with open_bytes(doc.pdf) as pdf:
        assert "/AcroForm" not in pdf.Root


# --- refusals: never a guess -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text"),
    [("other_terms", "本合同经甲方（盖章）后生效。"), ("confidential_extra", "甲方:提供的数据")],
)
def test_a_seal_keyword_in_the_data_is_refused_before_any_pdf_is_made(
    generator: Generator, seed_data: dict[str, Any], field: str, text: str
) -> None:
    # Otherwise the seal would land on the data's copy of the keyword, or on none.
    with pytest.raises(InvalidContractError) as caught:
        generator.render(varied(seed_data, {field: text}))
    assert [(i.path, i.code) for i in caught.value.issues] == [(field, "text.reserved")]


@pytest.fixture(scope="module")
def raw_contract(generator: Generator, sets: dict[str, ContractSet]) -> bytes:
    """Return LibreOffice's PDF of the seed contract, before the PDF stage."""
    return generator.converter.convert_bytes(sets["seed"].documents[0].docx)


def part(specs: tuple[SealSpec, ...], contract: Any) -> Part:
    meta = Meta("运维服务合同", contract.contract_no, contract.buyer.name, contract.signed_at)
    return Part("service_contract", meta, None, specs)


def test_a_missing_keyword_is_refused(raw_contract: bytes, sets: dict[str, ContractSet]) -> None:
    specs = (SealSpec("buyer", "丙方（盖章）"),)
    with pytest.raises(SealPlacementError, match="出现 0 次") as caught:
        finish_set([(raw_contract, [part(specs, sets["seed"].contract)])])
    assert caught.value.count == 0 and caught.value.keyword == "丙方（盖章）"


def test_a_seal_that_would_cover_body_text_is_refused(
    raw_contract: bytes, sets: dict[str, ContractSet]
) -> None:
    # 15.2 is in the middle of the text, with clauses above and below it.
    specs = (SealSpec("buyer", "15.2"),)
    with pytest.raises(SealPlacementError, match="会盖住其他文字") as caught:
        finish_set([(raw_contract, [part(specs, sets["seed"].contract)])])
    assert caught.value.covered  # what it would have covered, for the message


def test_validation_predicts_the_seal_placement_of_a_dated_name(
    generator: Generator, seed_data: dict[str, Any]
) -> None:
    # Validation refuses a name whose wrapped line holds a date; made anyway (by the model
    # alone, without the kind's checks) it is what the seal placement fails on; the name
    # whose date the line's end cuts in two, which validation lets pass, is made and sealed.
    kind = generator.kinds.kinds["om_service"]
    for name, refused in ((DATED_NAME, True), (CUT_NAME, False)):
        data = varied(seed_data, {"supplier.name": name})
        codes = {i.code for i in kind.validate(data)}
        assert codes == ({"text.seal_block_date"} if refused else set()), name
        contract = kind.model.model_validate(data)
        if refused:
            with pytest.raises(SealPlacementError) as caught:
                generator.render(contract, kinds=["confidentiality_agreement"])
            assert caught.value.code == "seal.covers_text"
            assert str(caught.value) == (
                "保密协议：“乙方:”处的盖章会盖住其他文字：“日期:2026年01月16日”"
            )
        else:
            made = generator.render(contract, kinds=["confidentiality_agreement"])
            assert [len(d.seals) for d in made.documents] == [2]
