"""Publication from the command line and a round, with the ledger: the same bytes everywhere.

``contractgen publish`` and ``contractgen batch --publish`` give the bytes the
library's ``publish`` gives for the same data and date; the ledger records the
publication with its version, lists what is due, and verify knows a public copy.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from generator import Generator, load_data
from generator.publication import publish

from ..conftest import SAMPLES, run_cli

DAY = "2026-01-19"  # the seed is signed 2026-01-16 (a Friday): due Tuesday 2026-01-20
NUMBER = "11NMB2F042362026201"
PUBLIC = f"{NUMBER}（公开）"


@pytest.fixture(scope="module")
def library_files() -> dict[str, bytes]:
    import datetime as dt

    with Generator(workers=2, cached_sets=0) as generator:
        made = publish(
            generator, load_data(SAMPLES / "seed.yaml"), published_on=dt.date.fromisoformat(DAY)
        )
    return made.files()


def _ledger(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


def _folder_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_publish_refuses_what_the_ledger_has_not_issued_before_making_anything(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    result = run_cli("publish", SAMPLES / "seed.yaml", "-o", out, "--ledger", _ledger(tmp_path))
    assert result.returncode == 1
    assert "ledger.not_found" in result.stderr and "contractgen render" in result.stderr
    assert not out.exists()


def test_publish_without_a_project_number_names_the_field(tmp_path: Path) -> None:
    data = dict(load_data(SAMPLES / "seed.yaml"))
    del data["publication"]
    source = tmp_path / "no_project.json"
    source.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    result = run_cli("publish", source, "-o", tmp_path / "out", "--no-ledger")
    assert result.returncode == 1
    assert "publication.project_no" in result.stderr and "项目编号" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # in the slow step of CI: the main suite stays under 15 minutes
def test_render_then_publish_records_it_and_verify_knows_the_public_copy(
    tmp_path: Path, library_files: dict[str, bytes]
) -> None:
    ledger = _ledger(tmp_path)
    out = tmp_path / "out"
    # A draft is never due; the set issued is.
    draft = run_cli("render", SAMPLES / "seed.yaml", "-o", out, "--ledger", ledger)
    assert draft.returncode == 0 and "草稿" in draft.stderr
    unissued = run_cli("publish", SAMPLES / "seed.yaml", "-o", out, "--ledger", ledger)
    assert unissued.returncode != 0 and not (out / PUBLIC).exists()
    made = run_cli("render", SAMPLES / "seed.yaml", "-o", out, "--issue", "--ledger", ledger)
    assert made.returncode == 0, made.stderr

    due = run_cli("ledger", "due", "--ledger", ledger, "--on", "2026-01-21", "--json")
    (row,) = json.loads(due.stdout)
    assert (row["contract_no"], row["due_date"], row["overdue"]) == (NUMBER, "2026-01-20", True)

    published = run_cli(
        "publish", SAMPLES / "seed.yaml", "-o", out, "--ledger", ledger, "--published-on", DAY
    )
    assert published.returncode == 0, published.stderr
    assert "应于 2026-01-20 前公告" in published.stderr and "已登记公开" in published.stderr
    folder = Path(published.stdout.strip())
    assert folder == out / PUBLIC
    assert _folder_files(folder) == library_files  # the library's bytes, file for file

    assert json.loads(run_cli("ledger", "due", "--ledger", ledger, "--json").stdout) == []
    for name in ("00_合同公告.pdf", "01_运维服务合同（公开文本）.pdf", "notice.json"):
        verified = run_cli("verify", folder / name, "--ledger", ledger, "--json")
        assert verified.returncode == 0, verified.stdout
        (answer,) = json.loads(verified.stdout)
        assert answer["matches"][0]["kind"] in {"notice", "public:service_contract"}
    shown = json.loads(run_cli("ledger", "show", NUMBER, "--ledger", ledger, "--json").stdout)
    assert shown["published_on"] == DAY
    again = run_cli(
        "publish", SAMPLES / "seed.yaml", "-o", out, "--ledger", ledger, "--published-on", DAY
    )
    assert again.returncode == 0 and "与已登记的相同" in again.stderr
    history = run_cli("ledger", "history", NUMBER, "--ledger", ledger)
    assert [line.split("\t")[3] for line in history.stdout.splitlines()] == [
        "登记第1版",
        "公告第1版",
    ]
    assert run_cli("ledger", "check", "--ledger", ledger).returncode == 0

    # The publication date is part of the record: changed in the table, the check says so.
    database = sqlite3.connect(tmp_path / "ledger.sqlite3")
    database.execute("UPDATE sets SET published_on = '2026-01-18'")
    database.commit()
    database.close()
    broken = run_cli("ledger", "check", "--ledger", ledger)
    assert broken.returncode == 1 and "published_on" in broken.stderr


def test_a_round_publishes_the_same_bytes(tmp_path: Path, library_files: dict[str, bytes]) -> None:
    # The cross-year sample is signed 2026-06-20: not publishable on DAY, its row alone fails.
    out = tmp_path / "round"
    result = run_cli(
        "batch",
        SAMPLES / "batch.xlsx",
        "-o",
        out,
        "--publish",
        "--published-on",
        DAY,
        "--issue",
        "--ledger",
        _ledger(tmp_path),
    )
    assert result.returncode == 1
    report: dict[str, Any] = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    late = next(r for r in report["rows"] if r["contract_no"] == "11NMB2F051882026307")
    assert late["status"] == "failed" and late["errors"][0]["code"] == "publication.before_signing"
    assert not (out / "11NMB2F051882026307").exists()  # refused before anything was made
    assert _folder_files(out / PUBLIC) == library_files
    seed_row = next(r for r in report["rows"] if r["contract_no"] == NUMBER)
    assert "公告截止 2026-01-20" in seed_row["ledger"] and "已登记公开" in seed_row["ledger"]
    # A second run finds every set and publication in place (the late row fails again).
    again = run_cli(
        "batch",
        SAMPLES / "batch.xlsx",
        "-o",
        out,
        "--publish",
        "--published-on",
        DAY,
        "--no-ledger",
    )
    assert again.returncode == 1
    second = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    assert sorted(r["status"] for r in second["rows"]) == ["failed"] + ["skipped"] * 4
