"""Make every contract of a procurement round: validate all rows first, then generate.

One bad row never costs the good ones; each contract's folder appears whole
or not at all; a second run skips what is already made from the same input
and regenerates what changed; Ctrl-C stops cleanly with a report of what was
done. Nothing is kept per contract beyond its report line, so memory stays
flat however long the batch.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing.util
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    InvalidStateError,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, cast

from ..errors import (
    InputError,
    InputTooLargeError,
    InvalidContractError,
    Issue,
    LedgerError,
    OutputConflictError,
    UsageError,
    unrenderable,
)
from ..identity import identity
from ..inputs import BATCH_SUFFIXES, Record, read_batch
from ..kinds import Contract, registry
from ..ledger import Ledger
from ..pipeline import FORMATS, MANIFEST, Generator, clear_dead_staging, input_digest, set_templates
from .report import REPORT_FILES, Line, Progress, Summary, failure_text, write_report
from .rows import Options, make_set, published_beside, report_summary, validate_rows

__all__ = ["Maker", "run_batch"]


class _RowFailed(Exception):
    """A contract that could not be made, as plain text that survives the trip between processes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


def _up_to_date(folder: Path, contract: Contract, options: Options, template_version: str) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if options.publish and not published_beside(folder, contract, options):
        return False
    return bool(
        manifest.get("input_sha256") == input_digest(contract)
        and manifest.get("template_version") == template_version
        and manifest.get("generator_version") == str(identity())
        and tuple(manifest.get("formats", ())) == options.formats
        and manifest.get("pdfa", False) == options.pdfa
        and all(
            (folder / doc[f]["file"]).is_file()
            for doc in manifest["documents"]
            for f in options.formats
        )
    )


def _issued(known: set[tuple[str, str, str]], folder: Path) -> bool:
    """Return whether a set folder's manifest is of a version the ledger holds as issued."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        said = (manifest["contract_no"], manifest["input_sha256"], manifest["templates"]["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return said in known


#: the generator of a batch worker process: its templates and its own one office
_worker: Generator | None = None
#: the ledger of a batch worker process (its own connections)
_ledger: Ledger | None = None


def _start_worker(options: Options) -> None:
    """Prepare a batch worker process: templates compiled, its own office started on first use."""
    global _worker, _ledger
    # Ctrl-C is the parent's to answer (it stops the round): a contract under way here is
    # finished whole, the ones not begun are cancelled.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM ends a worker as it always did (the parent's own handler is not for it).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _worker = Generator(workers=1, templates=options.templates, cached_sets=0)
    # Runs when the process leaves the executor's loop, also after Ctrl-C in the parent.
    multiprocessing.util.Finalize(None, _worker.close, exitpriority=10)
    if "pdf" in options.formats:
        # The office starts now, while the parent still reads and validates the rows; the
        # first contract waits for it if it comes sooner.
        threading.Thread(target=_warm, args=(_worker,), daemon=True).start()
    if options.ledger is not None:
        _ledger = Ledger(options.ledger)
        multiprocessing.util.Finalize(None, _ledger.close, exitpriority=10)


def _warm(generator: Generator) -> None:
    """Start a worker process's office (a start that fails is the first contract's to report)."""
    with contextlib.suppress(Exception):
        generator.converter.warm()


def _ready() -> None:
    """Do nothing, in a worker process: submitted to have the processes started."""


def _started(options: Options) -> Executor:
    """Return the worker processes of a round, started now (their offices start with them).

    The kinds and the round's templates are read first, here: the processes begin with
    them (they are forked), rather than each reading them again. What fails here fails
    again where it is reported, with the rows.
    """
    with contextlib.suppress(Exception):
        set_templates(registry().get(options.kind), options.templates)
    executor = _executor(options)
    for _ in range(options.workers or os.cpu_count() or 1):
        executor.submit(_ready)
    return executor


def _may_be_made(out_dir: Path, options: Options) -> bool:
    """Tell whether a round likely has contracts to make: no set there yet, or --force."""
    if options.force:
        return True
    try:
        return not any((entry / MANIFEST).is_file() for entry in out_dir.iterdir())
    except OSError:
        return True


def _make(contract: Contract, out_dir: Path, options: Options) -> tuple[str, str]:
    """Make, write and record one contract's set in a worker process (see :func:`make_set`)."""
    assert _worker is not None
    try:
        return make_set(_worker, _ledger, contract, out_dir, options)
    except Exception as exc:
        # Not every exception can be unpickled in the parent (one that cannot breaks the
        # whole pool), so each goes back as text.
        refusal = unrenderable(exc)  # a seal place, a template: said as it is, with its code
        if refusal is not None:
            raise _RowFailed(refusal.code, failure_text(exc)) from None
        code = "output.exists" if isinstance(exc, OutputConflictError) else "generate.failed"
        if isinstance(exc, InvalidContractError) and exc.issues:
            code = exc.issues[0].code  # a publication refused (publish.withheld_in_text …)
        if isinstance(exc, LedgerError):
            code = exc.code  # ledger.vanished, ledger.unreachable …: not recorded, not written
            raise _RowFailed(code, exc.detail) from None
        raise _RowFailed(code, failure_text(exc)) from None


def _executor(options: Options) -> Executor:
    # One process per core, each with its own office when PDFs are made: the
    # PDF post-processing is partly Python, and one process would run it on one
    # core while the offices wait.
    workers = options.workers or os.cpu_count() or 1
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(options,))


def _checked_paths(source: Path, out_dir: Path, options: Options) -> None:
    """Refuse a batch asked for wrongly before anything is read or written."""
    if options.workers is not None and options.workers < 1:
        raise UsageError(f"并行数应为正整数（收到 {options.workers}）")
    unknown = set(options.formats) - set(FORMATS)
    if unknown or not options.formats:
        raise UsageError(f"未知的输出格式：{', '.join(sorted(unknown)) or '（空）'}")
    if not source.exists():
        raise UsageError(f"{source}: 文件不存在")
    if not source.is_dir() and not (source.is_file() and source.suffix.lower() in BATCH_SUFFIXES):
        raise UsageError(f"{source}: 不支持的批量输入（应为 .xlsx、.csv、.jsonl 或文件夹）")
    if out_dir.is_symlink() and not out_dir.exists():
        raise UsageError(f"{out_dir}: 输出位置是指向不存在之处的符号链接")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: 输出位置已存在且不是文件夹")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out_dir}: 无法创建输出文件夹：{exc.strerror or exc}") from exc


def _records(
    source: Path, out_dir: Path, kind: str | None = None
) -> tuple[list[Record], Line | None]:
    """Return the rows of the input, or the one failed line of an input that cannot be read."""
    # With -o the input folder itself, the reports written there are not contracts.
    own = set(REPORT_FILES) if source.is_dir() and source.resolve() == out_dir.resolve() else set()
    try:
        return read_batch(source, skip=own, kind=registry().get(kind) if kind else None), None
    except InputError as exc:
        line = Line(str(source), "")
        code = "input.limit" if isinstance(exc, InputTooLargeError) else "input.file"
        # The line's place names the file already.
        line.fail([Issue("", code, str(exc).removeprefix(f"{source}: "))])
        return [], line


class _Generation:
    """Make the contracts in worker processes; a worker that dies costs at most its contract.

    When a worker dies, every contract in flight fails with the pool: those are run
    again one at a time in a fresh pool, so a contract that kills its worker again is
    the only one to fail.
    """

    def __init__(
        self, out_dir: Path, options: Options, progress: Progress, executor: Executor | None = None
    ) -> None:
        self.out_dir = out_dir
        self.options = options
        self.progress = progress
        self.executor: Executor | None = executor
        self.pending: dict[Future[tuple[str, str]], tuple[Line, Contract, bool]] = {}
        self.suspects: deque[tuple[Line, Contract]] = deque()
        self.limit = (options.workers or os.cpu_count() or 1) * 4

    def run(self, todo: list[tuple[Line, Contract]]) -> bool:
        """Make every contract of ``todo``; return True when interrupted by Ctrl-C."""
        with _interrupts() as stop:
            return self._run(todo, stop)

    def _run(self, todo: list[tuple[Line, Contract]], stop: Future[None]) -> bool:
        queue = deque(todo)
        try:
            while True:
                if stop.done():
                    raise KeyboardInterrupt
                broken = self._submit(queue)
                if not self.pending and not broken:
                    if not queue and not self.suspects:
                        return False
                    continue
                if self.pending:
                    watched: set[Future[Any]] = {*self.pending, stop}
                    finished, _ = wait(watched, return_when=FIRST_COMPLETED)
                    made = cast(set[Future[tuple[str, str]]], finished - {stop})
                    broken = self._settle(made) or broken
                if broken:
                    # The pool is gone: the rest of its futures end (with the same error) at once.
                    self._settle(wait(self.pending).done)
                    self._close()
        except KeyboardInterrupt:
            for future in self.pending:
                future.cancel()
            self._close()
            for future, (line, _, _) in self.pending.items():
                # Contracts under way when Ctrl-C came were finished whole, or not at all.
                if future.done() and not future.cancelled() and future.exception() is None:
                    (line.folder, line.ledger), line.status = future.result(), "made"
                else:
                    line.status = "interrupted"
            for line, _ in self.suspects:
                line.status = "interrupted"
            return True
        finally:
            self._close()

    def _submit(self, queue: deque[tuple[Line, Contract]]) -> bool:
        """Fill the window (a suspect goes alone); return True when the pool is found broken."""
        if self.executor is None:
            self.executor = _executor(self.options)
        while self.suspects or queue:
            alone = bool(self.suspects)
            if alone and self.pending:
                break
            if not alone and len(self.pending) >= self.limit:
                break
            line, contract = (self.suspects if alone else queue).popleft()
            try:
                future = self.executor.submit(_make, contract, self.out_dir, self.options)
            except BrokenProcessPool:
                (self.suspects if alone else queue).appendleft((line, contract))
                return True
            self.pending[future] = (line, contract, alone)
            if alone:
                break
        return False

    def _settle(self, finished: Iterable[Future[tuple[str, str]]]) -> bool:
        """Record finished contracts; return True when one found the pool broken."""
        broken = False
        for future in finished:
            line, contract, alone = self.pending.pop(future)
            try:
                (line.folder, line.ledger), line.status = future.result(), "made"
            except BrokenProcessPool as exc:
                broken = True
                if not alone:
                    self.suspects.append((line, contract))
                    continue
                line.fail(
                    [Issue("", "generate.worker_died", f"生成该合同的工作进程意外退出：{exc}")]
                )
            except _RowFailed as exc:
                line.fail([Issue("", exc.code, exc.message)])
            except Exception as exc:  # whatever else reaches here is this contract's alone
                line.fail([Issue("", "generate.failed", failure_text(exc))])
            self.progress.step(line)
        return broken

    def _close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


@contextmanager
def _interrupts() -> Iterator[Future[None]]:
    """Turn Ctrl-C and SIGTERM into a future the batch waits on beside its contracts.

    A KeyboardInterrupt raised inside ``concurrent.futures.wait`` can leave one of the
    futures' locks held (it takes them one by one); the pool's shutdown then waits on that
    lock for ever. So while the batch runs, SIGINT only completes this future (from a
    thread: a signal handler must not take the futures' locks), and the batch stops at its
    next turn, whole. Outside the main thread the signal cannot be caught: nothing changes.
    """
    stop: Future[None] = Future()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def interrupted(signum: int, frame: object) -> None:
        threading.Thread(target=_set, args=(stop,), daemon=True).start()

    previous = {s: signal.signal(s, interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def _terminated_as_interrupted() -> Iterator[None]:
    """Have SIGTERM stop a round sent to a broker as Ctrl-C does: its report is written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _set(stop: Future[None]) -> None:
    with contextlib.suppress(InvalidStateError):  # a second Ctrl-C
        stop.set_result(None)


#: what makes a batch's contracts: given the rows to make and the progress to step, it fills
#: each line (status, folder, ledger) and returns True when interrupted by Ctrl-C
Maker = Callable[[list[tuple[Line, Contract]], Progress], bool]


def run_batch(
    source: Path,
    out_dir: Path,
    options: Options | None = None,
    stream: TextIO | None = None,
    maker: Maker | None = None,
) -> Summary:
    """Make every valid contract of a batch input into ``out_dir``; report every row.

    ``maker`` makes the contracts (default: worker processes of this machine, each
    with its own office; :mod:`generator.queue` gives one that sends them to Celery
    workers); everything else (validation, resume, the report) is the same.
    """
    options = options or Options()
    started = time.monotonic()
    _checked_paths(source, out_dir, options)
    #: what the ledger holds as issued (None: it is not read here)
    known: set[tuple[str, str, str]] | None = None
    if options.ledger is not None:
        # Reached and migrated once, here, its signing key loaded: one that cannot be used
        # fails the batch before anything is written, and the workers find it ready.
        with Ledger(options.ledger, writer=True) as ledger:
            if options.issue:
                known = {
                    (s["contract_no"], s["input_sha256"], s["templates_sha256"])
                    for s in ledger.sets(status="issued")
                }
    # The worker processes and their offices start while the rows are read and validated
    # (a round that may find everything made already starts them only when needed).
    early = _started(options) if maker is None and _may_be_made(out_dir, options) else None
    try:
        records, unreadable = _records(source, out_dir, options.kind)
        lines, valid = validate_rows(records, options)
        if unreadable is not None:
            lines.append(unreadable)
        clear_dead_staging(out_dir)
        todo: list[tuple[Line, Contract]] = []
        for line, contract in valid:
            folder = out_dir / contract.envelope.contract_no
            template_version = set_templates(contract.kind, options.templates).version
            # A draft made before is issued now: made again (the same bytes) and recorded.
            # Through a broker the ledger is the workers', not read here: up to date is enough.
            if (
                not options.force
                and _up_to_date(folder, contract, options, template_version)
                and (not options.issue or known is None or _issued(known, folder))
            ):
                line.status, line.folder = "skipped", str(folder)
            else:
                todo.append((line, contract))

        interrupted = False
        if todo:
            try:
                progress = Progress(len(todo), stream)
                if maker is None:
                    generation, early = _Generation(out_dir, options, progress, early), None
                    interrupted = generation.run(todo)
                else:
                    with _terminated_as_interrupted():
                        interrupted = maker(todo, progress)
            finally:
                # What this run's workers left, should one have died mid-write.
                clear_dead_staging(out_dir)
            for line, _ in todo:
                if line.status == "pending":
                    line.status = "not_started"
    finally:
        if early is not None:  # nothing to make after all
            early.shutdown(wait=True, cancel_futures=True)

    summary = Summary(lines, time.monotonic() - started, interrupted)
    write_report(out_dir, lines, report_summary(str(source), summary, options))
    return summary
