"""Where the ledger file is: a mistyped path is never a new empty ledger, a read-only one is read.

``verify`` and ``ledger check`` with ``--ledger sqlite:////tmp/typo.sqlite3`` once
created an empty ledger and answered 未登记 / 完整; a ledger on a read-only path could
not be read; the file (bank accounts inside) was 0644.
"""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path
from typing import Any

from generator.ledger import Ledger

from ..conftest import SAMPLES, run_cli


def test_a_query_never_creates_a_ledger(tmp_path: Path) -> None:
    typo = tmp_path / "typo.sqlite3"
    url = f"sqlite:///{typo}"
    for args in (("ledger", "check"), ("verify", SAMPLES / "seed.yaml"), ("ledger", "list")):
        answer = run_cli(*args, "--ledger", url)
        assert answer.returncode != 0, answer
        assert "合同台账不存在" in answer.stderr, answer.stderr
        assert "Traceback" not in answer.stderr
    assert not typo.exists() and list(tmp_path.iterdir()) == []


def test_the_ledger_file_is_the_owner_s_alone_and_read_on_a_read_only_path(tmp_path: Path) -> None:
    folder = tmp_path / "mount"
    url = f"sqlite:///{folder / 'ledger.sqlite3'}"
    with Ledger(url):
        pass
    mode = stat.S_IMODE((folder / "ledger.sqlite3").stat().st_mode)
    assert mode == 0o600, oct(mode)
    for extra in folder.glob("ledger.sqlite3-*"):
        assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0, extra
    for path in folder.iterdir():
        path.chmod(0o400)
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root writes anywhere: nothing read-only to test
            return
        answer = run_cli("ledger", "check", "--ledger", url)
        assert answer.returncode == 0, answer.stderr
    finally:
        folder.chmod(0o700)


def test_a_damaged_ledger_or_another_file_is_said_plainly(
    tmp_path: Path, seed_data: dict[str, Any]
) -> None:
    from generator.kinds import parse
    from generator.pipeline import render_set

    other = tmp_path / "notes.sqlite3"
    other.write_bytes("这不是台账，是一份备忘录。".encode() * 200)
    damaged = tmp_path / "ledger.sqlite3"
    with Ledger(f"sqlite:///{damaged}") as ledger:
        for n in range(30):  # enough rows for pages in the middle of the file
            data = {**copy.deepcopy(seed_data), "contract_no": f"DAMAGE{n:03d}"}
            ledger.record(render_set(parse(data), formats=("docx",)))
    with open(damaged, "r+b") as fh:
        fh.seek(damaged.stat().st_size // 2)
        fh.write(b"\x07" * 8192)
    queries = [("ledger", "list"), ("ledger", "check")]
    for path, reason, asked in (
        (other, "该文件不是合同台账", [*queries, ("verify", SAMPLES / "seed.yaml")]),
        (damaged, "台账文件已损坏", queries),  # verify reads one index: it may not meet the damage
    ):
        url = f"sqlite:///{path}"
        for args in asked:
            answer = run_cli(*args, "--ledger", url)
            assert answer.returncode != 0, answer
            assert f"无法读取：{reason}" in answer.stderr and "[ledger.damaged]" in answer.stderr
            assert "Traceback" not in answer.stderr
