"""The batch workbook's layout: sheets, Chinese column headers, and how cells become data.

One row per contract on the sheet 合同, and the repeating parts — payment
instalments and acceptance items — on their own sheets keyed by 合同编号. Cells
are read as people type them (numbers stored as numbers or text, dates as Excel
dates or text), and every value keeps its place (sheet, row, column header) so
an issue can be reported where the person will look. :func:`write_workbook`
writes the same layout, blank or filled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..domain.context import format_wan
from ..domain.model import DEFAULT_SCHEDULE_LIMIT, PROCUREMENT_METHODS
from ..errors import InputError, Issue

__all__ = [
    "CHOICES",
    "COLUMNS",
    "INSTALMENT_COLUMNS",
    "INSTALMENT_SHEET",
    "ITEM_COLUMNS",
    "ITEM_SHEET",
    "KEY_HEADER",
    "MAIN_SHEET",
    "Record",
    "empty",
    "records_from_tables",
    "write_workbook",
]

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
    # 合同公告 and the public copy (the publication block; all optional)
    ("项目编号", "publication.project_no", "text"),
    ("采购方式", "publication.procurement_method", "text"),
    ("主要标的名称", "publication.subject_name", "text"),
    ("规格型号或服务要求", "publication.requirements", "text"),
    ("主要标的数量", "publication.quantity", "text"),
    ("主要标的单价", "publication.unit_price", "amount"),
    ("其他补充事宜", "publication.other", "text"),
    ("公开文本隐去字段", "publication.withhold", "list"),
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
    "publication.procurement_method": PROCUREMENT_METHODS,
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


def empty(value: Any) -> bool:
    """Return whether a cell holds nothing (None, or only white space)."""
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
        if any(not empty(v) for v in row):
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
            if not empty(value):
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
        [
            f"未填写付款分期时，中标金额低于{format_wan(DEFAULT_SCHEDULE_LIMIT)}且不跨年的项目"
            "按首期比例与尾款两期付款。"
        ],
        ["列名", "数据键"],
        *([h, k] for h, k, _ in COLUMNS),
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 40
    book.save(path)
