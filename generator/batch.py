"""Make every contract of a procurement round: validate all rows first, then generate.

One bad row never costs the good ones; each contract's folder appears whole
or not at all; a second run skips what is already made from the same input
and regenerates what changed; Ctrl-C stops cleanly with a report of what was
done. Nothing is kept per contract beyond its report line, so memory stays
flat however long the batch.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing.util
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._version import __version__
from .api import MANIFEST, input_digest, render_set, write_set
from .convert import ConverterPool
from .errors import ContractError, Issue
from .model import Contract
from .render import default_templates
from .sheets import Record, read_batch
from .validate import check

REPORT_NAME = "batch-report"


@dataclass
class Line:
    """The report line of one input row."""

    where: str
    contract_no: str
    status: str = "pending"
    folder: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    def fail(self, issues: Iterable[Issue], record: Record | None = None) -> None:
        """Mark the row failed with its issues, each with the place a person looks at."""
        self.status = "failed"
        for issue in issues:
            self.errors.append(
                {
                    "place": record.place(issue) if record else self.where,
                    **issue.to_dict(),
                }
            )


@dataclass
class Options:
    """How a batch is made."""

    formats: tuple[str, ...] = ("docx", "pdf")
    pdfa: bool = False
    workers: int | None = None
    force: bool = False


@dataclass
class Summary:
    """What a batch run did."""

    lines: list[Line]
    seconds: float
    interrupted: bool = False

    @property
    def counts(self) -> Counter[str]:
        """Return how many rows ended in each status."""
        return Counter(line.status for line in self.lines)

    @property
    def exit_code(self) -> int:
        """Return 0 when every row was made (or already was), else 1."""
        ok = {"made", "skipped"}
        return 0 if all(line.status in ok for line in self.lines) and not self.interrupted else 1


def _validated(records: list[Record]) -> tuple[list[Line], list[tuple[Line, Contract]]]:
    lines: list[Line] = []
    valid: list[tuple[Line, Contract]] = []
    numbers = Counter(r.contract_no for r in records if r.contract_no)
    for record in records:
        line = Line(record.where, record.contract_no)
        lines.append(line)
        issues = list(record.issues)
        contract = None
        if not issues:
            contract, issues = check(record.data)
        if record.contract_no and numbers[record.contract_no] > 1:
            issues.append(
                Issue(
                    "contract_no",
                    "batch.duplicate",
                    f"合同编号在本批中出现{numbers[record.contract_no]}次",
                )
            )
        if issues or contract is None:
            line.fail(issues, record)
        else:
            valid.append((line, contract))
    return lines, valid


def _up_to_date(folder: Path, contract: Contract, options: Options, template_version: str) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        manifest.get("input_sha256") == input_digest(contract)
        and manifest.get("template_version") == template_version
        and manifest.get("generator_version") == __version__
        and tuple(manifest.get("formats", ())) == options.formats
        and manifest.get("pdfa", False) == options.pdfa
        and all(
            (folder / doc[f]["file"]).is_file()
            for doc in manifest["documents"]
            for f in options.formats
        )
    )


def _clear_leftovers(out_dir: Path) -> None:
    # Folders a killed run was still writing (api.write_set stages into hidden siblings).
    for leftover in out_dir.glob(".*.*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


#: the LibreOffice pool of a batch worker process (each process owns one office)
_worker_pool: ConverterPool | None = None


def _start_worker(with_pdf: bool) -> None:
    """Prepare a batch worker process: templates compiled, and its own office for PDF."""
    global _worker_pool
    default_templates()
    if with_pdf:
        _worker_pool = ConverterPool(1)
        # Runs when the process leaves the executor's loop, also after Ctrl-C in the parent.
        multiprocessing.util.Finalize(None, _worker_pool.close, exitpriority=10)


def _make(contract: Contract, out_dir: Path, options: Options) -> str:
    """Make and write one contract's set; return its folder (runs in a worker process)."""
    contract_set = render_set(
        contract, formats=options.formats, pdfa=options.pdfa, converter=_worker_pool
    )
    return str(write_set(contract_set, out_dir))


def _executor(options: Options) -> Executor:
    # One process per core, each with its own office when PDFs are made: the
    # PDF post-processing (pypdf, pdfminer, pyHanko) is Python, and one process
    # would run it on one core while the offices wait.
    workers = options.workers or os.cpu_count() or 1
    return ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=("pdf" in options.formats,)
    )


class Progress:
    """A progress bar with count and ETA on a terminal, plain log lines otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()

    def step(self, line: Line) -> None:
        """Report one more contract finished."""
        self.done += 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            bar = "█" * filled + "·" * (width - filled)
            self.stream.write(
                f"\r[{bar}] {self.done}/{self.total}  已用 {elapsed:5.1f}s  剩余约 {eta:5.1f}s "
            )
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(
                f"[{self.done}/{self.total}] {line.contract_no}: {line.status} "
                f"(elapsed {elapsed:.1f}s, eta {eta:.1f}s)\n"
            )
        self.stream.flush()


def write_report(out_dir: Path, lines: list[Line], summary: dict[str, Any]) -> None:
    """Write batch-report.json and batch-report.csv atomically."""
    rows = [
        {
            "where": line.where,
            "contract_no": line.contract_no,
            "status": line.status,
            "folder": line.folder,
            "errors": line.errors,
        }
        for line in lines
    ]
    report = json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=2) + "\n"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["位置", "合同编号", "状态", "输出文件夹", "问题"])
    for line in lines:
        problems = "；".join(f"{e['place']}：{e['message']} [{e['code']}]" for e in line.errors)
        writer.writerow([line.where, line.contract_no, line.status, line.folder, problems])
    for suffix, content, encoding in (
        (".json", report, "utf-8"),
        # utf-8-sig: Excel opens a CSV with a BOM as UTF-8 instead of the locale's GBK.
        (".csv", text.getvalue(), "utf-8-sig"),
    ):
        fd, staging = tempfile.mkstemp(prefix=f".{REPORT_NAME}.", dir=out_dir)
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(content)
        os.replace(staging, out_dir / f"{REPORT_NAME}{suffix}")


def run_batch(
    source: Path, out_dir: Path, options: Options | None = None, stream: TextIO | None = None
) -> Summary:
    """Make every valid contract of a batch input into ``out_dir``; report every row."""
    options = options or Options()
    started = time.monotonic()
    lines, valid = _validated(read_batch(source))
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(out_dir)
    template_version = default_templates().version
    todo: list[tuple[Line, Contract]] = []
    for line, contract in valid:
        folder = out_dir / contract.contract_no
        if not options.force and _up_to_date(folder, contract, options, template_version):
            line.status, line.folder = "skipped", str(folder)
        else:
            todo.append((line, contract))

    progress = Progress(len(todo), stream)
    interrupted = False
    if todo:
        executor = _executor(options)
        pending: dict[Future[str], Line] = {}
        queue = iter(todo)
        limit = (options.workers or os.cpu_count() or 1) * 4
        try:
            while True:
                # Submit a bounded window, so nothing piles up however long the batch.
                for line, contract in queue:
                    pending[executor.submit(_make, contract, out_dir, options)] = line
                    if len(pending) >= limit:
                        break
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    line = pending.pop(future)
                    try:
                        line.folder, line.status = future.result(), "made"
                    except ContractError as exc:
                        line.fail([Issue("", "generate.failed", str(exc))])
                    progress.step(line)
        except KeyboardInterrupt:
            interrupted = True
            for future in pending:
                future.cancel()
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            _clear_leftovers(out_dir)
        for future, line in pending.items():
            # Contracts already under way when Ctrl-C came were finished whole, or not at all.
            if future.done() and not future.cancelled() and future.exception() is None:
                line.folder, line.status = future.result(), "made"
            else:
                line.status = "interrupted"
        for line, _ in todo:
            if line.status == "pending":
                line.status = "not_started"

    summary = Summary(lines, time.monotonic() - started, interrupted)
    counts = summary.counts
    write_report(
        out_dir,
        lines,
        {
            "source": str(source),
            "rows": len(lines),
            "made": counts["made"],
            "skipped": counts["skipped"],
            "failed": counts["failed"],
            "interrupted": interrupted,
            "seconds": round(summary.seconds, 2),
            "formats": list(options.formats),
        },
    )
    return summary
