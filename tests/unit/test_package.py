"""The .docx zip writer gives the bytes zipfile gives for the same entries."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from generator.docx.package import Entry, package
from generator.docx.render import write_entry

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    p for p in (ROOT / "generator").rglob("*.docx") if "build" not in p.parts
) + sorted((ROOT / "templates").rglob("*.docx"))


def by_zipfile(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries:
            write_entry(out, name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_template_is_packaged_as_zipfile_packages_it(template: Path) -> None:
    with zipfile.ZipFile(template) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    assert entries
    assert package(Entry.of(n, d) for n, d in entries) == by_zipfile(entries)


def test_odd_entries_are_packaged_as_zipfile_packages_them() -> None:
    entries = [
        ("空.xml", b""),
        ("word/媒体/图片.bin", os.urandom(70000)),  # random: deflated to more than it is
        ("a" * 300, b"x" * 1_000_000),
        ("[Content_Types].xml", "<Types>合同</Types>".encode()),
    ]
    made = package(Entry.of(n, d) for n, d in entries)
    assert made == by_zipfile(entries)
    with zipfile.ZipFile(io.BytesIO(made)) as archive:
        assert archive.testzip() is None
        assert [(i.filename, archive.read(i)) for i in archive.infolist()] == entries


def test_no_entry_is_an_empty_zip() -> None:
    assert package([]) == by_zipfile([])
