"""Alembic migrations of the ledger, run on first use; a newer schema than ours is refused."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from ..errors import LedgerError

__all__ = ["MIGRATIONS", "head", "upgrade"]

#: the folder of the migration scripts, inside the package
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """Return the newest schema revision this program knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def upgrade(
    engine: Engine,
    writing: Callable[[], AbstractContextManager[Connection]],
    shown_url: str,
) -> None:
    """Bring the ledger to this program's schema, once, whoever else starts at the same time."""
    config = _config()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    with engine.connect() as probe:
        current = MigrationContext.configure(probe).get_current_revision()
    if current == head():
        return
    if current is not None and current not in known:
        raise LedgerError(
            f"合同台账 {shown_url} 的结构版本（{current}）比本程序新（本程序最新为 {head()}），"
            "请升级 contractgen",
            code="ledger.schema_newer",
            url=shown_url,
        )
    with writing() as conn:  # two first uses at once: the second finds the work done
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
