"""The pool of persistent LibreOffice workers that turns DOCX into PDF.

:class:`ConverterPool` keeps one headless LibreOffice per worker (:mod:`.worker`)
alive and feeds it documents over UNO, which is several times faster than starting
``soffice --convert-to`` for every file (see ``benchmarks/bench_convert.py``)::

    with ConverterPool() as pool:
        pool.convert(Path("合同.docx"), Path("合同.pdf"))
        pdf = pool.convert_bytes(docx_bytes, pdfa=True)

A worker that hangs past the timeout or whose office dies is killed (whole process
group) and replaced, and the document is tried once more: never more than twice,
and never past the caller's ``deadline``. A document LibreOffice refuses is not
tried again: the worker stays, and the caller gets a :class:`ConversionError`.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from ..errors import ConversionError, UsageError
from .environment import FONTS_CONF, find_soffice, find_uno_python
from .files import check_pdf, copying, place, staging
from .processes import kill_group
from .worker import DocumentFailure, Worker, WorkerFailure

__all__ = ["ConverterPool"]

_T = TypeVar("_T")


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
            raise UsageError(f"workers must be at least 1, not {count}")
        self.size = count
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._soffice = soffice
        self._uno_python = uno_python
        self._fonts_conf = fonts_conf
        self._workdir = workdir
        self.recycle_after = recycle_after
        self._workers: list[Worker] = []
        # LIFO: a caller gets the most recently used, already warm worker, so
        # sequential use never starts a second office.
        self._idle: queue.LifoQueue[Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._waiting = 0
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

    @property
    def waiting(self) -> int:
        """Return how many callers wait for a worker (one that finds a worker idle: at once)."""
        with self._lock:
            return self._waiting

    @property
    def closed(self) -> bool:
        """Tell whether :meth:`close` has been called (it may still be waiting for workers)."""
        return self._closed

    def readiness(self) -> str | None:
        """Return why no document could be converted now, or None when one could.

        One could when an office runs, or when none does but LibreOffice and the bridge's
        interpreter are there to start one (offices start with the first document). Cheap
        enough for a readiness probe: nothing is converted and no office is started.
        """
        if self._closed:
            return "the converter pool is closed"
        with self._lock:
            workers = list(self._workers)
        if any(worker.running for worker in workers):
            return None
        try:
            soffice = self._soffice or find_soffice()
        except ConversionError as exc:
            return str(exc)
        for program in (soffice, self._uno_python or find_uno_python()):
            if not os.access(program, os.X_OK):
                return f"cannot run {program}"
        return None

    def office_pids(self) -> list[int]:
        """Return the pids of every running office process of the pool (launchers included)."""
        with self._lock:
            workers = list(self._workers)
        return [pid for worker in workers for pid in worker.office_pids()]

    def warm(self) -> None:
        """Start the office of an idle worker now, so that the first document finds it ready.

        A start that fails is left for the first conversion to try again and report.
        """
        worker = self._checkout(label="（预热）")
        try:
            if not worker.running:
                try:
                    worker.start(self.startup_timeout)
                except WorkerFailure:
                    worker.stop(graceful=False)
                    return
                self._count("starts")
        finally:
            self._checkin(worker)

    def convert(
        self, docx: Path, pdf: Path, *, pdfa: bool = False, deadline: float | None = None
    ) -> None:
        """Convert the document at ``docx`` into ``pdf``; block until done.

        ``deadline`` (a :func:`time.monotonic` time) bounds the whole call, the
        wait for a worker and a retry included, here and in the other methods.
        """
        source = Path(docx)
        if not source.is_file():
            raise ConversionError(f"找不到要转换的文档：{source}")

        def finish(out: Path, _: dict[str, Any]) -> None:
            place(out, Path(pdf))

        self._run(copying(source), finish, pdfa, f"“{source}”", deadline=deadline)

    def convert_bytes(
        self, docx: bytes, *, pdfa: bool = False, deadline: float | None = None
    ) -> bytes:
        """Return the PDF made from the DOCX document ``docx``."""

        def finish(out: Path, _: dict[str, Any]) -> bytes:
            try:
                return out.read_bytes()
            finally:
                out.unlink(missing_ok=True)

        label = f"（{len(docx)} 字节的 DOCX）"
        return self._run(staging(docx), finish, pdfa, label, deadline=deadline)

    def convert_sections(
        self,
        docx: bytes,
        sections: Sequence[Mapping[str, str]],
        *,
        pdfa: bool = False,
        deadline: float | None = None,
        hanging_off: bool = False,
    ) -> tuple[bytes, list[int]]:
        """Return the PDF of a set joined into one DOCX and each section's page count.

        ``sections`` are the bridge's marks of each section: bookmarks named
        ``start`` and ``end``, placeholder text ``total``. The counts add up
        to the PDF's pages (blank pages inserted between sections are left out).
        ``generator/docx/join.py`` makes such a set; ``hanging_off`` says that it
        turns hanging punctuation off itself (:attr:`Joined.hanging_off`).
        """

        def finish(out: Path, answer: dict[str, Any]) -> tuple[bytes, list[int]]:
            try:
                pages = answer.get("pages")
                if not (
                    isinstance(pages, list)
                    and len(pages) == len(sections)
                    and all(isinstance(n, int) and n > 0 for n in pages)
                ):
                    raise DocumentFailure(f"没有得到每一部分的页数：{pages!r}")
                return out.read_bytes(), pages
            finally:
                out.unlink(missing_ok=True)

        label = f"（{len(docx)} 字节、{len(sections)} 部分的合并 DOCX）"
        return self._run(
            staging(docx), finish, pdfa, label, sections, deadline=deadline, hanging_off=hanging_off
        )

    def _run(
        self,
        stage: Callable[[Path], Path],
        finish: Callable[[Path, dict[str, Any]], _T],
        pdfa: bool,
        label: str,
        sections: Sequence[Mapping[str, str]] | None = None,
        *,
        deadline: float | None = None,
        hanging_off: bool = False,
    ) -> _T:
        """Convert on a worker, replacing a broken worker and retrying once, by ``deadline``."""
        worker = self._checkout(deadline, label)
        failed: WorkerFailure | None = None
        try:
            for attempt in (1, 2):
                left = self.timeout if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    # Out of time before (another) try: the caller has given up.
                    self._count("failures")
                    raise ConversionError(
                        f"LibreOffice 未能在限定时间内转换{label}"
                        + (f"：{failed}" if failed else ""),
                        command=worker.command,
                        returncode=None if failed is None else failed.returncode,
                        stderr="" if failed is None else failed.stderr,
                    )
                try:
                    result = self._attempt(
                        worker, stage, finish, pdfa, (sections, hanging_off), left, deadline
                    )
                except DocumentFailure as exc:
                    self._count("failures")
                    raise ConversionError(
                        f"LibreOffice 未能转换{label}：{exc}",
                        command=worker.command,
                        stderr=worker.failure("").stderr,
                    ) from None
                except WorkerFailure as exc:
                    worker.stop(graceful=False)
                    if attempt == 2 or self._closed:
                        self._count("failures")
                        raise ConversionError(
                            f"LibreOffice 未能转换{label}：{exc}",
                            command=worker.command,
                            returncode=exc.returncode,
                            stderr=exc.stderr,
                        ) from None
                    failed = exc
                    self._count("retries")
                else:
                    self._count("conversions")
                    return result
            raise AssertionError("unreachable")
        finally:
            self._checkin(worker)

    def _attempt(
        self,
        worker: Worker,
        stage: Callable[[Path], Path],
        finish: Callable[[Path, dict[str, Any]], _T],
        pdfa: bool,
        job: tuple[Sequence[Mapping[str, str]] | None, bool],
        left: float,
        deadline: float | None,
    ) -> _T:
        """Convert once on ``worker``, starting its office first if need be, in ``left`` s.

        ``job``: the sections of a joined set, and whether it turns hanging punctuation off.

        Raise :class:`WorkerFailure` or :class:`DocumentFailure` when it cannot.
        """
        if self.recycle_after and worker.jobs >= self.recycle_after:
            # soffice.bin grows by ~0.1 MB per document after a ~300 MB plateau; a
            # periodic fresh start bounds that.
            worker.stop()
        if not worker.running:
            worker.start(min(self.startup_timeout, left))
            self._count("starts")
        assert worker.dir is not None
        staged = stage(worker.dir)
        try:
            out = worker.dir / "job.pdf"
            out.unlink(missing_ok=True)
            if deadline is not None:
                left = deadline - time.monotonic()
            sections, hanging_off = job
            answer = worker.convert(
                staged, out, pdfa, min(self.timeout, left), sections, hanging_off
            )
            problem = check_pdf(out)
            if problem:
                raise DocumentFailure(problem)
            return finish(out, answer)
        finally:
            staged.unlink(missing_ok=True)

    def _count(self, name: str) -> None:
        """Add one to a statistics counter."""
        with self._lock:
            self._stats[name] += 1

    def _checkout(self, deadline: float | None = None, label: str = "") -> Worker:
        """Take an idle worker (waiting until ``deadline``), creating the slots on first use."""
        with self._lock:
            if self._closed:
                raise ConversionError("转换进程池已关闭")
            if not self._workers:
                soffice = self._soffice or find_soffice()
                uno_python = self._uno_python or find_uno_python()
                for index in reversed(range(self.size)):
                    worker = Worker(
                        index,
                        soffice,
                        uno_python,
                        self._fonts_conf,
                        self.startup_timeout,
                        self._workdir,
                    )
                    self._workers.append(worker)
                    self._idle.put(worker)
            self._waiting += 1
        try:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            worker = self._idle.get(timeout=wait)
        except queue.Empty:
            with self._lock:
                self._stats["failures"] += 1
            raise ConversionError(
                f"LibreOffice 未能在限定时间内转换{label}：{self.size} 个转换进程一直都忙"
            ) from None
        finally:
            with self._lock:
                self._waiting -= 1
        if self._closed:
            # Closed while we waited: hand the worker back for close() (or the
            # next waiter) and refuse.
            self._idle.put(worker)
            raise ConversionError("转换进程池已关闭")
        return worker

    def _checkin(self, worker: Worker) -> None:
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
        stopped: list[Worker] = []
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
            kill_group(worker.bridge)
            kill_group(worker.office)

    def __del__(self) -> None:
        # A forgotten pool must not leave offices running after the interpreter exits.
        # Anything but a process or a folder already gone is reported as unraisable.
        if not getattr(self, "_closed", True):
            with contextlib.suppress(OSError):
                self.close()
