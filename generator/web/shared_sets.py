"""Previewed sets in the shared jobs folder: any replica downloads, shows and issues them.

With a broker (``serve --broker --jobs-dir DIR``) a set previewed in the workbench is
also written, whole, to ``DIR/previews/<id>/`` (the folder every replica and worker
shares): its files in their order, the contract's data while it is a draft, and what
the ledger did of it (``state.json``). A replica that does not hold the preview in
memory reads it back from there; a draft is issued only if its files read back into
the very same set (:func:`generator.pipeline.read_set`), else the clerk is asked to
make it again. Previews older than :data:`PREVIEW_SECONDS` are removed when a new one
is written (they are drafts the service made, downloaded or issued by then). Every
function here blocks: run it in a thread.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from ..kinds import parse
from ..pipeline import read_set
from .made import Made

__all__ = ["PREVIEW_SECONDS", "issued_elsewhere", "load_preview", "mark_issued", "store_preview"]

#: seconds a preview is kept in the shared folder
PREVIEW_SECONDS = 24 * 3600
#: a preview's id (secrets.token_urlsafe(12)): what a folder's name may be built from
_ID = re.compile(r"[A-Za-z0-9_-]{16}")
_STATE = "state.json"
_CONTRACT = "contract.json"


def store_preview(root: Path, set_id: str, made: Made) -> None:
    """Write a preview to ``root/<id>/``, whole (staged in a hidden folder, then renamed)."""
    root.mkdir(parents=True, exist_ok=True)
    _prune(root)
    partial = root / f".{set_id}-{secrets.token_hex(4)}"
    try:
        (partial / "files").mkdir(parents=True)
        for name, data in made.files.items():
            (partial / "files" / name).write_bytes(data)
        if made.draft is not None:
            contract = json.dumps(made.draft.contract.model_dump(mode="json"), ensure_ascii=False)
            (partial / _CONTRACT).write_text(contract, "utf-8")
        state = {"folder": made.folder, "names": list(made.files), "ledger": made.ledger}
        (partial / _STATE).write_text(json.dumps(state, ensure_ascii=False), "utf-8")
        partial.rename(root / set_id)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def load_preview(root: Path, set_id: str) -> Made | None:
    """Return a preview read back from the shared folder; None when it is not there."""
    folder = root / set_id
    if _ID.fullmatch(set_id) is None or not folder.is_dir():
        return None
    try:
        state = _state(folder)
        files = {name: (folder / "files" / name).read_bytes() for name in state["names"]}
        manifest = json.loads(files["manifest.json"])
        pdfs = [_pdf(doc, files) for doc in manifest["documents"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    made = Made(state["folder"], manifest, files, pdfs, state["ledger"])
    if state["ledger"] is None and (folder / _CONTRACT).is_file():
        contract = parse(json.loads((folder / _CONTRACT).read_text("utf-8")))
        made.draft = read_set(contract, files)
        made.foreign = made.draft is None
    return made


def issued_elsewhere(root: Path, set_id: str) -> str | None:
    """Return what the ledger did of a preview, if another replica issued it (else None)."""
    if _ID.fullmatch(set_id) is None:
        return None
    try:
        ledger = _state(root / set_id)["ledger"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None if ledger is None else str(ledger)


def mark_issued(root: Path, set_id: str, ledger: str) -> None:
    """Say in the shared folder that a preview was issued, and what the ledger did."""
    folder = root / set_id
    if _ID.fullmatch(set_id) is None or not folder.is_dir():
        return
    state = _state(folder)
    state["ledger"] = ledger
    partial = folder / f".{_STATE}-{secrets.token_hex(4)}"
    partial.write_text(json.dumps(state, ensure_ascii=False), "utf-8")
    partial.replace(folder / _STATE)


def _state(folder: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((folder / _STATE).read_text("utf-8"))
    return state


def _pdf(doc: dict[str, Any], files: dict[str, bytes]) -> bytes | None:
    pdf = doc.get("pdf")
    return files[pdf["file"]] if pdf else None


def _prune(root: Path) -> None:
    """Remove the previews (and any half-written one) older than :data:`PREVIEW_SECONDS`."""
    too_old = time.time() - PREVIEW_SECONDS
    for entry in root.iterdir():
        try:
            if entry.stat().st_mtime < too_old:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue  # removed by another replica meanwhile
