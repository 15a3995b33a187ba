"""The naive way: one ``soffice --convert-to pdf`` per document, kept as the baseline.

Benchmarks and tests compare :class:`.pool.ConverterPool` with it; it starts a fresh
office with a fresh profile for every file, which costs a second or more each.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ConversionError
from .environment import FONTS_CONF, IMPORT_FILTERS, OFFICE_FLAGS, find_soffice, office_env
from .files import check_pdf
from .processes import kept, kill_group

__all__ = ["convert_once"]


def convert_once(
    docx: Path,
    outdir: Path,
    *,
    timeout: float = 120.0,
    soffice: str | None = None,
    fonts_conf: Path | None = FONTS_CONF,
) -> Path:
    """Convert one document with a fresh ``soffice --convert-to pdf``; return the PDF path.

    The slow baseline for benchmarks and tests: one LibreOffice start per file.
    """
    source = Path(docx).resolve()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="contractgen-lo-once-") as tmp:
        import_filter = IMPORT_FILTERS.get(source.suffix.lower())
        command = [
            soffice or find_soffice(),
            *OFFICE_FLAGS,
            f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}",
            *([f"--infilter={import_filter}"] if import_filter else []),
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(outdir),
            str(source),
        ]
        if shutil.which(command[0]) is None:
            raise ConversionError(f"无法运行 LibreOffice：找不到程序 {command[0]}")
        try:
            proc = subprocess.Popen(
                kept(command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=office_env(fonts_conf),
                start_new_session=True,
            )
        except OSError as exc:
            raise ConversionError(f"无法运行 LibreOffice：{exc}", command=command) from exc
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(
                f"LibreOffice 转换 {source} 超时（{timeout} 秒）", command=command
            ) from exc
        finally:
            kill_group(proc)  # soffice.bin too, whatever happened to its launcher
            if proc.stdout is not None:
                proc.stdout.close()
    target = outdir / f"{source.stem}.pdf"
    # soffice exits 0 even when the conversion failed: judge by the output.
    problem = check_pdf(target)
    if proc.returncode != 0 or problem:
        raise ConversionError(
            f"LibreOffice 未能转换 {source}：{problem or '退出状态非零'}",
            command=command,
            returncode=proc.returncode,
            stderr=output.decode("utf-8", "replace"),
        )
    return target
