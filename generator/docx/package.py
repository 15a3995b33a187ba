"""The zip of a .docx, written entry by entry with the parts that never change compressed once.

A DOCX of a template is mostly parts the data never touch (styles, theme, fonts,
relationships); only the document, its headers and footers and a few more are rendered
for each contract. :class:`Entry` holds a part compressed and with its local header
built, so a template compresses its fixed parts once and every document it renders
reuses them; :func:`package` lays entries out as a zip. A rendered part that comes out
as it came out lately (a footer without data, an agreement whose text two contracts
share) is not compressed again: :meth:`Entry.of` keeps the last ones made.

The bytes are those :mod:`zipfile` writes for the same entries (a fixed time, mode
0644, deflated at zlib's default level, no extra fields, no comment, into a seekable
file): ``tests/unit/test_package.py`` compares the two for every part of every
built-in template, so a document rendered either way is the same file.
"""

from __future__ import annotations

import struct
import threading
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ZIP_TIME", "Entry", "package"]

#: 1980-01-01, the earliest time a zip entry can carry: fixed so output bytes never vary
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: the central directory's header of one entry (zipfile's ``structCentralDir``)
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
#: the end of the central directory (zipfile's ``structEndArchive``)
_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
#: what an entry is written with: deflate, zlib's default level, a raw stream
_LEVEL, _WBITS = zlib.Z_DEFAULT_COMPRESSION, -15
#: the zip64 limits below which none of its records is needed
_ZIP64_LIMIT = (1 << 31) - 1
_ZIP_FILECOUNT_LIMIT = (1 << 16) - 1


@dataclass(frozen=True)
class Entry:
    """One file of a zip, compressed, with what its headers say about it."""

    info: zipfile.ZipInfo
    header: bytes
    data: bytes

    @classmethod
    def of(cls, name: str, content: bytes) -> Entry:
        """Return ``content`` compressed as the entry ``name`` (kept if made lately)."""
        key = (name, content)
        with _lock:
            made = _recent.get(key)
            if made is not None:
                _recent.move_to_end(key)
                return made
        made = cls._made(name, content)
        global _kept
        with _lock:
            if key not in _recent:
                _recent[key] = made
                _kept += len(content) + len(made.data)
            while _kept > _RECENT_BYTES:
                (_, old), gone = _recent.popitem(last=False)
                _kept -= len(old) + len(gone.data)
        return made

    @classmethod
    def _made(cls, name: str, content: bytes) -> Entry:
        if len(content) * 1.05 > _ZIP64_LIMIT:
            raise ValueError(f"{name}: too large for a zip without zip64")
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS)
        data = compressor.compress(content) + compressor.flush()
        info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.flag_bits = 0
        info.file_size = len(content)
        info.compress_size = len(data)
        info.CRC = zlib.crc32(content)
        return cls(info, info.FileHeader(False), data)


#: the entries made lately, by name and content, up to a size (the parts and their zips);
#: thread-safe: the service renders in threads
_RECENT_BYTES = 8 << 20
_recent: OrderedDict[tuple[str, bytes], Entry] = OrderedDict()
_kept = 0
_lock = threading.Lock()


def package(entries: Iterable[Entry]) -> bytes:
    """Return the zip of ``entries``, in their order."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for entry in entries:
        info = entry.info
        name, flags = _name(info)
        central.append(
            _CENTRAL.pack(
                _CENTRAL_SIGNATURE,
                info.create_version,
                info.create_system,
                info.extract_version,
                info.reserved,
                flags,
                info.compress_type,
                *_dos_time(info.date_time),
                info.CRC,
                info.compress_size,
                info.file_size,
                len(name),
                0,
                0,
                0,
                info.internal_attr,
                info.external_attr,
                offset,
            )
            + name
        )
        chunks += (entry.header, entry.data)
        offset += len(entry.header) + len(entry.data)
    directory = b"".join(central)
    if len(central) > _ZIP_FILECOUNT_LIMIT or offset + len(directory) > _ZIP64_LIMIT:
        raise ValueError("too many or too large entries for a zip without zip64")
    end = _END.pack(_END_SIGNATURE, 0, 0, len(central), len(central), len(directory), offset, 0)
    return b"".join([*chunks, directory, end])


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    """Return the (time, date) words of a zip header for a ``date_time``."""
    year, month, day, hour, minute, second = date_time
    return (hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day)


def _name(info: zipfile.ZipInfo) -> tuple[bytes, int]:
    """Return an entry's name as written and its flags: UTF-8 (bit 11) unless ASCII."""
    try:
        return info.filename.encode("ascii"), info.flag_bits
    except UnicodeEncodeError:
        return info.filename.encode("utf-8"), info.flag_bits | 0x800
