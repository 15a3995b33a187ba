"""What program made a file: the release version and a digest of everything that makes the bytes.

The release version (``generator/_version.py``, bumped by release with a CHANGELOG entry)
says which release; it does not change when the code does between releases, nor when the
host's LibreOffice or fonts do, and each of those changes the bytes of a set. The
*identity* adds a build digest over:

* the package's own files (its code, the notice template, the fonts configuration, the
  workbench's pages), by content, in the same relative paths in a checkout and an
  installed wheel;
* the built-in contract kinds (their declarations, DOCX templates and samples);
* the fonts the configuration accepts (each file's name and size: a new release of a
  font package changes them);
* the LibreOffice in use, as it reports its version (``--version``), or none where none
  is installed (a DOCX-only host).

``0.2.0+3f2a9c01b7de`` is version and the first 12 hex digits of that digest. Manifests,
ledger events and batch reports carry it; a batch resumes a set, and the ledger keeps
"the same version", only when it is the same. Two hosts with the same release, the same
LibreOffice build and the same font packages have the same identity (nothing of a host's
paths, times or compiled files enters it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ._version import __version__

__all__ = ["Identity", "identity"]

_PACKAGE = Path(__file__).resolve().parent
#: the package files that make output, by suffix (compiled files and caches are not)
_SOURCE_SUFFIXES = frozenset(
    {".py", ".c", ".conf", ".docx", ".txt", ".yaml", ".html", ".js", ".css"}
)
#: the files of a kind folder a wheel carries (setup.py's KIND_FILES): only these are hashed
_KIND_FILES = ("kind.yaml", "*.docx", "*.yaml", "CONTEXT.md")


@dataclass(frozen=True)
class Identity:
    """The program identity: release version, build digest and what the digest covers."""

    version: str
    build: str
    code_sha256: str
    kinds_sha256: str
    fonts_sha256: str
    office: str | None

    def __str__(self) -> str:
        return f"{self.version}+{self.build}"

    def describe(self) -> dict[str, Any]:
        """Return the identity as recorded in a manifest or a report."""
        return {
            "version": self.version,
            "build": self.build,
            "code_sha256": self.code_sha256,
            "kinds_sha256": self.kinds_sha256,
            "fonts_sha256": self.fonts_sha256,
            "office": self.office,
        }

    def text(self) -> str:
        """Return the identity as a clerk reads it (``contractgen --version``)."""
        office = self.office or "未安装 LibreOffice"
        return f"{self.version}（构建 {self.build}；{office}）"


def identity() -> Identity:
    """Return this program's identity with the LibreOffice it would use now."""
    from .office.environment import reported_version

    return _identity(reported_version())


@cache
def _identity(office: str | None) -> Identity:
    code, kinds, fonts = _code_digest(), _kinds_digest(), _fonts_digest()
    parts = {"code": code, "kinds": kinds, "fonts": fonts, "office": office}
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return Identity(__version__, digest[:12], code, kinds, fonts, office)


def _digest(files: list[tuple[str, Path]]) -> str:
    total = hashlib.sha256()
    for name, path in sorted(files):
        total.update(f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return total.hexdigest()


@cache
def _code_digest() -> str:
    builtin = _PACKAGE / "kinds" / "builtin"
    files = [
        (path.relative_to(_PACKAGE).as_posix(), path)
        for path in _PACKAGE.rglob("*")
        if path.suffix in _SOURCE_SUFFIXES
        and path.is_file()
        and "__pycache__" not in path.parts
        and builtin not in path.parents
    ]
    return _digest(files)


@cache
def _kinds_digest() -> str:
    from .kinds.registry import BUILTIN_DIR

    files = []
    for folder in sorted(p for p in BUILTIN_DIR.iterdir() if (p / "kind.yaml").is_file()):
        for pattern in _KIND_FILES:
            for path in folder.glob(pattern):
                files.append((f"{folder.name}/{path.name}", path))
    return _digest(sorted(set(files)))


@cache
def _fonts_digest() -> str:
    from .domain.text import FONTS_CONF, declared_fonts

    files, _ = declared_fonts(FONTS_CONF)
    sizes = []
    for name in files:
        try:
            sizes.append(f"{Path(name).name}\0{os.stat(name).st_size}")
        except OSError:
            sizes.append(f"{Path(name).name}\0absent")
    return hashlib.sha256("\n".join(sorted(sizes)).encode()).hexdigest()
