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
import re
import zipfile
import zlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, InputTooLargeError, Issue
from .load import load_data, parse_json

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


MAIN_SHEET = "合同"
INSTALMENT_SHEET = "付款分期"
ITEM_SHEET = "验收内容"
KEY_HEADER = "合同编号"

#: (header, data path, kind) of the main sheet, in column order; kind says how to read a cell
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("合同编号", "contract_no", "text"),
    ("项目名称", "project_name", "text"),
    ("甲方名称", "buyer.name", "text"),
    ("甲方地址", "buyer.address", "text"),
    ("甲方邮政编码", "buyer.postcode", "text"),
    ("甲方电话", "buyer.phone", "text"),
    ("甲方传真", "buyer.fax", "text"),
    ("甲方联系人", "buyer.contact", "text"),
    ("乙方名称", "supplier.name", "text"),
    ("乙方法人姓名", "supplier.legal_representative.name", "text"),
    ("乙方法人性别", "supplier.legal_representative.gender", "text"),
    ("乙方地址", "supplier.address", "text"),
    ("乙方邮政编码", "supplier.postcode", "text"),
    ("乙方电话", "supplier.phone", "text"),
    ("乙方传真", "supplier.fax", "text"),
    ("乙方联系人", "supplier.contact", "text"),
    ("开户银行", "supplier.bank.name", "text"),
    ("银行账号", "supplier.bank.account", "text"),
    ("统一社会信用代码", "supplier.credit_code", "text"),
    ("中标金额", "amount", "amount"),
    ("服务起始日期", "service.start_date", "date"),
    ("服务截止日期", "service.end_date", "date"),
    ("服务地点", "service.site", "text"),
    ("履约保证金", "performance_bond", "text"),
    ("其它", "other_terms", "text"),
    ("其他合同文件", "other_documents", "list"),
    ("首期付款比例", "payment.first_percent", "amount"),
    ("付款工作日", "payment.days", "int"),
    ("项目牵头单位", "owner_unit", "text"),
    ("项目使用单位", "user_unit", "text"),
    ("保密信息其他", "confidential_extra", "text"),
    ("签订日期", "sign_date", "date"),
    ("签订地点", "sign_place", "text"),
    ("答复工作日", "terms.reply_days", "int"),
    ("移交工作日", "terms.handover_days", "int"),
    ("违约金比例", "terms.penalty_percent", "int"),
    ("不可抗力证明天数", "terms.force_majeure_days", "int"),
    ("口头通知小时", "terms.notice_oral_hours", "int"),
    ("书面通知小时", "terms.notice_written_hours", "int"),
    ("纸质合同份数", "terms.copies", "int"),
    ("验收组织方式", "acceptance_plan.organization", "text"),
    ("验收主体", "acceptance_plan.subject", "text"),
    ("邀请其他供应商", "acceptance_plan.other_suppliers", "text"),
    ("邀请专家", "acceptance_plan.experts", "text"),
    ("邀请服务对象", "acceptance_plan.service_recipients", "text"),
    ("第三方检测机构", "acceptance_plan.third_party", "text"),
    ("抽查检测", "acceptance_plan.sampling", "text"),
    ("破坏性检测", "acceptance_plan.destructive", "text"),
    ("抽查比例", "acceptance_plan.sampling_ratio", "text"),
    ("被破坏的检测产品处理方式", "acceptance_plan.destroyed_handling", "text"),
    ("履约验收方式", "acceptance_plan.method", "text"),
    ("履约验收时间", "acceptance_plan.time", "text"),
    ("验收程序", "acceptance_plan.procedure", "text"),
)
#: columns of the instalment sheet (besides 合同编号), each instalment's keys
INSTALMENT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("付款比例", "percent", "amount"),
    ("付款条件", "condition", "text"),
)
#: columns of the acceptance-item sheet (besides 合同编号)
ITEM_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("验收环节", "stage", "text"),
    ("验收内容", "content", "text"),
    ("验收标准", "standard", "text"),
)
#: the choices a person picks from (offered as drop-down lists in the blank workbook)
CHOICES: dict[str, tuple[str, ...]] = {
    "supplier.legal_representative.gender": ("男", "女"),
    "acceptance_plan.organization": ("自行组织", "委托第三方"),
    "acceptance_plan.method": ("一次性验收", "分期验收"),
    **{
        f"acceptance_plan.{key}": ("是", "否")
        for key in (
            "other_suppliers",
            "experts",
            "service_recipients",
            "third_party",
            "sampling",
            "destructive",
        )
    },
}

_CHINESE_DATE = re.compile(r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?$")


@dataclass
class Record:
    """One contract of a batch as read: raw data, read problems, and where each value came from."""

    source: str
    row: int
    data: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: field path → human place, e.g. ``sheet 合同, row 5, column 乙方邮政编码``
    places: dict[str, str] = field(default_factory=dict)
    #: the place of the record itself, used for issues that name no column
    where: str = ""

    @property
    def contract_no(self) -> str:
        """Return the contract number as typed (empty when missing or not a plain value)."""
        value = self.data.get("contract_no")
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 256:
            return str(value)
        return ""

    def place(self, issue: Issue) -> str:
        """Return where a person finds the value an issue is about."""
        path = issue.path
        while path:
            if path in self.places:
                return self.places[path]
            path = re.sub(r"(\[\d+\]|\.[^.\[]+|^[^.\[]+)$", "", path)
        return self.where


def _cell_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        # A number typed into a cell (postcode, phone, account) is stored as a float.
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, int | date):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def _cell_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        match = _CHINESE_DATE.match(value.strip())
        if match:
            year, month, day = (int(g) for g in match.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
        return value.strip()
    return value


def _cell_number(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().replace(",", "").replace("，", "")
    return value


def _cell_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value.strip() if isinstance(value, str) else value


def _cell_list(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in re.split(r"[；;\n]", value) if item.strip()]
    return value


_READERS = {
    "text": _cell_text,
    "date": _cell_date,
    "amount": _cell_number,
    "int": _cell_int,
    "list": _cell_list,
}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def _header_map(
    headers: list[Any], columns: tuple[tuple[str, str, str], ...]
) -> dict[int, tuple[str, str, str]]:
    by_name = {h: (h, p, k) for h, p, k in columns} | {p: (h, p, k) for h, p, k in columns}
    return {
        n: by_name[str(h).strip()] for n, h in enumerate(headers) if h and str(h).strip() in by_name
    }


def _rows(table: list[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    for number, row in enumerate(table[1:], start=2):
        if any(not _empty(v) for v in row):
            yield number, row


def _read_table(
    sheet: str,
    table: list[list[Any]],
    columns: tuple[tuple[str, str, str], ...],
) -> Iterator[tuple[int, dict[str, Any], dict[str, str]]]:
    """Yield (row number, values by path, places by path) for each non-empty row."""
    if not table:
        return
    mapping = _header_map(table[0], columns)
    for number, row in _rows(table):
        values: dict[str, Any] = {}
        places: dict[str, str] = {}
        for index, (header, path, kind) in mapping.items():
            value = row[index] if index < len(row) else None
            places[path] = f"工作表 {sheet} 第{number}行 “{header}”列"
            if not _empty(value):
                values[path] = _READERS[kind](value)
        yield number, values, places


def _key_of(row: list[Any], headers: list[Any]) -> str:
    for index, header in enumerate(headers):
        if str(header).strip() in {KEY_HEADER, "contract_no"} and index < len(row):
            return str(_cell_text(row[index]) or "")
    return ""


def records_from_tables(tables: Mapping[str, list[list[Any]]], source: str) -> list[Record]:
    """Return the contracts of a workbook given as sheet name → rows of cells."""
    if MAIN_SHEET not in tables:
        raise InputError(f"{source}: 缺少工作表“{MAIN_SHEET}”（每行一份合同）")
    records: list[Record] = []
    by_number: dict[str, Record] = {}
    for number, values, places in _read_table(MAIN_SHEET, tables[MAIN_SHEET], COLUMNS):
        record = Record(source, number, where=f"工作表 {MAIN_SHEET} 第{number}行")
        for path, value in values.items():
            _set(record.data, path, value)
        record.places.update(places)
        records.append(record)
        by_number.setdefault(record.contract_no, record)
    for sheet, columns, target in (
        (INSTALMENT_SHEET, INSTALMENT_COLUMNS, "payment.instalments"),
        (ITEM_SHEET, ITEM_COLUMNS, "acceptance_plan.items"),
    ):
        table = tables.get(sheet) or []
        if not table:
            continue
        for number, values, places in _read_table(sheet, table, columns):
            key = _key_of(table[number - 1], table[0])
            owner = by_number.get(key)
            if owner is None:
                stray = Record(source, number, where=f"工作表 {sheet} 第{number}行")
                stray.issues.append(
                    Issue(
                        f"{target}",
                        "batch.unknown_contract",
                        f"合同编号“{key}”在工作表 {MAIN_SHEET} 中不存在",
                    )
                )
                records.append(stray)
                continue
            *parents, last = target.split(".")
            holder = owner.data
            for part in parents:
                holder = holder.setdefault(part, {})
            items = holder.setdefault(last, [])
            index = len(items)
            items.append(values)
            for path, place in places.items():
                owner.places[f"{target}[{index}].{path}"] = place
            owner.places.setdefault(target, f"工作表 {sheet}")
    return records


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
        while width and _empty(row[width - 1]):
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


def read_workbook(path: Path, limits: Limits = LIMITS) -> list[Record]:
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
            if ws.title in {MAIN_SHEET, INSTALMENT_SHEET, ITEM_SHEET}
        }
    except InputError:
        raise
    except Exception as exc:  # a part openpyxl cannot parse, seen only as its rows are read
        raise InputError(f"{path}: 无法读取工作簿：{type(exc).__name__}: {exc}") from exc
    finally:
        book.close()
    return records_from_tables(tables, str(path))


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


def read_csv(path: Path, limits: Limits = LIMITS) -> list[Record]:
    """Return the contracts of a CSV laid out as the 合同 sheet.

    The repeating parts may sit beside it as ``NAME-付款分期.csv`` and
    ``NAME-验收内容.csv``.
    """
    tables = {MAIN_SHEET: _read_csv(path, limits)}
    for sheet in (INSTALMENT_SHEET, ITEM_SHEET):
        sibling = path.with_name(f"{path.stem}-{sheet}.csv")
        if sibling.is_file():
            tables[sheet] = _read_csv(sibling, limits)
    return records_from_tables(tables, str(path))


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


def read_batch(path: Path, skip: Collection[str] = (), limits: Limits = LIMITS) -> list[Record]:
    """Return the contracts of a batch input, chosen by its kind (``skip``: see read_folder)."""
    if path.is_dir():
        return read_folder(path, skip, limits)
    if not path.exists():
        raise InputError(f"{path}: 文件不存在")
    if not path.is_file():
        raise InputError(f"{path}: 不是普通文件")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return read_workbook(path, limits)
    if suffix == ".csv":
        return read_csv(path, limits)
    if suffix in {".jsonl", ".ndjson"}:
        return read_jsonl(path, limits)
    raise InputError(f"{path}: 不支持的批量输入（应为 .xlsx、.csv、.jsonl 或文件夹）")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def write_workbook(path: Path, contracts: list[Mapping[str, Any]]) -> None:
    """Write a workbook in the batch layout: blank to fill in, or holding the given contracts."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")

    def sheet(title: str, headers: list[str], rows: list[list[Any]], first: bool = False) -> Any:
        ws = book.active if first else book.create_sheet()
        ws.title = title
        ws.append(headers)
        for cell in ws[1]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for n, header in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(n)].width = max(
                10, min(40, 2.2 * len(header) + 4)
            )
            # Text format keeps postcodes, phones and accounts from turning into numbers.
            ws.column_dimensions[get_column_letter(n)].number_format = "@"
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "B2"
        return ws

    main_rows = []
    instalment_rows = []
    item_rows = []
    for contract in contracts:
        flat = _flatten(contract)
        row = []
        for _, key, kind in COLUMNS:
            value = flat.get(key)
            if kind == "list" and isinstance(value, list):
                value = "；".join(str(v) for v in value)
            row.append("" if value is None else str(value) if kind != "int" else int(value))
        main_rows.append(row)
        number = contract.get("contract_no", "")
        for item in (contract.get("payment") or {}).get("instalments") or []:
            instalment_rows.append(
                [number, *(str(item.get(k, "")) for _, k, _ in INSTALMENT_COLUMNS)]
            )
        for item in (contract.get("acceptance_plan") or {}).get("items") or []:
            item_rows.append([number, *(str(item.get(k, "")) for _, k, _ in ITEM_COLUMNS)])

    main = sheet(MAIN_SHEET, [h for h, _, _ in COLUMNS], main_rows, first=True)
    for n, (_, key, _) in enumerate(COLUMNS, start=1):
        if key in CHOICES:
            rule = DataValidation(
                type="list", formula1='"' + ",".join(CHOICES[key]) + '"', allow_blank=True
            )
            main.add_data_validation(rule)
            rule.add(f"{get_column_letter(n)}2:{get_column_letter(n)}1000")
    sheet(INSTALMENT_SHEET, [KEY_HEADER, *(h for h, _, _ in INSTALMENT_COLUMNS)], instalment_rows)
    sheet(ITEM_SHEET, [KEY_HEADER, *(h for h, _, _ in ITEM_COLUMNS)], item_rows)
    notes = book.create_sheet("说明")
    for line in (
        ["每行一份合同；付款分期、验收内容另表填写，以合同编号对应。"],
        ["日期可填 2026-12-31、2026/12/31 或 2026年12月31日；金额可带两位小数，不作四舍五入。"],
        ["未填写付款分期时，中标金额低于500万元且不跨年的项目按首期比例与尾款两期付款。"],
        ["列名", "数据键"],
        *([h, k] for h, k, _ in COLUMNS),
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 40
    book.save(path)
