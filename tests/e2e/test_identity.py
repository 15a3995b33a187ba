"""The program identity: a round re-run after anything that makes the bytes changed is made again.

Run for real through the CLI. One byte of a built-in template changed in a second copy
of the program, and the same program reporting another LibreOffice version, each make
the set again (a batch never skips it as up to date) and record a new version in the
ledger; the same program on the same office skips it and records nothing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from generator.identity import identity
from generator.ledger import Ledger

from ..conftest import ROOT, SAMPLES
from ..wheels import tree


def _batch(program: Path, source: Path, out: Path, ledger: str, **env: str) -> dict[str, Any]:
    """Run ``contractgen batch`` of the program in ``program``; return its report."""
    args = ["batch", str(source), "-o", str(out), "--format", "docx", "--issue", "--ledger", ledger]
    done = subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        cwd=program,
        env={**os.environ, **env},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    return report


def _versions(ledger: str, number: str) -> list[tuple[int, str]]:
    with Ledger(ledger) as opened:
        return [(e["version"], e["action"]) for e in opened.history(number)]


def _change_one_template_byte(docx: Path) -> None:
    """Rewrite one character of the template's prose (the file stays a valid DOCX)."""
    parts = {}
    with zipfile.ZipFile(docx) as source:
        for info in source.infolist():
            parts[info.filename] = source.read(info)
    body = parts["word/document.xml"]
    assert "甲方".encode() in body
    parts["word/document.xml"] = body.replace("甲方".encode(), "甲方 ".encode(), 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    docx.write_bytes(buffer.getvalue())


@pytest.fixture
def round_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "round"
    folder.mkdir()
    shutil.copyfile(SAMPLES / "seed.yaml", folder / "seed.yaml")
    return folder


def test_a_changed_template_byte_makes_and_records_the_set_again(
    round_folder: Path, tmp_path: Path
) -> None:
    program = tree(tmp_path / "program", "generator", "templates")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    out = tmp_path / "out"
    first = _batch(program, round_folder, out, ledger)
    (row,) = first["rows"]
    number = row["contract_no"]
    manifest = json.loads((out / number / "manifest.json").read_text(encoding="utf-8"))
    made_by = manifest["generator"]
    assert manifest["generator_version"] == f"{made_by['version']}+{made_by['build']}"
    assert first["summary"]["generator_version"] == manifest["generator_version"]

    again = _batch(program, round_folder, out, ledger)
    assert [r["status"] for r in again["rows"]] == ["skipped"]
    assert _versions(ledger, number) == [(1, "issue")]

    _change_one_template_byte(program / "templates" / "om_service" / "service_contract.docx")
    changed = _batch(program, round_folder, out, ledger)
    assert [r["status"] for r in changed["rows"]] == ["made"]
    remade = json.loads((out / number / "manifest.json").read_text(encoding="utf-8"))
    assert remade["generator"]["kinds_sha256"] != made_by["kinds_sha256"]
    assert remade["generator"]["code_sha256"] == made_by["code_sha256"]
    assert remade["generator_version"] != manifest["generator_version"]
    assert _versions(ledger, number) == [(1, "issue"), (2, "issue")]
    with Ledger(ledger) as opened:
        assert opened.show(number)["generator_version"] == remade["generator_version"]


def test_another_reported_libreoffice_makes_and_records_the_set_again(
    round_folder: Path, tmp_path: Path
) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    out = tmp_path / "out"
    first = _batch(ROOT, round_folder, out, ledger)
    number = first["rows"][0]["contract_no"]
    here = identity()
    assert first["summary"]["generator"]["office"] == here.office
    assert here.office is not None and here.office.startswith("LibreOffice ")

    # The same office, reporting another build (as an upgraded package would).
    real = shutil.which("soffice")
    assert real is not None
    office = tmp_path / "soffice"
    office.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "LibreOffice 7.4.99.1 99(Build:1)"; exit 0; fi\n'
        f'exec {real} "$@"\n'
    )
    office.chmod(office.stat().st_mode | stat.S_IXUSR)
    upgraded = _batch(ROOT, round_folder, out, ledger, CONTRACTGEN_SOFFICE=str(office))
    assert [r["status"] for r in upgraded["rows"]] == ["made"]
    manifest = json.loads((out / number / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generator"]["office"] == "LibreOffice 7.4.99.1 99(Build:1)"
    assert manifest["generator"]["code_sha256"] == here.code_sha256
    assert manifest["generator_version"] != str(here)
    assert _versions(ledger, number) == [(1, "issue"), (2, "issue")]
    with Ledger(ledger) as opened:
        events = opened.history(number)
    assert [e["generator"] for e in events] == [str(here), manifest["generator_version"]]

    # and back on the real office: the first build again, recorded as a third version
    back = _batch(ROOT, round_folder, out, ledger)
    assert [r["status"] for r in back["rows"]] == ["made"]
    assert back["summary"]["generator_version"] == str(here)


def test_version_names_the_release_and_the_build() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "generator", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    here = identity()
    assert done.returncode == 0
    assert done.stdout.splitlines() == [f"contractgen {here.text()}", f"程序标识 {here}"]
    assert here.build in done.stdout and "构建" in done.stdout


def test_the_changelog_opens_with_the_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = [line for line in changelog.splitlines() if line.startswith("## ")]
    # what main holds beyond the release is listed first, under 未发布, then the release
    released = [h for h in headings if not h.startswith("## 未发布")]
    assert len(headings) - len(released) <= 1 and headings[: len(headings) - len(released)] == [
        h for h in headings[:1] if h.startswith("## 未发布")
    ]
    assert released, "CHANGELOG.md has no release heading"
    assert released[0].startswith(f"## {identity().version} ")
