"""Publications in the ledger: what was published for an issued version, when, and its files.

The public copy and the 合同公告 belong to the version they publish: their files
are recorded with it (kinds ``notice`` and ``public:<document>``), so ``verify``
knows a public copy as one, and the version's ``published_on`` says it is done.
A new publication of the same version replaces the files of the last one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, or_, select, update

from ..domain.documents import NOTICE
from ..errors import LedgerError
from .chain import canonical
from .schema import FILES, SETS
from .store import Ledger, default_actor

__all__ = ["PUBLIC_KINDS", "Published", "is_public", "publishing", "record_publication"]

#: the kind of the notice's files; a public copy's are ``public:`` and the document's kind
PUBLIC_KINDS = ("notice", "public:")


class _Publication(Protocol):
    """What the ledger needs of a publication (generator.publication.Publication)."""

    @property
    def contract_no(self) -> str: ...

    @property
    def input_sha256(self) -> str: ...

    def files(self) -> dict[str, bytes]: ...

    def manifest(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Published:
    """What recording a publication did."""

    contract_no: str
    version: int
    outcome: str
    published_on: str
    due_date: str

    def message(self) -> str:
        """Return the line the command line prints (Chinese)."""
        head = f"台账：合同 {self.contract_no} 第 {self.version} 版"
        if self.outcome == "same":
            return f"{head}的公开文本与合同公告与已登记的相同"
        return f"{head}已登记公开（{self.published_on}，应于 {self.due_date} 前）"

    def to_dict(self) -> dict[str, Any]:
        """Return it JSON-ready."""
        return dict(self.__dict__)


def is_public(kind: str) -> bool:
    """Return whether a recorded file's kind is of a publication."""
    return kind == PUBLIC_KINDS[0] or kind.startswith(PUBLIC_KINDS[1])


def _records(publication: _Publication) -> list[dict[str, Any]]:
    manifest = publication.manifest()
    files = publication.files()
    records = []
    for entry in manifest["files"]:
        data = files[entry["file"]]
        kind = entry["kind"]
        records.append(
            {
                "name": entry["file"],
                # A document of the set, in its public copy; anything else is the notice's.
                "kind": "notice" if kind == NOTICE.kind else f"public:{kind}",
                "format": PurePosixPath(entry["file"]).suffix.lstrip("."),
                "sha256": entry["sha256"],
                "content_md5": base64.b64encode(hashlib.md5(data).digest()).decode(),
                "size": entry["size"],
                "pages": entry["pages"],
                "seals": {},
            }
        )
    return sorted(records, key=lambda r: (str(r["name"]), str(r["format"])))


def _public_files(conn: Connection, set_id: int) -> set[tuple[str, str, str]]:
    rows = conn.execute(
        select(FILES.c.name, FILES.c.format, FILES.c.sha256).where(
            FILES.c.set_id == set_id,
            or_(FILES.c.kind == "notice", FILES.c.kind.startswith("public:")),
        )
    )
    return {(r.name, r.format, r.sha256) for r in rows}


def record_publication(
    ledger: Ledger, publication: _Publication, actor: str | None = None
) -> Published:
    """Record a publication; return what that did (see :func:`publishing`)."""
    with publishing(ledger, publication, actor) as published:
        return published


@contextmanager
def publishing(
    ledger: Ledger, publication: _Publication, actor: str | None = None
) -> Iterator[Published]:
    """Record a publication in a transaction that commits only if the block succeeds.

    It belongs to the issued version made from the same data; :class:`LedgerError`
    (``ledger.not_found``) when there is none: publish what was issued. Enter it
    inside the pipeline's ``staged_folder``: the files are whole before the record is
    written, and put in place only once it is committed.
    """
    manifest = publication.manifest()
    files = _records(publication)
    with ledger.writing() as conn:
        row = conn.execute(
            select(SETS).where(
                SETS.c.contract_no == publication.contract_no,
                SETS.c.status == "issued",
                # in memory only: publication.json carries no hash of the input
                SETS.c.input_sha256 == publication.input_sha256,
            )
        ).first()
        if row is None:
            raise LedgerError(
                f"台账中没有合同 {publication.contract_no} 以这份数据生成的现行版本："
                "请先用 contractgen render 生成并登记，再发布",
                code="ledger.not_found",
            )
        published_on = manifest["published_on"]
        done = Published(row.contract_no, row.version, "same", published_on, manifest["due_date"])
        unchanged = {(f["name"], f["format"], f["sha256"]) for f in files}
        if row.published_on is not None and _public_files(conn, row.id) == unchanged:
            yield done
            return
        conn.execute(
            delete(FILES).where(
                FILES.c.set_id == row.id,
                or_(FILES.c.kind == "notice", FILES.c.kind.startswith("public:")),
            )
        )
        conn.execute(
            insert(FILES),
            [{**f, "set_id": row.id, "seals": canonical(f["seals"])} for f in files],
        )
        day = dt.date.fromisoformat(published_on)
        conn.execute(update(SETS).where(SETS.c.id == row.id).values(published_on=day))
        body = {
            "published_on": published_on,
            "due_date": manifest["due_date"],
            "withheld": manifest["withheld"],
            "files": files,
        }
        ledger.append(conn, "publish", row.contract_no, row.version, body, actor or default_actor())
        yield Published(row.contract_no, row.version, "new", published_on, manifest["due_date"])
