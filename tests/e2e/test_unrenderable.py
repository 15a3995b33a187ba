"""A set that cannot be made whatever the retries: said as it is, never as 请稍后重试.

An office's kind whose declared seal keyword its template does not print (丙方（盖章）):
valid data, and every attempt fails alike at the seal placement. The service answers
422 with the Chinese message naming the document by its title and the stable code (no
Retry-After); the workbench's preview shows the same message in the form's summary.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from generator.web.form import to_values

from ..conftest import run_cli
from .browser import TOKEN
from .test_service import Server, start_server, stop_server

MESSAGE = "服务合同：盖章标记“丙方（盖章）”在全文出现 0 次，应恰好一次"


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unrenderable") / "kinds"
    done = run_cli("kinds", "new", folder / "lease")
    assert done.returncode == 0, done.stderr
    declaration = folder / "lease" / "kind.yaml"
    text = declaration.read_text(encoding="utf-8")
    declaration.write_text(text.replace("keyword: 乙方（盖章）", "keyword: 丙方（盖章）"), "utf-8")
    return folder


@pytest.fixture(scope="module")
def server(kinds: Path) -> Iterator[Server]:
    ledger = f"sqlite:///{kinds.parent / 'ledger.db'}"
    launcher = [sys.executable, "-m", "generator", "--kinds", str(kinds), "serve"]
    started = start_server(
        kinds.parent, "--workers", "1", "--ledger", ledger, token=TOKEN, launcher=launcher
    )
    try:
        yield started
    finally:
        stop_server(started)


@pytest.fixture(scope="module")
def data(kinds: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((kinds / "lease" / "sample.yaml").read_text("utf-8"))
    return loaded


def test_the_api_answers_422_with_the_chinese_message_and_its_code(
    server: Server, data: dict[str, Any]
) -> None:
    answer = httpx.post(
        f"{server.url}/v1/contracts?issue=false",
        content=json.dumps(data, ensure_ascii=False, default=str).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=120,
    )
    assert answer.status_code == 422, answer.text
    assert "Retry-After" not in answer.headers
    problem = answer.json()
    assert (problem["detail"], problem["code"]) == (MESSAGE, "seal.keyword_count")
    assert problem["issues"] == [{"path": "", "code": "seal.keyword_count", "message": MESSAGE}]


def test_the_workbench_shows_why_instead_of_try_again(
    server: Server, data: dict[str, Any], kinds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTRACTGEN_KINDS", str(kinds))  # the form's values, as the service's
    with httpx.Client(base_url=server.url, timeout=120) as client:
        csrf = client.get("/login").cookies["contractgen_csrf"]
        assert client.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303
        csrf = client.cookies["contractgen_csrf"]
        page = client.post("/contract", data={**to_values(data), "action": "preview", "csrf": csrf})
    assert page.status_code == 422, page.text
    assert MESSAGE in page.text and "[seal.keyword_count]" in page.text
    assert "请稍后重试" not in page.text and "生成失败" not in page.text
