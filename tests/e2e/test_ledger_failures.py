"""When the ledger fails under a run, a set's folder and its record appear together or not at all.

Issue #23, item 9: with the disk under the ledger nearly full, a changed version's files
replaced the recorded folder although the ledger could not record them (it still said the
old version was current); with the ledger deleted in the middle of a batch, every row was
reported 已登记 into a file no one could read again, and the ledger came back empty.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import ROOT, SAMPLES


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _private_mounts() -> bool:
    """Return whether this host lets a process mount a tmpfs in a mount namespace of its own."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "tmpfs", "/mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


# The ledger on a 1 MiB tmpfs of its own, in a mount namespace that ends with the script: the
# first version is issued, the disk is then filled to its last pages, and a changed version
# is issued into the same folder.
_FULL_DISK = r"""
set -u
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$LEDGER_DIR"
"$PY" -m generator render "$DATA" -o "$OUT" --format docx --issue --ledger "$URL" || exit 10
cp -r "$OUT" "$BEFORE"
avail=$(df -k --output=avail "$LEDGER_DIR" | tail -1)
head -c $(( (avail - 40) * 1024 )) /dev/zero > "$LEDGER_DIR/filler"
"$PY" -c "$CHANGE"
"$PY" -m generator render "$DATA" -o "$OUT" --format docx --issue --ledger "$URL" 2> "$ERR"
echo $? > "$STATUS"
rm "$LEDGER_DIR/filler"
"$PY" -m generator ledger list --ledger "$URL" --json > "$LISTED"
"$PY" -m generator ledger check --ledger "$URL" > /dev/null 2>&1 || exit 11
"""

_CHANGE = (
    "import os, yaml; p = os.environ['DATA']; d = yaml.safe_load(open(p, encoding='utf-8'));"
    "d['project_name'] += '（变更）';"
    "yaml.safe_dump(d, open(p, 'w', encoding='utf-8'), allow_unicode=True)"
)


@pytest.mark.skipif(not _private_mounts(), reason="需要能在私有挂载命名空间中挂载 tmpfs")
def test_a_full_disk_under_the_ledger_leaves_the_recorded_folder_as_it_was(tmp_path: Path) -> None:
    data = tmp_path / "contract.yaml"
    shutil.copy(SAMPLES / "seed.yaml", data)
    (tmp_path / "ledger").mkdir()
    env = {
        **os.environ,
        "PY": sys.executable,
        "LEDGER_DIR": str(tmp_path / "ledger"),
        "URL": f"sqlite:///{tmp_path / 'ledger' / 'ledger.sqlite3'}",
        "DATA": str(data),
        "OUT": str(tmp_path / "out"),
        "BEFORE": str(tmp_path / "before"),
        "ERR": str(tmp_path / "stderr.txt"),
        "STATUS": str(tmp_path / "status"),
        "LISTED": str(tmp_path / "listed.json"),
        "CHANGE": _CHANGE,
    }
    script = ["unshare", "-m", "--propagation", "private", "bash", "-c", _FULL_DISK]
    done = subprocess.run(script, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    stderr = (tmp_path / "stderr.txt").read_text(encoding="utf-8")
    assert (tmp_path / "status").read_text().strip() == "1", stderr
    assert "台账所在的磁盘已满 [ledger.unreachable]" in stderr
    assert "Traceback" not in stderr and "database or disk" not in stderr
    # The recorded folder is the first version's, byte for byte; no staging left behind.
    number = str(yaml.safe_load(data.read_text(encoding="utf-8"))["contract_no"])
    assert _hashes(tmp_path / "out" / number) == _hashes(tmp_path / "before" / number)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [number]
    # And the ledger, whole, holds that version alone.
    listed = json.loads((tmp_path / "listed.json").read_text(encoding="utf-8"))
    assert [(row["version"], row["status"]) for row in listed] == [(1, "issued")]


def _batch_rows(count: int, tmp_path: Path) -> Path:
    """Write a JSONL round of ``count`` contracts made from the seed, each its own number."""
    seed: dict[str, Any] = yaml.safe_load((SAMPLES / "seed.yaml").read_text(encoding="utf-8"))
    rows = tmp_path / "round.jsonl"
    with rows.open("w", encoding="utf-8") as fh:
        for n in range(count):
            row = {**seed, "contract_no": f"XHCY-2026-YW-{n + 1:04d}"}
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return rows


def test_a_ledger_deleted_mid_batch_fails_the_rows_after_it(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger" / "ledger.sqlite3"
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "generator",
        "batch",
        _batch_rows(6, tmp_path),
        "-o",
        out,
        "--format",
        "pdf",  # a few tenths of a second a set: the rows after the first are still to come
        "--workers",
        "1",
        "--issue",
        "--ledger",
        f"sqlite:///{ledger}",
    ]
    batch = subprocess.Popen(
        [str(c) for c in command], cwd=ROOT, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    assert batch.stderr is not None
    said = []
    try:
        for line in batch.stderr:  # the first row recorded: the ledger is deleted
            said.append(line)
            if "已生成" in line:
                for name in ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"):
                    (ledger.parent / name).unlink(missing_ok=True)
                break
        said.extend(batch.stderr)
        status = batch.wait(timeout=600)
    finally:
        batch.kill()
        batch.wait()
        batch.stderr.close()
    stderr = "".join(said)
    assert status == 1, stderr
    report = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
    made = [row for row in report["rows"] if row["status"] == "made"]
    failed = [row for row in report["rows"] if row["status"] == "failed"]
    assert len(made) >= 1 and len(failed) >= 3, stderr
    assert len(made) + len(failed) == 6
    assert all("已登记" in row["ledger"] for row in made)
    for row in failed:
        assert [error["code"] for error in row["errors"]] == ["ledger.vanished"], row
        assert "已不是打开时的文件" in row["errors"][0]["message"]
        assert not (out / row["contract_no"]).exists()  # not recorded: no folder either
    assert {p.name for p in out.iterdir()} == {"batch-report.json", "batch-report.csv"} | {
        row["contract_no"] for row in made
    }
    assert not ledger.exists()  # never made again, empty, at the same path


def test_an_issue_without_the_key_creates_no_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger" / "ledger.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "CONTRACTGEN_LEDGER_KEY_FILE"}
    for command in ("render", "batch"):
        source = SAMPLES / ("seed.yaml" if command == "render" else "batch.xlsx")
        url, out = f"sqlite:///{ledger}", str(tmp_path / "out")
        result = subprocess.run(
            [
                *(sys.executable, "-m", "generator", command, str(source), "-o", out),
                *("--issue", "--format", "docx", "--ledger", url),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 1, result.stderr
        assert "[ledger.key_missing]" in result.stderr
        assert not ledger.exists(), command
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
