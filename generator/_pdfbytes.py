"""Read and parse the objects of a classic-xref PDF as bytes.

LibreOffice's PDFs, and :func:`generator.pdfdoc.finish`'s output, have one
classic cross-reference table, no object streams and nothing appended. Such a
file is read here without pypdf's reader: :func:`read_trailer` checks the
table and its trailer, and :func:`parse_object` parses one object into pypdf's
object types as pypdf would. :mod:`generator.pdfdoc` (which rewrites the file)
and :mod:`generator.seal` (which reads its pages) build their own views of the
objects on these. A file of any other shape raises :class:`Irregular`, and the
caller takes its general way through pypdf.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    create_string_object,
)

__all__ = [
    "STARTXREF",
    "TRAILER",
    "XREF_ENTRY",
    "Irregular",
    "Objects",
    "Trailer",
    "page_refs",
    "parse_object",
    "read_trailer",
]


class Irregular(Exception):
    """The file is not shaped like LibreOffice's output: the caller goes the general way (pypdf)."""


STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")
_XREF = re.compile(rb"xref\r?\n0 (\d+)\r?\n")
XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)")
TRAILER = re.compile(rb"trailer\s*<<(.*?)>>\s*startxref\s", re.S)


@dataclass(frozen=True)
class Trailer:
    """Where a file's one classic table is, and what its trailer says."""

    #: where ``xref`` begins
    table_at: int
    #: where the table's first entry (object 0) begins; each entry is 20 bytes
    entries_at: int
    size: int
    root: int
    info: int
    #: the trailer dictionary's bytes, between ``<<`` and ``>>``
    keys: bytes


def read_trailer(data: bytes) -> Trailer:
    """Read the table and trailer of a one-table file with nothing appended; or raise Irregular."""
    end = STARTXREF.search(data, max(0, len(data) - 64))
    if end is None:
        raise Irregular("startxref")
    table_at = int(end.group(1))
    table = _XREF.match(data, table_at)
    if table is None:
        raise Irregular("not one classic table")
    size = int(table.group(1))
    trailer = TRAILER.match(data, table.end() + 20 * size)
    if trailer is None or trailer.end() != end.start() + 10:
        raise Irregular("trailer")
    keys = trailer.group(1)
    if any(key in keys for key in (b"/Prev", b"/Encrypt", b"/XRefStm")):
        raise Irregular("an update or encryption")
    sizes = re.findall(rb"/Size\s+(\d+)", keys)
    root = re.findall(rb"/Root\s+(\d+)\s+0\s+R", keys)
    info = re.findall(rb"/Info\s+(\d+)\s+0\s+R", keys)
    if sizes != [b"%d" % size] or len(root) != 1 or len(info) != 1:
        raise Irregular("trailer")
    return Trailer(table_at, table.end(), size, int(root[0]), int(info[0]), keys)


class Objects(Protocol):
    """A document read through its table: its catalog's number and its dictionaries."""

    root: int

    def dictionary(self, number: int) -> DictionaryObject:
        """Return a dictionary object by number; or raise Irregular."""
        ...


def page_refs(doc: Objects) -> list[Any]:
    """Return the references in the /Kids of the catalog's page tree, checked against /Count."""
    pages = doc.dictionary(doc.root).get("/Pages")
    if not isinstance(pages, IndirectObject):
        raise Irregular("/Pages")
    tree = doc.dictionary(pages.idnum)
    kids = tree.get("/Kids")
    if not isinstance(kids, ArrayObject) or tree.get("/Count") != len(kids):
        raise Irregular("page tree")
    return kids


_WHITE = rb"[\x00\t\n\x0c\r ]*"
_DELIMITED = rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
_TOKEN = re.compile(
    _WHITE
    + rb"(?:(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R"
    + _DELIMITED
    + rb"|([+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    + rb"|(/[!-~]*?)(?=[\x00\t\n\x0c\r ()<>\[\]{}/%])"
    + rb"|(<<|\[|>>|\])"
    + rb"|<([0-9A-Fa-f\x00\t\n\x0c\r ]*)>"
    + rb"|(true|false|null)"
    + _DELIMITED
    + rb")"
)
_NUMBERS = re.compile(_WHITE + rb"\[([0-9.+\-\x00\t\n\x0c\r ]*)\]")


def parse_object(data: bytes, pos: int, end: int, pdf: Any) -> tuple[Any, int] | None:
    """Parse the object at ``data[pos:end]`` as pypdf's ``read_object`` would; None if unsure.

    pypdf reads byte by byte (a 256-number /Widths array takes half a
    millisecond); this takes one regular expression match per token, and one
    per array of plain numbers. Names with # escapes, literal strings and
    anything else unusual give None: pypdf then parses the object itself.
    References are made with ``pdf`` as their reader. Returns the object and
    where it ends.
    """
    stack: list[list[Any]] = []  # open containers: [kind, container, pending dictionary key]
    while True:
        numbers = _NUMBERS.match(data, pos, end)
        if numbers is not None:
            try:
                value: Any = ArrayObject(
                    FloatObject(item) if b"." in item else NumberObject(item)
                    for item in numbers.group(1).split()
                )
            except ValueError:
                return None
            pos = numbers.end()
        else:
            found = _TOKEN.match(data, pos, end)
            if found is None:
                return None
            pos = found.end()
            ref, generation, number, name, bracket, hexdigits, keyword = found.groups()
            if ref is not None:
                value = IndirectObject(int(ref), int(generation), pdf)
            elif number is not None:
                try:
                    value = FloatObject(number) if b"." in number else NumberObject(number)
                except ValueError:
                    return None
            elif name is not None:
                if b"#" in name:
                    return None
                value = NameObject(name.decode("ascii"))
            elif bracket in (b"[", b"<<"):
                stack.append(
                    [bracket, ArrayObject() if bracket == b"[" else DictionaryObject(), None]
                )
                continue
            elif bracket is not None:
                if not stack or stack[-1][0] != (b"[" if bracket == b"]" else b"<<"):
                    return None
                _, value, key = stack.pop()
                if key is not None:
                    return None  # a key without a value
            elif hexdigits is not None:
                digits = bytes(b for b in hexdigits if b not in b"\x00\t\n\x0c\r ")
                if len(digits) % 2:
                    digits += b"0"
                value = create_string_object(bytes.fromhex(digits.decode()))
            elif keyword == b"null":
                value = NullObject()
            else:
                value = BooleanObject(keyword == b"true")
        if not stack:
            return value, pos
        top = stack[-1]
        if top[0] == b"[":
            top[1].append(value)
        elif top[2] is None:
            if not isinstance(value, NameObject):
                return None  # a dictionary key that is not a name
            top[2] = value
        else:
            top[1][top[2]] = value
            top[2] = None
