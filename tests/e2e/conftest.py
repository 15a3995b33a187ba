"""Fixtures of the workbench's browser tests (see :mod:`tests.e2e.browser`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import CHROMIUM, EXPECT_TIMEOUT_MS, SHOTS_VARIABLE, TOKEN
from .test_service import Server, start_server, stop_server


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return the service with a token and a ledger of its own, one worker (one per module)."""
    folder = tmp_path_factory.mktemp("web")
    ledger = f"sqlite:///{folder / 'ledger.db'}"
    started = start_server(folder, "--workers", "1", "--ledger", ledger, token=TOKEN)
    try:
        yield started
    finally:
        stop_server(started)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Return Debian's chromium, launched headless by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the folder screenshots go to: ``$CONTRACTGEN_SCREENSHOTS``, else a temporary one."""
    named = os.environ.get(SHOTS_VARIABLE)
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
