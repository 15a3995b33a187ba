"""Where the ledger is and how to reach it: its URL, shown safely, and SQLite's set-up."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..errors import LedgerError

__all__ = ["default_url", "masked", "sqlite_begin", "sqlite_connect", "sqlite_file"]


def default_url() -> str:
    """Return the URL of the embedded ledger: ``$XDG_DATA_HOME/contractgen/ledger.sqlite3``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'contractgen' / 'ledger.sqlite3'}"


def masked(url: str) -> str:
    """Return a URL as it may be shown: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "（无法解析的地址）"


def sqlite_file(url: URL, existing: bool, shown: str) -> URL:
    """Return the URL to open a SQLite ledger file with, making sure of the file first.

    ``existing`` (``verify``, ``ledger check`` and the other queries): a missing file is
    refused (``ledger.missing``), never created empty by a mistyped path, and a file
    this user cannot write (a read-only mount) is opened read-only and immutable.
    Otherwise the file is created, with its folder, readable by its owner alone (0600:
    bank accounts are inside; SQLite gives its -wal and -shm files the same mode).
    """
    path = Path(str(url.database)).expanduser()
    if existing:
        if not path.is_file():
            raise LedgerError(
                f"合同台账不存在：{shown}"
                "（请检查 --ledger 或 CONTRACTGEN_LEDGER；查询不会新建台账）",
                code="ledger.missing",
                url=shown,
            )
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            query = {**url.query, "mode": "ro", "immutable": "1", "uri": "true"}
            return url.set(database=f"file:{path}", query=query)
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return url


def sqlite_connect(dbapi_connection: Any, _: Any) -> None:
    """Set up each SQLite connection: WAL, a busy timeout, foreign keys, our own BEGIN."""
    # The driver's own transaction handling off: SQLAlchemy's "begin" event issues BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
    if not cursor.execute("PRAGMA query_only").fetchone()[0] and not _read_only(cursor):
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def sqlite_begin(conn: Connection) -> None:
    """Begin a transaction: IMMEDIATE for a writer, deferred for a reader."""
    # A writer's IMMEDIATE takes the write lock at the start, so two writers never both
    # read "version 1"; a reader's plain BEGIN takes none.
    immediate = conn.get_execution_options().get("ledger_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _read_only(cursor: Any) -> bool:
    """Return whether a SQLite connection was opened read-only (a ledger on a read-only path)."""
    rows = cursor.execute("PRAGMA database_list").fetchall()
    file = next((row[2] for row in rows if row[1] == "main"), "")
    return bool(file) and not os.access(file, os.W_OK)
