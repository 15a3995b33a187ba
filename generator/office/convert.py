"""Turn DOCX into PDF with LibreOffice: the only module that runs ``soffice``.

:class:`ConverterPool` keeps one headless LibreOffice per worker alive and
feeds it documents over UNO, which is several times faster than starting
``soffice --convert-to`` for every file (see ``benchmarks/bench_convert.py``)::

    with ConverterPool() as pool:
        pool.convert(Path("合同.docx"), Path("合同.pdf"))
        pdf = pool.convert_bytes(docx_bytes, pdfa=True)

Each worker is two processes:

* ``soffice --headless --accept=pipe,...`` with a private profile directory
  (two offices sharing one profile serialise on it) and ``FONTCONFIG_FILE``
  pointing at ``generator/fonts/fonts.conf``, which shows it only the fonts the
  project declares (so fonts installed on the host change no byte) and maps
  宋体/黑体/仿宋… to the Noto CJK faces so that Song text stays serif;
* ``/usr/bin/python3 generator/_uno_worker.py PIPE``: a small bridge, because
  only Debian's interpreter has ``python3-uno``. It takes one JSON job per line
  on stdin and answers one JSON line on stdout.

A worker that hangs past the timeout or whose office dies is killed (whole
process group) and replaced, and the document is tried once more: never more
than twice, and never past the caller's ``deadline``.
:func:`convert_once` is the naive one-process-per-file way, kept as the
benchmark baseline.

No process outlives the one that started it, even killed with SIGKILL: the
office and the bridge each run under a *keeper* (:data:`_KEEPER`, a few lines
of Python), the leader of their process group, which waits for its command or
for our process to end (a pidfd of each, Linux 5.3+; polled otherwise) and in
the second case kills the whole group, soffice.bin included, which soffice
forks and which no parent-death signal would reach. :func:`die_with_parent`
does the same for a process of our own, e.g. a batch's worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from ..errors import ConversionError

_T = TypeVar("_T")

__all__ = [
    "FONTS_CONF",
    "ConverterPool",
    "convert_once",
    "die_with_parent",
    "find_soffice",
    "find_uno_python",
    "office_env",
]

FONTS_CONF = Path(__file__).resolve().parent.parent / "fonts" / "fonts.conf"
_BRIDGE_SCRIPT = Path(__file__).resolve().parent / "_uno_worker.py"

_SOFFICE_CANDIDATES = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/usr/local/bin/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)
# Import filters forced by extension: given random bytes
# named *.docx, LibreOffice's type detection falls back to importing them as plain
# text and "converts" the garbage into a PDF without complaint.
_IMPORT_FILTERS = {
    ".docx": "MS Word 2007 XML",
    ".doc": "MS Word 97",
    ".odt": "writer8",
    ".rtf": "Rich Text Format",
}
_TAIL_CHARS = 2000
# The office stays hidden, never offers document recovery or a start centre, and
# does not refuse to start because of a stale lock left in the profile.
_OFFICE_FLAGS = (
    "--headless",
    "--invisible",
    "--norestore",
    "--nologo",
    "--nodefault",
    "--nolockcheck",
)


#: Run as ``python -I -S -c _KEEPER PARENT_PID COMMAND...`` in a new session: run the
#: command in the keeper's process group with the keeper's stdin, stdout and stderr,
#: exit as it exits (a signal as 128 + its number), and kill the whole group as soon as
#: PARENT_PID, the process that started the keeper, is gone.
_KEEPER = """
import os, select, signal, subprocess, sys

def watch(pid):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None

parent = int(sys.argv[1])
parent_fd = watch(parent)
if os.getppid() != parent:
    os.killpg(0, signal.SIGKILL)
child = subprocess.Popen(sys.argv[2:])
# Only the command keeps the pipes open: its end is their end.
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
child_fd = watch(child.pid)
poller = select.poll()
for fd in (parent_fd, child_fd):
    if fd is not None:
        poller.register(fd, select.POLLIN)
wait_ms = None if parent_fd is not None and child_fd is not None else 200
while True:
    ready = [fd for fd, _ in poller.poll(wait_ms)]
    if parent_fd in ready or os.getppid() != parent:
        os.killpg(0, signal.SIGKILL)
    if child.poll() is not None:
        code = child.returncode
        os._exit(code if code >= 0 else 128 - code)
"""


def _kept(command: Sequence[str]) -> list[str]:
    """Return ``command`` run under a keeper that kills its process group when we die."""
    return [sys.executable, "-I", "-S", "-c", _KEEPER, str(os.getpid()), *command]


def _parent_gone(parent: int) -> None:
    """Block until process ``parent`` is no longer our parent, then SIGKILL this process."""
    try:
        watch: int | None = os.pidfd_open(parent)
    except OSError:
        watch = None
    while os.getppid() == parent:
        if watch is None:
            time.sleep(0.2)
        else:
            select.select([watch], [], [])
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent(parent: int | None = None) -> None:
    """Have this process killed as soon as ``parent`` (default: its parent now) ends.

    For processes we fork ourselves, such as a batch's workers: their offices
    follow them (see :data:`_KEEPER`). Call it in the child, first thing, with
    the pid the parent had before forking.
    """
    expected = os.getppid() if parent is None else parent
    watcher = threading.Thread(
        target=_parent_gone, args=(expected,), name="contractgen-parent-watch", daemon=True
    )
    watcher.start()


def find_soffice() -> str:
    """Return the LibreOffice executable: $CONTRACTGEN_SOFFICE, PATH, then known places."""
    override = os.environ.get("CONTRACTGEN_SOFFICE")
    if override:
        return override
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in _SOFFICE_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ConversionError(
        "LibreOffice not found: install libreoffice-writer-nogui or set CONTRACTGEN_SOFFICE"
    )


def find_uno_python() -> str:
    """Return the interpreter that can ``import uno``: $CONTRACTGEN_UNO_PYTHON or Debian's."""
    return os.environ.get("CONTRACTGEN_UNO_PYTHON") or "/usr/bin/python3"


def office_env(fonts_conf: Path | None = FONTS_CONF) -> dict[str, str]:
    """Return the environment for soffice: ours, with fontconfig read from ``fonts_conf`` only."""
    env = dict(os.environ)
    if fonts_conf is not None:
        env["FONTCONFIG_FILE"] = str(fonts_conf)
    return env


def _bridge_env() -> dict[str, str]:
    """Return the environment for the UNO bridge, free of our virtualenv's Python settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    # Paths in the JSON jobs may be Chinese whatever the locale; no __pycache__
    # written by a second interpreter into the package directory.
    env["PYTHONUTF8"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _check_pdf(path: Path) -> str | None:
    """Return why ``path`` is not a PDF, or None when it looks like one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(5)
    except FileNotFoundError:
        return "LibreOffice wrote no output file"
    except OSError as exc:
        return f"cannot read the output: {exc}"
    if head != b"%PDF-":
        return f"the output is not a PDF (starts with {head!r})"
    return None


def _staging(docx: bytes) -> Callable[[Path], Path]:
    """Return a job's stage step: the DOCX bytes written into the worker's folder."""

    def stage(folder: Path) -> Path:
        staged = folder / "job.docx"
        staged.write_bytes(docx)
        return staged

    return stage


def _tail(path: Path, chars: int = _TAIL_CHARS) -> str:
    """Return the last ``chars`` characters of a log file, or "" when there is none."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - chars * 4))
            return fh.read().decode("utf-8", "replace")[-chars:]
    except OSError:
        return ""


def _place(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest`` so that readers never see half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
    except OSError:
        # Different file systems (/tmp is often tmpfs): copy next to the target first.
        partial = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
        try:
            shutil.copyfile(src, partial)
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
            src.unlink(missing_ok=True)


def _exited(proc: subprocess.Popen[bytes]) -> int | None:
    """Return the exit status of ``proc`` if it has ended, without reaping it."""
    if proc.returncode is not None:
        return proc.returncode
    try:
        # WNOWAIT leaves the zombie in place so its pid (= process-group id) cannot be
        # reused before killpg() below has run.
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.poll()
    if info is None:
        return None
    if info.si_code == os.CLD_EXITED:
        return info.si_status
    return -info.si_status


def _kill_group(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL the process group led by ``proc`` and reap the leader."""
    if proc is None:
        return
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    """Return the pids of the children of ``pid`` (Linux /proc)."""
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                kids.extend(int(p) for p in text.split())
    return kids


def _descendants(pid: int) -> list[int]:
    """Return the pids of the children of ``pid``, their children and so on."""
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = _children(todo.pop())
        found.extend(kids)
        todo.extend(kids)
    return found


class _WorkerFailure(Exception):
    """A worker that hung, crashed or could not start: kill it and try another."""

    def __init__(self, message: str, returncode: int | None, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class _DocumentFailure(Exception):
    """A document LibreOffice refused while the worker stayed healthy."""


class _Worker:
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
        self.command: list[str] = [soffice, *_OFFICE_FLAGS]
        self.dir: Path | None = None
        self.office: subprocess.Popen[bytes] | None = None
        self.bridge: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self.jobs = 0

    @property
    def running(self) -> bool:
        """Tell whether both processes are up."""
        return (
            self.office is not None
            and self.bridge is not None
            and _exited(self.office) is None
            and _exited(self.bridge) is None
        )

    def office_pids(self) -> list[int]:
        """Return the pids of this worker's office: its keeper, the launcher and soffice.bin."""
        if self.office is None or self.office.returncode is not None:
            return []
        return [self.office.pid, *_descendants(self.office.pid)]

    def start(self, timeout: float | None = None) -> None:
        """Start soffice with a fresh profile and the bridge; wait until it is ready.

        ``timeout`` (default: the start-up timeout) bounds the wait.
        """
        self.stop(graceful=False)
        self.dir = Path(tempfile.mkdtemp(prefix=f"contractgen-lo{self.index}-", dir=self.workdir))
        pipe = f"contractgen_{os.getpid()}_{self.index}_{secrets.token_hex(6)}"
        self.command = [
            self.soffice,
            *_OFFICE_FLAGS,
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
            f"-env:UserInstallation={(self.dir / 'profile').as_uri()}",
        ]
        bridge_cmd = [self.uno_python, str(_BRIDGE_SCRIPT), pipe, str(self.startup_timeout)]
        for program in (self.soffice, self.uno_python):
            # The keeper starts them: tell a missing program here, as Popen would.
            if shutil.which(program) is None:
                self.stop(graceful=False)
                raise _WorkerFailure(
                    f"cannot start LibreOffice: no such program: {program}", None, ""
                )
        try:
            # Logs go to files, not pipes: nobody drains a pipe of a busy office, and
            # a full pipe would block it.
            with (self.dir / "office.log").open("wb") as log:
                # Own session: the office's process group can be killed as one, and
                # Ctrl-C in a terminal does not reach it before we shut it down.
                self.office = subprocess.Popen(
                    _kept(self.command),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=office_env(self.fonts_conf),
                    start_new_session=True,
                )
            with (self.dir / "bridge.log").open("wb") as log:
                self.bridge = subprocess.Popen(
                    _kept(bridge_cmd),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=_bridge_env(),
                    start_new_session=True,
                )
        except OSError as exc:
            self.stop(graceful=False)
            raise _WorkerFailure(f"cannot start LibreOffice: {exc}", None, "") from exc
        try:
            wait = self.startup_timeout if timeout is None else timeout
            answer = self._read_answer(time.monotonic() + wait, "starting up")
        except BaseException as exc:
            if not isinstance(exc, _WorkerFailure):
                self.stop(graceful=False)  # e.g. KeyboardInterrupt: leave nothing running
            raise
        if not answer.get("ready"):
            raise self.failure(f"LibreOffice did not start: {answer.get('error', answer)}")
        self.jobs = 0

    def convert(
        self,
        source: Path,
        target: Path,
        pdfa: bool,
        timeout: float,
        sections: Sequence[Mapping[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Have the office export ``source`` to ``target`` and return the bridge's answer.

        Raise a failure when it cannot.
        """
        assert self.bridge is not None and self.bridge.stdin is not None
        job: dict[str, Any] = {
            "in": str(source),
            "out": str(target),
            "pdfa": pdfa,
            "filter": _IMPORT_FILTERS.get(source.suffix.lower()),
        }
        if sections:
            job["sections"] = [dict(section) for section in sections]
        try:
            self.bridge.stdin.write(json.dumps(job).encode() + b"\n")
            self.bridge.stdin.flush()
        except OSError as exc:
            raise self.failure(f"the UNO bridge is gone ({exc})") from exc
        try:
            answer = self._read_answer(time.monotonic() + timeout, f"converting {source.name}")
        except BaseException as exc:
            if not isinstance(exc, _WorkerFailure):
                # Interrupted with the answer unread: the next job would read this
                # job's answer, so the worker cannot be reused.
                self.stop(graceful=False)
            raise
        self.jobs += 1
        if answer.get("ok"):
            return answer
        if answer.get("fatal"):
            raise self.failure(f"LibreOffice failed: {answer.get('error')}")
        raise _DocumentFailure(str(answer.get("error", answer)))

    def _read_answer(self, deadline: float, doing: str) -> dict[str, Any]:
        """Return the bridge's next JSON line, watching the office and the clock."""
        assert self.bridge is not None and self.bridge.stdout is not None
        fd = self.bridge.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.failure(f"LibreOffice timed out while {doing}")
            if not poller.poll(min(remaining, 0.5) * 1000):
                # The bridge notices a dead office only on its next call, and not at
                # all while the office is still starting: look ourselves.
                if self.office is not None and _exited(self.office) is not None:
                    raise self.failure(f"LibreOffice exited while {doing}")
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self.failure(f"the UNO bridge exited while {doing}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise self.failure(f"the UNO bridge said {line[:200]!r}") from exc
        return answer

    def failure(self, message: str) -> _WorkerFailure:
        """Return a failure carrying the office's exit status and both logs' tails."""
        code = _exited(self.office) if self.office is not None else None
        logs = ""
        if self.dir is not None:
            logs = _tail(self.dir / "office.log") + _tail(self.dir / "bridge.log")
        return _WorkerFailure(message, code, logs[-_TAIL_CHARS:])

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
        _kill_group(bridge)
        _kill_group(office)
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


class ConverterPool:
    """A thread-safe pool of persistent headless LibreOffice workers.

    Workers start lazily, one at a time as concurrent callers need them, and
    are stopped by :meth:`close` (or leaving the ``with`` block). ``timeout``
    bounds one conversion, ``startup_timeout`` one office start; each worker
    keeps its profile, logs and files in flight in a directory under
    ``workdir`` (default: the system temporary directory) and is restarted
    after ``recycle_after`` documents (None: never).
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = 60.0,
        startup_timeout: float = 60.0,
        soffice: str | None = None,
        uno_python: str | None = None,
        fonts_conf: Path | None = FONTS_CONF,
        workdir: Path | None = None,
        recycle_after: int | None = 1000,
    ) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise ValueError(f"workers must be at least 1, not {count}")
        self.size = count
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._soffice = soffice
        self._uno_python = uno_python
        self._fonts_conf = fonts_conf
        self._workdir = workdir
        self.recycle_after = recycle_after
        self._workers: list[_Worker] = []
        # LIFO: a caller gets the most recently used, already warm worker, so
        # sequential use never starts a second office.
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._stats = {"conversions": 0, "failures": 0, "retries": 0, "starts": 0}

    def __enter__(self) -> ConverterPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, int]:
        """Return counters: conversions, failures, retries (worker replaced) and starts."""
        with self._lock:
            return dict(self._stats)

    def office_pids(self) -> list[int]:
        """Return the pids of every running office process of the pool (launchers included)."""
        with self._lock:
            workers = list(self._workers)
        return [pid for worker in workers for pid in worker.office_pids()]

    def convert(
        self, docx: Path, pdf: Path, *, pdfa: bool = False, deadline: float | None = None
    ) -> None:
        """Convert the document at ``docx`` into ``pdf``; block until done.

        ``deadline`` (a :func:`time.monotonic` time) bounds the whole call, the
        wait for a worker and a retry included, here and in the other methods.
        """
        source = Path(docx)
        if not source.is_file():
            raise ConversionError(f"no such document: {source}")
        # The office reads a copy with a plain ASCII name in the worker's directory:
        # no .~lock file next to the caller's document and no file-name encoding issues.
        suffix = source.suffix.lower() or ".docx"

        def stage(folder: Path) -> Path:
            staged = folder / f"job{suffix}"
            shutil.copyfile(source, staged)
            return staged

        def finish(out: Path, _: dict[str, Any]) -> None:
            _place(out, Path(pdf))

        self._run(stage, finish, pdfa, str(source), deadline=deadline)

    def convert_bytes(
        self, docx: bytes, *, pdfa: bool = False, deadline: float | None = None
    ) -> bytes:
        """Return the PDF made from the DOCX document ``docx``."""

        def finish(out: Path, _: dict[str, Any]) -> bytes:
            try:
                return out.read_bytes()
            finally:
                out.unlink(missing_ok=True)

        label = f"<{len(docx)} bytes of DOCX>"
        return self._run(_staging(docx), finish, pdfa, label, deadline=deadline)

    def convert_sections(
        self,
        docx: bytes,
        sections: Sequence[Mapping[str, str]],
        *,
        pdfa: bool = False,
        deadline: float | None = None,
    ) -> tuple[bytes, list[int]]:
        """Return the PDF of a joined set (``generator/join.py``) and each section's page count.

        ``sections`` are the bridge's marks of each section: bookmarks named
        ``start`` and ``end``, placeholder text ``total``. The counts add up
        to the PDF's pages (blank pages inserted between sections are left out).
        """

        def finish(out: Path, answer: dict[str, Any]) -> tuple[bytes, list[int]]:
            try:
                pages = answer.get("pages")
                if not (
                    isinstance(pages, list)
                    and len(pages) == len(sections)
                    and all(isinstance(n, int) and n > 0 for n in pages)
                ):
                    raise _DocumentFailure(f"no page count for each section: {pages!r}")
                return out.read_bytes(), pages
            finally:
                out.unlink(missing_ok=True)

        label = f"<{len(docx)} bytes of DOCX in {len(sections)} sections>"
        return self._run(_staging(docx), finish, pdfa, label, sections, deadline=deadline)

    def _run(
        self,
        stage: Callable[[Path], Path],
        finish: Callable[[Path, dict[str, Any]], _T],
        pdfa: bool,
        label: str,
        sections: Sequence[Mapping[str, str]] | None = None,
        *,
        deadline: float | None = None,
    ) -> _T:
        """Convert on a worker, replacing a broken worker and retrying once, by ``deadline``."""
        worker = self._checkout(deadline, label)
        failed: _WorkerFailure | None = None
        try:
            for attempt in (1, 2):
                staged: Path | None = None
                left = self.timeout if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    # Out of time before (another) try: the caller has given up.
                    self._count("failures")
                    raise ConversionError(
                        f"LibreOffice could not convert {label} in the time given"
                        + (f": {failed}" if failed else ""),
                        command=worker.command,
                        returncode=None if failed is None else failed.returncode,
                        stderr="" if failed is None else failed.stderr,
                    )
                try:
                    if self.recycle_after and worker.jobs >= self.recycle_after:
                        # soffice.bin grows by ~0.1 MB per document after a ~300 MB
                        # plateau; a periodic fresh start bounds that.
                        worker.stop()
                    if not worker.running:
                        worker.start(min(self.startup_timeout, left))
                        self._count("starts")
                    assert worker.dir is not None
                    staged = stage(worker.dir)
                    out = worker.dir / "job.pdf"
                    out.unlink(missing_ok=True)
                    if deadline is not None:
                        left = deadline - time.monotonic()
                    timeout = min(self.timeout, left)
                    answer = worker.convert(staged, out, pdfa, timeout, sections)
                    problem = _check_pdf(out)
                    if problem:
                        raise _DocumentFailure(problem)
                    result = finish(out, answer)
                    self._count("conversions")
                    return result
                except _DocumentFailure as exc:
                    self._count("failures")
                    raise ConversionError(
                        f"LibreOffice could not convert {label}: {exc}",
                        command=worker.command,
                        stderr=worker.failure("").stderr,
                    ) from None
                except _WorkerFailure as exc:
                    worker.stop(graceful=False)
                    if attempt == 2 or self._closed:
                        self._count("failures")
                        raise ConversionError(
                            f"LibreOffice could not convert {label}: {exc}",
                            command=worker.command,
                            returncode=exc.returncode,
                            stderr=exc.stderr,
                        ) from None
                    failed = exc
                    self._count("retries")
                finally:
                    if staged is not None:
                        staged.unlink(missing_ok=True)
            raise AssertionError("unreachable")
        finally:
            self._checkin(worker)

    def _count(self, name: str) -> None:
        """Add one to a statistics counter."""
        with self._lock:
            self._stats[name] += 1

    def _checkout(self, deadline: float | None = None, label: str = "") -> _Worker:
        """Take an idle worker (waiting until ``deadline``), creating the slots on first use."""
        with self._lock:
            if self._closed:
                raise ConversionError("the converter pool is closed")
            if not self._workers:
                soffice = self._soffice or find_soffice()
                uno_python = self._uno_python or find_uno_python()
                for index in reversed(range(self.size)):
                    worker = _Worker(
                        index,
                        soffice,
                        uno_python,
                        self._fonts_conf,
                        self.startup_timeout,
                        self._workdir,
                    )
                    self._workers.append(worker)
                    self._idle.put(worker)
        try:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            worker = self._idle.get(timeout=wait)
        except queue.Empty:
            with self._lock:
                self._stats["failures"] += 1
            raise ConversionError(
                f"LibreOffice could not convert {label} in the time given: "
                f"all {self.size} workers stayed busy"
            ) from None
        if self._closed:
            # Closed while we waited: hand the worker back for close() (or the
            # next waiter) and refuse.
            self._idle.put(worker)
            raise ConversionError("the converter pool is closed")
        return worker

    def _checkin(self, worker: _Worker) -> None:
        """Return a worker to the pool, or stop it when the pool has closed meanwhile."""
        if self._closed:
            worker.stop()
        self._idle.put(worker)

    def close(self) -> None:
        """Stop every worker, waiting for conversions in progress; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._workers)
        deadline = time.monotonic() + self.timeout
        stopped: list[_Worker] = []
        while len(stopped) < len(workers):
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            worker.stop()
            stopped.append(worker)
        # Back in the queue so that callers still waiting for a worker wake up and
        # learn that the pool is closed.
        for worker in stopped:
            self._idle.put(worker)
        # Whatever is still busy after the timeout is killed where it stands.
        for worker in workers:
            _kill_group(worker.bridge)
            _kill_group(worker.office)

    def __del__(self) -> None:
        # A forgotten pool must not leave offices running after the interpreter exits.
        if not getattr(self, "_closed", True):
            with contextlib.suppress(Exception):
                self.close()


def convert_once(
    docx: Path,
    outdir: Path,
    *,
    timeout: float = 120.0,
    soffice: str | None = None,
    fonts_conf: Path | None = FONTS_CONF,
) -> Path:
    """Convert one document with a fresh ``soffice --convert-to pdf``; return the PDF path.

    The slow baseline for benchmarks and tests: one LibreOffice start per file.
    """
    source = Path(docx).resolve()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="contractgen-lo-once-") as tmp:
        import_filter = _IMPORT_FILTERS.get(source.suffix.lower())
        command = [
            soffice or find_soffice(),
            *_OFFICE_FLAGS,
            f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}",
            *([f"--infilter={import_filter}"] if import_filter else []),
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(outdir),
            str(source),
        ]
        if shutil.which(command[0]) is None:
            raise ConversionError(f"cannot run LibreOffice: no such program: {command[0]}")
        try:
            proc = subprocess.Popen(
                _kept(command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=office_env(fonts_conf),
                start_new_session=True,
            )
        except OSError as exc:
            raise ConversionError(f"cannot run LibreOffice: {exc}", command=command) from exc
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(
                f"LibreOffice timed out after {timeout} s converting {source}", command=command
            ) from exc
        finally:
            _kill_group(proc)  # soffice.bin too, whatever happened to its launcher
            if proc.stdout is not None:
                proc.stdout.close()
    target = outdir / f"{source.stem}.pdf"
    # soffice exits 0 even when the conversion failed: judge by the output.
    problem = _check_pdf(target)
    if proc.returncode != 0 or problem:
        raise ConversionError(
            f"LibreOffice could not convert {source}: {problem or 'non-zero exit'}",
            command=command,
            returncode=proc.returncode,
            stderr=output.decode("utf-8", "replace"),
        )
    return target
