"""The batch report: a line per input row, written as JSON and as a CSV Excel opens safely."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import ContractError, Issue
from ..inputs import Record

__all__ = [
    "FORMULA_STARTS",
    "MESSAGE_MAX",
    "REPORT_FILES",
    "REPORT_NAME",
    "STATUS_WORDS",
    "Line",
    "Progress",
    "Summary",
    "failure_text",
    "write_report",
]

#: the name of the report files, .json and .csv
REPORT_NAME = "batch-report"
#: the files a batch writes beside the contracts' folders: no contract may be numbered so
#: (compared without case, as Windows and macOS compare file names)
REPORT_FILES = (f"{REPORT_NAME}.csv", f"{REPORT_NAME}.json")
#: each row's state, as a person reads it (the JSON keeps the code beside the word)
STATUS_WORDS = {
    "pending": "待生成",
    "made": "已生成",
    "skipped": "已是最新",
    "failed": "有问题",
    "not_started": "未开始",
    "interrupted": "已中断",
}
#: first characters that make Excel read a cell as a formula (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: the longest error message kept in the report for one failure
MESSAGE_MAX = 2000


@dataclass
class Line:
    """The report line of one input row."""

    where: str
    contract_no: str
    status: str = "pending"
    folder: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    #: what the ledger recorded (a new version, the same one, superseding which) and, when
    #: published, the notice's due date, or ""
    ledger: str = ""
    #: the row's contract kind (id, title, version) once its data is valid
    kind: dict[str, str] = field(default_factory=dict)

    def fail(self, issues: Iterable[Issue], record: Record | None = None) -> None:
        """Mark the row failed with its issues, each with the place a person looks at."""
        self.status = "failed"
        for issue in issues:
            error = {"place": record.place(issue) if record else self.where, **issue.to_dict()}
            if error not in self.errors:  # the same problem at the same place is said once
                self.errors.append(error)


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


def failure_text(exc: BaseException) -> str:
    """Return an exception as a report message: what it is and what it says, cut to size."""
    text = str(exc) if isinstance(exc, ContractError) else f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MESSAGE_MAX else text[:MESSAGE_MAX] + "…"


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
                f"\r[{bar}] {self.done}/{self.total}  已用 {elapsed:5.1f} 秒  剩余约 {eta:5.1f} 秒 "
            )
            if self.done == self.total:
                self.stream.write("\n")
        else:
            word = STATUS_WORDS.get(line.status, line.status)
            self.stream.write(
                f"[{self.done}/{self.total}] {line.contract_no}：{word}"
                f"（已用 {elapsed:.1f} 秒，剩余约 {eta:.1f} 秒）\n"
            )
        self.stream.flush()


def _cell(value: str) -> str:
    """Return a report cell Excel shows as text, never runs as a formula (OWASP's rule)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _write_file(path: Path, content: str, encoding: str) -> None:
    """Write a file whole or not at all, with the permissions the umask gives any new file."""
    while True:
        staging = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        try:
            fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(content)
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def write_report(out_dir: Path, lines: list[Line], summary: dict[str, Any]) -> None:
    """Write batch-report.json and batch-report.csv atomically."""
    rows = [
        {
            "where": line.where,
            "contract_no": line.contract_no,
            "status": line.status,
            "status_text": STATUS_WORDS.get(line.status, line.status),
            "folder": line.folder,
            "ledger": line.ledger,
            "kind": line.kind or None,
            "errors": line.errors,
        }
        for line in lines
    ]
    report = json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=2) + "\n"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["位置", "合同编号", "状态", "输出文件夹", "问题", "台账与公告", "合同类型"])
    for line in lines:
        problems = "；".join(f"{e['place']}：{e['message']} [{e['code']}]" for e in line.errors)
        kind = f"{line.kind['title']}（第 {line.kind['version']} 版）" if line.kind else ""
        cells = (
            line.where,
            line.contract_no,
            STATUS_WORDS.get(line.status, line.status),
            line.folder,
            problems,
            line.ledger,
            kind,
        )
        writer.writerow([_cell(v) for v in cells])
    for suffix, content, encoding in (
        (".json", report, "utf-8"),
        # utf-8-sig: Excel opens a CSV with a BOM as UTF-8 instead of the locale's GBK.
        (".csv", text.getvalue(), "utf-8-sig"),
    ):
        path = out_dir / f"{REPORT_NAME}{suffix}"
        try:
            _write_file(path, content, encoding)
        except OSError as exc:
            raise ContractError(f"{path}: 无法写入批量报告：{exc.strerror or exc}") from exc
