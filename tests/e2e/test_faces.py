"""Every face gives the same answer: a YAML file, a JSON file, a workbook, the API, the workbench.

Table-driven: each case writes one value the way a person might (a Chinese date, a
grouped amount, a wrong choice, two problems of different kinds at once) into the
sample, and every face — ``contractgen validate`` of a YAML and of a JSON file,
``contractgen batch`` of a workbook, ``POST /v1/validate`` and the workbench's
``POST /validate`` — accepts or refuses it with the same codes, all in one pass.
Then the workbench's pages, as a signed-in clerk gets them, hold no English word.
"""

from __future__ import annotations

import copy
import html.parser
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from generator.inputs import write_workbook
from generator.web.form import to_values

from ..conftest import ROOT
from ..unit.test_chinese import CODE, KEYS, NAMES, WORD, _commands
from ..unit.test_seal_blocks import DATED_NAME
from .browser import TOKEN
from .test_service import Server, start_server, stop_server

#: (what is written, where, the value; the codes every face reports — none: accepted)
CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("a Chinese date", {"sign_date": "2026年1月16日"}, set()),
    ("a date with slashes", {"sign_date": "2026/1/16"}, set()),
    ("a date day first", {"sign_date": "16/01/2026"}, {"date.format"}),
    ("a date that does not exist", {"sign_date": "2026-02-30"}, {"date.invalid"}),
    ("an amount in groups of three", {"amount": "1,578,000"}, set()),
    ("an amount's groups wrong", {"amount": "15,78,000"}, {"amount.format"}),
    ("an amount below a fen", {"amount": "1578000.005"}, {"amount.format"}),
    ("a gender not offered", {"supplier.legal_representative.gender": "男性"}, {"choice.invalid"}),
    ("a yes-or-no in words", {"acceptance_plan.experts": "否"}, set()),
    ("a short postcode", {"supplier.postcode": "20120"}, {"postcode.format"}),
    (
        "a supplier named in English",
        {"supplier.name": "Shanghai Zhongheng Intelligent Systems Co., Ltd."},
        set(),
    ),
    (
        "a name whose wrapped line holds a date",
        {"supplier.name": DATED_NAME},
        {"text.seal_block_date"},
    ),
    (
        "a field and a rule at once",
        {"supplier.postcode": "20120", "service.end_date": "2025-12-31"},
        {"postcode.format", "sign_date.after_end"},
    ),
]


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *heads, last = path.split(".")
    for key in heads:
        data = data[key]
    data[last] = value


def _contracts(seed: dict[str, Any]) -> list[dict[str, Any]]:
    made = []
    for n, (_, values, _) in enumerate(CASES):
        data = copy.deepcopy(seed)
        data["contract_no"] = f"FACE-2026-{n:03d}"
        for path, value in values.items():
            _set(data, path, value)
        made.append(data)
    return made


def _codes(text: str) -> set[str]:
    return set(re.findall(r"\[([a-z_]+(?:\.[a-z_]+)+|required)\]", text))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_server(tmp_path_factory.mktemp("faces"), token=TOKEN)
    yield started
    stop_server(started)


@pytest.fixture(scope="module")
def workbench(server: Server) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=server.url, timeout=300) as client:
        csrf = client.get("/login").cookies["contractgen_csrf"]
        assert client.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303
        yield client, client.cookies["contractgen_csrf"]  # the session's own token from now on


def _files_face(contracts: list[dict[str, Any]], tmp_path: Path) -> dict[str, list[set[str]]]:
    files = []
    for n, data in enumerate(contracts):
        as_yaml, as_json = tmp_path / f"{n:03d}.yaml", tmp_path / f"{n:03d}.json"
        as_yaml.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        as_json.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
        files += [as_yaml, as_json]
    done = subprocess.run(
        [sys.executable, "-m", "generator", "validate", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    lines = done.stderr.splitlines()
    found: dict[str, list[set[str]]] = {"yaml": [], "json": []}
    for path in files:
        codes = set().union(*(_codes(line) for line in lines if line.startswith(f"{path}: ")))
        found[path.suffix[1:]].append(codes)
    return found


def _workbook_face(contracts: list[dict[str, Any]], tmp_path: Path) -> list[set[str]]:
    book = tmp_path / "round.xlsx"
    write_workbook(book, contracts)
    out = tmp_path / "out"
    args = ["batch", str(book), "-o", str(out), "--format", "docx", "--no-ledger"]
    done = subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    rows = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))["rows"]
    by_number = {row["contract_no"]: {e["code"] for e in row["errors"]} for row in rows}
    return [by_number[data["contract_no"]] for data in contracts]


def test_every_face_accepts_and_refuses_alike(
    seed: dict[str, Any], tmp_path: Path, server: Server, workbench: tuple[httpx.Client, str]
) -> None:
    contracts = _contracts(seed)
    files = _files_face(contracts, tmp_path)
    faces: dict[str, list[set[str]]] = {
        "YAML": files["yaml"],
        "JSON": files["json"],
        "workbook": _workbook_face(contracts, tmp_path),
        "API": [],
        "workbench": [],
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    client, csrf = workbench
    for data in contracts:
        body = json.dumps(data, ensure_ascii=False, default=str).encode()
        answer = httpx.post(
            f"{server.url}/v1/validate",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
            timeout=60,
        ).json()
        faces["API"].append({i["code"] for i in answer["issues"]})
        summary = client.post("/validate", data={**to_values(data), "csrf": csrf})
        assert summary.status_code == 200, summary.text
        faces["workbench"].append(_codes(summary.text))
    for n, (what, _, expected) in enumerate(CASES):
        answers = {face: found[n] for face, found in faces.items()}
        assert answers == dict.fromkeys(faces, expected), what


class _Text(html.parser.HTMLParser):
    """The text a person reads on a page: its text and the attributes shown as text."""

    SHOWN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._hidden += 1
        self.parts += [value or "" for name, value in attrs if name in self.SHOWN]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _english(page: str) -> list[str]:
    reader = _Text()
    reader.feed(page)
    allowed = NAMES | KEYS | _commands()
    text = CODE.sub(" ", " ".join(reader.parts))
    return sorted({w for w in WORD.findall(text) if w not in allowed})


def test_no_page_of_the_workbench_holds_an_english_word(
    server: Server, workbench: tuple[httpx.Client, str], seed: dict[str, Any]
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as anonymous:
        login = anonymous.get("/login")
    assert _english(login.text) == [], "/login"
    assert "退出" not in login.text  # no one to sign out yet
    client, csrf = workbench
    for path in ("/", "/rounds", "/ledger", "/verify", "/due", "/?kind=om_service"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert _english(answer.text) == [], path
    preview = client.post("/contract", data={**to_values(seed), "csrf": csrf, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "盖章" in preview.text
    assert _english(preview.text) == [], "the preview"
    set_id = re.search(r'action="/sets/([^/"]+)/issue"', preview.text)
    assert set_id, "the draft's 签发 button"
    issued = client.post(f"/sets/{set_id.group(1)}/issue", data={"csrf": csrf})
    assert issued.status_code == 200 and "已签发" in issued.text, issued.text
    assert _english(issued.text) == [], "the preview issued"
    version = client.get("/ledger/set", params={"no": seed["contract_no"]})
    assert version.status_code == 200 and "内置模板" in version.text
    assert _english(version.text) == [], "a version in the ledger"
    book = (ROOT / "samples" / "batch.xlsx").read_bytes()
    upload = client.post(
        "/rounds", data={"csrf": csrf}, files={"file": ("batch.xlsx", book)}, follow_redirects=True
    )
    assert upload.status_code == 200 and "/rounds/" in str(upload.url), upload.text
    assert _english(upload.text) == [], "a round checked"
