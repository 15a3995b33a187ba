"""A set's files are on disk before its folder is put in place, their writeback started together.

Watched from outside with strace, on the real command: every file written into the
staging folder has its writeback started (``sync_file_range``), then each is flushed
(``fdatasync``), and only then is the folder renamed into place. All writebacks start
before the first flush waits: that is what lets the disk take them together.
"""

from __future__ import annotations

import codecs
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT

_TRACED = "openat,sync_file_range,fdatasync,rename,renameat,renameat2,close"
_CALL = re.compile(r"^(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+)")


def _calls(trace: Path) -> list[tuple[str, str, int]]:
    out = []
    for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
        found = _CALL.match(line)
        if found:
            out.append((found.group(2), found.group(3), int(found.group(4))))
    return out


def test_each_file_is_flushed_before_the_folder_is_in_place(tmp_path: Path) -> None:
    if shutil.which("strace") is None:
        pytest.fail("strace is not installed: bash tools/setup.sh installs it")
    trace, out = tmp_path / "trace.txt", tmp_path / "out"
    strace = ["strace", "-f", "-qq", "-o", str(trace), "-e", f"trace={_TRACED}"]
    command = [sys.executable, "-m", "generator", "render", str(ROOT / "samples" / "seed.yaml")]
    done = subprocess.run(
        [*strace, *command, "-o", str(out), "--format", "docx", "--no-ledger"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    written = sorted(p.name for p in folder.iterdir())
    assert len(written) >= 5  # the documents, the manifest

    calls = _calls(trace)
    fds: dict[int, str] = {}  # an open staged file's descriptor, by number
    started: list[str] = []
    flushed: list[str] = []
    first_flush = None
    renamed_at = None
    for at, (name, args, result) in enumerate(calls):
        if name == "openat" and "/.contractgen-" in args and "O_WRONLY" in args and result >= 0:
            path = args.split('"')[1]  # strace writes bytes past ASCII as octal escapes
            fds[result] = Path(codecs.escape_decode(path)[0].decode()).name
        elif name == "sync_file_range":
            fd = int(args.split(",")[0])
            if fd in fds:
                assert "SYNC_FILE_RANGE_WRITE" in args
                started.append(fds[fd])
        elif name == "fdatasync":
            fd = int(args.split(",")[0])
            if fd in fds:
                assert result == 0
                flushed.append(fds[fd])
                first_flush = at if first_flush is None else first_flush
        elif name == "close" and int(args) in fds:
            fds.pop(int(args))
        elif name.startswith("rename") and "/.contractgen-" in args and str(folder) in args:
            renamed_at = at
    assert sorted(started) == written
    assert sorted(flushed) == written
    assert renamed_at is not None and first_flush is not None
    # all started before the first wait; all flushed before the folder is in place
    starts = [at for at, (name, _, _) in enumerate(calls) if name == "sync_file_range"]
    assert max(starts) < first_flush
    flushes = [at for at, (name, _, _) in enumerate(calls) if name == "fdatasync"]
    assert max(flushes) < renamed_at
