"""The files around a conversion: the document staged, the PDF checked and placed, logs read.

A worker's office reads a copy of the document with a plain ASCII name in the
worker's own folder (:func:`staging`): no ``.~lock`` file next to the caller's
document and no file-name encoding issues. What comes out is judged by its first
bytes (:func:`check_pdf`), since LibreOffice exits 0 even when it made nothing, and
moved into place whole (:func:`place`).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["TAIL_CHARS", "check_pdf", "copying", "place", "staging", "tail"]

#: how much of a log an error carries
TAIL_CHARS = 2000


def check_pdf(path: Path) -> str | None:
    """Return why ``path`` is not a PDF, or None when it looks like one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(5)
    except FileNotFoundError:
        return "LibreOffice 没有写出文件"
    except OSError as exc:
        return f"无法读取输出文件：{exc}"
    if head != b"%PDF-":
        return f"输出的不是 PDF（开头为 {head!r}）"
    return None


def staging(docx: bytes) -> Callable[[Path], Path]:
    """Return a job's stage step: the DOCX bytes written into the worker's folder."""

    def stage(folder: Path) -> Path:
        staged = folder / "job.docx"
        staged.write_bytes(docx)
        return staged

    return stage


def copying(source: Path) -> Callable[[Path], Path]:
    """Return a job's stage step: the document at ``source`` copied into the worker's folder."""
    suffix = source.suffix.lower() or ".docx"

    def stage(folder: Path) -> Path:
        staged = folder / f"job{suffix}"
        shutil.copyfile(source, staged)
        return staged

    return stage


def tail(path: Path, chars: int = TAIL_CHARS) -> str:
    """Return the last ``chars`` characters of a log file, or "" when there is none."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - chars * 4))
            return fh.read().decode("utf-8", "replace")[-chars:]
    except OSError:
        return ""


def place(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest`` so that readers never see half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
    except OSError:
        # Different file systems (/tmp is often tmpfs): copy next to the target first.
        partial = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
        try:
            shutil.copyfile(src, partial)
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
            src.unlink(missing_ok=True)
