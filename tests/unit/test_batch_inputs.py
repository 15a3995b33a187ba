"""Batch inputs beyond the limits, and hostile workbooks: refused fast, naming file and limit."""

from __future__ import annotations

import csv
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from generator import InputTooLargeError
from generator.errors import InputError
from generator.inputs import LIMITS, Limits, read_batch, read_folder

from ..hostile_files import (
    LAUGHS,
    SHEET,
    XXE,
    contracts,
    declared,
    far_cell,
    jsonl,
    patched_workbook,
    with_dtd,
    zip_bomb,
)


def _refused(
    path: Path, *words: str, kind: type[InputError] = InputTooLargeError, limits: Limits = LIMITS
) -> None:
    started = time.monotonic()
    with pytest.raises(kind) as caught:
        read_batch(path, limits=limits)
    message = str(caught.value)
    assert str(path) in message and all(w in message for w in words), message
    assert time.monotonic() - started < 10, "a refusal must come before the expensive work"


# --- workbooks: sizes declared, sizes real, DTDs ---------------------------------------------


def test_declared_dimension_is_not_trusted(tmp_path: Path, seed: dict[str, Any]) -> None:
    book = patched_workbook(
        tmp_path / "claims.xlsx",
        contracts(seed, ["HT1", "HT2"]),
        {SHEET: declared("A1:XFD1048576")},
    )
    assert book.stat().st_size < 20_000
    started = time.monotonic()
    records = read_batch(book)
    assert time.monotonic() - started < 5
    assert [r.contract_no for r in records] == ["HT1", "HT2"]
    assert not [r for r in records if r.issues]


@pytest.mark.parametrize(
    ("ref", "row", "words"),
    [
        # data in the sheet's last row and column, not just declared there
        ("XFD1048576", 1048576, ["第1048576行", str(LIMITS.rows)]),
        ("A10002", 10002, ["第10002行", str(LIMITS.rows)]),
        ("XFD3", 3, ["第16384列", str(LIMITS.columns)]),
        ("GS4", 4, ["第201列", str(LIMITS.columns)]),
    ],
)
def test_data_beyond_the_last_row_or_column(
    tmp_path: Path, seed: dict[str, Any], ref: str, row: int, words: list[str]
) -> None:
    book = patched_workbook(
        tmp_path / "far.xlsx", contracts(seed, ["HT1"]), {SHEET: far_cell(ref, row)}
    )
    _refused(book, "工作表 合同", *words)


def test_the_last_row_and_column_allowed_are_read(tmp_path: Path, seed: dict[str, Any]) -> None:
    ref = f"GR{LIMITS.rows + 1}"  # column 200, row 10001 (the header is row 1)
    book = patched_workbook(
        tmp_path / "edge.xlsx",
        contracts(seed, ["HT1"]),
        {SHEET: far_cell(ref, LIMITS.rows + 1)},
    )
    assert next(r.contract_no for r in read_batch(book)) == "HT1"


def test_too_many_cells(tmp_path: Path, seed: dict[str, Any]) -> None:
    # A real sheet of 2 rows × 53 columns against a lower limit: the count is of cells read.
    book = patched_workbook(tmp_path / "cells.xlsx", contracts(seed, ["HT1"]), {})
    _refused(book, "100 个单元格", limits=Limits(cells=100))


def test_zip_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    book = zip_bomb(tmp_path / "bomb.xlsx", 1200 << 20)
    assert book.stat().st_size < 2 << 20
    _refused(book, "解压后", str(LIMITS.unpacked_bytes))


def test_compression_ratio_is_limited(tmp_path: Path) -> None:
    book = zip_bomb(tmp_path / "ratio.xlsx", 8 << 20)
    _refused(book, SHEET, "压缩比", f"{LIMITS.ratio}:1")


def test_too_many_parts(tmp_path: Path) -> None:
    book = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(book, "w") as archive:
        for n in range(LIMITS.parts + 1):
            archive.writestr(f"p{n}.xml", "<a/>")
    _refused(book, str(LIMITS.parts), "部件")


def test_file_too_large(tmp_path: Path) -> None:
    book = tmp_path / "large.xlsx"
    with open(book, "wb") as fh:
        fh.truncate(LIMITS.file_bytes + 1)
    _refused(book, str(LIMITS.file_bytes), "字节")


def test_a_lying_zip_directory_is_an_input_error(tmp_path: Path, seed: dict[str, Any]) -> None:
    # Declared sizes bound what Python unpacks; a member longer than declared fails its CRC.
    book = patched_workbook(tmp_path / "liar.xlsx", contracts(seed, ["HT1"]), {})
    data = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as archive:
        info = archive.getinfo(SHEET)
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[offset + 40] ^= 0xFF  # corrupt the deflated stream
    book.write_bytes(bytes(data))
    _refused(book, "工作簿", kind=InputError)


@pytest.mark.parametrize(
    ("part", "dtd", "reference"),
    [
        (SHEET, XXE, "&xxe;"),
        (SHEET, LAUGHS, "&lol9;"),
        ("xl/workbook.xml", LAUGHS, ""),
        ("[Content_Types].xml", XXE, ""),
        ("docProps/core.xml", LAUGHS, ""),
        ("xl/styles.xml", XXE, ""),
    ],
)
def test_dtd_in_any_part_is_refused(
    tmp_path: Path, seed: dict[str, Any], part: str, dtd: str, reference: str
) -> None:
    book = patched_workbook(
        tmp_path / "evil.xlsx", contracts(seed, ["HT1"]), {part: with_dtd(dtd, reference)}
    )
    _refused(book, part, "DTD", kind=InputError)


def test_dtd_in_another_encoding_is_refused(tmp_path: Path, seed: dict[str, Any]) -> None:
    def utf16(data: bytes) -> bytes:
        text = with_dtd(XXE, "&xxe;")(data).decode()
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
        if not text.startswith("<?xml"):
            text = '<?xml version="1.0" encoding="UTF-16"?>' + text
        return text.encode("utf-16")

    book = patched_workbook(tmp_path / "utf16.xlsx", contracts(seed, ["HT1"]), {SHEET: utf16})
    _refused(book, SHEET, "DTD", kind=InputError)


# --- CSV ---------------------------------------------------------------------------------------


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_csv_rows_columns_and_fields(tmp_path: Path) -> None:
    header = ["合同编号", "项目名称"]
    _refused(
        _csv(tmp_path / "rows.csv", [header, *([f"HT{n}", "x"] for n in range(LIMITS.rows + 1))]),
        "第10002行",
        str(LIMITS.rows),
    )
    _refused(
        _csv(tmp_path / "cols.csv", [header, ["HT1", *["x"] * LIMITS.columns]]),
        str(LIMITS.columns),
        "列",
    )
    _refused(
        _csv(tmp_path / "field.csv", [header, ["HT1", "x" * (csv.field_size_limit() + 1)]]),
        str(csv.field_size_limit()),
        kind=InputError,
    )


def test_csv_file_too_large(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(LIMITS.file_bytes + 1)
    _refused(big, str(LIMITS.file_bytes))


# --- JSON lines and folders ----------------------------------------------------------------------


def test_jsonl_bad_lines_are_bad_rows(tmp_path: Path, seed: dict[str, Any]) -> None:
    good = contracts(seed, ["HT1"])[0]
    source = jsonl(
        tmp_path / "round.jsonl",
        [
            good,
            "[" * 100_000 + "]" * 100_000,
            '{"contract_no": "HT3", "amount": ' + "9" * 5000 + "}",
            '{"contract_no": "' + "x" * LIMITS.contract_bytes + '"}',
            "\x00\x01",
            '"just text"',
        ],
    )
    records = read_batch(source)
    assert [r.where for r in records] == [f"第{n}行" for n in range(1, 7)]
    assert not records[0].issues and records[0].contract_no == "HT1"
    codes = [[i.code for i in r.issues] for r in records[1:]]
    assert codes == [
        ["input.json"],
        ["input.json"],
        ["input.limit"],
        ["input.json"],
        ["type.object"],
    ]
    assert str(LIMITS.contract_bytes) in records[3].issues[0].message


def test_jsonl_too_many_lines(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "many.jsonl", ["{}"] * (LIMITS.rows + 1))
    _refused(source, str(LIMITS.rows), "行")


def test_folder_skips_hidden_and_special_files_and_limits_size(
    tmp_path: Path, seed: dict[str, Any]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    jsonl(folder / "a.json", contracts(seed, ["HT1"]))
    (folder / "b.json").write_text('{"contract_no": "' + "x" * LIMITS.contract_bytes + '"}')
    (folder / ".#a.json").write_text("{")  # an editor's lock file
    (folder / "dir.json").mkdir()
    os.mkfifo(folder / "pipe.json")  # reading it would block for ever
    (folder / "skipped.json").write_text("{")
    records = read_folder(folder, skip={"skipped.json"})
    assert [r.where for r in records] == ["a.json", "b.json"]
    assert not records[0].issues
    assert [i.code for i in records[1].issues] == ["input.limit"]
