"""Where the ledger is and how to reach it: its URL, shown safely, and SQLite's set-up."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError

from ..errors import LedgerError

__all__ = [
    "damage_in_words",
    "damaged",
    "default_url",
    "file_identity",
    "in_words",
    "masked",
    "sqlite_begin",
    "sqlite_connect",
    "sqlite_file",
    "still_there",
]


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
    bank accounts are inside; SQLite gives its -wal and -shm files the same mode), and
    then opened without SQLite's own creating (``mode=rw``).
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
            return url.set(database=f"file:{quote(str(path))}", query=query)
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    # Opened as it is now, never created again: a ledger deleted while a writer runs is
    # not silently replaced by an empty one on the next connection.
    query = {**url.query, "mode": "rw", "uri": "true"}
    return url.set(database=f"file:{quote(str(path))}", query=query)


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


def file_identity(path: Path) -> tuple[int, int]:
    """Return what tells one file from another at the same path: its device and inode."""
    found = os.stat(path)
    return found.st_dev, found.st_ino


def still_there(file: tuple[Path, tuple[int, int]] | None, shown: str) -> None:
    """Refuse to write a SQLite ledger whose file is no longer the one opened.

    Deleted, moved or replaced while open, its connection would go on writing into a
    file no one can read again and report every set 已登记: each write after that fails
    instead (``ledger.vanished``), and rolls back. ``file``: the path and its
    :func:`file_identity` when opened (None: not a SQLite file).
    """
    if file is None:
        return
    path, opened = file
    try:
        same = file_identity(path) == opened
    except OSError:
        same = False
    if not same:
        raise LedgerError(
            f"合同台账 {shown} 已不是打开时的文件（被删除、移走或替换）："
            "本次未登记，其后的也不会登记；请查明原因，恢复台账后重新运行",
            code="ledger.vanished",
            url=shown,
        )


#: what the database drivers say, as a clerk reads it
_REASONS = {
    "database or disk is full": "台账所在的磁盘已满",
    "unable to open database file": "无法打开台账文件（不存在或无权访问）",
    "database is locked": "台账被其他进程锁定，等待超时",
    "attempt to write a readonly database": "台账是只读的，无法写入",
    "disk i/o error": "读写台账时磁盘出错",
    "database disk image is malformed": "台账文件已损坏",
    "file is not a database": "该文件不是合同台账",
    "connection refused": "连接被拒绝（数据库未运行，或地址、端口有误）",
    "timeout expired": "连接超时",
    "password authentication failed": "数据库用户名或密码不对",
}


def damaged(shown: str, exc: BaseException) -> LedgerError:
    """Return the error of a ledger file SQLite cannot read as a database."""
    reason = in_words(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
    return LedgerError(
        f"合同台账 {shown} 无法读取：{reason}"
        "（请从备份恢复台账，或用 --ledger 指向正确的台账文件）",
        code="ledger.damaged",
        url=shown,
    )


def damage_in_words(shown: str) -> Callable[[ExceptionContext], LedgerError | None]:
    """Return an engine's ``handle_error`` hook: SQLite's "malformed" in any query, said plainly.

    Only SQLite's plain ``DatabaseError`` (a damaged file, or not a database at all), never
    its subclasses: a locked or full database, a broken constraint keep their own errors.
    """

    def hook(context: ExceptionContext) -> LedgerError | None:
        if type(context.original_exception) is sqlite3.DatabaseError:
            return damaged(shown, context.original_exception)
        return None

    return hook


def in_words(reason: str) -> str:
    """Return a database driver's reason in Chinese where it is a known one."""
    lowered = reason.lower()
    for said, words in _REASONS.items():
        if said in lowered:
            return words
    return reason
