"""Where the ledger is and how to reach it: its URL, shown safely, and SQLite's set-up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["default_url", "masked", "sqlite_begin", "sqlite_connect"]


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


def sqlite_connect(dbapi_connection: Any, _: Any) -> None:
    """Set up each SQLite connection: WAL, a busy timeout, foreign keys, our own BEGIN."""
    # The driver's own transaction handling off: SQLAlchemy's "begin" event issues BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def sqlite_begin(conn: Connection) -> None:
    """Begin a transaction: IMMEDIATE for a writer, deferred for a reader."""
    # A writer's IMMEDIATE takes the write lock at the start, so two writers never both
    # read "version 1"; a reader's plain BEGIN takes none.
    immediate = conn.get_execution_options().get("ledger_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
