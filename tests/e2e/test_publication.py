"""Publishing for real: no withheld value is recoverable from any file, every public one is there.

Each published file is read as a second tool would: the text of every page by poppler's
``pdftotext`` and by PDFium, the raw bytes and every decompressed stream of every object
in the file (reachable or not, via ``pdf.objects``), every string of every object
(bookmarks, the information dictionary), the XMP, the ``/ToUnicode`` map of every font,
and every part of each DOCX (document, headers, footers, docProps). The samples, a sample
that withholds more, and generated contracts whose secrets are random.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pytest
from docx import Document as open_docx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from generator import Generator
from generator.domain.documents import NOTICE
from generator.domain.filters import MARK
from generator.inputs.load import load_data
from generator.kinds import parse
from generator.publication import (
    FOOTER_LINE,
    MANIFEST,
    NOTICE_JSON,
    NOTICE_SECTIONS,
    Publication,
    publish,
)

from ..builtin import DOCUMENTS, build_context, withheld_context
from ..conftest import SAMPLES
from ..pdfs import page_texts

PUBLISHED_ON = date(2026, 7, 1)
WHITESPACE = re.compile(r"\s+")
#: the shortest withheld value looked for as a sequence: a shorter one (a percentage, a
#: tick, a gender) is no secret of its own and occurs in the legal text anyway
SHORTEST = 4
#: the public values looked for in the public copy's text, when not withheld
PUBLIC = (
    "contract_no",
    "project_name",
    "buyer.name",
    "buyer.address",
    "buyer.phone",
    "buyer.contact",
    "supplier.name",
    "supplier.legal_representative.name",
    "supplier.address",
    "supplier.phone",
    "supplier.contact",
    "amount",
    "amount_upper",
    "service.end_date",
    "service.site",
    "sign_date",
    "sign_place",
    "owner_unit",
    "user_unit",
    "other_terms",
    "acceptance.subject",
    "acceptance.procedure",
)


def _bare(text: str) -> str:
    return WHITESPACE.sub("", text)


def _with_project(data: dict[str, Any], **publication: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["publication"] = {"project_no": "310000000250715104478-00212345", **publication}
    return data


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, f"{path}[]")
    else:
        yield path, value


def secrets(publication: Publication) -> set[str]:
    """Return every withheld value as the documents would print it, whitespace removed."""
    contract = publication.contract
    plain = list(_leaves(build_context(contract)))
    masked = list(_leaves(withheld_context(contract, publication.withheld)))
    found = {
        _bare(str(before))
        for (_, before), (_, after) in zip(plain, masked, strict=True)
        if after == MARK and before != MARK
    }
    return {value for value in found if len(value) >= SHORTEST}


def public_values(publication: Publication) -> set[str]:
    """Return the values of :data:`PUBLIC` that are not withheld, whitespace removed."""
    context = dict(_leaves(withheld_context(publication.contract, publication.withheld)))
    return {
        _bare(str(context[path])) for path in PUBLIC if context.get(path) not in (None, "", MARK)
    }


# ---------------------------------------------------------------- reading the files


def pdf_texts(pdf: bytes, tmp: Path) -> tuple[list[str], list[str]]:
    """Return each page's text by pdftotext and by PDFium."""
    poppler = page_texts(pdf, tmp, "-raw")
    document = pdfium.PdfDocument(pdf)
    try:
        pdfium_pages = []
        for page in document:
            textpage = page.get_textpage()
            pdfium_pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        document.close()
    return poppler, pdfium_pages


def _strings(value: Any, seen: set[tuple[int, int]]) -> Iterator[str]:
    """Yield every string inside a PDF object, decoded, following no reference twice."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        if value.objgen in seen:
            return
        seen.add(value.objgen)
    if isinstance(value, pikepdf.String):
        yield str(value)
    elif isinstance(value, pikepdf.Array):
        for item in value:
            yield from _strings(item, seen)
    elif isinstance(value, pikepdf.Dictionary | pikepdf.Stream):
        dictionary = value.stream_dict if isinstance(value, pikepdf.Stream) else value
        for key, item in dictionary.items():
            yield key
            yield from _strings(item, seen)


def to_unicode(stream: pikepdf.Stream) -> str:
    """Return the characters a /ToUnicode CMap maps, in code order."""
    cmap = stream.read_bytes().decode("latin-1")
    mapped: dict[int, str] = {}

    def text(hexa: str) -> str:
        return bytes.fromhex(hexa).decode("utf-16-be")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.DOTALL):
        for code, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapped[int(code, 16)] = text(target)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.DOTALL):
        for low, high, target in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", block
        ):
            first, last = int(low, 16), int(high, 16)
            if target.startswith("["):
                for n, item in enumerate(re.findall(r"<([0-9A-Fa-f]*)>", target)):
                    mapped[first + n] = text(item)
            else:
                start = bytes.fromhex(target[1:-1])
                for n in range(last - first + 1):
                    value = int.from_bytes(start, "big") + n
                    mapped[first + n] = value.to_bytes(len(start), "big").decode("utf-16-be")
    return "".join(mapped[code] for code in sorted(mapped))


def pdf_layers(pdf: bytes) -> tuple[list[bytes], str, list[str]]:
    """Return (raw bytes and every decompressed stream, every string of every object, the
    XMP and the information dictionary as text, and each font's /ToUnicode characters)."""
    blobs = [pdf]
    strings: list[str] = []
    maps: list[str] = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        seen: set[tuple[int, int]] = set()
        for obj in doc.objects:  # every object of the file, reachable or not
            if isinstance(obj, pikepdf.Stream):
                try:
                    blobs.append(obj.read_bytes())
                except pikepdf.PdfError:
                    blobs.append(obj.read_raw_bytes())
            strings.extend(_strings(obj, seen))
            if isinstance(obj, pikepdf.Dictionary) and "/ToUnicode" in obj:
                maps.append(to_unicode(obj.ToUnicode))
        strings.extend(_strings(doc.trailer, seen))
        strings.append(str(doc.open_metadata()))
        strings.extend(str(value) for value in doc.docinfo.values())
    return blobs, "\n".join(strings), maps


def docx_parts(docx: bytes) -> dict[str, str]:
    """Return every XML part of a DOCX as text."""
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {name: package.read(name).decode("utf-8") for name in package.namelist()}


def _encodings(secret: str) -> list[bytes]:
    return [
        secret.encode("utf-8"),
        secret.encode("utf-16-be"),
        secret.encode("utf-16-be").hex().encode(),
        secret.encode("utf-16-be").hex().upper().encode(),
    ]


# ---------------------------------------------------------------- the checks


def assert_nothing_withheld_in_pdf(pdf: bytes, hidden: set[str], tmp: Path) -> str:
    """Check a PDF by every reader; return its page text (PDFium's, whitespace removed)."""
    poppler, pdfium_pages = pdf_texts(pdf, tmp)
    blobs, strings, maps = pdf_layers(pdf)
    texts = {"pdftotext": _bare("".join(poppler)), "pdfium": _bare("".join(pdfium_pages))}
    for secret in hidden:
        for reader, text in texts.items():
            assert secret not in text, f"{reader} reads {secret}"
        assert secret not in _bare(strings), f"an object's string holds {secret}"
        for blob in blobs:
            for encoded in _encodings(secret):
                assert encoded not in blob, f"the bytes hold {secret}"
        for mapped in maps:
            assert secret not in _bare(mapped), f"a /ToUnicode map spells {secret}"
    shown = set(texts["pdftotext"]) | set(texts["pdfium"])
    for mapped in maps:
        # a font holds only glyphs the document shows: none of another text's
        assert set(_bare(mapped)) <= shown, set(_bare(mapped)) - shown
    return texts["pdfium"]


def assert_nothing_withheld_in_docx(docx: bytes, hidden: set[str]) -> str:
    """Check every part of a DOCX; return its text (all w:t, whitespace removed)."""
    parts = docx_parts(docx)
    assert "docProps/core.xml" in parts and "word/document.xml" in parts
    for name, xml in parts.items():
        bare = _bare(re.sub(r"<[^>]+>", "", xml))
        for secret in hidden:
            assert secret not in _bare(xml) and secret not in bare, f"{name} holds {secret}"
    return _bare(
        "".join(
            re.sub(r"<[^>]+>", "", xml)
            for name, xml in parts.items()
            if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name)
        )
    )


def assert_published(publication: Publication, tmp: Path) -> None:
    """Check every file of a publication: nothing withheld anywhere, every public value there."""
    hidden = secrets(publication)
    files = publication.files()
    public_text = ""
    for doc, kind in zip(publication.public_copy, DOCUMENTS, strict=True):
        assert doc.pdf is not None
        assert f"{kind.public_stem}.pdf" in files and f"{kind.public_stem}.docx" in files
        text = assert_nothing_withheld_in_pdf(doc.pdf, hidden, tmp)
        assert_nothing_withheld_in_docx(doc.docx, hidden)
        public_text += text
        _, pages = pdf_texts(doc.pdf, tmp)
        for page in pages:  # every page says what it is
            assert "公开文本" in _bare(page) and _bare(FOOTER_LINE) in _bare(page)
    for value in public_values(publication):
        assert value in public_text, f"the public copy lacks {value}"
    if hidden:
        assert MARK in public_text
    notice_text = assert_nothing_withheld_in_pdf(publication.notice_pdf, hidden, tmp)
    assert_nothing_withheld_in_docx(publication.notice_docx, hidden)
    for name in (NOTICE_JSON, MANIFEST):
        for secret in hidden:
            assert secret not in _bare(files[name].decode()), f"{name} holds {secret}"
    for field, value in publication.notice["fields"].items():
        assert _bare(value) in notice_text, field


# ---------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def generator() -> Iterator[Generator]:
    with Generator(workers=2, cached_sets=0) as made:
        yield made


@pytest.fixture(scope="module")
def seed_publication(generator: Generator) -> Publication:
    data = _with_project(dict(load_data(SAMPLES / "seed.yaml")))
    return publish(generator, data, published_on=date(2026, 1, 19))


def test_the_seed_s_public_copy_and_notice(seed_publication: Publication, tmp_path: Path) -> None:
    assert seed_publication.withheld == (
        "supplier.bank.name",
        "supplier.bank.account",
        "buyer.phone",
    )
    assert secrets(seed_publication) == {
        "中国建设银行股份有限公司上海张江分行",
        "31050161393600002908",
        "18017087975",
    }
    assert_published(seed_publication, tmp_path)


def test_a_sample_that_withholds_more(generator: Generator, tmp_path: Path) -> None:
    data = _with_project(
        dict(load_data(SAMPLES / "cross_year.yaml")),
        withhold=[
            "other_terms",
            "confidential_extra",
            "owner_unit",
            "acceptance_plan.subject",
            "acceptance_plan.items.standard",
            "payment.instalments.percent",
            "service.site",
        ],
        procurement_method="竞争性磋商",
        other="合同履约情况将按规定公开",
    )
    publication = publish(generator, data, published_on=date(2026, 6, 22))
    hidden = secrets(publication)
    assert {
        "13916602288",  # the supplier's mobile, by default
        "上海市徐汇区数据局",
        "上海市软件评测中心有限公司",
        "设备可用率不低于99.95%，故障30分钟内响应",
        "2402800.06",  # an instalment's amount, derived from its withheld percentage
        "上海市徐汇区宜山路700号数据中心机房及甲方指定地点",
    } <= hidden
    assert_published(publication, tmp_path)
    assert publication.notice["fields"]["procurement_method"] == "竞争性磋商"
    assert MARK in publication.notice["fields"]["performance"]  # the site, withheld


def test_the_notice_follows_its_declaration(seed_publication: Publication, tmp_path: Path) -> None:
    notice = seed_publication.notice
    keys = [field.key for section in NOTICE_SECTIONS for field in section.fields]
    assert list(notice["fields"]) == keys
    assert all(value.strip() for value in notice["fields"].values())
    assert [s["title"] for s in notice["sections"]] == [s.title for s in NOTICE_SECTIONS]
    expected: list[str] = []
    for section in NOTICE_SECTIONS:
        if section.inline:
            expected.append(f"{section.heading}：{notice['fields'][section.fields[0].key]}")
        else:
            expected.append(section.heading)
            expected.extend(f"{f.label}：{notice['fields'][f.key]}" for f in section.fields)
    paragraphs = [
        p.text for p in open_docx(io.BytesIO(seed_publication.notice_docx)).paragraphs if p.text
    ]
    assert paragraphs[0] == NOTICE.title
    assert paragraphs[1 : 1 + len(expected)] == expected
    assert paragraphs[1 + len(expected)].startswith("附件：")
    assert paragraphs[-4:] == [f"{n}. {doc.public_title}" for n, doc in enumerate(DOCUMENTS, 1)]
    fields = notice["fields"]
    assert fields["contract_no"] == "11NMB2F042362026201"
    assert fields["buyer_contact"] == f"黄旻，电话：{MARK}"  # a mobile: withheld
    assert fields["supplier_contact"] == "刘体斌，电话：021-20772889，传真：021-20772889"
    assert fields["quantity"] == "1项" and fields["unit_price"] == "1578000元"
    assert fields["procurement_method"] == "公开招标" and fields["other"] == "无"
    assert fields["sign_date"] == "2026年01月16日" and fields["published_on"] == "2026年01月19日"
    assert fields["subject_name"] == fields["project_name"]
    text = _bare("".join(pdf_texts(seed_publication.notice_pdf, tmp_path)[0]))
    for section in NOTICE_SECTIONS:
        assert _bare(section.heading) in text
        for field in section.fields:
            assert _bare(field.label) in text and _bare(fields[field.key]) in text


def test_publication_json(seed_publication: Publication) -> None:
    files = seed_publication.files()
    manifest = json.loads(files[MANIFEST])
    assert list(files)[-1] == MANIFEST
    assert manifest["contract_no"] == "11NMB2F042362026201"
    assert (manifest["sign_date"], manifest["due_date"], manifest["published_on"]) == (
        "2026-01-16",
        "2026-01-20",
        "2026-01-19",
    )
    assert manifest["on_time"] is True and seed_publication.due_date == date(2026, 1, 20)
    assert manifest["withheld"] == list(seed_publication.withheld)
    described = {entry["file"]: entry for entry in manifest["files"]}
    assert set(described) == set(files) - {MANIFEST}
    assert "01_运维服务合同（公开文本）.pdf" in described and "00_合同公告.pdf" in described
    for name, entry in described.items():
        assert entry["size"] == len(files[name])
        assert (entry["pages"] is not None) == name.endswith(".pdf")
    assert json.loads(files[NOTICE_JSON]) == seed_publication.notice


def test_the_same_data_gives_the_same_bytes(
    generator: Generator, seed_publication: Publication
) -> None:
    data = _with_project(dict(load_data(SAMPLES / "seed.yaml")))
    again = publish(generator, data, published_on=date(2026, 1, 19))
    assert again.files() == seed_publication.files()


def test_an_uncovered_year_is_refused_before_anything_is_made(generator: Generator) -> None:
    data = _with_project(dict(load_data(SAMPLES / "seed.yaml")))
    data["sign_date"] = "2026-12-30"  # due in 2027, which the calendar does not hold yet
    before = generator.converter.stats
    with pytest.raises(Exception) as caught:
        publish(generator, data, published_on=date(2026, 12, 31))
    assert [(i.path, i.code) for i in caught.value.issues] == [  # type: ignore[attr-defined]
        ("sign_date", "publication.calendar")
    ]
    assert generator.converter.stats == before


def test_the_checks_find_a_value_that_is_there(
    generator: Generator, seed_publication: Publication, tmp_path: Path
) -> None:
    # The contract itself holds what its public copy withholds: each reader must see it.
    contract_set = generator.render(seed_publication.contract)
    service_contract = contract_set.documents[0]
    assert service_contract.pdf is not None
    for secret in secrets(seed_publication):
        with pytest.raises(AssertionError, match="pdftotext"):
            assert_nothing_withheld_in_pdf(service_contract.pdf, {secret}, tmp_path)
        with pytest.raises(AssertionError, match="holds"):
            assert_nothing_withheld_in_docx(service_contract.docx, {secret})
    _, strings, maps = pdf_layers(service_contract.pdf)
    assert "11NMB2F042362026201" in strings  # the subject, read from the information
    assert all(maps) and any("甲方" in m or "甲" in m for m in maps)


#: characters of values made up to be withheld: rare in legal text, so a match is a leak
RARE = "鑫淼焱垚犇骉琪瑶璐瑾璟瑜"


@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mobile=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    fax=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    account=st.from_regex(r"[1-9][0-9]{15,23}", fullmatch=True),
    bank=st.text(RARE, min_size=4, max_size=10).map(lambda s: f"{s}银行"),
    terms=st.text(RARE, min_size=6, max_size=40),
)
def test_generated_contracts_publish_nothing_withheld(
    generator: Generator,
    tmp_path: Path,
    mobile: str,
    fax: str,
    account: str,
    bank: str,
    terms: str,
) -> None:
    data = _with_project(dict(load_data(SAMPLES / "seed.yaml")), withhold=["other_terms"])
    data["supplier"] = {
        **data["supplier"],
        "phone": mobile,
        "fax": fax,
        "bank": {"name": bank, "account": account},
    }
    data["other_terms"] = terms
    publication = publish(generator, data, published_on=PUBLISHED_ON)
    assert {mobile, fax, account, bank, terms} <= secrets(publication)
    assert_published(publication, tmp_path)
    assert parse(data).sign_date == publication.contract.sign_date
