"""Shared fixtures: the repository's folders and the sample contracts."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.inputs.load import load_data
from generator.ledger.keys import KEY_ENVIRONMENT, new_key

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run_cli(*args: str | Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``contractgen`` for real, as ``python -m generator``, in the repository."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.fixture(scope="session", autouse=True)
def _ledger_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Record every set the tests make in a ledger of their own, never the user's."""
    folder = tmp_path_factory.mktemp("ledger")
    os.environ["CONTRACTGEN_LEDGER"] = f"sqlite:///{folder / 'ledger.sqlite3'}"
    # issuing signs with the ledger's key, kept outside the database: one of the session's,
    # which every process the tests start inherits
    key = tmp_path_factory.mktemp("ledger-key") / "ledger-key.pem"
    new_key(key)
    os.environ[KEY_ENVIRONMENT] = str(key)
    # and count working days with the installed calendar only, never the user's own files
    os.environ["CONTRACTGEN_CALENDAR"] = str(tmp_path_factory.mktemp("calendar"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/*.txt from the output"
    )


@pytest.fixture(scope="session")
def seed_data() -> dict[str, Any]:
    """Return the raw data of samples/seed.yaml."""
    return dict(load_data(SAMPLES / "seed.yaml"))


@pytest.fixture
def seed(seed_data: dict[str, Any]) -> dict[str, Any]:
    """Return a fresh deep copy of the seed data, free to modify."""
    return copy.deepcopy(seed_data)
