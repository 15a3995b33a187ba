"""No process outlives its parent: ``kill -9`` of a batch, a service or a Generator's process.

Every process a test starts carries a tag in its environment, which LibreOffice, the
bridges and the batch's worker processes inherit; after the parent is killed, no
process with the tag may stay alive (each found in ``/proc``, zombies excepted).
Each parent is killed while a conversion is under way: a ``job.docx`` in a worker's
folder (under the parent's ``TMPDIR``) means LibreOffice is busy with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT

TAG = "CONTRACTGEN_TEST_FAMILY"
#: seconds the family of a killed parent may take to go
GONE_WITHIN = 20.0


def tagged(tag: str) -> dict[int, str]:
    """Return pid -> command name of every living process whose environment has the tag."""
    needle = f"{TAG}={tag}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            found[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
    return found


class Family:
    """A parent process started with a tag, a private TMPDIR and a log."""

    def __init__(self, tmp: Path, command: list[str]) -> None:
        self.tag = secrets.token_hex(8)
        self.tmp = tmp / "tmp"
        self.tmp.mkdir()
        self.log = tmp / "parent.log"
        env = {**os.environ, TAG: self.tag, "TMPDIR": str(self.tmp)}
        env.pop("CONTRACTGEN_TOKEN", None)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )

    def members(self) -> dict[int, str]:
        """Return the living processes of the family, the parent excepted."""
        return {pid: name for pid, name in tagged(self.tag).items() if pid != self.proc.pid}

    def wait_converting(self, deadline: float = 120.0) -> dict[int, str]:
        """Return the family once an office runs and holds a job; fail past the deadline."""
        give_up = time.monotonic() + deadline
        while time.monotonic() < give_up:
            members = self.members()
            if "soffice.bin" in members.values() and any(self.tmp.glob("*/job.docx")):
                return members
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(
            f"no conversion under way (exit {self.proc.poll()}):\n{self.log.read_text()}"
        )

    def kill_parent_and_count(self) -> dict[int, str]:
        """SIGKILL the parent; return the family members still alive past the deadline."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        give_up = time.monotonic() + GONE_WITHIN
        left = self.members()
        while left and time.monotonic() < give_up:
            time.sleep(0.05)
            left = self.members()
        return left

    def close(self) -> None:
        """Kill whatever is left of the family (after a failed test)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in self.members():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def families() -> Iterator[list[Family]]:
    """Collect the families a test starts, and kill their leftovers afterwards."""
    started: list[Family] = []
    yield started
    for family in started:
        family.close()


def test_killed_batch_leaves_no_process(
    tmp_path: Path, families: list[Family], seed_data: dict[str, Any]
) -> None:
    rows = [
        json.dumps({**seed_data, "contract_no": f"KILL{n:04d}"}, ensure_ascii=False, default=str)
        for n in range(12)
    ]
    source = tmp_path / "contracts.jsonl"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    options = ("-o", str(tmp_path / "out"), "--format", "pdf", "--workers", "2")
    family = Family(tmp_path, [sys.executable, "-m", "generator", "batch", str(source), *options])
    families.append(family)
    running = family.wait_converting()
    assert list(running.values()).count("soffice.bin") >= 1, running
    assert family.kill_parent_and_count() == {}


def test_service_killed_mid_conversion_leaves_no_process(
    tmp_path: Path, families: list[Family], seed_data: dict[str, Any]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    family = Family(
        tmp_path,
        [sys.executable, "-m", "generator", "serve", "--port", str(port), "--workers", "1"],
    )
    families.append(family)
    body = json.dumps(seed_data, ensure_ascii=False, default=str).encode()
    request = (
        "POST /v1/contracts?issue=false HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    give_up = time.monotonic() + 60
    while True:
        try:
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            assert family.proc.poll() is None, family.log.read_text()
            assert time.monotonic() < give_up, family.log.read_text()
            time.sleep(0.05)
    with client:
        client.sendall(request)
        family.wait_converting()
        assert family.kill_parent_and_count() == {}


#: a library user's process: a Generator converting a long document again and again
GENERATOR_SCRIPT = """
import io, sys
from docx import Document
from generator import Generator

doc = Document()
line = "本合同一式贰份，甲乙双方各执壹份，具有同等法律效力，自双方签字盖章之日起生效。" * 3
for i in range(400):
    doc.add_paragraph(f"{i}. {line}")
buffer = io.BytesIO()
doc.save(buffer)
with Generator(workers=2, timeout=600) as generator:
    while True:
        generator.converter.convert_bytes(buffer.getvalue())
"""


def test_killed_generator_process_leaves_no_process(tmp_path: Path, families: list[Family]) -> None:
    family = Family(tmp_path, [sys.executable, "-c", GENERATOR_SCRIPT])
    families.append(family)
    running = family.wait_converting()
    assert "soffice.bin" in running.values()
    assert family.kill_parent_and_count() == {}
