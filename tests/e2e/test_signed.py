"""The signed copy comes back: a sealed PDF from the e-signing platform, checked and recorded.

The seed set is rendered once (real LibreOffice); :mod:`tests.signing` plays the
platform with pyHanko and a throw-away PKI, signing the parties' fields one after
the other, incrementally. Tampered copies are made with pyHanko's incremental
writer too: a page added, an annotation added, a signature in a new field, and a
byte of page content changed. The store runs on SQLite and PostgreSQL; the
command line, the service and the workbench page for real.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject
from pyhanko.sign import fields, signers

from generator import Generator, LedgerError
from generator.clock import beijing_day
from generator.ledger import Ledger
from generator.ledger.signed import examine, record_signed
from generator.pipeline import ContractSet
from generator.publication import due_date, unpublished

from ..conftest import run_cli
from ..signing import make_pki, sign_field
from .browser import TOKEN
from .test_ledger import postgres, url  # noqa: F401 - the fixtures: both backends
from .test_service import Server, start_server, stop_server

PKI = tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]]


@pytest.fixture(scope="module")
def made(seed_data: dict[str, Any]) -> ContractSet:
    with Generator(workers=1) as generator:
        return generator.render(seed_data)


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki()


def _sealed(made: ContractSet) -> list[Any]:
    return [doc for doc in made.documents if doc.seals]


def sign_all(pdf: bytes, seals: list[dict[str, Any]], parties: dict[str, Any]) -> bytes:
    """Return ``pdf`` signed in each seal field, one after the other (buyer, then supplier)."""
    for record in seals:
        pdf = sign_field(pdf, record["field"], parties[record["party"]])
    return pdf


@pytest.fixture(scope="module")
def signed(made: ContractSet, pki: PKI) -> dict[str, bytes]:
    """Return each sealed document's PDF signed by both parties, by kind."""
    return {doc.kind: sign_all(doc.pdf, doc.seals, pki[1]) for doc in _sealed(made)}


def _incremental(pdf: bytes, change: Any) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _add_page(writer: IncrementalPdfFileWriter) -> None:
    content = writer.add_object(generic.StreamObject(stream_data=b"BT ET"))
    writer.insert_page(PageObject(contents=content, media_box=(0, 0, 595, 842)))


def _add_annotation(writer: IncrementalPdfFileWriter) -> None:
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(0)] * 4),
            generic.NameObject("/Contents"): generic.TextStringObject("已改"),
        }
    )
    page["/Annots"] = generic.ArrayObject([writer.add_object(note)])
    writer.update_container(page)


def _content_byte_changed(pdf: bytes) -> bytes:
    """Return ``pdf`` with one byte in the middle of its first page's content stream changed."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        raw = doc.pages[0].obj.Contents.read_raw_bytes()
    at = pdf.index(raw[:64]) + len(raw) // 2
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def _foreign_field(pdf: bytes, signer: signers.SimpleSigner) -> bytes:
    """Return ``pdf`` signed once more, in a new field the document did not have."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    spec = fields.SigFieldSpec("seal_other", box=(20, 20, 140, 140), on_page=0)
    meta = signers.PdfSignatureMetadata(field_name="seal_other")
    return bytes(signers.sign_pdf(writer, meta, signer=signer, new_field_spec=spec).getvalue())


def _refused(ledger: Ledger, data: bytes, roots: list[Any] | None = None) -> str:
    with pytest.raises(LedgerError) as refused:
        examine(ledger, data, roots or [])
    return refused.value.code


# --- the store, on both backends ----------------------------------------------------------


def test_a_set_signed_by_both_parties_is_recorded_and_signed(
    url: str,  # noqa: F811 - the fixture imported above
    made: ContractSet,
    pki: PKI,
    signed: dict[str, bytes],
) -> None:
    root, parties = pki
    contract = next(doc for doc in _sealed(made) if doc.kind == "service_contract")
    buyer_only = sign_field(contract.pdf, "seal_buyer", parties["buyer"])
    with Ledger(url) as ledger:
        ledger.record(made, actor="clerk")
        partly = record_signed(ledger, buyer_only, [], actor="clerk")
        assert (partly.outcome, partly.signing) == ("new", "partly_signed")
        assert [s["party"] for s in partly.signers] == ["buyer"]
        shown = ledger.show(made.contract_no)
        assert shown["signing"] == "partly_signed" and len(shown["signed_copies"]) == 1
        # the contract signed by both is still partly signed: the agreements are not
        assert record_signed(ledger, signed["service_contract"], []).signing == "partly_signed"
        done = [record_signed(ledger, signed[kind], [root]) for kind in sorted(signed)]
        assert done[-1].signing == "signed" and done[-1].trust["validated"]
        assert all(s["trusted"] and s["chain"] for d in done for s in d.signers)
        # the same file again: nothing new
        again = record_signed(ledger, signed["service_contract"], [])
        assert (again.outcome, again.signing) == ("same", "signed")
        assert not again.trust["validated"] and "未验证" in again.trust["note"]

        first = done[0].signers[0]
        assert (first["organization"], first["common_name"]) == (
            "上海市大数据中心",
            "buyer 测试印章",
        )
        assert first["issuer"] and first["serial"] and first["not_after"] > first["not_before"]

        summary = ledger.sets(contract_no=made.contract_no)[0]
        assert summary["signing"] == "signed"
        signed_at = max(s["signed_at"] for d in [partly, *done] for s in d.signers)
        assert summary["signed_at"] == signed_at
        (match,) = ledger.find(hashlib.sha256(signed["service_contract"]).hexdigest())
        assert match.signed_copy and match.name == f"{contract.stem}.pdf"
        assert (match.version, match.status, match.current_version) == (1, "issued", 1)

        history = ledger.history(made.contract_no)
        assert [e["action"] for e in history] == ["issue", *["sign"] * 4]
        assert ledger.check()[0] == []

        # the 合同公告 is due two working days after the later signature's day, not sign_date
        (row,) = unpublished(ledger.sets(status="issued"), dt.date(2026, 12, 1))
        day = beijing_day(signed_at)
        assert row["counted_from"] == day.isoformat() and row["counted_from_source"] == "signatures"
        assert row["due_date"] == due_date(day).isoformat()
        assert row["sign_date_differs"] and row["signed_on"] == "2026-01-16"

        # a signed copy's row edited is found by the audit
        with ledger.writing() as conn:
            conn.exec_driver_sql("UPDATE signed_copies SET size = size + 1 WHERE id = 1")
        problems = ledger.check()[0]
        assert len(problems) == 1 and "签署件" in problems[0], problems


def test_a_copy_with_anything_else_changed_is_refused(
    tmp_path: Path, made: ContractSet, pki: PKI, signed: dict[str, bytes]
) -> None:
    _, parties = pki
    contract = next(doc for doc in _sealed(made) if doc.kind == "service_contract")
    seals = contract.seals
    good = signed["service_contract"]
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.record(made)
        assert _refused(ledger, _content_byte_changed(good)) == "signed.not_issued"
        paged = sign_all(_incremental(contract.pdf, _add_page), seals, parties)
        assert _refused(ledger, paged) == "signed.modified"
        assert _refused(ledger, _incremental(good, _add_annotation)) == "signed.modified"
        foreign = _foreign_field(
            sign_field(contract.pdf, "seal_buyer", parties["buyer"]), parties["supplier"]
        )
        assert _refused(ledger, foreign) == "signed.foreign_field"
        assert _refused(ledger, contract.pdf) == "signed.unsigned"
        assert _refused(ledger, b"not a pdf") == "signed.not_pdf"
        assert _refused(ledger, good + b"%junk after the last update") == "signed.modified"
        # a byte the buyer's signature covers changed: its digest no longer matches
        at = good.index(b"/Creator (contractgen)", len(contract.pdf)) + len(b"/Creator (contractge")
        tampered = good[:at] + b"x" + good[at + 1 :]
        assert _refused(ledger, tampered) == "signed.invalid"
        other_root, _ = make_pki()
        assert _refused(ledger, good, [other_root]) == "signed.untrusted"
        # nothing of it was recorded
        assert ledger.show(made.contract_no)["signed_copies"] == []
        assert [e["action"] for e in ledger.history(made.contract_no)] == ["issue"]


# --- the command line ---------------------------------------------------------------------


@pytest.mark.slow  # processes started one after another: the slow step
def test_the_command_line_records_and_verifies_a_signed_copy(
    tmp_path: Path, made: ContractSet, pki: PKI, signed: dict[str, bytes]
) -> None:
    root, _ = pki
    where = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger(where) as ledger:
        ledger.record(made)
    files = {}
    for kind, data in signed.items():
        files[kind] = tmp_path / f"{kind}-signed.pdf"
        files[kind].write_bytes(data)
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(_content_byte_changed(signed["service_contract"]))
    (tmp_path / "root.pem").write_bytes(
        b"-----BEGIN CERTIFICATE-----\n"
        + base64.encodebytes(root.dump())
        + b"-----END CERTIFICATE-----\n"
    )

    taken = run_cli(
        "ledger", "signed", *files.values(), "--trust", tmp_path / "root.pem", "--ledger", where
    )
    assert taken.returncode == 0, taken.stderr
    assert "已签署" in taken.stdout and "证书链已按本处配置的信任根验证" in taken.stdout
    assert "上海众恒智能系统技术有限公司 · supplier 测试印章" in taken.stdout

    refused = run_cli("ledger", "signed", changed, "--ledger", where)
    assert refused.returncode == 1 and "[signed.not_issued]" in refused.stderr

    verified = run_cli("verify", files["service_contract"], "--ledger", where)
    assert verified.returncode == 0, verified.stderr
    name = next(f"{d.stem}.pdf" for d in _sealed(made) if d.kind == "service_contract")
    assert f"签署件：合同 {made.contract_no} 第 1 版 {name} 的签署件：有效" in verified.stdout
    assert run_cli("verify", changed, "--ledger", where).returncode == 1

    shown = run_cli("ledger", "show", made.contract_no, "--ledger", where)
    assert "有效，已签署" in shown.stdout and "与合同所填签订日期 2026-01-16 不同" in shown.stdout
    due = run_cli("ledger", "due", "--ledger", where, "--json")
    (row,) = json.loads(due.stdout)
    assert row["counted_from_source"] == "signatures" and row["sign_date_differs"]


# --- the service and the workbench --------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, made: ContractSet) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("signed-service")
    where = f"sqlite:///{folder / 'ledger.db'}"
    with Ledger(where) as ledger:
        ledger.record(made)  # issued: the service's ledger holds the set
    started = start_server(folder, "--workers", "1", "--ledger", where, token=TOKEN)
    try:
        yield started
    finally:
        stop_server(started)


def test_the_service_takes_a_signed_copy(
    served: Server, made: ContractSet, pki: PKI, signed: dict[str, bytes]
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    pdf = {**auth, "Content-Type": "application/pdf"}
    contract = next(doc for doc in _sealed(made) if doc.kind == "integrity_agreement")
    with httpx.Client(base_url=served.url, timeout=60) as client:
        assert (
            client.post("/v1/ledger/signed", content=signed["integrity_agreement"]).status_code
            == 401
        )
        taken = client.post("/v1/ledger/signed", content=signed["integrity_agreement"], headers=pdf)
        assert taken.status_code == 200, taken.text
        body = taken.json()
        assert (body["outcome"], body["version"], body["name"]) == (
            "new",
            1,
            f"{contract.stem}.pdf",
        )
        assert body["signing"] == "partly_signed" and body["verdict"] == "current"
        assert [s["party"] for s in body["signers"]] == ["buyer", "supplier"]
        assert body["trust"]["validated"] is False
        again = client.post("/v1/ledger/signed", content=signed["integrity_agreement"], headers=pdf)
        assert again.json()["outcome"] == "same"

        paged = sign_all(_incremental(contract.pdf, _add_page), contract.seals, pki[1])
        refused = client.post("/v1/ledger/signed", content=paged, headers=pdf)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["code"] == "signed.modified" and problem["title"] == "签署件不予登记"
        wrong_type = client.post(
            "/v1/ledger/signed", content=b"{}", headers={**auth, "Content-Type": "application/json"}
        )
        assert wrong_type.status_code == 415

        shown = client.get(f"/v1/ledger/sets/{made.contract_no}", headers=auth).json()
        assert shown["signing"] == "partly_signed" and shown["signed_copies"][0]["size"] == len(
            signed["integrity_agreement"]
        )
        verified = client.post(
            "/v1/verify", content=signed["integrity_agreement"], headers=pdf
        ).json()
        assert (
            verified["verdict"] == "current" and verified["files"][0]["matches"][0]["signed_copy"]
        )
        spec = client.get("/openapi.json").json()
        assert (
            "/v1/ledger/signed" in spec["paths"] and "SignedCopy" in spec["components"]["schemas"]
        )


def test_the_workbench_records_a_signed_copy_and_the_ledger_shows_it(
    served: Server, made: ContractSet, signed: dict[str, bytes]
) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        client.get("/login")
        csrf = client.cookies["contractgen_csrf"]
        assert client.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code in (200, 303)
        csrf = client.cookies["contractgen_csrf"]  # the session's own token from now on
        page = client.get("/verify")
        assert "登记签署件" in page.text
        for kind in sorted(signed):
            posted = client.post(
                "/verify/signed",
                data={"csrf": csrf},
                files={"file": (f"{kind}.pdf", signed[kind], "application/pdf")},
            )
            assert posted.status_code == 200, posted.text
        assert "签署件：" in posted.text and "（该版本：已签署）" in posted.text
        assert "上海众恒智能系统技术有限公司 · supplier 测试印章" in posted.text
        assert "证书链未验证" in posted.text
        forged = client.post(
            "/verify/signed",
            data={"csrf": "forged"},
            files={"file": ("x.pdf", signed["service_contract"], "application/pdf")},
        )
        assert forged.status_code == 403
        verified = client.post(
            "/verify",
            data={"csrf": csrf},
            files={"file": ("copy.pdf", signed["service_contract"], "application/pdf")},
        )
        assert "的签署件" in verified.text and "甲方：上海市大数据中心" in verified.text
        listed = client.get("/ledger")
        assert "已签署" in listed.text and "（北京时间）" in listed.text
        due = client.get("/due")
        assert "按签名所载签署日" in due.text and "与合同所填签订日期不同" in due.text


def test_a_ledger_of_the_first_schema_is_migrated_and_checks(
    tmp_path: Path, made: ContractSet
) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from generator.ledger import migrate
    from generator.ledger.schema import METADATA

    where = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(where)
    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    with Ledger(where) as ledger:  # migrated on first use
        ledger.record(made)
        assert ledger.check()[0] == []
        assert ledger.show(made.contract_no)["signing"] is None
        with ledger.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), METADATA) == []
