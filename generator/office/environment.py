"""What the office runs with: the programs, their flags and environments, the fonts.

* :func:`find_soffice` and :func:`find_uno_python` find the two programs a worker
  starts: LibreOffice, and the Python interpreter that has ``python3-uno``
  (only Debian's does) to run the bridge, :data:`BRIDGE_SCRIPT`.
* :func:`office_env` points fontconfig at :data:`FONTS_CONF`, which shows the office
  only the fonts the project declares (so fonts installed on the host change no
  byte) and maps 宋体/黑体/仿宋… to the Noto CJK faces, so that Song text stays serif.
* :func:`bridge_env` keeps our virtualenv's settings away from the other interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from .._cache import cached_bytes, file_key
from ..errors import ConversionError

__all__ = [
    "BRIDGE_SCRIPT",
    "FONTS_CONF",
    "IMPORT_FILTERS",
    "OFFICE_FLAGS",
    "bridge_env",
    "find_soffice",
    "find_uno_python",
    "office_env",
    "reported_version",
]

#: the fontconfig file that declares the project's fonts and nothing else
FONTS_CONF = Path(__file__).resolve().parent.parent / "fonts" / "fonts.conf"
#: the bridge, run by the UNO interpreter and never imported
BRIDGE_SCRIPT = Path(__file__).resolve().parent / "_uno_worker.py"

_SOFFICE_CANDIDATES = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/usr/local/bin/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)
#: Import filters forced by extension: given random bytes named *.docx, LibreOffice's
#: type detection falls back to importing them as plain text and "converts" the
#: garbage into a PDF without complaint.
IMPORT_FILTERS = {
    ".docx": "MS Word 2007 XML",
    ".doc": "MS Word 97",
    ".odt": "writer8",
    ".rtf": "Rich Text Format",
}
#: The office stays hidden, never offers document recovery or a start centre, and
#: does not refuse to start because of a stale lock left in the profile.
OFFICE_FLAGS = (
    "--headless",
    "--invisible",
    "--norestore",
    "--nologo",
    "--nodefault",
    "--nolockcheck",
)


def find_soffice() -> str:
    """Return the LibreOffice executable: $CONTRACTGEN_SOFFICE, PATH, then known places."""
    override = os.environ.get("CONTRACTGEN_SOFFICE")
    if override:
        return override
    path = os.environ.get("PATH", os.defpath)
    found = _found.get(path)
    if found is not None and os.access(found, os.X_OK):
        return found  # asked for every manifest: PATH is searched once while it stays
    _found[path] = _search_soffice()
    return _found[path]


#: the office found on a PATH
_found: dict[str, str] = {}


def _search_soffice() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in _SOFFICE_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ConversionError(
        "找不到 LibreOffice：请安装 libreoffice-writer-nogui，或用 CONTRACTGEN_SOFFICE 指明其位置"
    )


def find_uno_python() -> str:
    """Return the interpreter that can ``import uno``: $CONTRACTGEN_UNO_PYTHON or Debian's."""
    return os.environ.get("CONTRACTGEN_UNO_PYTHON") or "/usr/bin/python3"


def office_env(fonts_conf: Path | None = FONTS_CONF) -> dict[str, str]:
    """Return the environment for soffice: ours, with fontconfig read from ``fonts_conf`` only."""
    env = dict(os.environ)
    if fonts_conf is not None:
        env["FONTCONFIG_FILE"] = str(fonts_conf)
    return env


def bridge_env() -> dict[str, str]:
    """Return the environment for the UNO bridge, free of our virtualenv's Python settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    # Paths in the JSON jobs may be Chinese whatever the locale; no __pycache__
    # written by a second interpreter into the package directory.
    env["PYTHONUTF8"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def reported_version() -> str | None:
    """Return what the office in use says it is (``LibreOffice 7.4.7.2 40(Build:2)``), or None.

    None where no office is installed. Asked once per program file, and again when that
    file changes (an upgraded package, another $CONTRACTGEN_SOFFICE).
    """
    try:
        soffice = find_soffice()
        stat = os.stat(soffice)
    except (ConversionError, OSError):
        return None
    return _reported_version(soffice, stat.st_size, stat.st_mtime_ns)


@cache
def _reported_version(soffice: str, size: int, mtime_ns: int) -> str | None:
    """Ask the office, or read what it answered before (kept by its files' state)."""
    program = Path(os.path.realpath(soffice)).parent
    key = file_key("office", [soffice, program / "soffice.bin", program / "versionrc"])

    def learn() -> bytes | None:
        answer = _ask_version(soffice)
        return answer.encode() if answer else None

    kept = cached_bytes("office-version", key, learn)
    return kept.decode() if kept else None


def _ask_version(soffice: str) -> str | None:
    try:
        done = subprocess.run(
            [soffice, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=office_env(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return lines[0] if done.returncode == 0 and lines else None
