"""The ledger's schema revision the program checks for is the migration scripts' head."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from generator.ledger import migrate

ROOT = Path(__file__).resolve().parents[2]
OPEN = """
import sys
from generator.ledger import Ledger
with Ledger(sys.argv[1]) as ledger:
    ledger.check()
print("alembic" in sys.modules)
"""


def test_head_is_the_newest_script() -> None:
    assert migrate.head() == migrate.HEAD


def test_a_ledger_at_head_is_opened_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"

    def opened() -> str:
        done = subprocess.run(
            [sys.executable, "-c", OPEN, url], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert opened() == "True"  # a new ledger: migrated by Alembic
    assert opened() == "False"  # at head: one query
