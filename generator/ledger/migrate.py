"""Alembic migrations of the ledger, run on first use; a newer schema than ours is refused.

Every process that opens a ledger asks its revision; a ledger at :data:`HEAD` (the
usual case) is answered with one query, without importing Alembic or reading its
scripts (a tenth of a second a process). Anything else goes through Alembic.
``tests/unit/test_migrations.py`` checks that :data:`HEAD` is the scripts' head.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from ..errors import LedgerError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HEAD", "MIGRATIONS", "head", "upgrade"]

#: the folder of the migration scripts, inside the package
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: the newest revision of the scripts in MIGRATIONS (bump it with each new script)
HEAD = "0004"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """Return the newest schema revision of the migration scripts."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def _revisions(probe: Connection) -> list[str]:
    """Return the revisions the ledger's ``alembic_version`` holds (none for a new ledger)."""
    if not inspect(probe).has_table("alembic_version"):
        return []
    return [row[0] for row in probe.execute(text("SELECT version_num FROM alembic_version"))]


def upgrade(
    engine: Engine,
    writing: Callable[[], AbstractContextManager[Connection]],
    shown_url: str,
) -> None:
    """Bring the ledger to this program's schema, once, whoever else starts at the same time."""
    with engine.connect() as probe:
        if _revisions(probe) == [HEAD]:
            return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _config()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    with engine.connect() as probe:
        current = MigrationContext.configure(probe).get_current_revision()
    if current == HEAD:
        return
    if current is not None and current not in known:
        raise LedgerError(
            f"合同台账 {shown_url} 的结构版本（{current}）比本程序新（本程序最新为 {HEAD}），"
            "请升级 contractgen",
            code="ledger.schema_newer",
            url=shown_url,
        )
    with writing() as conn:  # two first uses at once: the second finds the work done
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
