"""Write a kind's batch workbook: blank to fill in (``init --xlsx``), or holding contracts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..kinds import ContractKind, value_at
from .layout import KEY_HEADER, MAIN_SHEET, Column, layout_of

__all__ = ["write_workbook"]


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _cell(column: Column, value: Any) -> Any:
    if column.reader == "list" and isinstance(value, list):
        return "；".join(str(v) for v in value)
    if value is None:
        return ""
    return int(value) if column.reader == "int" else str(value)


def write_workbook(
    path: Path, contracts: list[Mapping[str, Any]], kind: ContractKind | None = None
) -> None:
    """Write a workbook in a kind's batch layout: blank to fill in, or holding these contracts."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    layout = layout_of(kind)
    book = Workbook()
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")

    def sheet(
        title: str, columns: tuple[Column, ...], rows: list[list[Any]], first: bool = False
    ) -> Any:
        ws = book.active if first else book.create_sheet()
        ws.title = title
        headers = [c.header for c in columns]
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
        for n, column in enumerate(columns, start=1):
            if column.choices:
                rule = DataValidation(
                    type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True
                )
                ws.add_data_validation(rule)
                rule.add(f"{get_column_letter(n)}2:{get_column_letter(n)}1000")
        return ws

    main_rows = []
    table_rows: dict[str, list[list[Any]]] = {t.path: [] for t in layout.tables}
    key_path = layout.kind.spec.envelope.contract_no
    for contract in contracts:
        flat = _flatten(contract)
        main_rows.append([_cell(c, flat.get(c.path)) for c in layout.columns])
        number = value_at(contract, key_path) or ""
        for table in layout.tables:
            for item in value_at(contract, table.path) or []:
                table_rows[table.path].append(
                    [number, *(_cell(c, item.get(c.path)) for c in table.columns)]
                )

    sheet(MAIN_SHEET, layout.columns, main_rows, first=True)
    key = Column(KEY_HEADER, key_path, "text")
    for table in layout.tables:
        sheet(table.sheet, (key, *table.columns), table_rows[table.path])
    notes = book.create_sheet("说明")
    lists = "、".join(t.sheet for t in layout.tables)
    for line in (
        [f"合同类型：{layout.kind.title}（{layout.kind.id}，第 {layout.kind.version} 版）"],
        ["每行一份合同" + (f"；{lists}另表填写，以合同编号对应。" if lists else "。")],
        ["日期可填 2026-12-31、2026/12/31 或 2026年12月31日；金额可带两位小数，不作四舍五入。"],
        ["列名", "数据键", "说明"],
        *(
            [
                c.header,
                c.path,
                layout.kind.by_path[c.path].spec.help if c.path in layout.kind.by_path else "",
            ]
            for c in layout.columns
        ),
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 40
    notes.column_dimensions["C"].width = 60
    book.save(path)
