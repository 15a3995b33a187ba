"""Build the hostile batch inputs of issue 11 as real files: bombs, XXE, lying workbooks."""

from __future__ import annotations

import copy
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from generator.inputs import write_workbook

#: the main sheet of a workbook written by write_workbook
SHEET = "xl/worksheets/sheet1.xml"

#: a DTD that reads a local file into an entity (XXE)
XXE = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
#: a DTD whose entities expand to a thousand million characters ("billion laughs")
LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)


def contracts(seed: dict[str, Any], numbers: Iterable[str]) -> list[dict[str, Any]]:
    """Return copies of the seed contract with the given contract numbers."""
    rows = []
    for number in numbers:
        row = copy.deepcopy(seed)
        row["contract_no"] = number
        rows.append(row)
    return rows


def jsonl(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """Write a JSON-lines file: objects as JSON, strings as they are."""
    path.write_text(
        "".join(
            (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
            for line in lines
        ),
        "utf-8",
    )
    return path


def patched_workbook(
    path: Path, rows: list[dict[str, Any]], patches: dict[str, Callable[[bytes], bytes]]
) -> Path:
    """Write a real batch workbook, then rewrite some of its parts byte for byte."""
    plain = path.with_name(f"plain-{path.name}")
    write_workbook(plain, rows)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info.filename, patches.get(info.filename, lambda d: d)(data))
    plain.unlink()
    return path


def with_dtd(dtd: str, reference: str = "") -> Callable[[bytes], bytes]:
    """Return a patch that puts a DTD before the root element and a reference in a cell."""

    def patch(data: bytes) -> bytes:
        text = data.decode()
        text = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + dtd, text, count=1)
        if reference:
            text = text.replace("<t>合同编号</t>", f"<t>{reference}</t>", 1)
        return text.encode()

    return patch


def declared(ref: str) -> Callable[[bytes], bytes]:
    """Return a patch that makes a sheet declare the dimension ``ref``."""
    return lambda data: re.sub(
        rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), data
    )


def far_cell(ref: str, row: int) -> Callable[[bytes], bytes]:
    """Return a patch that adds a cell holding text at ``ref`` (in row ``row``)."""
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'
    return lambda data: data.replace(b"</sheetData>", cell.encode() + b"</sheetData>")


def many_rows(count: int, text: str = "NOPE") -> Callable[[bytes], bytes]:
    """Return a patch that adds ``count`` rows of one short cell after a sheet's own rows."""

    def patch(data: bytes) -> bytes:
        rows = "".join(
            f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{text}</t></is></c></row>'
            for n in range(1000, 1000 + count)
        )
        return data.replace(b"</sheetData>", rows.encode() + b"</sheetData>")

    return patch


def zip_bomb(path: Path, unpacked: int) -> Path:
    """Write a workbook whose sheet unpacks to ``unpacked`` bytes of blanks (a few KB packed)."""
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(SHEET, "w", force_zip64=True) as member:
            for _ in range(unpacked // len(chunk)):
                member.write(chunk)
    return path
