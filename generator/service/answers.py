"""How answers are packed: file names for ``Content-Disposition``, JSON for headers, zips.

A zip the service answers holds one folder of files, each with the fixed time and
mode of :func:`generator.docx.render.write_entry` (the set's zip): the same files
give the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["ZIP_TIME", "compact", "disposition", "folder_zip"]

#: the time of every entry of a zip answered (that of the set's zip): 1980-01-01 00:00
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def disposition(kind: str, filename: str) -> str:
    """Return a Content-Disposition value with an ASCII fallback and the UTF-8 name."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def compact(value: Any) -> str:
    """Return ``value`` as JSON without spaces, for a header (ASCII: JSON escapes the rest)."""
    return json.dumps(value, separators=(",", ":"))


def folder_zip(folder: str, files: Mapping[str, bytes]) -> bytes:
    """Return ``files`` zipped in ``folder/``, in their order, deterministic for equal files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
