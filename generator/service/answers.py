"""How answers are packed: file names for ``Content-Disposition``, JSON for headers.

A zip the service answers is :func:`generator.pipeline.folder_zip`'s: the same
files give the same bytes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

__all__ = ["compact", "disposition"]


def disposition(kind: str, filename: str) -> str:
    """Return a Content-Disposition value with an ASCII fallback and the UTF-8 name."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def compact(value: Any) -> str:
    """Return ``value`` as JSON without spaces, for a header (ASCII: JSON escapes the rest)."""
    return json.dumps(value, separators=(",", ":"))
