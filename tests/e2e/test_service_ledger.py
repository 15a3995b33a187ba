"""The ledger in the HTTP service, for real: uvicorn, LibreOffice and SQLite, each test its own.

Every test starts ``python -m generator serve`` with a ledger file of its own in
``tmp_path`` (never the session's), so that versions and verdicts depend on
nothing but the test.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.ledger import Ledger
from generator.ledger.keys import KEY_ENVIRONMENT, load_key

from ..conftest import ROOT
from .test_ledger_key import FORGED, append_add_files, forge
from .test_service import (
    TOKEN,
    Server,
    assert_problem,
    free_port,
    start_server,
    stop_server,
    unzip,
)

NO = "11NMB2F042362026201"
JSON_TYPE = {"Content-Type": "application/json"}
PDF_TYPE = {"Content-Type": "application/pdf"}
ZIP_TYPE = {"Content-Type": "application/zip"}
DOCX_TYPE = {
    "Content-Type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
}
#: who the ledger says issued what the service made with TOKEN
#: the single token is one user, 服务令牌 (generator.users)
ACTOR = "服务令牌"
#: a whole set's zip is about 1.4 MB: over the default body limit of 1 MiB
MAX_BODY = 4 << 20
#: every route of the ledger: method, a path, and the path's template in the OpenAPI document
LEDGER_ROUTES = [
    ("POST", "/v1/verify", "/v1/verify"),
    ("GET", "/v1/ledger/sets", "/v1/ledger/sets"),
    ("GET", f"/v1/ledger/sets/{NO}", "/v1/ledger/sets/{contract_no}"),
    ("GET", f"/v1/ledger/sets/{NO}/1", "/v1/ledger/sets/{contract_no}/{version}"),
    ("GET", f"/v1/ledger/sets/{NO}/history", "/v1/ledger/sets/{contract_no}/history"),
    ("GET", "/v1/ledger/check", "/v1/ledger/check"),
]


def ledger_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'ledger.sqlite3'}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, httpx.Client]]:
    """Return a service with a token and a ledger of this test's own, and a client."""
    server = start_server(
        tmp_path,
        *("--workers", "2", "--max-body", str(MAX_BODY), "--ledger", ledger_url(tmp_path)),
        token=TOKEN,
    )
    try:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300
        ) as client:
            yield server, client
    finally:
        stop_server(server)


def body_of(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def changed(seed: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(seed)
    data.update(fields)
    return data


def recorded(response: httpx.Response) -> dict[str, Any]:
    """Return the X-Ledger of a response that made a set."""
    assert response.status_code == 200, response.text
    value: dict[str, Any] = json.loads(response.headers["x-ledger"])
    return value


def make_pdf(client: httpx.Client, data: dict[str, Any], kind: str) -> httpx.Response:
    path = f"/v1/contracts/{kind}.pdf?issue=true"
    return client.post(path, content=body_of(data), headers=JSON_TYPE)


def make_zip(client: httpx.Client, data: dict[str, Any]) -> httpx.Response:
    path = "/v1/contracts?format=zip&issue=true"
    return client.post(path, content=body_of(data), headers=JSON_TYPE)


def verify(client: httpx.Client, content: bytes, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/v1/verify", content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    return answer


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- recording ----------------------------------------------------------------------------


def test_sets_made_over_http_are_recorded_once_per_version(
    served: tuple[Server, httpx.Client], seed_data: dict[str, Any], tmp_path: Path
) -> None:
    _, client = served
    # Without the choice: refused, saying what the two choices do.
    unsaid = client.post("/v1/contracts", content=body_of(seed_data), headers=JSON_TYPE)
    problem = assert_problem(unsaid, 400)
    assert problem["code"] == "issue.required" and "issue=false" in problem["detail"]
    # A draft: the same bytes as the issued set, recorded nowhere, so nothing verifies.
    draft = client.post(
        "/v1/contracts?format=zip&issue=false", content=body_of(seed_data), headers=JSON_TYPE
    )
    assert draft.status_code == 200, draft.text
    assert draft.headers["x-contract-state"] == "draft" and "x-ledger" not in draft.headers
    assert client.get("/v1/ledger/sets").json()["sets"] == []
    draft_pdf = unzip(draft.content)[f"{NO}/01_运维服务合同.pdf"]
    assert verify(client, draft_pdf, PDF_TYPE)["verdict"] == "unknown"
    first = make_zip(client, seed_data)
    assert first.headers["x-contract-state"] == "issued"
    assert first.content == draft.content
    assert verify(client, draft_pdf, PDF_TYPE)["verdict"] == "current"
    assert recorded(first) == {
        "contract_no": NO,
        "version": 1,
        "outcome": "new",
        "superseded": None,
    }
    # The same data again, in JSON: the same version, and the body says so too.
    again = client.post(
        "/v1/contracts?format=json&issue=true", content=body_of(seed_data), headers=JSON_TYPE
    )
    same = {"contract_no": NO, "version": 1, "outcome": "same", "superseded": None}
    assert recorded(again) == same
    assert again.json()["ledger"] == same
    # One document's PDF of it: already recorded with the set.
    assert recorded(make_pdf(client, seed_data, "acceptance_plan")) == same
    # Changed data: version 2, which supersedes 1.
    second = make_zip(client, changed(seed_data, project_name="市金融办 2026 年运维项目（变更）"))
    assert recorded(second) == {"contract_no": NO, "version": 2, "outcome": "new", "superseded": 1}
    with Ledger(ledger_url(tmp_path)) as ledger:
        versions = {row["version"]: row for row in ledger.sets(contract_no=NO)}
        assert {v: row["status"] for v, row in versions.items()} == {1: "superseded", 2: "issued"}
        assert {row["issued_by"] for row in versions.values()} == {ACTOR}
        files = {f["name"]: f["sha256"] for f in ledger.show(NO, 2)["files"]}
    made = {n.removeprefix(f"{NO}/"): d for n, d in unzip(second.content).items()}
    assert files == {
        n: hashlib.sha256(d).hexdigest() for n, d in made.items() if n != "manifest.json"
    }


def test_one_pdf_records_that_pdf_and_the_set_adds_the_rest(
    served: tuple[Server, httpx.Client], seed_data: dict[str, Any], tmp_path: Path
) -> None:
    _, client = served
    pdf = make_pdf(client, seed_data, "service_contract")
    assert recorded(pdf) == {"contract_no": NO, "version": 1, "outcome": "new", "superseded": None}
    with Ledger(ledger_url(tmp_path)) as ledger:
        assert [f["name"] for f in ledger.show(NO)["files"]] == ["01_运维服务合同.pdf"]
    assert recorded(make_pdf(client, seed_data, "integrity_agreement"))["outcome"] == "files_added"
    assert recorded(make_zip(client, seed_data)) == {
        "contract_no": NO,
        "version": 1,
        "outcome": "files_added",
        "superseded": None,
    }
    assert recorded(make_zip(client, seed_data))["outcome"] == "same"


# --- verifying ----------------------------------------------------------------------------


def test_verify_says_current_outdated_or_unknown(
    served: tuple[Server, httpx.Client], seed_data: dict[str, Any]
) -> None:
    _, client = served
    old_pdf = make_pdf(client, seed_data, "service_contract")
    assert recorded(old_pdf)["version"] == 1
    answer = verify(client, old_pdf.content, PDF_TYPE)
    assert answer["verdict"] == "current"
    [file] = answer["files"]
    assert file["name"] is None
    assert file["sha256"] == hashlib.sha256(old_pdf.content).hexdigest()
    assert file["verdict"] == "current"
    assert file["matches"] == [
        {
            "sha256": file["sha256"],
            "contract_no": NO,
            "version": 1,
            "name": "01_运维服务合同.pdf",
            "kind": "service_contract",
            "status": "issued",
            "current_version": 1,
            "signed_copy": False,
        }
    ]
    # Version 2 made: the first PDF is outdated, the new one current.
    data = changed(seed_data, amount="1580000")
    new_zip = make_zip(client, data)
    assert recorded(new_zip) == {"contract_no": NO, "version": 2, "outcome": "new", "superseded": 1}
    outdated = verify(client, old_pdf.content, {"Content-Type": "application/octet-stream"})
    assert outdated["verdict"] == "outdated"
    [match] = outdated["files"][0]["matches"]
    assert (match["status"], match["current_version"]) == ("superseded", 2)
    files = unzip(new_zip.content)
    new_pdf = files[f"{NO}/01_运维服务合同.pdf"]
    assert verify(client, new_pdf, PDF_TYPE)["verdict"] == "current"
    assert verify(client, files[f"{NO}/01_运维服务合同.docx"], DOCX_TYPE)["verdict"] == "current"
    # A file never issued here; a zip of the whole set; a zip with a stranger in it.
    stranger = os.urandom(4096)
    assert verify(client, stranger, PDF_TYPE)["verdict"] == "unknown"
    whole = verify(client, new_zip.content, ZIP_TYPE)
    assert whole["verdict"] == "current"
    names = sorted(f["name"] for f in whole["files"])
    assert names == sorted(n for n in files if not n.endswith("manifest.json"))  # 4+4+1
    assert {f["verdict"] for f in whole["files"]} == {"current"}
    mixed = zip_of({"a/new.pdf": new_pdf, "a/old.pdf": old_pdf.content, "a/x.bin": stranger})
    for media in ("application/zip", "application/octet-stream"):
        answer = verify(client, mixed, {"Content-Type": media})
        assert answer["verdict"] == "unknown"
        verdicts = {f["name"]: f["verdict"] for f in answer["files"]}
        assert verdicts == {"a/new.pdf": "current", "a/old.pdf": "outdated", "a/x.bin": "unknown"}
    two = verify(client, zip_of({"new.pdf": new_pdf, "old.pdf": old_pdf.content}), ZIP_TYPE)
    assert two["verdict"] == "outdated"
    assert verify(client, zip_of({}), ZIP_TYPE)["verdict"] == "unknown"  # nothing verified


def test_verify_refuses_what_it_cannot_read(served: tuple[Server, httpx.Client]) -> None:
    _, client = served
    problem = assert_problem(client.post("/v1/verify", content=b"not a zip", headers=ZIP_TYPE), 422)
    assert "zip" in problem["detail"]
    for headers in ({"Content-Type": "text/plain"}, {}, {**PDF_TYPE, "Content-Encoding": "gzip"}):
        response = client.post("/v1/verify", content=b"%PDF-1.7", headers=headers)
        assert_problem(response, 415)
        assert "application/pdf" in response.headers["accept-post"]
    too_big = client.post("/v1/verify", content=b"x" * (MAX_BODY + 1), headers=PDF_TYPE)
    assert assert_problem(too_big, 413)["max_body"] == MAX_BODY
    # A zip that expands past the limit is refused before it is all read.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(3):
            archive.writestr(f"{index}.bin", b"\0" * (100 << 20))
    assert len(bomb.getvalue()) < MAX_BODY
    assert (
        "expands"
        in assert_problem(
            client.post("/v1/verify", content=bomb.getvalue(), headers=ZIP_TYPE), 422
        )["detail"]
    )


# --- reading the ledger -----------------------------------------------------------------------


def test_list_show_history_and_check_over_http(
    served: tuple[Server, httpx.Client], seed_data: dict[str, Any], tmp_path: Path
) -> None:
    server, client = served
    assert recorded(make_pdf(client, seed_data, "acceptance_plan"))["version"] == 1
    v2 = changed(seed_data, project_name="第二版项目")
    assert recorded(make_pdf(client, v2, "acceptance_plan"))["version"] == 2
    other = changed(seed_data, contract_no="LEDGER2026002", sign_date="2026-03-01")
    other["supplier"] = {**seed_data["supplier"], "name": "上海另一家科技有限公司"}
    assert recorded(make_pdf(client, other, "acceptance_plan"))["version"] == 1

    def listed(query: str) -> list[tuple[str, int]]:
        response = client.get(f"/v1/ledger/sets{query}")
        assert response.status_code == 200, response.text
        return [(row["contract_no"], row["version"]) for row in response.json()["sets"]]

    everything = [("LEDGER2026002", 1), (NO, 1), (NO, 2)]  # newest signing first
    assert listed("") == everything
    assert listed(f"?contract_no={NO}") == [(NO, 1), (NO, 2)]
    assert listed("?status=issued") == [("LEDGER2026002", 1), (NO, 2)]
    assert listed("?status=superseded") == [(NO, 1)]
    assert listed("?status=voided") == []
    assert listed("?supplier=另一家") == [("LEDGER2026002", 1)]
    assert listed("?supplier=%25") == []  # a LIKE wildcard is a character here
    assert listed("?signed_from=2026-02-01") == [("LEDGER2026002", 1)]
    assert listed("?signed_to=2026-01-16") == [(NO, 1), (NO, 2)]
    assert listed("?signed_from=2026-01-17&signed_to=2026-02-28") == []
    assert listed("?contract_no=nothing&supplier=%E2%80%AE") == []
    for query, name in [
        ("signed_from=2026-02-30", "query.signed_from"),
        ("signed_to=yesterday", "query.signed_to"),
        ("status=lost", "query.status"),
        ("supplier=%00", "query.supplier"),
    ]:
        problem = assert_problem(client.get(f"/v1/ledger/sets?{query}"), 400)
        assert [issue["path"] for issue in problem["issues"]] == [name]

    latest = client.get(f"/v1/ledger/sets/{NO}").json()
    assert (latest["version"], latest["status"], latest["project_name"]) == (
        2,
        "issued",
        "第二版项目",
    )
    assert latest["data"]["project_name"] == "第二版项目"
    assert [f["name"] for f in latest["files"]] == ["04_履约验收方案.pdf"]
    first = client.get(f"/v1/ledger/sets/{NO}/1").json()
    assert (first["version"], first["status"], first["status_reason"]) == (
        1,
        "superseded",
        "被第 2 版取代",
    )
    missing = assert_problem(client.get(f"/v1/ledger/sets/{NO}/3"), 404)
    assert missing["detail"].startswith("台账中没有合同") and missing["code"] == "ledger.not_found"
    assert assert_problem(client.get("/v1/ledger/sets/NOSUCH2026"), 404)["code"] == (
        "ledger.not_found"
    )
    assert_problem(client.get(f"/v1/ledger/sets/{NO}/0"), 400)
    assert_problem(client.get(f"/v1/ledger/sets/{NO}/{2**31}"), 400)

    history = client.get(f"/v1/ledger/sets/{NO}/history").json()
    assert history["contract_no"] == NO
    events = history["events"]
    assert [(e["action"], e["version"], e["supersedes"]) for e in events] == [
        ("issue", 1, None),
        ("issue", 2, 1),
    ]
    assert {e["actor"] for e in events} == {ACTOR}
    assert_problem(client.get("/v1/ledger/sets/NOSUCH2026/history"), 404)

    check = client.get("/v1/ledger/check").json()
    assert check["ok"] is True and check["problems"] == []
    last = client.get("/v1/ledger/sets/LEDGER2026002/history").json()["events"][-1]
    assert check["head"] == last["hash"]  # the chain's last event, whichever contract
    # Changed behind the ledger's back: the check finds it.
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        db.execute("UPDATE sets SET amount = '1' WHERE contract_no = ? AND version = 1", (NO,))
    tampered = client.get("/v1/ledger/check")
    assert tampered.status_code == 200
    assert tampered.json()["ok"] is False and tampered.json()["problems"]
    assert tampered.json()["keys"] == [load_key(Path(os.environ[KEY_ENVIRONMENT])).key_id]

    # A forged add_files event, the chain recomputed without the key: its signature fails,
    # and the forged file is no more 有效 over HTTP than on the command line
    forged_at = forge(ledger_url(tmp_path), append_add_files)
    forged = client.get("/v1/ledger/check").json()
    assert forged["ok"] is False and forged["events"] == forged_at, forged
    assert any(
        p.startswith(f"事件 {forged_at}：") and "[ledger.event_signature]" in p
        for p in forged["problems"]
    ), forged
    said = verify(client, FORGED, {"Content-Type": "application/pdf"})
    assert said["verdict"] == "untrusted" and said["files"][0]["verdict"] == "untrusted", said
    assert any("[ledger.event_signature]" in p for p in said["files"][0]["problems"]), said
    # and the workbench's 核验 page says so, naming the reason
    with httpx.Client(base_url=server.url, timeout=60) as web:
        csrf = web.get("/login").cookies["contractgen_csrf"]
        assert web.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303
        csrf = web.cookies["contractgen_csrf"]
        page = web.post("/verify", data={"csrf": csrf}, files={"file": ("forged.pdf", FORGED)})
    assert page.status_code == 200, page.text
    assert "台账不可信" in page.text and "[ledger.event_signature]" in page.text
    assert "现行版本：" not in page.text and 'class="verdict-untrusted"' in page.text


# --- the token, no ledger, an unusable ledger ----------------------------------------------


def test_every_ledger_route_needs_the_token(served: tuple[Server, httpx.Client]) -> None:
    server, client = served
    with httpx.Client(base_url=server.url) as anonymous:
        for method, path, _ in LEDGER_ROUTES:
            for headers in ({}, {"Authorization": f"Bearer {TOKEN}x"}):
                response = anonymous.request(method, path, content=b"%PDF", headers=headers)
                assert_problem(response, 401)
                assert response.headers["www-authenticate"].startswith("Bearer")
    for method, path, _ in LEDGER_ROUTES:
        response = client.request(method, path, content=b"%PDF", headers=PDF_TYPE)
        assert response.status_code in (200, 404), (path, response.text)
    document = client.get("/openapi.json").json()
    for method, _, template in LEDGER_ROUTES:
        operation = document["paths"][template][method.lower()]
        assert operation["security"] == [{"bearer": []}]
        assert {"401", "404", "503"} <= set(operation["responses"])


@pytest.mark.slow  # in the slow step of CI: the main suite stays under 15 minutes
def test_without_a_ledger_the_routes_answer_404(tmp_path: Path, seed_data: dict[str, Any]) -> None:
    server = start_server(tmp_path, "--workers", "1", "--no-ledger")
    try:
        for method, path, _ in LEDGER_ROUTES:
            response = httpx.request(
                method, server.url + path, content=b"%PDF", headers=PDF_TYPE, timeout=60
            )
            problem = assert_problem(response, 404)
            assert problem["detail"] == "本服务未启用合同台账"
            assert problem["code"] == "ledger.disabled"
        made = httpx.post(
            f"{server.url}/v1/contracts/acceptance_plan.pdf?issue=false",
            content=body_of(seed_data),
            headers=JSON_TYPE,
            timeout=300,
        )
        assert made.status_code == 200 and "x-ledger" not in made.headers
        assert made.headers["x-contract-state"] == "draft"
        # Nothing to issue into: said, not silently a draft.
        refused = httpx.post(
            f"{server.url}/v1/contracts?issue=true", content=body_of(seed_data), headers=JSON_TYPE
        )
        assert assert_problem(refused, 409)["code"] == "issue.no_ledger"
        whole = httpx.post(
            f"{server.url}/v1/contracts?format=json&issue=false",
            content=body_of(seed_data),
            headers=JSON_TYPE,
            timeout=300,
        )
        assert whole.status_code == 200 and "x-ledger" not in whole.headers
        assert whole.json()["ledger"] is None
        # The 404s are as documented, whatever the query.
        done = subprocess.run(
            [
                *(sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json"),
                *("--checks", "not_a_server_error,status_code_conformance"),
                *("--include-path-regex", "^/v1/(verify|ledger)", "--seed", "20260116"),
                *("--phases", "coverage,fuzzing", "--max-examples", "10", "--no-color"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    finally:
        stop_server(server)


def test_an_unusable_ledger_fails_the_start_up_naming_it_without_the_password(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://u:pw-secret@127.0.0.1:1/x"
    done = subprocess.run(
        [sys.executable, "-m", "generator", "serve", "--port", str(free_port()), "--ledger", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "postgresql+psycopg://u:***@127.0.0.1:1/x" in output
    assert "pw-secret" not in output
    assert "ledger.unreachable" in output and "Application startup failed" in output
    assert "Traceback" not in output
