"""What the workbench's browser tests share: Debian's chromium, a watched page, signing in.

Playwright (PyPI) drives the chromium Debian installs (``tools/setup.sh``) through its
``executable_path``: Playwright's own browser download cannot reach the internet here.
Screenshots go to ``$CONTRACTGEN_SCREENSHOTS`` when it is set (``docs/web`` to renew the
README's), else to a temporary folder: a test run leaves the checkout as it was.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "web-test-token-0123456789"
VIEWPORT = {"width": 1280, "height": 800}
#: how long an action or a navigation may wait, and an expectation poll (milliseconds)
ACTION_TIMEOUT_MS = 60_000
EXPECT_TIMEOUT_MS = 30_000
#: the environment variable naming the folder screenshots are written to
SHOTS_VARIABLE = "CONTRACTGEN_SCREENSHOTS"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed"
)


def dom_id(path: str) -> str:
    """Return the id suffix the workbench gives a data path."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", path)


class Watched:
    """A page whose requests and console errors are collected."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        # a shared machine under load: generous waits (each still a deadline, not a sleep)
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def check_clean(self, url: str) -> None:
        """Assert no request left the origin and no console error appeared, then close."""
        outside = [u for u in self.requests if not u.startswith(f"{url}/")]
        assert not outside, outside
        assert not self.errors, self.errors
        self.context.close()


def sign_in(watched: Watched, url: str, then: str = "/") -> None:
    """Sign in with the token on the login page the workbench redirects to."""
    page = watched.page
    page.goto(f"{url}{then}")
    assert page.url == f"{url}/login"
    page.get_by_label("访问令牌").fill(TOKEN)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/")
    if then != "/":
        page.goto(f"{url}{then}")


def fill(page: Any, path: str, value: str) -> None:
    """Type a value into the workbench's field of a data path (or choose it in a select)."""
    field = page.locator(f"#f-{dom_id(path)}")
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(value or "")
    else:
        field.fill(value)


def list_rows(page: Any, path: str) -> int:
    """Return how many rows the form's list at a data path shows."""
    names = page.locator(f"[name^='{path}[']").evaluate_all("els => els.map(e => e.name)")
    return len({re.match(r".*?\[(\d+)\]", n).group(1) for n in names})  # type: ignore[union-attr]
