"""Verifying a file against the ledger: its SHA-256 (or each entry's, for a set's zip) looked up.

A file's verdict is ``current`` when one of the versions that issued it is
the contract's issued version, ``outdated`` when it was issued but every such
version has since been superseded or voided, ``unknown`` when it was never
issued here, ``untrusted`` when the ledger's signed events do not vouch for
what its tables say (see :mod:`.attest`: the file's ``problems`` say why). A
request's verdict is the worst of its files' (``untrusted``, ``unknown``, then
``outdated``); a zip without files is ``unknown``: nothing in it was verified.

A body sent as ``application/zip`` is a set's zip and each of its entries is
checked, but its ``manifest.json``: the ledger records the documents and the
bundle, not the manifest that describes them (nor a publication's
``publication.json``: a publication's zip verifies as a set's does). One sent as
``application/octet-stream`` is treated so too when it is a zip that is not
itself an Office document (a DOCX is a zip with ``[Content_Types].xml``).
Anything else is checked as one file.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import zipfile
import zlib
from typing import Any

from ..errors import LedgerError
from ..pipeline import MANIFEST
from ..publication import MANIFEST as PUBLICATION_MANIFEST
from .store import Ledger

__all__ = ["ZIP_ENTRIES_MAX", "ZIP_EXPANDED_MAX", "verify_body"]

#: files a zip to verify may hold
ZIP_ENTRIES_MAX = 1000
#: bytes a zip to verify may expand to, all its entries together
ZIP_EXPANDED_MAX = 256 << 20
#: what a zip that cannot be read raises (a corrupt, encrypted or exotic entry among them)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)
#: the worse of two verdicts wins
_RANK = {"current": 0, "outdated": 1, "unknown": 2, "untrusted": 3}


def _unreadable(detail: str) -> LedgerError:
    """Return the error of a zip to verify that cannot be read, or holds too much."""
    return LedgerError(detail, code="verify.unreadable_zip")


def _is_set_zip(body: bytes) -> bool:
    """Return whether bytes of no stated type are a zip of files (not an Office document)."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "[Content_Types].xml" not in archive.namelist()
    except _ZIP_ERRORS:
        return False


#: the files a zip's entry is not checked as: what describes a set, or a publication
_DESCRIPTIONS = (MANIFEST, PUBLICATION_MANIFEST)


def _checked(info: zipfile.ZipInfo) -> bool:
    """Return whether a zip entry is a file to check: not a folder, not a manifest."""
    return not info.is_dir() and info.filename.rpartition("/")[2] not in _DESCRIPTIONS


def _entries(body: bytes) -> list[tuple[str | None, str]]:
    """Return (name, SHA-256) of every file in a zip; 422 when it cannot be read or is too big."""
    files: list[tuple[str | None, str]] = []
    expanded = 0
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            infos = [info for info in archive.infolist() if _checked(info)]
            if len(infos) > ZIP_ENTRIES_MAX:
                raise _unreadable(
                    f"the zip holds {len(infos)} files; at most {ZIP_ENTRIES_MAX} are verified"
                )
            for info in infos:
                digest = hashlib.sha256()
                with archive.open(info) as entry:
                    while chunk := entry.read(1 << 16):
                        expanded += len(chunk)
                        if expanded > ZIP_EXPANDED_MAX:
                            raise _unreadable(
                                f"the zip expands to more than {ZIP_EXPANDED_MAX} bytes"
                            )
                        digest.update(chunk)
                files.append((info.filename, digest.hexdigest()))
    except _ZIP_ERRORS as exc:
        raise _unreadable(f"the body is not a readable zip: {exc}") from None
    return files


def _files(media: str, body: bytes) -> list[tuple[str | None, str]]:
    """Return (name, SHA-256) of each file a body holds; the body itself has no name."""
    if media == "application/zip" or (media == "application/octet-stream" and _is_set_zip(body)):
        return _entries(body)
    return [(None, hashlib.sha256(body).hexdigest())]


def verify_body(ledger: Ledger, media: str, body: bytes) -> dict[str, Any]:
    """Return the verdict on a body and on each file in it (blocking: call it in a thread)."""
    files = []
    worst = "unknown"
    for index, (name, digest) in enumerate(_files(media, body)):
        found = ledger.attest(digest)
        said = found.verdict
        if index == 0 or _RANK[said] > _RANK[worst]:
            worst = said
        files.append(
            {
                "name": name,
                "sha256": digest,
                "verdict": said,
                "matches": [m.to_dict() for m in found.matches],
                "problems": found.problems,
            }
        )
    return {"verdict": worst, "files": files}
