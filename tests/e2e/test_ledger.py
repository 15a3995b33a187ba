"""The contract ledger on real databases: SQLite always, PostgreSQL started by the tests.

Every test of the store runs against both backends; the command-line tests run
``contractgen`` for real against a SQLite file (and the unreachable case
against a PostgreSQL URL nobody listens on).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import multiprocessing
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from generator import LedgerError, load_data, parse
from generator.ledger import Ledger
from generator.pipeline import render_set, set_zip

from ..conftest import SAMPLES, run_cli
from ..databases import postgres_bin, postgres_server

_counter = iter(range(1_000_000))


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    if postgres_bin() is None:
        pytest.fail("PostgreSQL is not installed: bash tools/setup.sh installs it")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty ledger database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    server: str = request.getfixturevalue("postgres")
    name = f"ledger_{next(_counter)}_{abs(hash(str(tmp_path))) % 10**8}"
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def seed_raw() -> dict[str, Any]:
    return dict(load_data(SAMPLES / "seed.yaml"))


def _set(data: dict[str, Any], **changes: Any) -> Any:
    changed = copy.deepcopy(data)
    changed.update(changes)
    return render_set(parse(changed), formats=("docx",))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_versions_same_data_changed_data_and_verification(
    url: str, seed_raw: dict[str, Any]
) -> None:
    first = _set(seed_raw)
    with Ledger(url) as ledger:
        made = ledger.record(first, actor="tester")
        assert (made.version, made.outcome, made.superseded) == (1, "new", None)
        again = ledger.record(_set(seed_raw), actor="tester")
        assert (again.version, again.outcome) == (1, "same")

        second = _set(seed_raw, other_terms="双方另行约定的事项以书面补充协议为准。")
        changed = ledger.record(second, actor="tester")
        assert (changed.version, changed.outcome, changed.superseded) == (2, "new", 1)

        old_doc = first.documents[0].docx
        (match,) = ledger.find(_sha(old_doc))
        assert (match.contract_no, match.version, match.status, match.current_version) == (
            first.contract_no,
            1,
            "superseded",
            2,
        )
        (current,) = ledger.find(_sha(second.documents[0].docx))
        assert (current.version, current.status) == (2, "issued")
        assert ledger.find(_sha(b"not a contract")) == []

        shown = ledger.show(first.contract_no, 1)
        assert shown["data"] == first.contract.model_dump(mode="json")
        assert shown["status"] == "superseded" and "第 2 版" in shown["status_reason"]
        names = {f["name"] for f in shown["files"]}
        assert names == set(first.files()) - {"manifest.json"}
        assert [s["version"] for s in ledger.sets(contract_no=first.contract_no)] == [1, 2]
        assert [s["version"] for s in ledger.sets(status="issued")] == [2]
        assert [e["action"] for e in ledger.history(first.contract_no)] == ["issue", "issue"]
        assert ledger.check()[0] == []


def test_more_files_of_the_same_version_are_added_not_versioned(
    url: str, seed_raw: dict[str, Any]
) -> None:
    contract = parse(seed_raw)
    one = render_set(contract, formats=("docx",), kinds=("service_contract",))
    whole = render_set(contract, formats=("docx",))
    with Ledger(url) as ledger:
        assert ledger.record(one).outcome == "new"
        added = ledger.record(whole)
        assert (added.version, added.outcome) == (1, "files_added")
        assert ledger.record(whole).outcome == "same"
        shown = {f["name"] for f in ledger.show(contract.contract_no)["files"]}
        assert shown == set(whole.files()) - {"manifest.json"}
        assert ledger.check()[0] == []


def test_void_and_the_voided_version_is_no_longer_current(
    url: str, seed_raw: dict[str, Any]
) -> None:
    first = _set(seed_raw)
    with Ledger(url) as ledger:
        ledger.record(first)
        ledger.void(first.contract_no, 1, "签订前发现金额有误", actor="auditor")
        (match,) = ledger.find(_sha(first.documents[0].docx))
        assert (match.status, match.current_version) == ("voided", None)
        with pytest.raises(LedgerError) as again:
            ledger.void(first.contract_no, 1, "再次")
        assert again.value.code == "ledger.state"
        with pytest.raises(LedgerError) as missing:
            ledger.void(first.contract_no, 9, "无此版本")
        assert missing.value.code == "ledger.not_found"
        history = ledger.history(first.contract_no)
        assert [e["action"] for e in history] == ["issue", "void"]
        assert history[-1]["reason"] == "签订前发现金额有误"
        assert ledger.check()[0] == []


def _issue(url: str, data: dict[str, Any], start: Any, results: Any) -> None:
    contract_set = _set(data)
    with Ledger(url) as ledger:
        start.wait()
        results.put(ledger.record(contract_set).to_dict())


def test_processes_issuing_one_number_at_once_get_one_version_each(
    url: str, seed_raw: dict[str, Any]
) -> None:
    Ledger(url).close()  # migrated before the race, as a batch does
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    results = context.Queue()
    terms = [f"第{i}种补充约定。" for i in range(4)]
    workers = [
        context.Process(target=_issue, args=(url, {**seed_raw, "other_terms": t}, start, results))
        for t in terms
    ]
    for worker in workers:
        worker.start()
    start.set()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sorted(o["version"] for o in outcomes) == [1, 2, 3, 4]
    assert sorted(o["superseded"] or 0 for o in outcomes) == [0, 1, 2, 3]
    with Ledger(url) as ledger:
        statuses = [(s["version"], s["status"]) for s in ledger.sets()]
        assert sorted(statuses) == [
            (1, "superseded"),
            (2, "superseded"),
            (3, "superseded"),
            (4, "issued"),
        ]
        assert ledger.check()[0] == []


def test_processes_migrating_a_new_ledger_at_once(url: str, seed_raw: dict[str, Any]) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    results = context.Queue()
    workers = [
        context.Process(target=_issue, args=(url, seed_raw, start, results)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    start.set()
    outcomes = sorted(results.get(timeout=120)["outcome"] for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == ["new", "same", "same"]


def _tamper(url: str, statement: str) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE sets SET amount = '1.00' WHERE version = 1",
            "第 1 版（事件 1）：记录与登记事件不符（amount）",
        ),
        (
            "UPDATE files SET sha256 = repeat('0', 64) WHERE name LIKE '02_%.docx'",
            "的记录与登记事件不符",
        ),
        ("DELETE FROM files WHERE name LIKE '02_%.docx'", "的记录被删除"),
        ("UPDATE events SET actor = 'someone else' WHERE seq = 2", "事件 2：内容与其哈希不符"),
        ("DELETE FROM events WHERE seq = 2", "事件 2–2 缺失"),
        ("UPDATE sets SET status = 'issued' WHERE version = 1", "记录与登记事件不符（status）"),
    ],
    ids=[
        "set edited",
        "file hash edited",
        "file deleted",
        "event edited",
        "event deleted",
        "status",
    ],
)
def test_check_names_the_first_broken_record(
    url: str, seed_raw: dict[str, Any], statement: str, expected: str
) -> None:
    with Ledger(url) as ledger:
        ledger.record(_set(seed_raw))
        ledger.record(_set(seed_raw, other_terms="另行约定。"))
        ledger.record(_set(seed_raw, other_terms="再行约定。"))
        assert ledger.check()[0] == []
    _tamper(url, statement.replace("repeat('0', 64)", "'" + "0" * 64 + "'"))
    with Ledger(url) as ledger:
        problems, _ = ledger.check()
    assert problems and expected in problems[0], problems


def test_a_newer_schema_is_refused(url: str) -> None:
    Ledger(url).close()
    _tamper(url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(LedgerError) as caught:
        Ledger(url)
    assert caught.value.code == "ledger.schema_newer"
    assert "9999" in str(caught.value) and "升级" in str(caught.value)


# --- the command line ---------------------------------------------------------------------------


def _cli_ledger(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli-ledger.sqlite3'}"


def test_render_records_and_verify_answers_with_its_exit_status(tmp_path: Path) -> None:
    ledger = _cli_ledger(tmp_path)
    out = tmp_path / "out"
    # A render without --issue is a draft: recorded nowhere (no ledger is even made).
    draft = run_cli(
        "render", SAMPLES / "seed.yaml", "-o", out, "--format", "docx", "--ledger", ledger
    )
    assert draft.returncode == 0, draft.stderr
    assert draft.stderr.startswith("草稿：未登记到合同台账") and "--issue" in draft.stderr
    assert not (tmp_path / "cli-ledger.sqlite3").exists()
    drafted = (Path(draft.stdout.strip()) / "01_运维服务合同.docx").read_bytes()
    first = run_cli(
        "render",
        SAMPLES / "seed.yaml",
        "-o",
        out,
        "--format",
        "docx",
        "--issue",
        "--ledger",
        ledger,
    )
    assert first.returncode == 0, first.stderr
    assert "第 1 版已登记" in first.stderr
    folder = Path(first.stdout.strip())
    old = tmp_path / "old.docx"
    old.write_bytes((folder / "01_运维服务合同.docx").read_bytes())
    assert old.read_bytes() == drafted  # issuing makes the draft's very bytes

    verified = run_cli("verify", old, "--ledger", ledger)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "第 1 版" in verified.stdout and "有效" in verified.stdout

    changed = tmp_path / "changed.json"
    data = dict(load_data(SAMPLES / "seed.yaml"))
    changed.write_text(
        json.dumps({**data, "other_terms": "另行约定。"}, ensure_ascii=False), "utf-8"
    )
    second = run_cli(
        "render", changed, "-o", out, "--format", "docx", "--issue", "--ledger", ledger
    )
    assert second.returncode == 0, second.stderr
    assert "第 2 版已登记；第 1 版已被取代" in second.stderr

    outdated = run_cli("verify", old, "--ledger", ledger, "--json")
    assert outdated.returncode == 3
    (answer,) = json.loads(outdated.stdout)
    assert answer["verdict"] == "outdated"
    assert answer["matches"][0]["current_version"] == 2

    stranger = tmp_path / "stranger.pdf"
    stranger.write_bytes(b"%PDF-1.7 not issued here")
    assert run_cli("verify", stranger, "--ledger", ledger).returncode == 1
    assert run_cli("verify", tmp_path / "missing.pdf", "--ledger", ledger).returncode == 2
    assert run_cli("verify", old, stranger, "--ledger", ledger).returncode == 1

    listed = run_cli("ledger", "list", "--ledger", ledger, "--json")
    assert [(r["version"], r["status"]) for r in json.loads(listed.stdout)] == [
        (1, "superseded"),
        (2, "issued"),
    ]
    checked = run_cli("ledger", "check", "--ledger", ledger)
    assert checked.returncode == 0 and "链头哈希" in checked.stdout


def test_verify_reads_every_file_of_a_set_zip(tmp_path: Path, seed_raw: dict[str, Any]) -> None:
    ledger = _cli_ledger(tmp_path)
    contract_set = _set(seed_raw)
    with Ledger(ledger) as opened:
        opened.record(contract_set)
    archive = tmp_path / "set.zip"
    archive.write_bytes(set_zip(contract_set))
    result = run_cli("verify", archive, "--ledger", ledger, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    answers = json.loads(result.stdout)
    # Every file but the manifest, which describes the others (each checked here).
    assert len(answers) == len(contract_set.files()) - 1
    assert {a["verdict"] for a in answers} == {"current"}
    # A zip with one foreign member is not wholly issued here.
    buffer = io.BytesIO(archive.read_bytes())
    with zipfile.ZipFile(buffer, "a") as extra:
        extra.writestr("note.txt", "added later")
    archive.write_bytes(buffer.getvalue())
    assert run_cli("verify", archive, "--ledger", ledger).returncode == 1


def test_void_then_check_after_tampering_fails_naming_the_event(tmp_path: Path) -> None:
    ledger = _cli_ledger(tmp_path)
    made = run_cli(
        "render",
        SAMPLES / "seed.yaml",
        "-o",
        tmp_path / "o",
        "--format",
        "docx",
        "--issue",
        "--ledger",
        ledger,
    )
    assert made.returncode == 0, made.stderr
    number = Path(made.stdout.strip()).name
    assert (
        run_cli(
            "ledger", "void", number, "--version", "1", "--ledger", ledger, "--reason", " "
        ).returncode
        == 2
    )
    voided = run_cli(
        "ledger", "void", number, "--version", "1", "--reason", "重新招标", "--ledger", ledger
    )
    assert voided.returncode == 0, voided.stderr
    doc = next(Path(made.stdout.strip()).glob("01_*.docx"))
    assert run_cli("verify", doc, "--ledger", ledger).returncode == 3
    history = run_cli("ledger", "history", number, "--ledger", ledger)
    assert "作废第1版：重新招标" in history.stdout

    database = sqlite3.connect(tmp_path / "cli-ledger.sqlite3")
    database.execute("UPDATE events SET body = replace(body, '重新招标', '无') WHERE seq = 2")
    database.commit()
    database.close()
    broken = run_cli("ledger", "check", "--ledger", ledger)
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[0].startswith("事件 2：内容与其哈希不符")


def test_an_unreachable_ledger_fails_before_anything_is_written(tmp_path: Path) -> None:
    url = "postgresql+psycopg://clerk:s3cret@127.0.0.1:1/ledger"
    for command in (
        ("render", SAMPLES / "seed.yaml", "-o", tmp_path / "out"),
        ("batch", SAMPLES / "batch.xlsx", "-o", tmp_path / "out", "--format", "docx"),
    ):
        result = run_cli(*command, "--issue", "--ledger", url)
        assert result.returncode == 1, result.stderr
        assert "postgresql+psycopg://clerk:***@127.0.0.1:1/ledger" in result.stderr
        assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_set_that_could_not_be_written_is_not_recorded(tmp_path: Path) -> None:
    ledger = _cli_ledger(tmp_path)
    out = tmp_path / "out"
    (out / "11NMB2F042362026201").mkdir(parents=True)  # someone else's folder in its place
    (out / "11NMB2F042362026201" / "mine.txt").write_text("keep me")
    result = run_cli(
        "render",
        SAMPLES / "seed.yaml",
        "-o",
        out,
        "--format",
        "docx",
        "--issue",
        "--ledger",
        ledger,
    )
    assert result.returncode == 1
    assert (out / "11NMB2F042362026201" / "mine.txt").read_text() == "keep me"
    listed = run_cli("ledger", "list", "--ledger", ledger, "--json")
    assert json.loads(listed.stdout) == []


def test_batch_records_every_set_and_reports_it(tmp_path: Path) -> None:
    ledger = _cli_ledger(tmp_path)
    out = tmp_path / "out"
    # A round of drafts first: recorded nowhere, each row saying so.
    drafts = run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--format", "docx")
    assert drafts.returncode == 0, drafts.stderr
    assert "草稿：未登记到合同台账" in drafts.stderr
    report = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    assert {row["ledger"] for row in report["rows"]} == {"草稿（未签发）"}
    assert not (tmp_path / "cli-ledger.sqlite3").exists()
    # Issued: the drafts, up to date as they are, are made again and recorded.
    result = run_cli(
        "batch",
        SAMPLES / "batch.xlsx",
        "-o",
        out,
        "--format",
        "docx",
        "--issue",
        "--ledger",
        ledger,
    )
    report = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    made = [row for row in report["rows"] if row["status"] == "made"]
    assert len(made) == len(report["rows"]) == 5, result.stderr
    assert all("第 1 版已登记" in row["ledger"] for row in made)
    listed = json.loads(run_cli("ledger", "list", "--ledger", ledger, "--json").stdout)
    assert sorted(r["contract_no"] for r in listed) == sorted(row["contract_no"] for row in made)
    assert run_cli("ledger", "check", "--ledger", ledger).returncode == 0
    # Issued again: nothing to do.
    again = run_cli(
        "batch",
        SAMPLES / "batch.xlsx",
        "-o",
        out,
        "--format",
        "docx",
        "--issue",
        "--ledger",
        ledger,
    )
    assert again.returncode == 0, again.stderr
    rows = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))["rows"]
    assert {row["status"] for row in rows} == {"skipped"}


def test_the_default_ledger_is_in_the_user_s_data_folder(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CONTRACTGEN_LEDGER"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "generator", "render", str(SAMPLES / "seed.yaml"), "-o"]
    made = subprocess.run(
        [*command, str(tmp_path / "o"), "--format", "docx", "--issue"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "data" / "contractgen" / "ledger.sqlite3").is_file()
    skipped = subprocess.run(
        [*command, str(tmp_path / "o2"), "--format", "docx", "--no-ledger"],
        env={**env, "XDG_DATA_HOME": str(tmp_path / "other")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert skipped.returncode == 0, skipped.stderr
    assert not (tmp_path / "other").exists()


@pytest.fixture(scope="module")
def renditions(seed_raw: dict[str, Any]) -> tuple[Any, Any]:
    """Return the seed's set with PDFs, plain and PDF/A (one office, real conversions)."""
    from generator import Generator

    with Generator(workers=1, cached_sets=0) as generator:
        return generator.render(seed_raw), generator.render(seed_raw, pdfa=True)


def test_pdfa_is_another_rendition_of_the_same_version(
    url: str, renditions: tuple[Any, Any]
) -> None:
    plain, archival = renditions
    with Ledger(url) as ledger:
        assert ledger.record(plain).outcome == "new"
        added = ledger.record(archival)
        assert (added.version, added.outcome) == (1, "files_added")
        assert ledger.record(plain).outcome == "same"
        assert ledger.record(archival).outcome == "same"
        formats = sorted(f["format"] for f in ledger.show(plain.contract_no)["files"])
        assert formats.count("pdf") == formats.count("pdfa") == 5  # four documents and the bundle
        for made in (plain, archival):
            (match,) = ledger.find(_sha(made.documents[0].pdf))
            assert (match.version, match.status) == (1, "issued")
        assert ledger.check()[0] == []
