"""Batch with PDF: a killed LibreOffice loses no contract; Ctrl-C leaves only whole folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT
from .test_batch import _rows


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _offices(pid: int | None = None) -> list[int]:
    """Return the LibreOffice processes under ``pid``, or on the whole machine."""
    pids = (
        _descendants(pid)
        if pid
        else [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    )
    offices = []
    for child in pids:
        try:
            name = Path(f"/proc/{child}/comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("soffice"):
            offices.append(child)
    return offices


def _start(source: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "batch", str(source), "-o", str(out), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_progress(process: subprocess.Popen[str], lines: int) -> list[str]:
    assert process.stderr is not None
    seen: list[str] = []
    while len([s for s in seen if s.startswith("[")]) < lines:
        line = process.stderr.readline()
        assert line, "batch ended before the expected progress: " + "".join(seen)
        seen.append(line)
    return seen


def _jsonl(tmp_path: Path, seed: dict[str, Any], count: int) -> Path:
    source = tmp_path / "round.jsonl"
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows(seed, count)), "utf-8"
    )
    return source


def _whole(folder: Path) -> bool:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = [doc[f]["file"] for doc in manifest["documents"] for f in ("docx", "pdf")]
    return all((folder / name).is_file() for name in [*files, manifest["bundle"]["file"]])


@pytest.mark.slow
def test_killed_office_loses_no_contract(tmp_path: Path, seed_data: dict[str, Any]) -> None:
    before = set(_offices())
    out = tmp_path / "out"
    process = _start(_jsonl(tmp_path, seed_data, 6), out)
    _wait_for_progress(process, 1)
    offices = _offices(process.pid)
    assert offices, "no LibreOffice worker found under the batch process"
    for pid in offices:
        os.kill(pid, signal.SIGKILL)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    rows = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))["rows"]
    assert [r["status"] for r in rows] == ["made"] * 6
    assert all(_whole(Path(r["folder"])) for r in rows)
    _assert_no_new_offices(before)


def _assert_no_new_offices(before: set[int]) -> None:
    deadline = time.monotonic() + 10
    while set(_offices()) - before and time.monotonic() < deadline:
        time.sleep(0.2)  # a killed office's orphans are reaped asynchronously
    assert not set(_offices()) - before, "LibreOffice processes left behind"


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_leaves_whole_folders_and_a_report(
    tmp_path: Path, seed_data: dict[str, Any], stop: signal.Signals
) -> None:
    # SIGTERM is how a supervisor (systemd, a container's stop) ends a round: the same end
    before = set(_offices())
    out = tmp_path / "out"
    process = _start(_jsonl(tmp_path, seed_data, 16), out)
    _wait_for_progress(process, 1)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    report = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    statuses = [r["status"] for r in report["rows"]]
    assert report["summary"]["interrupted"] is True
    assert "made" in statuses and set(statuses) <= {"made", "interrupted", "not_started"}
    assert statuses.count("made") < 16
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert not [p for p in folders if p.name.startswith(".")], "a partial folder was left"
    made = {r["contract_no"] for r in report["rows"] if r["status"] == "made"}
    assert {p.name for p in folders} == made
    assert all(_whole(p) for p in folders)
    _assert_no_new_offices(before)


def test_a_row_the_pdf_stage_refuses_is_one_failed_row(
    tmp_path: Path, seed_data: dict[str, Any]
) -> None:
    # A seal keyword in free text: the PDF stage's SealPlacementError (or validation, once it
    # refuses such text) fails this row alone; the error once broke the whole worker pool.
    rows = _rows(seed_data, 2)
    rows[1]["other_terms"] = "本合同经甲方（盖章）后生效。"
    source = tmp_path / "round.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "batch", str(source), "-o", str(out), "--workers", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in report["rows"]] == ["made", "failed"]
    assert "甲方（盖章）" in report["rows"][1]["errors"][0]["message"]
    assert _whole(Path(report["rows"][0]["folder"]))
