"""The workbench under a hostile form: list rows beyond their limits, page pictures at any dpi.

One 70-byte request naming row 300,000 of a list of at most 30 once built every
row on the event loop (11.6 s, 125 MB answered, ``/healthz`` waiting meanwhile);
now the names are checked against the kind's limits before any row is built.
The page-picture cache once kept a picture per dpi asked for, without bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from generator.web.form import index_issues, to_data, within_limits
from generator.web.pages import PICTURE_DPIS, PICTURES_KEPT, Made, _keep_picture, picture_dpi

from .browser import TOKEN
from .test_service import Server


@pytest.fixture(scope="module")
def client(web_server: Server) -> Iterator[tuple[httpx.Client, str]]:
    """Return a client signed in to the workbench, and its CSRF token."""
    with httpx.Client(base_url=web_server.url, follow_redirects=False, timeout=30) as signed:
        signed.get("/login")
        csrf = signed.cookies["contractgen_csrf"]
        assert signed.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303
        yield signed, signed.cookies["contractgen_csrf"]  # the session's own token from now on


HOSTILE = {"acceptance_plan.items[300000].stage": "x", "other_documents[9" + "9" * 40 + "]": "y"}


def test_a_row_beyond_a_list_limit_is_refused_before_any_row_is_built(
    client: tuple[httpx.Client, str],
) -> None:
    signed, csrf = client
    started = time.monotonic()
    answer = signed.post("/validate", data={"csrf": csrf, **HOSTILE})
    took = time.monotonic() - started
    assert answer.status_code == 200
    assert took < 3, took
    assert len(answer.content) < 200_000
    assert "验收 · 内容与标准" in answer.text and "最多30项" in answer.text
    assert "list.too_long" in answer.text and "其他合同文件" in answer.text
    assert signed.get("/healthz").status_code == 200
    form = signed.post("/contract", data={"csrf": csrf, "action": "check", **HOSTILE})
    assert form.status_code == 422
    assert "最多30项（表单中有第300001项）" in form.text
    assert len(form.content) < 2_000_000


def test_the_form_names_only_rows_beyond_their_limits() -> None:
    values = {
        "acceptance_plan.items[29].stage": "最后一行",
        "acceptance_plan.items[30].stage": "多出的一行",
        "payment.instalments[24].percent": "5",
        "unknown[999999].x": "ignored",
    }
    issues = {issue.path: issue for issue in index_issues(values)}
    assert set(issues) == {"acceptance_plan.items", "payment.instalments"}
    assert issues["payment.instalments"].code == "list.too_long"
    assert "最多24项" in issues["payment.instalments"].message
    kept = within_limits(values)
    assert "acceptance_plan.items[29].stage" in kept
    assert "acceptance_plan.items[30].stage" not in kept
    assert len(to_data(kept)["acceptance_plan"]["items"]) == 30


def test_page_pictures_are_made_at_fixed_dpis_and_kept_within_bounds() -> None:
    assert {picture_dpi(text) for text in ("151", "200", "199", "0", "x", "9" * 50)} <= set(
        PICTURE_DPIS
    )
    assert picture_dpi("150") == 150 and picture_dpi("72") == 72
    made = Made("X", {}, {}, [], None)
    for page in range(PICTURES_KEPT * 3):
        _keep_picture(made, (0, page, 150), b"p" * 1000)
    assert len(made.pictures) == PICTURES_KEPT
    assert (0, PICTURES_KEPT * 3 - 1, 150) in made.pictures
    for page in range(40):
        _keep_picture(made, (1, page, 150), b"q" * (1 << 20))
    assert sum(map(len, made.pictures.values())) <= 16 * 1024 * 1024


def test_an_oversized_logout_body_is_a_413_page(client: tuple[httpx.Client, str]) -> None:
    signed, csrf = client
    answer = signed.post("/logout", data={"csrf": csrf, "x": "y" * 5000})
    assert answer.status_code == 413, answer.status_code
    assert "数据过大" in answer.text and "Traceback" not in answer.text
