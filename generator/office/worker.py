"""One worker: a headless LibreOffice and the UNO bridge that drives it.

A worker is two processes, each under a keeper (:mod:`.processes`) in its own
process group:

* ``soffice --headless --accept=pipe,...`` with a private profile directory (two
  offices sharing one profile serialise on it) and fontconfig restricted to the
  project's fonts (:func:`.environment.office_env`);
* ``/usr/bin/python3 generator/office/_uno_worker.py PIPE``: a small bridge, because
  only Debian's interpreter has ``python3-uno``. It takes one JSON job per line on
  stdin and answers one JSON line on stdout.

Both write their logs into the worker's folder, which also holds the profile and
the files in flight; :meth:`Worker.stop` removes it. A worker knows nothing of
retries or of other workers: it raises :class:`WorkerFailure` when it is broken
(hung, crashed, could not start) and :class:`DocumentFailure` when only the
document was refused, and the pool (:mod:`.pool`) decides what follows.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .environment import BRIDGE_SCRIPT, IMPORT_FILTERS, OFFICE_FLAGS, bridge_env, office_env
from .files import TAIL_CHARS, tail
from .processes import descendants, exited, kept, kill_group

__all__ = ["DocumentFailure", "Worker", "WorkerFailure"]


class WorkerFailure(Exception):
    """A worker that hung, crashed or could not start: kill it and try another."""

    def __init__(self, message: str, returncode: int | None, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class DocumentFailure(Exception):
    """A document LibreOffice refused while the worker stayed healthy."""


class Worker:
    """One soffice process and the UNO bridge that drives it."""

    def __init__(
        self,
        index: int,
        soffice: str,
        uno_python: str,
        fonts_conf: Path | None,
        startup_timeout: float,
        workdir: Path | None,
    ) -> None:
        self.index = index
        self.workdir = workdir
        self.soffice = soffice
        self.uno_python = uno_python
        self.fonts_conf = fonts_conf
        self.startup_timeout = startup_timeout
        self.command: list[str] = [soffice, *OFFICE_FLAGS]
        self.dir: Path | None = None
        self.office: subprocess.Popen[bytes] | None = None
        self.bridge: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self.jobs = 0
        #: what the bridge turned off in the office, as read back (``_uno_worker.quiet``)
        self.settings: dict[str, Any] = {}

    @property
    def running(self) -> bool:
        """Tell whether both processes are up."""
        return (
            self.office is not None
            and self.bridge is not None
            and exited(self.office) is None
            and exited(self.bridge) is None
        )

    def office_pids(self) -> list[int]:
        """Return the pids of this worker's office: its keeper, the launcher and soffice.bin."""
        if self.office is None or self.office.returncode is not None:
            return []
        return [self.office.pid, *descendants(self.office.pid)]

    def start(self, timeout: float | None = None) -> None:
        """Start soffice with a fresh profile and the bridge; wait until it is ready.

        ``timeout`` (default: the start-up timeout) bounds the wait.
        """
        self.stop(graceful=False)
        self.dir = Path(tempfile.mkdtemp(prefix=f"contractgen-lo{self.index}-", dir=self.workdir))
        pipe = f"contractgen_{os.getpid()}_{self.index}_{secrets.token_hex(6)}"
        self.command = [
            self.soffice,
            *OFFICE_FLAGS,
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
            f"-env:UserInstallation={(self.dir / 'profile').as_uri()}",
        ]
        self._launch([self.uno_python, str(BRIDGE_SCRIPT), pipe, str(self.startup_timeout)])
        try:
            wait = self.startup_timeout if timeout is None else timeout
            answer = self._read_answer(time.monotonic() + wait, "启动")
        except BaseException as exc:
            if not isinstance(exc, WorkerFailure):
                self.stop(graceful=False)  # e.g. KeyboardInterrupt: leave nothing running
            raise
        if not answer.get("ready"):
            raise self.failure(f"LibreOffice 未能启动：{answer.get('error', answer)}")
        self.settings = answer.get("settings", {})
        self.jobs = 0

    def _launch(self, bridge_cmd: list[str]) -> None:
        """Start the office (:attr:`command`) and the bridge, each under a keeper."""
        assert self.dir is not None
        for program in (self.soffice, self.uno_python):
            # The keeper starts them: tell a missing program here, as Popen would.
            if shutil.which(program) is None:
                self.stop(graceful=False)
                raise WorkerFailure(f"无法启动 LibreOffice：找不到程序 {program}", None, "")
        try:
            # Logs go to files, not pipes: nobody drains a pipe of a busy office, and
            # a full pipe would block it.
            with (self.dir / "office.log").open("wb") as log:
                # Own session: the office's process group can be killed as one, and
                # Ctrl-C in a terminal does not reach it before we shut it down.
                self.office = subprocess.Popen(
                    kept(self.command),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=office_env(self.fonts_conf),
                    start_new_session=True,
                )
            with (self.dir / "bridge.log").open("wb") as log:
                self.bridge = subprocess.Popen(
                    kept(bridge_cmd),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=bridge_env(),
                    start_new_session=True,
                )
        except OSError as exc:
            self.stop(graceful=False)
            raise WorkerFailure(f"无法启动 LibreOffice：{exc}", None, "") from exc

    def convert(
        self,
        source: Path,
        target: Path,
        pdfa: bool,
        timeout: float,
        sections: Sequence[Mapping[str, str]] | None = None,
        hanging_off: bool = False,
    ) -> dict[str, Any]:
        """Have the office export ``source`` to ``target`` and return the bridge's answer.

        ``hanging_off``: the document turns hanging punctuation off itself (a joined
        set, ``generator/docx/join.py``). Raise a failure when it cannot.
        """
        assert self.bridge is not None and self.bridge.stdin is not None
        job: dict[str, Any] = {
            "in": str(source),
            "out": str(target),
            "pdfa": pdfa,
            "filter": IMPORT_FILTERS.get(source.suffix.lower()),
        }
        if sections:
            job["sections"] = [dict(section) for section in sections]
        if hanging_off:
            job["hanging_off"] = True
        try:
            self.bridge.stdin.write(json.dumps(job).encode() + b"\n")
            self.bridge.stdin.flush()
        except OSError as exc:
            raise self.failure(f"UNO 桥接进程已退出（{exc}）") from exc
        try:
            answer = self._read_answer(time.monotonic() + timeout, f"转换 {source.name} ")
        except BaseException as exc:
            if not isinstance(exc, WorkerFailure):
                # Interrupted with the answer unread: the next job would read this
                # job's answer, so the worker cannot be reused.
                self.stop(graceful=False)
            raise
        self.jobs += 1
        if answer.get("ok"):
            return answer
        if answer.get("fatal"):
            raise self.failure(f"LibreOffice 出错：{answer.get('error')}")
        raise DocumentFailure(str(answer.get("error", answer)))

    def _read_answer(self, deadline: float, doing: str) -> dict[str, Any]:
        """Return the bridge's next JSON line, watching the office and the clock."""
        assert self.bridge is not None and self.bridge.stdout is not None
        fd = self.bridge.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.failure(f"LibreOffice {doing}超时")
            if not poller.poll(min(remaining, 0.5) * 1000):
                # The bridge notices a dead office only on its next call, and not at
                # all while the office is still starting: look ourselves.
                if self.office is not None and exited(self.office) is not None:
                    raise self.failure(f"LibreOffice {doing}时退出")
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self.failure(f"UNO 桥接进程在 LibreOffice {doing}时退出")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise self.failure(f"UNO 桥接进程的回答无法读取：{line[:200]!r}") from exc
        return answer

    def failure(self, message: str) -> WorkerFailure:
        """Return a failure carrying the office's exit status and both logs' tails."""
        code = exited(self.office) if self.office is not None else None
        logs = ""
        if self.dir is not None:
            logs = tail(self.dir / "office.log") + tail(self.dir / "bridge.log")
        return WorkerFailure(message, code, logs[-TAIL_CHARS:])

    def stop(self, graceful: bool = True) -> None:
        """Stop both processes (politely first if asked) and delete the profile."""
        bridge, office = self.bridge, self.office
        if graceful and bridge is not None and bridge.stdin is not None and self.running:
            # End of stdin makes the bridge call Desktop.terminate(): the office
            # exits and its launcher reaps it, leaving no orphan behind.
            with contextlib.suppress(OSError):
                bridge.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                if office is not None:
                    office.wait(timeout=5)
        kill_group(bridge)
        kill_group(office)
        for proc in (bridge, office):
            if proc is None:
                continue
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self.bridge = self.office = None
        self._buffer = b""
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
