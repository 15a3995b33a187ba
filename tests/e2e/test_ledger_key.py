"""The ledger's events signed with a key outside the database, against an attacker without it.

The attacker has the database and the source, not the key: he appends an
``add_files`` event naming a forged PDF, or rewrites event 1, and recomputes the
hash chain with the project's own chain code (copying a genuine event's key id
and signature beside it, as the best he can do). ``ledger check`` then fails
naming the event, and ``verify`` answers neither 有效 for the forged file nor
未在本台账登记 for the genuine one: the ledger is not trustworthy. On SQLite
through the command line, on both backends through the library (the same code).
Rows changed with no event at all are not vouched for either; keys are made,
pinned, refused; an old unsigned ledger is reported and signed forward.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import Connection, insert, select, update

from generator import LedgerError, load_data, parse
from generator.ledger import Ledger
from generator.ledger.chain import GENESIS, canonical, event_hash
from generator.ledger.keys import KEY_ENVIRONMENT, new_key
from generator.ledger.schema import EVENTS, FILES, SETS
from generator.ledger.verification import verify_body
from generator.pipeline import render_set

from ..conftest import ROOT, SAMPLES, run_cli
from .test_ledger import postgres, url  # noqa: F401 - the fixtures: both backends

#: what the attacker wants verified as issued
FORGED = b"%PDF-1.7\n% a contract the office never issued\n%%EOF\n"


@pytest.fixture(scope="module")
def contract_set() -> Any:
    """Return one document of the seed set, made once (DOCX: what is hashed is the same)."""
    contract = parse(load_data(SAMPLES / "seed.yaml"))
    return render_set(contract, formats=("docx",), kinds=("service_contract",))


def _genuine(contract_set: Any) -> bytes:
    data: bytes = contract_set.documents[0].docx
    return data


def _filled(ledger_url: str, contract_set: Any) -> None:
    """Issue the set (event 1), then another contract number's (event 2)."""
    with Ledger(ledger_url) as ledger:
        ledger.record(contract_set, actor="经办人")
        other = parse({**load_data(SAMPLES / "seed.yaml"), "contract_no": "11NMB2F042362026299"})
        ledger.record(render_set(other, formats=("docx",), kinds=("service_contract",)))
        assert ledger.check()[0] == []


def _rechain(conn: Connection, rows: list[Any]) -> None:
    """Recompute every event's hash and previous hash, as anyone with the source can."""
    prev = GENESIS
    conn.execute(update(EVENTS).values(hash=EVENTS.c.seq.cast(sqlalchemy.String)))  # unique first
    for row in rows:
        content = {k: row[k] for k in ("seq", "at", "actor", "action", "contract_no", "version")}
        content["body"] = row["body"]
        chained = event_hash(prev, content)
        conn.execute(
            update(EVENTS).where(EVENTS.c.seq == row["seq"]).values(prev_hash=prev, hash=chained)
        )
        prev = chained


def _forged_file() -> dict[str, Any]:
    return {
        "name": "01_运维服务合同.pdf",
        "kind": "service_contract",
        "format": "pdf",
        "sha256": hashlib.sha256(FORGED).hexdigest(),
        "content_md5": "AAAAAAAAAAAAAAAAAAAAAA==",
        "size": len(FORGED),
        "pages": 1,
        "seals": {"seals": [], "cross_page_seal": None},
    }


def append_add_files(conn: Connection) -> int:
    """Attack (a): an ``add_files`` event naming the forged PDF, its row, the chain recomputed."""
    rows = [dict(r._mapping) for r in conn.execute(select(EVENTS).order_by(EVENTS.c.seq))]
    first = rows[0]
    file = _forged_file()
    body = canonical({"files": [file], "generator": json.loads(first["body"])["generator"]})
    seq = rows[-1]["seq"] + 1
    added = {**first, "seq": seq, "action": "add_files", "body": body, "hash": f"x{seq}"}
    conn.execute(insert(EVENTS).values(**added))  # key id and signature copied from event 1
    set_id = conn.execute(select(SETS.c.id).where(SETS.c.version == 1).limit(1)).scalar()
    conn.execute(
        insert(FILES).values({**file, "set_id": set_id, "seals": canonical(file["seals"])})
    )
    _rechain(conn, [*rows, added])
    return seq


def rewrite_event_1(conn: Connection) -> int:
    """Attack (b): event 1's genuine file replaced by the forged PDF, rows and chain to match."""
    rows = [dict(r._mapping) for r in conn.execute(select(EVENTS).order_by(EVENTS.c.seq))]
    body = json.loads(rows[0]["body"])
    genuine = body["files"][0]
    body["files"][0] = {**genuine, "sha256": _forged_file()["sha256"]}
    rows[0]["body"] = canonical(body)
    conn.execute(update(EVENTS).where(EVENTS.c.seq == 1).values(body=rows[0]["body"]))
    conn.execute(
        update(FILES)
        .where(FILES.c.sha256 == genuine["sha256"])
        .values(sha256=body["files"][0]["sha256"])
    )
    _rechain(conn, rows)
    return 1


ATTACKS = {"append add_files": append_add_files, "rewrite event 1": rewrite_event_1}


def forge(ledger_url: str, attack: Callable[[Connection], int]) -> int:
    engine = sqlalchemy.create_engine(ledger_url)
    try:
        with engine.begin() as conn:
            return attack(conn)
    finally:
        engine.dispose()


def _unsigned_chain_holds(ledger_url: str) -> None:
    """The forgery is a good one: without signatures, the keyless chain and rows all agree."""
    from generator.ledger.audit import audit

    engine = sqlalchemy.create_engine(ledger_url)
    try:
        with engine.connect() as conn:
            keyless = audit(conn, {})
    finally:
        engine.dispose()
    assert keyless.problems[1:] == [], keyless.problems  # only "no public key"


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_a_forged_chain_fails_check_and_verify_in_the_library(
    url: str,  # noqa: F811 - the fixture
    contract_set: Any,
    attack: str,
) -> None:
    _filled(url, contract_set)
    bad = forge(url, ATTACKS[attack])
    _unsigned_chain_holds(url)
    with Ledger(url) as ledger:
        done = ledger.audit()
        assert done.problems and done.problems[0].startswith(f"事件 {bad}"), done.problems
        assert "[ledger.event_signature]" in done.problems[0]
        forged = verify_body(ledger, "application/pdf", FORGED)
        genuine = verify_body(ledger, "application/octet-stream", _genuine(contract_set))
    for said in (forged, genuine):
        assert said["verdict"] == "untrusted", said
        assert any("[ledger.event_signature]" in p for p in said["files"][0]["problems"]), said


def _cli(ledger_url: str, *args: str | Path) -> Any:
    return run_cli(*args, "--ledger", ledger_url)


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_a_forged_chain_fails_check_and_verify_on_the_command_line(
    tmp_path: Path, contract_set: Any, attack: str
) -> None:
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    _filled(ledger_url, contract_set)
    (tmp_path / "forged.pdf").write_bytes(FORGED)
    (tmp_path / "genuine.docx").write_bytes(_genuine(contract_set))
    bad = forge(ledger_url, ATTACKS[attack])

    check = _cli(ledger_url, "ledger", "check")
    assert check.returncode == 1, check
    first = check.stderr.splitlines()[0]
    assert first.startswith(f"事件 {bad}") and "[ledger.event_signature]" in first, check.stderr
    assert "台账完整" not in check.stdout
    said = _cli(ledger_url, "verify", tmp_path / "forged.pdf", tmp_path / "genuine.docx")
    assert said.returncode == 4, said
    lines = said.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        str(tmp_path / "forged.pdf"),
        str(tmp_path / "genuine.docx"),
    ]
    for line in lines:  # neither 有效 nor 未在本台账登记: the ledger is not trustworthy
        assert "有效" not in line and "未在本台账登记" not in line, said.stdout
        assert "台账不可信，无法核验" in line and "ledger check" in line, said.stdout


def test_key_new_fingerprint_and_a_check_pinned_to_the_right_and_the_wrong_key(
    tmp_path: Path, contract_set: Any
) -> None:
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    made = run_cli("ledger", "key", "new", tmp_path / "k.pem", "--public", tmp_path / "k.pub")
    assert made.returncode == 0, made
    (fingerprint,) = [
        line.split("：", 1)[1] for line in made.stdout.splitlines() if "签名公钥指纹" in line
    ]
    assert fingerprint.startswith("SHA256:") and len(fingerprint) == 50
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    before = (tmp_path / "k.pem").read_bytes()
    with pytest.raises(LedgerError) as again:
        new_key(tmp_path / "k2.pem", tmp_path / "k.pub")
    assert again.value.code == "ledger.key_exists" and "不会覆盖" in str(again.value)
    assert (tmp_path / "k.pem").read_bytes() == before and not (tmp_path / "k2.pem").exists()

    with Ledger(ledger_url, key_file=tmp_path / "k.pem") as ledger:
        ledger.record(contract_set)
    pinned = _cli(ledger_url, "ledger", "check", "--ledger-pubkey", tmp_path / "k.pub")
    assert pinned.returncode == 0, pinned
    assert pinned.stdout.splitlines()[1:] == [f"签名公钥指纹：{fingerprint}（签名事件 1 个）"]
    assert pinned.stdout.startswith("台账完整：事件链与全部记录相符，1 个事件均有签名")

    # the session's key is another key: pinned, it does not vouch for this ledger
    other = tmp_path / "session.pub"
    other.write_bytes(_public_pem(Path(os.environ[KEY_ENVIRONMENT])))
    wrong = _cli(ledger_url, "ledger", "check", "--ledger-pubkey", other)
    assert wrong.returncode == 1, wrong
    assert wrong.stderr.startswith(f"事件 1：签名所用的密钥 {fingerprint} 不在所信任的公钥")
    assert "[ledger.event_key_unknown]" in wrong.stderr
    assert fingerprint not in wrong.stdout and "签名公钥指纹：SHA256:" in wrong.stdout
    verified = _cli(ledger_url, "verify", "--ledger-pubkey", other, _file(tmp_path, contract_set))
    assert verified.returncode == 4 and "台账不可信" in verified.stdout, verified


def _public_pem(key_file: Path) -> bytes:
    """Return the public key (PEM) of a private key file."""
    from generator.ledger.keys import load_key, public_pem

    return public_pem(load_key(key_file).private.public_key())


def _file(folder: Path, contract_set: Any) -> Path:
    path = folder / "genuine.docx"
    path.write_bytes(_genuine(contract_set))
    return path


def test_issuing_without_a_usable_key_is_refused_and_nothing_is_recorded(
    tmp_path: Path, contract_set: Any
) -> None:
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(ledger_url, key_file=tmp_path / "missing.pem") as ledger:
        with pytest.raises(LedgerError) as missing:
            ledger.record(contract_set)
        assert missing.value.code == "ledger.key_unreadable"
        assert "contractgen ledger key new" in str(missing.value)
    loose = tmp_path / "loose.pem"
    new_key(loose)
    loose.chmod(0o640)
    with Ledger(ledger_url, key_file=loose) as ledger:
        with pytest.raises(LedgerError) as readable:
            ledger.record(contract_set)
        assert readable.value.code == "ledger.key_permissions"
        assert "chmod 600" in str(readable.value)
        assert ledger.sets() == []

    env = {k: v for k, v in os.environ.items() if k != KEY_ENVIRONMENT}
    out = tmp_path / "out"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "generator", "render", str(SAMPLES / "seed.yaml")),
            *("-o", str(out), "--format", "docx", "--issue", "--ledger", ledger_url),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1, done
    assert "[ledger.key_missing]" in done.stderr and "ledger key new" in done.stderr, done.stderr
    assert not out.exists() or not any(out.iterdir())
    keyed = run_cli("--ledger-key", loose, "ledger", "check", "--ledger", ledger_url)
    assert keyed.returncode == 1 and "[ledger.key_permissions]" in keyed.stderr, keyed


def test_an_old_unsigned_ledger_is_reported_and_signed_forward_only_explicitly(
    tmp_path: Path, contract_set: Any
) -> None:
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    _filled(ledger_url, contract_set)
    engine = sqlalchemy.create_engine(ledger_url)
    with engine.begin() as conn:  # as 0.2.0 wrote them: no signatures
        conn.execute(update(EVENTS).values(key_id=None, signature=None))
    engine.dispose()
    check = _cli(ledger_url, "ledger", "check")
    assert check.returncode == 1
    assert check.stderr.startswith("事件 1–2：未签名（签名之前所记"), check.stderr
    assert "[ledger.event_unsigned]" in check.stderr
    with Ledger(ledger_url) as ledger:
        old = ledger.attest(hashlib.sha256(_genuine(contract_set)).hexdigest())
    assert old.verdict == "untrusted" and "[ledger.event_unsigned]" in old.problems[0], old

    signed = _cli(ledger_url, "ledger", "key", "sign-old")
    assert signed.returncode == 0 and "已补签事件 1–2（共 2 个）" in signed.stdout, signed
    with Ledger(ledger_url) as ledger:
        assert ledger.check()[0] == []
        assert ledger.attest(hashlib.sha256(_genuine(contract_set)).hexdigest()).verdict == (
            "current"
        )

    # an unsigned event after a signed one was not written before signing: never signed
    engine = sqlalchemy.create_engine(ledger_url)
    with engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.seq == 2).values(signature=None))
    engine.dispose()
    refused = _cli(ledger_url, "ledger", "key", "sign-old")
    assert refused.returncode == 1 and "[ledger.sign_old_refused]" in refused.stderr, refused


def test_rows_changed_without_any_event_are_not_vouched_for(
    tmp_path: Path, contract_set: Any
) -> None:
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    _filled(ledger_url, contract_set)
    genuine = hashlib.sha256(_genuine(contract_set)).hexdigest()
    with Ledger(ledger_url) as ledger:
        ledger.void(contract_set.contract_no, 1, "金额有误")
        assert ledger.attest(genuine).verdict == "outdated"
    engine = sqlalchemy.create_engine(ledger_url)
    with engine.begin() as conn:  # the tables alone: a forged file's row, the void undone
        file = _forged_file()
        set_id = conn.execute(select(SETS.c.id).where(SETS.c.version == 1).limit(1)).scalar()
        conn.execute(insert(FILES).values({**file, "set_id": set_id, "seals": "{}"}))
        conn.execute(update(SETS).values(status="issued", status_reason=""))
    engine.dispose()
    with Ledger(ledger_url) as ledger:
        forged = ledger.attest(file["sha256"])
        undone = ledger.attest(genuine)
    assert forged.verdict == "untrusted", forged
    assert any("[ledger.record_unsigned]" in p for p in forged.problems), forged.problems
    assert undone.verdict == "untrusted", undone
    assert any("[ledger.record_changed]" in p for p in undone.problems), undone.problems
