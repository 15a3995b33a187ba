"""A procurement round in the workbench: a workbook uploaded, its rows checked, the sets made.

The rows are read and validated as ``contractgen batch`` reads and validates them
(:func:`generator.batch.validate_rows`: the same issues, codes and places); each
good row is made by the service's generator in a slot of its admission control,
behind the API's requests and never beside them (``Runtime.run_behind``), and
written and recorded as the batch writes and records it
(:func:`generator.batch.make_set`); the report is the batch's own
(``batch-report.csv`` / ``.json``). A round lives in the service's scratch folder,
its sets in ``out/``; the last :data:`ROUNDS_KEPT` rounds are kept, an older one
is removed with its folder (the service's own files, never the person's). That is a
service without a broker; with one, a round is kept in Redis and made by the queue's
workers instead (:mod:`.shared_rounds`), shown as the same :class:`Round`.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from ..batch import Line, Options, Summary, make_set, report_summary, validate_rows, write_report
from ..batch.report import failure_text
from ..errors import InputError, InputTooLargeError, Issue, OutputConflictError
from ..inputs import read_batch, write_workbook
from ..kinds import Contract, registry
from ..pipeline import zip_tree

__all__ = [
    "ROUNDS_KEPT",
    "ROWS_SHOWN",
    "UPLOAD_SUFFIXES",
    "Round",
    "blank_workbook",
    "drop_old",
    "make_round",
    "open_round",
    "round_zip",
]

#: rounds kept (the oldest finished one removed first)
ROUNDS_KEPT = 4
#: rows shown on a round's page; the report holds them all
ROWS_SHOWN = 500
#: what a round may be uploaded as (a folder cannot be uploaded)
UPLOAD_SUFFIXES = (".xlsx", ".csv", ".jsonl")
_log = logging.getLogger("contractgen.web")


@dataclass
class Round:
    """One uploaded round: its rows' report lines, the contracts to make, how far it is."""

    id: str
    source: str
    folder: Path
    options: Options
    lines: list[Line]
    valid: list[tuple[Line, Contract]]
    #: checked (rows validated, nothing made), running, done
    state: str = "checked"
    done: int = 0
    started: float = 0.0
    seconds: float = 0.0
    #: why the report could not be written ("" when it was)
    report_failed: str = ""
    #: a round kept in Redis and made by the workers: the folder they write its sets to
    out_dir: Path | None = None
    #: such a round's count of contracts to make (its contracts stay in Redis)
    planned: int | None = None
    #: who uploaded it and who started it (a round kept in Redis says so)
    uploaded_by: str = ""
    started_by: str = ""

    @property
    def out(self) -> Path:
        """Return the folder the sets and the report are written to."""
        return self.out_dir if self.out_dir is not None else self.folder / "out"

    @property
    def total(self) -> int:
        """Return how many contracts the round makes."""
        return len(self.valid) if self.planned is None else self.planned

    @property
    def by_workers(self) -> bool:
        """Tell whether the round is kept in Redis and made by the queue's workers."""
        return self.out_dir is not None

    def tally(self) -> dict[str, int]:
        """Return how many rows are in each state."""
        tally: dict[str, int] = {}
        for line in self.lines:
            tally[line.status] = tally.get(line.status, 0) + 1
        return tally


def _unreadable(source: str, exc: InputError) -> Line:
    """Return the one failed line of an input that cannot be read, without the server's path."""
    line = Line(source, "")
    code = "input.limit" if isinstance(exc, InputTooLargeError) else "input.file"
    text = str(exc)
    if ": " in text and text.split(": ", 1)[0].startswith("/"):
        text = text.split(": ", 1)[1]
    line.fail([Issue("", code, text)])
    return line


def open_round(
    scratch: Path, filename: str, content: bytes, publish: bool, kind_id: str | None = None
) -> Round:
    """Save an upload in a new round's folder and validate its rows (blocking: in a thread).

    ``filename`` must end in one of :data:`UPLOAD_SUFFIXES` (checked by the caller); a
    workbook or CSV is of the kind ``kind_id`` (the default kind when None).
    """
    suffix = Path(filename).suffix.lower()
    round_id = secrets.token_urlsafe(9)
    folder = scratch / "rounds" / round_id
    folder.mkdir(parents=True)
    source = folder / f"input{suffix}"
    source.write_bytes(content)
    options = Options(publish=publish, kind=kind_id)
    try:
        records = read_batch(source, kind=registry().get(kind_id) if kind_id else None)
    except InputError as exc:
        return Round(round_id, filename, folder, options, [_unreadable(filename, exc)], [])
    lines, valid = validate_rows(records, options)
    return Round(round_id, filename, folder, options, lines, valid)


def drop_old(rounds: dict[str, Round], dropped: set[str] | None = None) -> None:
    """Remove the oldest rounds beyond :data:`ROUNDS_KEPT` that are not running.

    Their ids go into ``dropped``, for a page to say why such a round is gone.
    """
    for round_id in list(rounds):
        if len(rounds) <= ROUNDS_KEPT:
            return
        if rounds[round_id].state != "running":
            shutil.rmtree(rounds.pop(round_id).folder, ignore_errors=True)
            if dropped is not None:
                dropped.add(round_id)


async def make_round(runtime: Any, made: Round) -> None:
    """Make every good row of a round in the service's slots, then write its report.

    Contracts go through ``runtime.run_behind`` one generator worker's worth at a time;
    one that fails fails its row alone; once the service is stopping, no more start
    (they are reported ``not_started``).
    """
    made.state, made.started = "running", time.monotonic()
    made.out.mkdir(exist_ok=True)
    limiter = anyio.CapacityLimiter(max(1, runtime.generator.workers))

    async def one(line: Line, contract: Contract) -> None:
        async with limiter:
            if runtime.closing:
                line.status = "not_started"
                return
            try:
                folder, line.ledger = await runtime.run_behind(
                    lambda: make_set(
                        runtime.generator,
                        runtime.ledger,
                        contract,
                        made.out,
                        made.options,
                        runtime.actor,
                    )
                )
                line.folder, line.status = Path(folder).name, "made"
            except OutputConflictError as exc:
                line.fail([Issue("", "output.exists", failure_text(exc))])
            except Exception as exc:  # one contract's failure is its row's alone
                _log.warning("round %s: %s failed: %r", made.id, contract.envelope.contract_no, exc)
                line.fail([Issue("", "generate.failed", failure_text(exc))])
            made.done += 1

    try:
        async with anyio.create_task_group() as group:
            for line, contract in made.valid:
                group.start_soon(one, line, contract)
    finally:
        made.seconds = time.monotonic() - made.started
        summary = Summary(made.lines, made.seconds, interrupted=runtime.closing)
        fields = report_summary(made.source, summary, made.options)
        try:
            await anyio.to_thread.run_sync(write_report, made.out, made.lines, fields)
        except Exception as exc:  # a round runs in the service's task group: never raise there
            _log.error("round %s: no report: %r", made.id, exc)
            made.report_failed = failure_text(exc)
        made.state = "done"


def round_zip(made: Round) -> Path:
    """Return a finished round's zip (made once): every set's folder and the reports."""
    target = made.folder / "round.zip"
    if not target.exists():
        made.folder.mkdir(parents=True, exist_ok=True)
        partial = made.folder / f".round-{secrets.token_hex(4)}.zip"
        zip_tree(made.out, partial)
        partial.replace(target)
    return target


def blank_workbook(scratch: Path, kind_id: str | None = None) -> bytes:
    """Return a kind's blank workbook (that of ``contractgen init --xlsx --kind``)."""
    path = scratch / f"blank-{secrets.token_hex(6)}.xlsx"
    try:
        write_workbook(path, [], registry().get(kind_id))
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
