"""What a round is made of, whoever runs it: its options, its rows validated, one set made.

The command line's batch (:func:`generator.batch.run_batch`, in worker processes)
and the workbench's round (in the service's slots) share these, so a row is
refused, a set written and recorded and a report line filled the same way by both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidContractError, Issue
from ..identity import identity
from ..inputs import Record
from ..kinds import Contract, check
from ..ledger import Ledger, publishing
from ..pipeline import (
    MANIFEST,
    ContractSet,
    Generator,
    staged_folder,
    staged_set,
    write_folder,
    write_set,
)
from ..publication import MANIFEST as PUBLICATION_MANIFEST
from ..publication import NOTICE_JSON, public_folder_name, publication_issues, publish
from ..publication.publish import public_notice
from ..publication.withholding import public_context
from .report import REPORT_FILES, Line, Summary, failure_text

__all__ = [
    "Options",
    "make_set",
    "published_beside",
    "report_summary",
    "store_set",
    "validate_rows",
]


@dataclass
class Options:
    """How a batch is made."""

    formats: tuple[str, ...] = ("docx", "pdf")
    pdfa: bool = False
    workers: int | None = None
    force: bool = False
    #: a folder of the office's own templates (None: the built-in ones)
    templates: Path | None = None
    #: the kind of a workbook's or CSV's rows (None: the built-in O&M kind)
    kind: str | None = None
    #: the URL of the ledger every made set is recorded in (None: not recorded)
    ledger: str | None = None
    #: issue the sets (record them in the ledger); False: drafts, recorded nowhere
    issue: bool = False
    #: also publish each contract: its public copy and 合同公告 beside its set
    publish: bool = False
    #: the notice's 合同公告日期 (None: the day of publishing, in China)
    published_on: dt.date | None = None


def _row_issues(
    record: Record, numbers: Counter[str], options: Options
) -> tuple[Contract | None, list[Issue]]:
    """Return a row's contract (None when it has issues) and every issue it has."""
    issues = list(record.issues)
    contract = None
    if not issues:
        try:
            contract, issues = check(record.data)
        except Exception as exc:  # one row's data must never stop the others
            issues = [Issue("", "validate.error", f"无法校验：{failure_text(exc)}")]
    if record.contract_no.lower() in REPORT_FILES:
        message = f"合同编号“{record.contract_no}”与批量报告文件同名，请改用其他编号"
        issues.append(Issue("contract_no", "batch.reserved_name", message))
    if record.contract_no and numbers[record.contract_no] > 1:
        message = f"合同编号在本批中出现{numbers[record.contract_no]}次"
        issues.append(Issue("contract_no", "batch.duplicate", message))
    if options.publish and contract is not None:
        issues.extend(_publication_issues(contract, options.published_on))
    return (None if issues else contract), issues


def validate_rows(
    records: list[Record], options: Options
) -> tuple[list[Line], list[tuple[Line, Contract]]]:
    """Return a report line for every row, and the rows that can be made with their contract."""
    lines: list[Line] = []
    valid: list[tuple[Line, Contract]] = []
    numbers = Counter(r.contract_no for r in records if r.contract_no)
    for record in records:
        line = Line(record.where, record.contract_no)
        lines.append(line)
        contract, issues = _row_issues(record, numbers, options)
        if contract is None:
            line.fail(issues, record)
        else:
            line.kind = contract.kind.describe()
            valid.append((line, contract))
    return lines, valid


def published_beside(folder: Path, contract: Contract, options: Options) -> bool:
    """Return whether a contract's publication folder is there for this data (and date).

    ``publication.json`` holds no hash of the input (it would give withheld values back to
    whoever tries them in turn), so the folder is taken as this data's when it withholds
    what this data withholds, its notice says what this data's would say, every file it
    lists is there, and it was written after the set beside it (a set made again since,
    from other data, is newer than the publication of the old).
    """
    public = folder.with_name(public_folder_name(contract.envelope.contract_no))
    try:
        manifest = json.loads((public / PUBLICATION_MANIFEST).read_text(encoding="utf-8"))
        notice = json.loads((public / NOTICE_JSON).read_text(encoding="utf-8"))
        day = dt.date.fromisoformat(manifest["published_on"])
        newer = (public / PUBLICATION_MANIFEST).stat().st_mtime >= (
            folder / MANIFEST
        ).stat().st_mtime
        withheld, context = public_context(contract)
        fields = public_notice(contract, context, day)
    except (OSError, ValueError, KeyError, TypeError, InvalidContractError):
        return False
    settings = contract.publication_settings
    return bool(
        newer
        and (options.published_on is None or day == options.published_on)
        and manifest.get("withheld") == list(withheld)
        and manifest.get("public_numbers") == list(settings.public_numbers)
        and notice.get("fields") == fields
        and all((public / f["file"]).is_file() for f in manifest.get("files", []))
    )


def _publication_issues(contract: Contract, day: dt.date | None) -> list[Issue]:
    """Return why a contract cannot be published (on that day), before anything is made."""
    issues = publication_issues(contract)
    if day is not None and day < contract.envelope.sign_date:
        message = f"合同公告日期 {day} 早于合同签订日期 {contract.envelope.sign_date}"
        issues.append(Issue("sign_date", "publication.before_signing", message))
    return issues


def make_set(
    generator: Generator,
    ledger: Ledger | None,
    contract: Contract,
    out_dir: Path,
    options: Options,
    actor: str | None = None,
) -> tuple[str, str]:
    """Make, write and record one contract's set; return its folder and what the ledger did.

    The set's files are written whole, recorded, then put in place: a set whose files
    could not be written is not recorded, and one not recorded leaves no folder. With
    ``options.publish`` its publication is made beside it (and recorded) too.
    """
    contract_set = generator.render(contract, formats=options.formats, pdfa=options.pdfa)
    return store_set(generator, ledger, contract_set, out_dir, options, actor)


def store_set(
    generator: Generator,
    ledger: Ledger | None,
    contract_set: ContractSet,
    out_dir: Path,
    options: Options,
    actor: str | None = None,
) -> tuple[str, str]:
    """Write and record a set already made (see :func:`make_set`); return folder and note.

    Nothing is left of a call that failed (no folder, nothing recorded): a call may be
    tried again with the same set, as the queue's workers do when the ledger is away.
    """
    contract = contract_set.contract
    if not options.issue:
        ledger = None  # a draft: recorded nowhere, its publication neither
    if ledger is None:
        note = "" if options.issue else "草稿（未签发）"
        folder = write_set(contract_set, out_dir)
    else:
        # Written whole, recorded, then put in place (see staged_folder).
        with (
            staged_set(contract_set, out_dir) as folder,
            ledger.recording(contract_set, actor) as recorded,
        ):
            pass
        note = recorded.message()
    if options.publish:
        published = _publish(generator, ledger, contract, out_dir, options, actor)
        note = "；".join(filter(None, (note, published)))
    return str(folder), note


def _publish(
    generator: Generator,
    ledger: Ledger | None,
    contract: Contract,
    out_dir: Path,
    options: Options,
    actor: str | None,
) -> str:
    """Publish one contract beside its set (and record it); return what to report."""
    made = publish(generator, contract, published_on=options.published_on, pdfa=options.pdfa)
    name, files = public_folder_name(contract.envelope.contract_no), made.files()
    due = f"公告截止 {made.due_date}" + ("" if made.on_time else "（已逾期）")
    if ledger is None:
        write_folder(out_dir, name, files, contract.envelope.contract_no, PUBLICATION_MANIFEST)
        return due
    contract_no = contract.envelope.contract_no
    with (
        staged_folder(out_dir, name, files, contract_no, PUBLICATION_MANIFEST),
        publishing(ledger, made, actor) as published,
    ):
        pass
    return f"{due}；{published.message()}"


def report_summary(source: str, summary: Summary, options: Options) -> dict[str, Any]:
    """Return the summary a report starts with."""
    counts = summary.counts
    made_by = identity()
    return {
        "source": source,
        "rows": len(summary.lines),
        "made": counts["made"],
        "skipped": counts["skipped"],
        "failed": counts["failed"],
        "interrupted": summary.interrupted,
        "seconds": round(summary.seconds, 2),
        "formats": list(options.formats),
        "generator_version": str(made_by),
        "generator": made_by.describe(),
    }
