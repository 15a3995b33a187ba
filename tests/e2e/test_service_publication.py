"""``POST /v1/publications`` for real: uvicorn, LibreOffice and SQLite, each test its own ledger.

The public copy and the 合同公告 the service answers are the bytes ``contractgen
publish`` writes for the same data and date; with a ledger, only what was issued
is published, and the publication is recorded with its version.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from ..conftest import ROOT, SAMPLES
from .test_service import TOKEN, Server, assert_problem, start_server, stop_server, unzip
from .test_service_ledger import MAX_BODY, ledger_url

NO = "11NMB2F042362026201"
FOLDER = f"{NO}（公开）"
DAY = "2026-01-19"  # the seed is signed 2026-01-16 (a Friday): due Tuesday 2026-01-20
JSON_TYPE = {"Content-Type": "application/json"}
PDF_TYPE = {"Content-Type": "application/pdf"}
ZIP_TYPE = {"Content-Type": "application/zip"}
#: the notice and the public copy, DOCX and PDF, the notice's JSON, publication.json
FILES = 12


@pytest.fixture
def served(tmp_path: Path) -> Iterator[httpx.Client]:
    """Return a client of a service with a token and a ledger of this test's own."""
    server = start_server(
        tmp_path,
        *("--workers", "2", "--max-body", str(MAX_BODY), "--ledger", ledger_url(tmp_path)),
        token=TOKEN,
    )
    try:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300
        ) as client:
            yield client
    finally:
        stop_server(server)


@pytest.fixture
def unledgered(tmp_path: Path) -> Iterator[Server]:
    """Return a service with neither a token nor a ledger."""
    server = start_server(tmp_path, "--workers", "2", "--no-ledger")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def cli_publication(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Return the files ``contractgen publish seed.yaml --published-on DAY --no-ledger`` writes."""
    out = tmp_path_factory.mktemp("cli-publication")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "generator", "publish", str(SAMPLES / "seed.yaml")),
            *("-o", str(out), "--published-on", DAY, "--no-ledger"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.name == FOLDER
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def body_of(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def publish(client: httpx.Client, data: dict[str, Any], query: str = "", **headers: str) -> Any:
    return client.post(
        f"/v1/publications?{query}", content=body_of(data), headers={**JSON_TYPE, **headers}
    )


def assert_publication_headers(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert unquote(response.headers["x-contract-no"]) == NO
    assert response.headers["x-published-on"] == DAY
    assert response.headers["x-due-date"] == "2026-01-20"
    assert response.headers["x-on-time"] == "true"


def files_of_zip(response: httpx.Response) -> dict[str, bytes]:
    """Return the files of a publication's zip by name, checking they are in its folder."""
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    entries = unzip(response.content)
    assert all(name.startswith(f"{FOLDER}/") for name in entries), list(entries)
    assert list(entries)[-1] == f"{FOLDER}/publication.json"
    return {name.removeprefix(f"{FOLDER}/"): data for name, data in entries.items()}


def files_of_json(response: httpx.Response) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Return the manifest and the files of a publication answered as JSON."""
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    files = {name: base64.b64decode(data) for name, data in answer["files"].items()}
    assert answer["manifest"] == json.loads(files["publication.json"])
    return answer, files


def verify(client: httpx.Client, content: bytes, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/v1/verify", content=content, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


# --- with a ledger: only what was issued, recorded with its version -------------------------


def test_publish_what_was_issued_is_recorded_and_verifies(
    served: httpx.Client, seed_data: dict[str, Any], cli_publication: dict[str, bytes]
) -> None:
    client = served
    # Not issued here yet: refused before anything is made.
    refused = publish(client, seed_data, f"published_on={DAY}")
    problem = assert_problem(refused, 409)
    assert problem["code"] == "ledger.not_found"
    assert problem["detail"].endswith("请先签发合同（POST /v1/contracts?issue=true）再发布")
    assert client.get(f"/v1/ledger/sets/{NO}").status_code == 404

    issued = client.post(
        "/v1/contracts?format=zip&issue=true", content=body_of(seed_data), headers=JSON_TYPE
    )
    assert issued.status_code == 200, issued.text
    version = json.loads(issued.headers["x-ledger"])["version"]

    made = publish(client, seed_data, f"published_on={DAY}")
    assert_publication_headers(made)
    assert json.loads(made.headers["x-ledger"]) == {
        "contract_no": NO,
        "version": version,
        "outcome": "new",
        "published_on": DAY,
        "due_date": "2026-01-20",
    }
    files = files_of_zip(made)
    assert len(files) == FILES
    assert files == cli_publication  # the command line's bytes, publication.json too

    # Again, as JSON by Accept: the same files; nothing new to record.
    again = publish(client, seed_data, f"published_on={DAY}", Accept="application/json")
    assert_publication_headers(again)
    answer, same = files_of_json(again)
    assert same == files
    assert answer["ledger"] == {**json.loads(made.headers["x-ledger"]), "outcome": "same"}
    assert json.loads(again.headers["x-ledger"])["outcome"] == "same"
    # And as a zip once more: the same bytes (a deterministic zip).
    assert publish(client, seed_data, f"published_on={DAY}&format=zip").content == made.content

    # The ledger knows the public copy, the notice and the whole zip as current.
    public_pdf = next(data for name, data in files.items() if name.endswith("（公开文本）.pdf"))
    said = verify(client, public_pdf, PDF_TYPE)
    assert said["verdict"] == "current"
    assert said["files"][0]["matches"][0]["kind"].startswith("public:")
    assert verify(client, files["00_合同公告.pdf"], PDF_TYPE)["verdict"] == "current"
    whole = verify(client, made.content, ZIP_TYPE)
    assert whole["verdict"] == "current"
    assert len(whole["files"]) == FILES - 1  # all but publication.json

    shown = client.get(f"/v1/ledger/sets/{NO}").json()
    assert shown["published_on"] == DAY
    events = client.get(f"/v1/ledger/sets/{NO}/history").json()["events"]
    assert [e["action"] for e in events] == ["issue", "publish"]
    assert events[-1]["published_on"] == DAY
    assert client.get("/v1/ledger/check").json()["ok"] is True


def test_what_cannot_be_published_is_refused_before_anything_is_made(
    served: httpx.Client, seed_data: dict[str, Any]
) -> None:
    client = served
    no_project = copy.deepcopy(seed_data)
    del no_project["publication"]
    problem = assert_problem(publish(client, no_project), 422)
    assert problem["type"].endswith("/contract-unpublishable")
    assert [(i["path"], i["code"]) for i in problem["issues"]] == [
        ("publication.project_no", "required")
    ]
    assert problem["omitted_issues"] == 0
    # The same rules as /v1/contracts: invalid data, a body not JSON, too big.
    broken = copy.deepcopy(seed_data)
    broken["buyer"]["postcode"] = "12"
    problem = assert_problem(publish(client, broken), 422)
    assert problem["type"].endswith("/contract-invalid")
    assert "buyer.postcode" in [i["path"] for i in problem["issues"]]
    assert_problem(client.post("/v1/publications", content=b"{", headers=JSON_TYPE), 400)
    wrong_type = client.post(
        "/v1/publications", content=body_of(seed_data), headers={"Content-Type": "text/plain"}
    )
    assert_problem(wrong_type, 415)
    big = b'{"x": "' + b"a" * (MAX_BODY + 10) + b'"}'
    assert_problem(client.post("/v1/publications", content=big, headers=JSON_TYPE), 413)
    # A date that is not one, or is before the signing date, names query.published_on.
    for day in ("2026-13-01", "yesterday", "2026-1-19"):
        problem = assert_problem(publish(client, seed_data, f"published_on={day}"), 400)
        assert [i["path"] for i in problem["issues"]] == ["query.published_on"], day
    problem = assert_problem(publish(client, seed_data, "published_on=2026-01-15"), 400)
    assert [(i["path"], i["code"]) for i in problem["issues"]] == [
        ("query.published_on", "before_sign_date")
    ]
    assert "2026-01-16" in problem["detail"]
    # Nothing was made, so nothing was recorded.
    assert client.get("/v1/ledger/sets").json()["sets"] == []


def test_publications_need_the_token_and_are_described(
    served: httpx.Client, seed_data: dict[str, Any]
) -> None:
    with httpx.Client(base_url=served.base_url) as anonymous:
        for headers in ({}, {"Authorization": f"Bearer {TOKEN}x"}):
            response = anonymous.post(
                "/v1/publications", content=body_of(seed_data), headers={**JSON_TYPE, **headers}
            )
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer")
    document = served.get("/openapi.json").json()
    operation = document["paths"]["/v1/publications"]["post"]
    assert operation["security"] == [{"bearer": []}]
    assert {"200", "400", "401", "409", "413", "415", "422", "503", "504"} <= set(
        operation["responses"]
    )
    ok = operation["responses"]["200"]
    assert {"X-Contract-No", "X-Due-Date", "X-Published-On", "X-On-Time", "X-Ledger"} <= set(
        ok["headers"]
    )
    assert set(ok["content"]) == {"application/zip", "application/json"}
    body = operation["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/AnyContract"}
    built_in, other = document["components"]["schemas"]["AnyContract"]["anyOf"]
    assert built_in == {"$ref": "#/components/schemas/Contract"} and other["required"] == ["kind"]
    assert "publication" in body["examples"]["seed"]["value"]
    schemas = document["components"]["schemas"]
    assert "LedgerPublished" in schemas and "PublicationJson" in schemas
    assert "publish" in schemas["LedgerEvent"]["properties"]["action"]["enum"]


# --- without a ledger: published as asked, nothing recorded ---------------------------------


def test_without_a_ledger_the_publication_is_made_as_json(
    unledgered: Server, seed_data: dict[str, Any], cli_publication: dict[str, bytes]
) -> None:
    response = httpx.post(
        f"{unledgered.url}/v1/publications?published_on={DAY}&format=json",
        content=body_of(seed_data),
        headers=JSON_TYPE,
        timeout=300,
    )
    assert_publication_headers(response)
    assert "x-ledger" not in response.headers
    answer, files = files_of_json(response)
    assert answer["ledger"] is None
    assert files == cli_publication
    assert list(files)[-1] == "publication.json"
    manifest = answer["manifest"]
    assert manifest["published_on"] == DAY and manifest["on_time"] is True
    assert "supplier.bank.account" in manifest["withheld"]
    # Late: the day after the due date, still published, and said to be late.
    late = httpx.post(
        f"{unledgered.url}/v1/publications?published_on=2026-01-21",
        content=body_of(seed_data),
        headers={**JSON_TYPE, "Accept": "application/zip"},
        timeout=300,
    )
    assert late.status_code == 200, late.text
    assert late.headers["x-on-time"] == "false"
    assert dt.date.fromisoformat(late.headers["x-due-date"]) < dt.date(2026, 1, 21)
    assert len(files_of_zip(late)) == FILES
