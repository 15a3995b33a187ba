"""Read a batch of contracts: a workbook, a CSV, a JSON-lines file or a folder.

The workbook is the format a procurement office lives in: one row per
contract on the sheet 合同 with Chinese column headers, and the repeating
parts — payment instalments and acceptance items — on their own sheets keyed
by 合同编号. Cells are read as people type them (numbers stored as numbers or
text, dates as Excel dates or text), and every value keeps its place (sheet,
row, column header) so an issue can be reported where the person will look.
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, InputTooLargeError, Issue
from ..kinds import ContractKind, registry
from .layout import MAIN_SHEET, Record, empty, layout_of, records_from_tables
from .load import load_data, parse_json

__all__ = [
    "BATCH_SUFFIXES",
    "LIMITS",
    "Limits",
    "read_batch",
    "read_csv",
    "read_folder",
    "read_jsonl",
    "read_workbook",
]

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """How much of a batch input is read: beyond any limit it is refused, before the costly work.

    A workbook is checked from its zip directory before anything is unpacked
    (Python's zip reader never gives more than a part declares); sheets are
    read row by row, whatever size they declare, and stop at the first limit.
    """

    #: the largest workbook, CSV or JSON-lines file
    file_bytes: int = 32 * MiB
    #: the most a workbook may unpack to, all its parts together
    unpacked_bytes: int = 64 * MiB
    #: the most a part larger than 1 MiB unpacked may grow from its packed size
    ratio: int = 100
    #: the most parts a workbook (a zip) may hold
    parts: int = 1000
    #: the most rows with data a sheet, a CSV or a JSON-lines file may hold, header aside
    rows: int = 10_000
    #: the last column that may hold data (the 合同 sheet uses 53)
    columns: int = 200
    #: the most cells a sheet or CSV may hold, counted to each row's last value
    cells: int = 1_000_000
    #: the longest line of a JSON-lines file, and the largest contract file of a folder
    contract_bytes: int = 1 * MiB
    #: the most contract files a folder may hold
    files: int = 10_000


#: the limits a batch reads its input within, unless told others
LIMITS = Limits()
#: the input kinds a batch reads, by suffix (a folder aside)
BATCH_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".jsonl", ".ndjson")


def _check_size(path: Path, limit: int) -> None:
    size = path.stat().st_size
    if size > limit:
        raise InputTooLargeError(f"{path}: 文件有 {size} 字节，超过上限 {limit} 字节")


def _check_zip(path: Path, limits: Limits) -> None:
    """Refuse a workbook that would unpack too large, before any of it is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > limits.parts:
                raise InputTooLargeError(
                    f"{path}: 工作簿含 {len(parts)} 个部件，超过上限 {limits.parts}"
                )
            total = sum(part.file_size for part in parts)
            if total > limits.unpacked_bytes:
                raise InputTooLargeError(
                    f"{path}: 工作簿解压后有 {total} 字节，超过上限 {limits.unpacked_bytes} 字节"
                )
            for part in parts:
                if part.file_size > MiB and part.file_size > limits.ratio * part.compress_size:
                    raise InputTooLargeError(
                        f"{path}: 工作簿部件 {part.filename} 的压缩比超过上限 {limits.ratio}:1"
                        f"（{part.compress_size} 字节解压为 {part.file_size} 字节）"
                    )
            for part in parts:
                _refuse_dtd(archive, part, path)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        zlib.error,
    ) as exc:
        raise InputError(f"{path}: 不是有效的工作簿（xlsx）：{exc}") from exc


class _Prolog(Exception):
    """The root element began: no DTD can follow."""


def _refuse_dtd(archive: zipfile.ZipFile, part: zipfile.ZipInfo, path: Path) -> None:
    """Refuse a part that declares a DTD (entities, external references): OOXML has none.

    Expat reads the part's own encoding; reading stops at its root element,
    where a DTD can no longer appear, or at the first byte that is not XML.
    """
    from xml.parsers import expat

    def doctype(*_: object) -> None:
        raise InputError(
            f"{path}: 工作簿部件 {part.filename} 含有 DTD（实体声明），不予读取"
            "（Excel 文件从不含 DTD，可能是恶意文件）"
        )

    def root(*_: object) -> None:
        raise _Prolog

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = root
    try:
        with archive.open(part) as member:
            while chunk := member.read(64 * 1024):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (_Prolog, expat.ExpatError):
        return  # a root element, or not XML at all (a picture): no DTD read


def _sheet_table(path: Path, sheet: Any, limits: Limits) -> list[list[Any]]:
    """Return a sheet's rows of cells, within the limits, whatever size the sheet declares."""
    # The declared <dimension> is a claim: read-only sheets pad every row to it.
    sheet.reset_dimensions()
    table: list[list[Any]] = []
    cells = 0
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        width = len(row)
        while width and empty(row[width - 1]):
            width -= 1
        if not width:
            if number <= limits.rows + 1:
                table.append([])
            continue
        if number > limits.rows + 1:
            raise InputTooLargeError(
                f"{path}: 工作表 {sheet.title} 第{number}行有数据，超过上限 {limits.rows} 行"
            )
        if width > limits.columns:
            raise InputTooLargeError(
                f"{path}: 工作表 {sheet.title} 第{number}行第{width}列有数据，"
                f"超过上限 {limits.columns} 列"
            )
        cells += width
        if cells > limits.cells:
            raise InputTooLargeError(
                f"{path}: 工作表 {sheet.title} 超过上限 {limits.cells} 个单元格"
            )
        table.append(list(row[:width]))
    while table and not table[-1]:
        table.pop()
    return table


def _sheets(kind: ContractKind | None) -> set[str]:
    """Return the sheets a workbook of ``kind`` is read from: every kind's, rounds may mix."""
    return layout_of(kind).sheets.union(*(layout_of(k).sheets for k in registry()))


def read_workbook(
    path: Path, limits: Limits = LIMITS, kind: ContractKind | None = None
) -> list[Record]:
    """Return the contracts of an .xlsx workbook, refusing one beyond the limits."""
    from openpyxl import load_workbook

    _check_size(path, limits.file_bytes)
    _check_zip(path, limits)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(f"{path}: 无法读取工作簿：{exc}") from exc
    try:
        # Only the sheets a batch uses are read (说明 and a person's own notes are not).
        tables = {
            ws.title: _sheet_table(path, ws, limits)
            for ws in book.worksheets
            if ws.title in _sheets(kind)
        }
    except InputError:
        raise
    except Exception as exc:  # a part openpyxl cannot parse, seen only as its rows are read
        raise InputError(f"{path}: 无法读取工作簿：{type(exc).__name__}: {exc}") from exc
    finally:
        book.close()
    return records_from_tables(tables, str(path), kind)


def _csv_table(path: Path, encoding: str, limits: Limits) -> list[list[Any]]:
    table: list[list[Any]] = []
    cells = 0
    with open(path, encoding=encoding, newline="") as fh:
        for number, row in enumerate(csv.reader(fh), start=1):
            width = len(row)
            while width and not row[width - 1].strip():
                width -= 1
            if width and number > limits.rows + 1:
                raise InputTooLargeError(f"{path}: 第{number}行有数据，超过上限 {limits.rows} 行")
            if width > limits.columns:
                raise InputTooLargeError(
                    f"{path}: 第{number}行第{width}列有数据，超过上限 {limits.columns} 列"
                )
            cells += width
            if cells > limits.cells:
                raise InputTooLargeError(f"{path}: 超过上限 {limits.cells} 个单元格")
            if number <= limits.rows + 1:
                table.append(row[:width])
    return table


def _read_csv(path: Path, limits: Limits) -> list[list[Any]]:
    _check_size(path, limits.file_bytes)
    try:
        try:
            return _csv_table(path, "utf-8-sig", limits)
        except UnicodeDecodeError:
            # Excel in a Chinese locale saves CSV as GB18030 (a superset of GBK).
            return _csv_table(path, "gb18030", limits)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: 既不是 UTF-8 也不是 GB18030 编码：{exc.reason}") from exc
    except csv.Error as exc:
        # A field beyond csv's field_size_limit(), a NUL byte, a bad quote.
        limit = csv.field_size_limit()
        raise InputError(f"{path}: CSV 格式错误（单元格上限 {limit} 个字符）：{exc}") from exc


def read_csv(path: Path, limits: Limits = LIMITS, kind: ContractKind | None = None) -> list[Record]:
    """Return the contracts of a CSV laid out as the 合同 sheet.

    The lists' sheets may sit beside it as ``NAME-<sheet>.csv`` (``NAME-付款分期.csv``).
    """
    tables = {MAIN_SHEET: _read_csv(path, limits)}
    for sheet in _sheets(kind) - {MAIN_SHEET}:
        sibling = path.with_name(f"{path.stem}-{sheet}.csv")
        if sibling.is_file():
            tables[sheet] = _read_csv(sibling, limits)
    return records_from_tables(tables, str(path), kind)


def _jsonl_record(path: Path, number: int, raw: bytes) -> Record:
    record = Record(str(path), number, where=f"第{number}行")
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        data = parse_json(text, f"{path}:{number}")
    except UnicodeDecodeError as exc:
        record.issues.append(Issue("", "input.encoding", f"{path}:{number}: 不是UTF-8编码：{exc}"))
    except InputError as exc:
        record.issues.append(Issue("", "input.json", str(exc)))
    except RecursionError:
        record.issues.append(Issue("", "input.json", f"{path}:{number}: JSON 嵌套过深"))
    except Exception as exc:  # e.g. an integer of more digits than Python converts
        record.issues.append(Issue("", "input.json", f"{path}:{number}: JSON 无法读取：{exc}"))
    else:
        if isinstance(data, dict):
            record.data = data
        else:
            record.issues.append(Issue("", "type.object", "每行应为一个合同对象"))
    return record


def read_jsonl(path: Path, limits: Limits = LIMITS) -> list[Record]:
    """Return the contracts of a JSON-lines file, one contract object per line."""
    _check_size(path, limits.file_bytes)
    records = []
    with open(path, "rb") as fh:
        number = 0
        while raw := fh.readline(limits.contract_bytes + 1):
            number += 1
            if len(raw) > limits.contract_bytes:
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(limits.contract_bytes)  # the rest of the overlong line
                record = Record(str(path), number, where=f"第{number}行")
                record.issues.append(
                    Issue(
                        "",
                        "input.limit",
                        f"{path}:{number}: 这一行超过上限 {limits.contract_bytes} 字节",
                    )
                )
                records.append(record)
                continue
            if not raw.strip():
                continue
            if len(records) >= limits.rows:
                raise InputTooLargeError(f"{path}: 第{number}行有数据，超过上限 {limits.rows} 行")
            records.append(_jsonl_record(path, number, raw))
    return records


def read_folder(path: Path, skip: Collection[str] = (), limits: Limits = LIMITS) -> list[Record]:
    """Return the contracts of a folder of .yaml/.yml/.json files, in name order.

    Hidden files, anything but regular files, and the names in ``skip`` are not read.
    """
    files = sorted(
        p
        for p in path.iterdir()
        if p.suffix.lower() in {".yaml", ".yml", ".json"}
        and not p.name.startswith(".")
        and p.name not in skip
        and p.is_file()
    )
    if len(files) > limits.files:
        raise InputTooLargeError(
            f"{path}: 文件夹含 {len(files)} 个合同文件，超过上限 {limits.files}"
        )
    records = []
    for number, file in enumerate(files, start=1):
        record = Record(str(file), number, where=file.name)
        try:
            _check_size(file, limits.contract_bytes)
            record.data = dict(load_data(file))
        except InputTooLargeError as exc:
            record.issues.append(Issue("", "input.limit", str(exc)))
        except InputError as exc:
            record.issues.append(Issue("", "input.file", str(exc)))
        except Exception as exc:  # one file must never stop the others
            record.issues.append(
                Issue("", "input.file", f"{file}: 无法读取：{type(exc).__name__}: {exc}")
            )
        records.append(record)
    return records


def read_batch(
    path: Path,
    skip: Collection[str] = (),
    limits: Limits = LIMITS,
    kind: ContractKind | None = None,
) -> list[Record]:
    """Return the contracts of a batch input, read by its suffix (``skip``: see read_folder).

    A workbook or CSV is of one contract kind (``kind``; the default kind when None);
    files and JSON lines name theirs with ``kind:``.
    """
    if path.is_dir():
        return read_folder(path, skip, limits)
    if not path.exists():
        raise InputError(f"{path}: 文件不存在")
    if not path.is_file():
        raise InputError(f"{path}: 不是普通文件")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return read_workbook(path, limits, kind)
    if suffix == ".csv":
        return read_csv(path, limits, kind)
    if suffix in {".jsonl", ".ndjson"}:
        return read_jsonl(path, limits)
    raise InputError(f"{path}: 不支持的批量输入（应为 .xlsx、.csv、.jsonl 或文件夹）")
