"""Hostile and clumsy batches (issue 11), run for real through the CLI on real files."""

from __future__ import annotations

import csv
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT, SAMPLES, run_cli
from ..hostile_files import (
    SHEET,
    XXE,
    contracts,
    declared,
    jsonl,
    many_rows,
    patched_workbook,
    with_dtd,
    zip_bomb,
)
from .test_batch_pdf import _descendants

#: what a hostile input may cost the batch process, at most
MEMORY_CAP = 3 << 30


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    return report


def _statuses(out: Path) -> dict[str, str]:
    return {r["contract_no"]: r["status"] for r in _report(out)["rows"]}


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _batch(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a batch for real with its memory capped, so a bomb cannot take the machine down."""
    return subprocess.run(
        [sys.executable, "-m", "generator", "batch", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        preexec_fn=_capped,
    )


def _start(source: Path, out: Path, workers: int = 2) -> subprocess.Popen[str]:
    command = ["batch", str(source), "-o", str(out), "--format", "docx", "--workers", str(workers)]
    return subprocess.Popen(
        [sys.executable, "-m", "generator", *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_progress(process: subprocess.Popen[str]) -> None:
    assert process.stderr is not None
    while True:
        line = process.stderr.readline()
        assert line, "the batch ended before making a contract"
        if line.startswith("["):
            return


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr


# --- 1. a batch removes only what it made -------------------------------------------------------


def test_users_hidden_folders_survive(tmp_path: Path) -> None:
    out = tmp_path / "out"
    mine = [out / ".emacs.d", out / ".git.old", out / ".config.d" / "sub", out / ".HT.1"]
    for folder in mine:
        folder.mkdir(parents=True)
        (folder / "keep.txt").write_text("mine")
    result = run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--format", "docx")
    assert result.returncode == 0, result.stderr
    assert all((folder / "keep.txt").read_text() == "mine" for folder in mine)


_STAGE = """
import sys
from pathlib import Path
from generator.pipeline import make_staging
folder, owner = make_staging(Path(sys.argv[1]))
(folder / "half-written.docx").write_bytes(b"PK")
print(folder.name, flush=True)
if sys.argv[2] == "live":
    sys.stdin.read()
"""


def _staging_of(out: Path, state: str) -> tuple[Path, subprocess.Popen[str]]:
    """Return a staging folder a real process left (``dead``) or is still writing (``live``)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _STAGE, str(out), state],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    name = process.stdout.readline().strip()
    assert name, "the staging process failed"
    if state == "dead":
        process.communicate(timeout=60)
        assert process.returncode == 0
    return out / name, process


def test_only_the_staging_of_a_dead_run_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead, _ = _staging_of(out, "dead")
    live, writer = _staging_of(out, "live")
    unrecorded = out / ".contractgen-0123456789abcdef"  # our name, but no owner record
    unrecorded.mkdir()
    try:
        result = run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--format", "docx")
        assert result.returncode == 0, result.stderr
        assert not dead.exists() and not dead.with_name(dead.name + ".owner").exists()
        assert (live / "half-written.docx").is_file()
        assert live.with_name(live.name + ".owner").is_file()
        assert unrecorded.is_dir()
    finally:
        writer.communicate("", timeout=60)
    # Once its writer is gone, the next run clears it.
    assert run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--format", "docx").returncode == 0
    assert not live.exists()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [unrecorded.name]


def test_two_batches_into_one_folder_both_finish(tmp_path: Path, seed: dict[str, Any]) -> None:
    out = tmp_path / "out"
    first = jsonl(tmp_path / "a.jsonl", contracts(seed, (f"HT{n:04d}" for n in range(120))))
    second = jsonl(tmp_path / "b.jsonl", contracts(seed, (f"HT{n:04d}" for n in range(60, 180))))
    one = _start(first, out)
    _first_progress(one)  # the first is writing: its staging folders are there
    two = _start(second, out)
    for process in (one, two):
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr and stdout.strip() == str(out / "batch-report.csv")
    report = _report(out)
    assert report["summary"]["rows"] == len(report["rows"]) == 120
    assert {r["status"] for r in report["rows"]} <= {"made", "skipped"}
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == [f"HT{n:04d}" for n in range(180)]
    for name in folders:
        manifest = json.loads((out / name / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["contract_no"] == name
        assert len(list((out / name).glob("*.docx"))) == 4
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_what_holds_a_contracts_place_is_kept(tmp_path: Path, seed: dict[str, Any]) -> None:
    out = tmp_path / "out"
    (out / "HT2").mkdir(parents=True)
    (out / "HT1").write_text("the user's notes")
    (out / "HT2" / "notes.txt").write_text("the user's folder")
    source = jsonl(tmp_path / "round.jsonl", contracts(seed, ["HT1", "HT2", "HT3"]))
    result = run_cli("batch", source, "-o", out, "--format", "docx")
    assert result.returncode == 1, result.stderr
    _no_traceback(result)
    rows = {r["contract_no"]: r for r in _report(out)["rows"]}
    assert rows["HT3"]["status"] == "made"
    for number in ("HT1", "HT2"):
        assert rows[number]["status"] == "failed"
        assert [e["code"] for e in rows[number]["errors"]] == ["output.exists"]
        assert "不予覆盖" in rows[number]["errors"][0]["message"]
    assert (out / "HT1").read_text() == "the user's notes"
    assert os.listdir(out / "HT2") == ["notes.txt"]


# --- 2. bombs -------------------------------------------------------------------------------------


def _refused_whole(
    result: subprocess.CompletedProcess[str], out: Path, code: str, *words: str
) -> None:
    assert result.returncode == 1, result.stderr
    _no_traceback(result)
    (row,) = _report(out)["rows"]
    assert row["status"] == "failed"
    (error,) = row["errors"]
    assert error["code"] == code
    assert all(word in f"{error['place']}: {error['message']}" for word in words), error
    assert all(word in result.stderr for word in words)


@pytest.mark.slow  # in the slow step of CI: the main suite stays under 15 minutes
def test_zip_bomb_is_refused_at_once(tmp_path: Path) -> None:
    book = zip_bomb(tmp_path / "bomb.xlsx", 1200 << 20)
    started = time.monotonic()
    result = _batch(book, "-o", tmp_path / "out", "--format", "docx")
    assert time.monotonic() - started < 30
    _refused_whole(result, tmp_path / "out", "input.limit", "bomb.xlsx", str(64 << 20))


def test_xxe_workbook_is_refused(tmp_path: Path, seed: dict[str, Any]) -> None:
    book = patched_workbook(
        tmp_path / "xxe.xlsx", contracts(seed, ["HT1"]), {SHEET: with_dtd(XXE, "&xxe;")}
    )
    result = _batch(book, "-o", tmp_path / "out", "--format", "docx")
    _refused_whole(result, tmp_path / "out", "input.file", "xxe.xlsx", SHEET, "DTD")
    assert "root:" not in (tmp_path / "out" / "batch-report.json").read_text()


def test_rows_padded_to_a_claimed_grid_are_refused(tmp_path: Path, seed: dict[str, Any]) -> None:
    # The 11.6 KB workbook: thousands of one-cell rows, a sheet claiming A1:XFD1048576,
    # each row padded to 16384 cells by a reader that trusts the claim.
    instalments = "xl/worksheets/sheet2.xml"
    pad = many_rows(30_000)
    book = patched_workbook(
        tmp_path / "claims.xlsx",
        contracts(seed, ["HT1", "HT2"]),
        {instalments: lambda data: pad(declared("A1:XFD1048576")(data))},
    )
    assert book.stat().st_size < 200_000
    result = _batch(book, "-o", tmp_path / "out", "--format", "docx", timeout=60)
    _refused_whole(result, tmp_path / "out", "input.limit", "claims.xlsx", "付款分期", "10000 行")


# --- 3. one bad row is one failed row -------------------------------------------------------------


def test_jsonl_rows_that_kill_a_parser_are_failed_rows(
    tmp_path: Path, seed: dict[str, Any]
) -> None:
    good = contracts(seed, ["HT1", "HT4"])
    source = jsonl(
        tmp_path / "round.jsonl",
        [
            good[0],
            "[" * 100_000 + "]" * 100_000,
            '{"contract_no": "HT3", "amount": ' + "9" * 5000 + "}",
            good[1],
        ],
    )
    out = tmp_path / "out"
    result = _batch(source, "-o", out, "--format", "docx")
    assert result.returncode == 1, result.stderr
    _no_traceback(result)
    rows = _report(out)["rows"]
    assert [(r["where"], r["status"]) for r in rows] == [
        ("第1行", "made"),
        ("第2行", "failed"),
        ("第3行", "failed"),
        ("第4行", "made"),
    ]


def test_a_killed_worker_costs_no_contract(tmp_path: Path, seed: dict[str, Any]) -> None:
    source = jsonl(tmp_path / "round.jsonl", contracts(seed, (f"HT{n:04d}" for n in range(200))))
    out = tmp_path / "out"
    process = _start(source, out)
    _first_progress(process)
    workers = [
        pid
        for pid in _descendants(process.pid)
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert workers, "no worker process under the batch"
    os.kill(workers[0], signal.SIGKILL)
    assert process.poll() is None, "the batch ended before the worker was killed"
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert set(_statuses(out).values()) == {"made"}
    assert len(_statuses(out)) == 200
    assert len([p for p in out.iterdir() if p.is_dir()]) == 200


# --- 4. formula injection, 5. small things -------------------------------------------------


def batch_of_numbers(
    tmp_path: Path, seed: dict[str, Any], numbers: list[str], out: Path
) -> subprocess.CompletedProcess[str]:
    """Run a DOCX batch of the seed under each contract number, into ``out``."""
    return run_cli(
        "batch",
        jsonl(tmp_path / "r.jsonl", contracts(seed, numbers)),
        "-o",
        out,
        "--format",
        "docx",
    )


def test_report_csv_neutralises_formulas(tmp_path: Path, seed: dict[str, Any]) -> None:
    numbers = ["=1+1", "@SUM(1+1)", "+86", "-5", "HT1"]
    out = tmp_path / "out"
    result = batch_of_numbers(tmp_path, seed, numbers, out)
    assert result.returncode == 0, result.stderr
    with open(out / "batch-report.csv", encoding="utf-8-sig", newline="") as fh:
        cells = [row[1] for row in list(csv.reader(fh))[1:]]
    assert cells == ["'=1+1", "'@SUM(1+1)", "'+86", "'-5", "HT1"]
    assert list(_statuses(out)) == numbers
    assert (out / "=1+1" / "manifest.json").is_file()
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("batch-report.csv", "batch-report.json"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask


def _usage(tmp_path: Path, case: str) -> list[str | Path]:
    book = str(SAMPLES / "batch.xlsx")
    out = tmp_path / "out"
    if case == "input missing":
        return [tmp_path / "nothing.xlsx", "-o", out]
    if case == "input a device":
        return ["/dev/zero", "-o", out]
    if case == "input of another kind":
        (tmp_path / "round.txt").write_text("HT1")
        return [tmp_path / "round.txt", "-o", out]
    if case == "output a file":
        out.write_text("a file")
        return [book, "-o", out]
    if case == "output a dangling link":
        out.symlink_to(tmp_path / "nowhere")
        return [book, "-o", out]
    if case == "output under a file":
        (tmp_path / "file").write_text("a file")
        return [book, "-o", tmp_path / "file" / "out"]
    if case == "no workers":
        return [book, "-o", out, "--workers", "0"]
    if case == "negative workers":
        return [book, "-o", out, "--workers", "-1"]
    assert case == "unknown format"
    return [book, "-o", out, "--format", "odt"]


@pytest.mark.parametrize(
    "case",
    [
        "input missing",
        "input a device",
        "input of another kind",
        "output a file",
        "output a dangling link",
        "output under a file",
        "no workers",
        "negative workers",
        "unknown format",
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, case: str) -> None:
    args = _usage(tmp_path, case)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli("batch", *args)
    assert result.returncode == 2, result.stderr
    _no_traceback(result)
    assert result.stderr.strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a usage error wrote something"


def test_contracts_named_like_the_report_are_refused(tmp_path: Path, seed: dict[str, Any]) -> None:
    numbers = ["batch-report.csv", "BATCH-REPORT.JSON", "HT1"]
    out = tmp_path / "out"
    result = batch_of_numbers(tmp_path, seed, numbers, out)
    assert result.returncode == 1, result.stderr
    _no_traceback(result)
    rows = {r["contract_no"]: r for r in _report(out)["rows"]}
    assert rows["HT1"]["status"] == "made"
    for number in numbers[:2]:
        assert [e["code"] for e in rows[number]["errors"]] == ["batch.reserved_name"]
    assert (out / "batch-report.csv").is_file() and (out / "batch-report.json").is_file()


def test_the_input_folder_as_output(tmp_path: Path, seed: dict[str, Any]) -> None:
    folder = tmp_path / "round"
    folder.mkdir()
    for row in contracts(seed, ["HT1", "HT2"]):
        (folder / f"{row['contract_no']}.json").write_text(json.dumps(row, ensure_ascii=False))
    for attempt in ("made", "skipped"):
        result = run_cli("batch", folder, "-o", folder, "--format", "docx")
        assert result.returncode == 0, result.stderr
        rows = _report(folder)["rows"]
        assert [(r["where"], r["status"]) for r in rows] == [
            ("HT1.json", attempt),
            ("HT2.json", attempt),
        ]
