"""The batch workbook's layout, derived from a kind's declaration: sheets, headers, cells.

One row per contract on the sheet 合同, its columns the kind's fields (the
header is the field's titles from the root, ``乙方邮政编码``; the data path and
any header the field was read under before are accepted too), and each list
of records — payment instalments, acceptance items, a goods table — on a sheet
of its own keyed by 合同编号. Cells are read as people type them (numbers
stored as numbers or text, dates as Excel dates or text), and every value keeps
its place (sheet, row, column header) so an issue can be reported where the
person will look. :func:`generator.inputs.workbook.write_workbook` writes the same layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from ..domain.model import PROCUREMENT_METHODS
from ..errors import InputError, Issue
from ..kinds import DEFAULT_KIND, ContractKind, FieldDef, default_kind, registry

__all__ = [
    "KEY_HEADER",
    "KIND_HEADER",
    "MAIN_SHEET",
    "Column",
    "Layout",
    "Record",
    "Table",
    "empty",
    "layout_of",
    "records_from_tables",
]

MAIN_SHEET = "合同"
KEY_HEADER = "合同编号"
#: the main sheet's column naming each row's kind: a round of several kinds says so here
KIND_HEADER = "合同类型"


@dataclass(frozen=True)
class Column:
    """One column: its header, the data path it fills, how a cell is read, other headers."""

    header: str
    path: str
    reader: str
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A sheet of a list's rows, keyed by 合同编号: the list's path and its columns."""

    sheet: str
    path: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()


#: how each field type's cells are read
_READER_OF = {
    "date": "date",
    "amount": "amount",
    "percent": "amount",
    "integer": "int",
}

#: the 合同公告 and the public copy (the publication block; all optional), every kind alike
_PUBLICATION: tuple[Column, ...] = (
    Column("项目编号", "publication.project_no", "text"),
    Column("采购方式", "publication.procurement_method", "text", (), PROCUREMENT_METHODS),
    Column("主要标的名称", "publication.subject_name", "text"),
    Column("规格型号（或服务要求）", "publication.requirements", "text", ("规格型号或服务要求",)),
    Column("主要标的数量", "publication.quantity", "text"),
    Column("主要标的单价（元）", "publication.unit_price", "amount", ("主要标的单价",)),
    Column("其他补充事宜", "publication.other", "text"),
    Column("公开文本隐去的字段", "publication.withhold", "list", ("公开文本隐去字段",)),
    Column("公开文本隐去的文字", "publication.withhold_text", "list", ("公开文本隐去文字",)),
    Column("可公开的号码", "publication.public_numbers", "list"),
)


def _column(definition: FieldDef, header: str, path: str) -> Column:
    spec = definition.spec
    reader = "list" if definition.type == "list" else _READER_OF.get(definition.type, "text")
    choices: tuple[str, ...] = tuple(spec.choices or ())
    if definition.type == "yesno":
        choices = ("是", "否")
    return Column(header, path, reader, tuple(spec.aliases), choices)


@dataclass(frozen=True)
class Layout:
    """The workbook of one kind: the main sheet's columns and the lists' sheets."""

    kind: ContractKind
    columns: tuple[Column, ...]
    tables: tuple[Table, ...]

    @property
    def sheets(self) -> set[str]:
        """Return the names of every sheet a batch reads (aliases included)."""
        return {MAIN_SHEET} | {n for t in self.tables for n in (t.sheet, *t.aliases)}


@cache
def layout_of(kind: ContractKind | None = None) -> Layout:
    """Return the workbook layout of a kind (the default kind when None)."""
    kind = kind or default_kind()
    columns: list[Column] = []
    tables: list[Table] = []

    def visit(definition: FieldDef) -> None:
        if definition.type == "object":
            for child in definition.children:
                visit(child)
        elif definition.records:
            rows = tuple(_column(c, c.title, c.key) for c in definition.children)
            tables.append(
                Table(definition.label, definition.path, rows, tuple(definition.spec.aliases))
            )
        else:
            columns.append(_column(definition, definition.label, definition.path))

    for top in kind.fields:
        visit(top)
    return Layout(kind, (*columns, *_PUBLICATION), tuple(tables))


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
    #: of a workbook's or CSV's row: field path → what the office would add for it when
    #: it is missing (``“乙方名称”列``, ``工作表“付款分期”``), shared by the rows of a layout
    missing: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

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
        """Return where a person finds the value an issue is about.

        A value with a cell of its own is named by its column; one that has none (a key
        a JSONL line lacks, a column a CSV lacks) by the record's place and the field's
        title and path, and, in a workbook or CSV, the column or sheet to add.
        """
        path = issue.path
        while path:
            if path in self.places:
                return self.places[path]
            path = re.sub(r"(\[\d+\]|\.[^.\[]+|^[^.\[]+)$", "", path)
        if not issue.path:
            return self.where
        named = f"{issue.title}（{issue.path}）" if issue.title else issue.path
        return " ".join(filter(None, (self.where, named))) + self._to_add(issue.path)

    def _to_add(self, path: str) -> str:
        """Return what the office would add to the table for a value it has no cell for."""
        plain = re.sub(r"\[\d+\]", "", path)
        if plain in self.missing:
            return f"，表中缺少{self.missing[plain]}"
        under = [text for key, text in self.missing.items() if key.startswith(plain + ".")]
        if not under:
            return ""
        shown = "、".join(under[:3]) + (f"等 {len(under)} 项" if len(under) > 3 else "")
        return f"，表中缺少{shown}"


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
    # text is read as every face reads it (generator.domain.fields.parse_date)
    return value.strip() if isinstance(value, str) else value


def _cell_number(value: Any) -> Any:
    # thousands separators are read as every face reads them (the amount field type)
    return value.strip() if isinstance(value, str) else value


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


def empty(value: Any) -> bool:
    """Return whether a cell holds nothing (None, or only white space)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def _header_map(headers: list[Any], columns: tuple[Column, ...]) -> dict[int, Column]:
    by_name: dict[str, Column] = {}
    for column in columns:
        for name in (column.path, *column.aliases, column.header):
            by_name[name] = column
    return {
        n: by_name[str(h).strip()] for n, h in enumerate(headers) if h and str(h).strip() in by_name
    }


def _rows(table: list[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    for number, row in enumerate(table[1:], start=2):
        if any(not empty(v) for v in row):
            yield number, row


def _read_table(
    sheet: str, table: list[list[Any]], columns: tuple[Column, ...]
) -> Iterator[tuple[int, dict[str, Any], dict[str, str]]]:
    """Yield (row number, values by path, places by path) for each non-empty row."""
    if not table:
        return
    mapping = _header_map(table[0], columns)
    for number, row in _rows(table):
        values: dict[str, Any] = {}
        places: dict[str, str] = {}
        for index, column in mapping.items():
            value = row[index] if index < len(row) else None
            places[column.path] = f"工作表 {sheet} 第{number}行 “{table[0][index]}”列"
            if not empty(value):
                values[column.path] = _READERS[column.reader](value)
        yield number, values, places


def _key_of(row: list[Any], headers: list[Any]) -> str:
    for index, header in enumerate(headers):
        if str(header).strip() in {KEY_HEADER, "contract_no"} and index < len(row):
            return str(_cell_text(row[index]) or "")
    return ""


def _table_of(tables: Mapping[str, list[list[Any]]], table: Table) -> tuple[str, list[list[Any]]]:
    for name in (table.sheet, *table.aliases):
        if tables.get(name):
            return name, tables[name]
    return table.sheet, []


def _kind_column(headers: list[Any]) -> int | None:
    for index, header in enumerate(headers):
        if str(header or "").strip() in (KIND_HEADER, "kind"):
            return index
    return None


def records_from_tables(
    tables: Mapping[str, list[list[Any]]], source: str, kind: ContractKind | None = None
) -> list[Record]:
    """Return the contracts of a workbook given as sheet name → rows of cells.

    A workbook is of one kind (``kind``; the default kind when None) unless its main
    sheet has a 合同类型 column: then each row names its own kind (by id or title) and
    is read with that kind's columns and sheets, so a round may mix kinds.
    """
    if MAIN_SHEET not in tables:
        raise InputError(f"{source}: 缺少工作表“{MAIN_SHEET}”（每行一份合同）")
    main = tables[MAIN_SHEET]
    column = _kind_column(main[0]) if main else None
    if column is None:
        return _one_kind(tables, source, kind)
    return _mixed(tables, source, column)


def _mixed(tables: Mapping[str, list[list[Any]]], source: str, column: int) -> list[Record]:
    """Return the rows of a workbook whose main sheet says each row's kind."""
    kinds = registry()
    by_name = {k.id: k for k in kinds} | {k.title: k for k in kinds}
    main = tables[MAIN_SHEET]
    rows_of: dict[ContractKind, list[list[Any]]] = {}
    numbers: dict[ContractKind, list[int]] = {}
    records: list[Record] = []
    for number, row in _rows(main):
        name = str(_cell_text(row[column]) or "") if column < len(row) else ""
        chosen = by_name.get(name) if name else kinds.default
        if chosen is None:
            record = Record(source, number, where=f"工作表 {MAIN_SHEET} 第{number}行")
            known = "、".join(f"{k.id}（{k.title}）" for k in kinds)
            message = f"没有合同类型“{name[:40]}”；可选：{known}"
            record.issues.append(Issue("kind", "kind.unknown", message))
            records.append(record)
            continue
        rows_of.setdefault(chosen, []).append(row)
        numbers.setdefault(chosen, []).append(number)
    for chosen, rows in rows_of.items():
        own = {**tables, MAIN_SHEET: [main[0], *rows]}
        others = {
            _key_of(row, main[0])
            for other, them in rows_of.items()
            if other is not chosen
            for row in them
        }
        for record in _one_kind(own, source, chosen, others):
            if record.where.startswith(f"工作表 {MAIN_SHEET} "):
                record.row = numbers[chosen][record.row - 2]
                record.where = f"工作表 {MAIN_SHEET} 第{record.row}行"
                record.places = {
                    path: re.sub(r"第\d+行", f"第{record.row}行", place, count=1)
                    if place.startswith(f"工作表 {MAIN_SHEET} ")
                    else place
                    for path, place in record.places.items()
                }
            if not chosen.built_in or chosen.id != DEFAULT_KIND:
                record.data.setdefault("kind", chosen.id)
            records.append(record)
    return sorted(records, key=lambda r: (not r.where.startswith(f"工作表 {MAIN_SHEET} "), r.row))


@cache
def _missing_of(layout: Layout) -> Mapping[str, str]:
    """Return, by field path, the column (or list sheet) a row lacking the field lacks.

    Only the fields data must give: an object's optional columns are not asked for.
    """
    declared = layout.kind.by_path
    found = {
        column.path: f"“{column.header}”列"
        for column in layout.columns
        if column.path in declared and not declared[column.path].optional
    }
    found.update({table.path: f"工作表“{table.sheet}”" for table in layout.tables})
    return found


def _one_kind(
    tables: Mapping[str, list[list[Any]]],
    source: str,
    kind: ContractKind | None = None,
    others: set[str] | frozenset[str] = frozenset(),
) -> list[Record]:
    """Return the contracts of a workbook of one kind (rows of ``others`` left to their kind)."""
    layout = layout_of(kind)
    records: list[Record] = []
    by_number: dict[str, Record] = {}
    missing = _missing_of(layout)
    for number, values, places in _read_table(MAIN_SHEET, tables[MAIN_SHEET], layout.columns):
        record = Record(source, number, where=f"工作表 {MAIN_SHEET} 第{number}行", missing=missing)
        for path, value in values.items():
            _set(record.data, path, value)
        if kind is not None and not kind.built_in:
            record.data["kind"] = kind.id
        record.places.update(places)
        records.append(record)
        by_number.setdefault(record.contract_no, record)
    for table in layout.tables:
        sheet, rows = _table_of(tables, table)
        for number, values, places in _read_table(sheet, rows, table.columns):
            key = _key_of(rows[number - 1], rows[0])
            owner = by_number.get(key)
            if owner is None and key in others:
                continue
            if owner is None:
                stray = Record(source, number, where=f"工作表 {sheet} 第{number}行")
                stray.issues.append(
                    Issue(
                        table.path,
                        "batch.unknown_contract",
                        f"合同编号“{key}”在工作表 {MAIN_SHEET} 中不存在",
                    )
                )
                records.append(stray)
                continue
            *parents, last = table.path.split(".")
            holder = owner.data
            for part in parents:
                holder = holder.setdefault(part, {})
            items = holder.setdefault(last, [])
            index = len(items)
            items.append(values)
            for path, place in places.items():
                owner.places[f"{table.path}[{index}].{path}"] = place
            owner.places.setdefault(table.path, f"工作表 {sheet}")
    return records
