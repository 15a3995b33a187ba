"""Facts about the host that are slow to learn and change only with it, kept between processes.

What the fonts can draw (every code point of nine font files: 0.7 s to read) and what
LibreOffice says it is (its ``--version``: 0.15 s) would otherwise be learnt again
by every process a command, a batch worker or a service starts. Each is kept in
``$XDG_CACHE_HOME/contractgen/`` (``~/.cache/contractgen/``) under a key made of what it
was learnt from (the files' paths, sizes and modification times), so a changed font or
an upgraded office is learnt afresh. A cache that cannot be read or written is no error:
the fact is learnt again, as without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["cached_bytes", "file_key"]


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "contractgen"


def file_key(name: str, paths: Iterable[str | Path]) -> str:
    """Return a key naming a fact and the state of the files it was learnt from."""
    parts = [name]
    for path in paths:
        try:
            stat = os.stat(path)
            parts.append(f"{os.path.realpath(path)}\0{stat.st_size}\0{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{path}\0absent")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def cached_bytes(name: str, key: str, learn: Callable[[], bytes | None]) -> bytes | None:
    """Return the bytes kept under ``name`` and ``key``; else learn them (None: not kept)."""
    path = _folder() / f"{name}-{key}"
    try:
        return path.read_bytes()
    except OSError:
        pass
    value = learn()
    if value is None:
        return None  # nothing learnt (an office that did not answer): asked again next time
    staging = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging.write_bytes(value)
        os.replace(staging, path)
    except OSError:  # a read-only home: learnt again next time
        with contextlib.suppress(OSError):
            staging.unlink(missing_ok=True)
    return value
