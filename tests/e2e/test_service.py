"""The HTTP service for real: ``python -m generator serve`` in its own process, over HTTP."""

from __future__ import annotations

import base64
import concurrent.futures
import copy
import hashlib
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.sign import signers

from ..builtin import KINDS
from ..conftest import ROOT, SAMPLES
from ..docx_text import docx_text
from ..pdfs import widget_rects
from ..signing import make_pki, sign_field, signature_statuses

TOKEN = secrets.token_urlsafe(16)
JSON_TYPE = {"Content-Type": "application/json"}
SEALED_KINDS = ("service_contract", "confidentiality_agreement", "integrity_agreement")


# --- a server in its own process -----------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    log_dir: Path, *args: str, token: str | None = None, launcher: list[str] | None = None
) -> Server:
    """Start ``python -m generator serve`` on a free port and wait until /healthz answers.

    ``launcher`` replaces ``python -m generator serve`` in the command line.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CONTRACTGEN_TOKEN"}
    if token:
        env["CONTRACTGEN_TOKEN"] = token
    log = log_dir / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(launcher or [sys.executable, "-m", "generator", "serve"]),
                *("--port", str(port), *args),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return wait_until_up(proc, f"http://127.0.0.1:{port}", log)


def wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> Server:
    """Return the server once /healthz answers 200 (within a minute); fail if it exits first."""
    give_up = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return Server(proc, url, log)
        except httpx.TransportError:
            pass
        if time.monotonic() > give_up:
            proc.kill()
            proc.wait()
            raise AssertionError(f"the server did not come up:\n{log.read_text()}")
        time.sleep(0.1)  # the poll's interval, within its deadline


def _process_table() -> dict[int, tuple[int, str, str]]:
    """Return pid -> (parent pid, state, command line) for every process."""
    table: dict[int, tuple[int, str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), fields[0], cmdline)
    return table


def descendants(pid: int) -> dict[int, str]:
    """Return the command line of every living descendant of ``pid``."""
    table = _process_table()
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, state, cmdline) in table.items():
            if ppid == parent and child not in found and state != "Z":
                found[child] = cmdline
                todo.append(child)
    return found


def alive(pids: list[int]) -> list[int]:
    table = _process_table()
    return [pid for pid in pids if pid in table and table[pid][1] != "Z"]


def stop_server(server: Server) -> dict[int, str]:
    """Stop the server with SIGTERM; assert it exits 0 leaving no process behind."""
    family = descendants(server.proc.pid)
    server.proc.send_signal(signal.SIGTERM)
    try:
        code = server.proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
        raise AssertionError(f"the server did not stop:\n{server.log.read_text()}") from None
    assert code == 0, server.log.read_text()
    # Orphans of a dead office are reparented and reaped at once; give them a moment.
    left = alive(list(family))
    for _ in range(50):
        if not left:
            break
        time.sleep(0.1)
        left = alive(left)
    assert not left, {pid: family[pid] for pid in left}
    log = server.log.read_text()
    assert "Traceback" not in log, log
    return family


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return the service started with a token, two workers and room for 20 requests."""
    started = start_server(
        tmp_path_factory.mktemp("service"), "--workers", "2", "--queue", "16", token=TOKEN
    )
    try:
        yield started
    finally:
        if started.proc.poll() is None:
            family = stop_server(started)
            assert any("soffice" in cmd for cmd in family.values()), "no office ever ran"


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300
    ) as c:
        yield c


@pytest.fixture(scope="module")
def seed_body(seed_data: dict[str, Any]) -> bytes:
    return json.dumps(seed_data, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Return the files ``contractgen render samples/seed.yaml -o DIR`` writes, by name."""
    out = tmp_path_factory.mktemp("cli")
    done = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(SAMPLES / "seed.yaml"), "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@pytest.fixture(scope="module")
def seed_zip(client: httpx.Client, seed_body: bytes) -> httpx.Response:
    response = client.post(
        "/v1/contracts?issue=true",
        content=seed_body,
        headers={**JSON_TYPE, "Accept": "application/zip"},
    )
    assert response.status_code == 200, response.text
    return response


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("https://")
    assert problem["title"] and problem["detail"] and problem["instance"]
    return problem


# --- the set ------------------------------------------------------------------------------


def test_healthz_needs_no_token(server: Server) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["workers"] == 2
    assert health["slots"] == 4
    assert health["queue"] == 16


def test_set_as_zip_is_the_cli_output(
    seed_zip: httpx.Response, cli_files: dict[str, bytes]
) -> None:
    assert seed_zip.headers["content-type"] == "application/zip"
    files = unzip(seed_zip.content)
    no = "11NMB2F042362026201"
    assert all(name.startswith(f"{no}/") for name in files)
    names = [name.removeprefix(f"{no}/") for name in files]
    assert sum(name.endswith(".docx") for name in names) == 4
    assert sum(name.endswith(".pdf") and "全套" not in name for name in names) == 4
    assert f"{no}_合同全套.pdf" in names
    assert "manifest.json" in names
    # Byte for byte what the command line writes: DOCX, PDF, bundle and manifest.
    assert {name: files[f"{no}/{name}"] for name in names} == cli_files
    manifest = json.loads(files[f"{no}/manifest.json"])
    assert seed_zip.headers["x-input-sha256"] == manifest["input_sha256"]
    assert seed_zip.headers["x-contract-no"] == no
    assert f'filename="{no}.zip"' in seed_zip.headers["content-disposition"]
    # Recorded in the session's ledger (tests/e2e/test_service_ledger.py: versions, verdicts).
    assert json.loads(seed_zip.headers["x-ledger"])["contract_no"] == no


@pytest.mark.parametrize(
    ("query", "accept"),
    [("?format=json&issue=false", "application/zip"), ("?issue=false", "application/json")],
)
def test_set_as_json(
    client: httpx.Client, seed_body: bytes, cli_files: dict[str, bytes], query: str, accept: str
) -> None:
    response = client.post(
        f"/v1/contracts{query}", content=seed_body, headers={**JSON_TYPE, "Accept": accept}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    files = {name: base64.b64decode(data) for name, data in body["files"].items()}
    assert files == cli_files
    assert body["manifest"] == json.loads(cli_files["manifest.json"])


def test_one_pdf_with_its_seal_fields(
    client: httpx.Client, seed_body: bytes, cli_files: dict[str, bytes]
) -> None:
    manifest = json.loads(cli_files["manifest.json"])
    for entry in manifest["documents"]:
        kind = entry["kind"]
        response = client.post(
            f"/v1/contracts/{kind}.pdf?issue=false", content=seed_body, headers=JSON_TYPE
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        # The same PDF as in the set, and the seal records of its manifest entry.
        assert response.content == cli_files[entry["pdf"]["file"]]
        assert response.headers["x-document-sha256"] == entry["pdf"]["sha256"]
        assert int(response.headers["x-document-pages"]) == entry["pdf"]["pages"]
        seals = json.loads(response.headers["x-seal-fields"])
        assert seals == entry["seals"]
        crossing = response.headers.get("x-cross-page-seal")
        assert (None if crossing is None else json.loads(crossing)) == entry["cross_page_seal"]
        assert [s["party"] for s in seals] == (
            ["buyer", "supplier"] if kind in SEALED_KINDS else []
        )
        assert "inline" in response.headers["content-disposition"]


@pytest.mark.slow
def test_twenty_concurrent_sets_are_identical(
    seed_body: bytes, seed_zip: httpx.Response, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Without the set cache, so that the twenty are really made side by side.
    server = start_server(
        tmp_path_factory.mktemp("uncached"), "--workers", "2", "--queue", "20", "--cached-sets", "0"
    )
    try:
        start = threading.Barrier(20)

        def one(_: int) -> httpx.Response:
            start.wait()
            return httpx.post(
                f"{server.url}/v1/contracts?issue=true",
                content=seed_body,
                headers=JSON_TYPE,
                timeout=300,
            )

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(one, range(20)))
        assert [r.status_code for r in responses] == [200] * 20
        assert {hashlib.sha256(r.content).hexdigest() for r in responses} == {
            hashlib.sha256(seed_zip.content).hexdigest()
        }
        health = httpx.get(f"{server.url}/healthz").json()
        assert health["rendering"] == 0 and health["waiting"] == 0
        assert health["requests"]["rejected"] == 0
        assert health["sets"] == {"made": 0, "cached": 0}  # no cache: made by render_set
        assert health["conversions"]["conversions"] >= 20
    finally:
        stop_server(server)


def test_a_contract_s_documents_asked_one_by_one_are_made_once(
    client: httpx.Client, server: Server, seed_data: dict[str, Any]
) -> None:
    data = copy.deepcopy(seed_data)
    data["contract_no"] = "CACHE2026001"
    body = json.dumps(data, ensure_ascii=False).encode()
    before = httpx.get(f"{server.url}/healthz").json()
    pdfs = {}
    for kind in KINDS:
        response = client.post(
            f"/v1/contracts/{kind}.pdf?issue=false", content=body, headers=JSON_TYPE
        )
        assert response.status_code == 200, response.text
        pdfs[kind] = response.content
    whole = client.post(
        "/v1/contracts?issue=false",
        content=body,
        headers={**JSON_TYPE, "Accept": "application/zip"},
    )
    assert whole.status_code == 200, whole.text
    after = httpx.get(f"{server.url}/healthz").json()
    assert after["sets"]["made"] - before["sets"]["made"] == 1
    assert after["sets"]["cached"] - before["sets"]["cached"] == len(KINDS)
    files = unzip(whole.content)
    manifest = json.loads(files["CACHE2026001/manifest.json"])
    for entry in manifest["documents"]:
        assert pdfs[entry["kind"]] == files[f"CACHE2026001/{entry['pdf']['file']}"]


# --- errors -------------------------------------------------------------------------------


def test_invalid_contract_is_422_with_field_paths(
    client: httpx.Client, seed_data: dict[str, Any]
) -> None:
    data = copy.deepcopy(seed_data)
    data["supplier"]["postcode"] = "12"
    data["amount"] = "1578000.005"
    del data["sign_place"]
    for path in ("/v1/contracts", "/v1/contracts/service_contract.pdf"):
        response = client.post(path, params={"issue": "false"}, json=data)
        problem = assert_problem(response, 422)
        assert problem["instance"] == path
        paths = {issue["path"]: issue["code"] for issue in problem["issues"]}
        assert paths["supplier.postcode"] == "postcode.format"
        assert paths["amount"] == "amount.format"
        assert paths["sign_place"] == "required"
        assert all(issue["message"] for issue in problem["issues"])


def test_validate_answers_200_both_ways(client: httpx.Client, seed_data: dict[str, Any]) -> None:
    assert client.post("/v1/validate", json=seed_data).json() == {
        "valid": True,
        "issues": [],
        "omitted_issues": 0,
    }
    # Amounts are read exactly, as Decimal: a JSON number with cents is fine...
    body = json.dumps(seed_data, ensure_ascii=False).replace('"1578000"', "1578000.50")
    valid = client.post("/v1/validate", content=body.encode(), headers=JSON_TYPE)
    assert valid.json() == {"valid": True, "issues": [], "omitted_issues": 0}
    # ... and one with a third decimal is an issue, never a rounding.
    broken = client.post(
        "/v1/validate", content=body.replace("1578000.50", "1578000.005"), headers=JSON_TYPE
    )
    assert broken.status_code == 200
    assert broken.json()["valid"] is False
    assert [i["path"] for i in broken.json()["issues"]] == ["amount"]
    not_an_object = client.post("/v1/validate", json=[1, 2])
    assert not_an_object.json()["issues"][0]["code"] == "type.object"


def test_malformed_json_is_400_with_the_position(client: httpx.Client) -> None:
    for path in ("/v1/contracts", "/v1/validate", "/v1/contracts/acceptance_plan.pdf"):
        problem = assert_problem(
            client.post(
                path,
                params={"issue": "false"},
                content=b'{"contract_no":\n  "X",,}',
                headers=JSON_TYPE,
            ),
            400,
        )
        assert (problem["line"], problem["column"]) == (2, 7)
        assert problem["position"] == 22
    problem = assert_problem(client.post("/v1/validate", content=b"", headers=JSON_TYPE), 400)
    assert problem["line"] == 1
    assert_problem(client.post("/v1/validate", content=b'{"a": "\xff"}', headers=JSON_TYPE), 400)
    assert_problem(client.post("/v1/validate", content=b"[" * 100_000, headers=JSON_TYPE), 400)
    assert_problem(client.post("/v1/validate", content=b"1" * 5000, headers=JSON_TYPE), 400)


def test_oversized_body_is_413(client: httpx.Client) -> None:
    big = b'{"x": "' + b"a" * (1 << 20) + b'"}'
    assert_problem(client.post("/v1/contracts?issue=false", content=big, headers=JSON_TYPE), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield b'{"x": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    response = client.post("/v1/validate", content=chunks(), headers=JSON_TYPE)
    assert "content-length" not in response.request.headers
    assert assert_problem(response, 413)["max_body"] == 1 << 20
    # The connection is still good afterwards.
    assert client.get("/v1/schema").status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_wrong_content_type_is_415(
    client: httpx.Client, seed_body: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    request = client.build_request(
        "POST", "/v1/contracts?issue=false", content=seed_body, headers=headers
    )
    assert request.headers.get("content-type") == content_type
    assert_problem(client.send(request), 415)


def test_unknown_kind_path_and_method(client: httpx.Client, seed_body: bytes) -> None:
    problem = assert_problem(
        client.post("/v1/contracts/contract.pdf?issue=false", content=seed_body, headers=JSON_TYPE),
        404,
    )
    assert "service_contract" in problem["detail"]
    assert_problem(client.get("/v1/nothing"), 404)
    response = client.get("/v1/contracts")
    assert_problem(response, 405)
    assert "POST" in response.headers["allow"]
    assert_problem(
        client.post("/v1/contracts?pdfa=maybe&issue=false", content=seed_body, headers=JSON_TYPE),
        400,
    )


def test_bearer_token(server: Server, seed_body: bytes) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        for path in ("/v1/schema", "/v1/nothing"):
            response = anonymous.get(path)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer")
        response = anonymous.post(
            "/v1/contracts",
            content=seed_body,
            headers={**JSON_TYPE, "Authorization": f"Bearer {TOKEN}x"},
        )
        assert_problem(response, 401)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        wrong_scheme = anonymous.get("/v1/schema", headers={"Authorization": f"Basic {TOKEN}"})
        assert_problem(wrong_scheme, 401)
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/openapi.json").status_code == 200
        schema = anonymous.get("/v1/schema", headers={"Authorization": f"Bearer {TOKEN}"})
        assert schema.status_code == 200
        assert schema.json()["title"] == "运维服务合同"


def test_openapi_describes_the_body_with_the_schema(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    post = document["paths"]["/v1/contracts"]["post"]
    body = post["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/AnyContract"}
    built_in, other = document["components"]["schemas"]["AnyContract"]["anyOf"]
    assert built_in == {"$ref": "#/components/schemas/Contract"} and other["required"] == ["kind"]
    contract = document["components"]["schemas"]["Contract"]
    # the field's $ref, beside its Chinese title
    assert contract["properties"]["supplier"]["$ref"] == "#/components/schemas/Supplier"
    assert "Supplier" in document["components"]["schemas"]
    assert post["security"] == [{"bearer": []}]
    assert {"413", "415", "422", "503", "504"} <= set(post["responses"])
    assert "X-Ledger" in post["responses"]["200"]["headers"]
    assert {
        "/v1/verify",
        "/v1/ledger/sets",
        "/v1/ledger/sets/{contract_no}",
        "/v1/ledger/sets/{contract_no}/{version}",
        "/v1/ledger/sets/{contract_no}/history",
        "/v1/ledger/check",
    } <= set(document["paths"])


# --- operations: the request id, the access lines, readiness and metrics ----------------


def wait_for_lines(log: Path, needle: str, count: int) -> list[str]:
    """Return the log's lines with ``needle`` once there are ``count`` (a poll with a deadline).

    A request's access line is written once its answer is sent: just after the client has it.
    """
    give_up = time.monotonic() + 30
    while True:
        lines = [line for line in log.read_text().splitlines() if needle in line]
        if len(lines) >= count:
            return lines
        assert time.monotonic() < give_up, f"{count} × {needle!r} not in the log:\n{lines}"
        time.sleep(0.05)  # the poll's interval, within its deadline


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of a Prometheus exposition by name and sorted labels."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_request_id_is_taken_or_made_and_on_every_answer_and_access_line(
    server: Server, client: httpx.Client
) -> None:
    given = {"X-Request-ID": "ops.check-0001"}
    answers = [
        client.get("/v1/schema", headers=given),
        httpx.get(f"{server.url}/v1/schema", headers=given),  # 401, before any route
        client.get("/v1/nothing", headers=given),  # 404
        client.post(  # 400, with a query string that must not reach the log
            "/v1/validate?token=leaked-in-query-77&callback=http://h/cb%3Fsig%3D1",
            content=b"{",
            headers={**JSON_TYPE, **given},
        ),
    ]
    assert [a.status_code for a in answers] == [200, 401, 404, 400]
    assert {a.headers["x-request-id"] for a in answers} == {"ops.check-0001"}
    for bad in ("x" * 65, "has space", "semi;colon", ""):
        made = client.get("/v1/schema", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made), bad
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/v1/schema").headers["x-request-id"])
    lines = wait_for_lines(server.log, "request_id=ops.check-0001", 4)
    assert all(" INFO contractgen.access: " in line for line in lines), lines
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO ", lines[0]), lines[0]
    assert "POST /v1/validate 400 " in lines[3] and "?" not in lines[3], lines[3]
    log = server.log.read_text()
    assert "leaked-in-query-77" not in log and "sig%3D1" not in log and "sig=1" not in log
    assert TOKEN not in log


def test_readyz_checks_the_ledger_and_an_office_without_the_token(server: Server) -> None:
    ready = httpx.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"ledger", "office"}  # no broker: not checked
    assert all(check["ok"] and check["seconds"] < 2 for check in body["checks"].values())


def test_metrics_count_requests_by_route_template_and_the_sets_made(
    server: Server, client: httpx.Client, seed_zip: httpx.Response, seed_body: bytes
) -> None:
    assert_problem(httpx.get(f"{server.url}/metrics"), 401)  # the token, like /v1
    pdf = client.post(
        "/v1/contracts/acceptance_plan.pdf?issue=false", content=seed_body, headers=JSON_TYPE
    )
    assert pdf.status_code == 200
    assert client.get("/v1/ledger/sets/NO-SUCH-NUMBER-42").status_code == 404
    scraped = client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    found = samples(scraped.text)

    def requests(method: str, route: str, status: str) -> float:
        labels = (("method", method), ("route", route), ("status", status))
        return found.get(("contractgen_http_requests_total", labels), 0)

    assert requests("POST", "/v1/contracts", "200") >= 1  # seed_zip
    assert requests("POST", "/v1/contracts/{kind}.pdf", "200") >= 1
    assert requests("GET", "/v1/ledger/sets/{contract_no}", "404") >= 1
    assert requests("GET", "/metrics", "401") >= 1
    assert not [labels for _, labels in found if "NO-SUCH-NUMBER-42" in str(labels)]
    latency = (("method", "POST"), ("route", "/v1/contracts"))
    assert found[("contractgen_http_request_duration_seconds_count", latency)] >= 1
    assert found[("contractgen_sets_made_total", ())] >= 1
    assert found[("contractgen_sets_cached_total", ())] >= 1  # the PDF, from the set made
    assert found[("contractgen_conversions_total", ())] >= 1
    assert found[("contractgen_render_slots", ())] == 4
    assert found[("contractgen_admissions_total", (("outcome", "served"),))] >= 2


# --- what goes in comes out literally -----------------------------------------------------


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"], capture_output=True, check=True
    )
    return re.sub(r"\s+", "", done.stdout.decode())


def test_markup_and_template_syntax_come_out_literally(
    client: httpx.Client, seed_data: dict[str, Any], tmp_path: Path
) -> None:
    data = copy.deepcopy(seed_data)
    data["project_name"] = "A&B <科技> 运维项目"
    data["other_terms"] = "{{ contract_no }} 与 {% if %} 照原样"
    data["performance_bond"] = "不收取 <w:t>&amp;</w:t>"
    response = client.post("/v1/contracts?format=json&issue=false", json=data)
    assert response.status_code == 200, response.text
    files = {n: base64.b64decode(v) for n, v in response.json()["files"].items()}
    text = docx_text(files["01_运维服务合同.docx"])
    for literal in data["project_name"], data["other_terms"], data["performance_bond"]:
        assert literal in text
    assert "11NMB2F042362026201 与" not in text
    squashed = pdf_text(files["01_运维服务合同.pdf"], tmp_path)
    for literal in data["project_name"], data["other_terms"], data["performance_bond"]:
        assert re.sub(r"\s+", "", literal) in squashed


# --- sealing round trip -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]]:
    return make_pki()


@pytest.mark.parametrize("kind", ["service_contract", "integrity_agreement"])
def test_sealing_round_trip(
    client: httpx.Client,
    seed_body: bytes,
    pki: tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]],
    kind: str,
) -> None:
    response = client.post(
        f"/v1/contracts/{kind}.pdf?issue=false", content=seed_body, headers=JSON_TYPE
    )
    assert response.status_code == 200, response.text
    records = json.loads(response.headers["x-seal-fields"])
    assert [r["party"] for r in records] == ["buyer", "supplier"]
    root, parties = pki
    signed = response.content
    for record in records:  # the buyer seals first, then the supplier
        signed = sign_field(signed, record["field"], parties[record["party"]])
    statuses = signature_statuses(signed, root)
    assert [name for name, _ in statuses] == [r["field"] for r in records]
    for name, status in statuses:
        assert status.intact and status.valid and status.trusted, name
    # Each signed field sits on the page and at the rectangle the service reported.
    assert widget_rects(signed) == {r["field"]: (r["page"], r["rect"]) for r in records}


# --- fuzzing from the service's own OpenAPI document --------------------------------------


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(server: Server, tmp_path: Path) -> None:
    """Fuzz every operation: no 500; statuses, types, headers and bodies as documented."""
    checks = (
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_headers_conformance,response_schema_conformance,ignored_auth,unsupported_method"
    )
    runs = [
        # the examples (the seed, rendered for real) and generated data, valid and not
        ["--phases", "examples,fuzzing", "--max-examples", "30"],
        # boundary and type mutations of every part of every request
        ["--phases", "coverage", "--mode", "negative"],
    ]
    for extra in runs:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                checks,
                "--header",
                f"Authorization: Bearer {TOKEN}",
                "--seed",
                "20260116",
                "--request-timeout",
                "300",
                "--continue-on-failure",
                "--no-color",
                *extra,
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        assert "passed" in done.stdout


# --- limits: saturation and timeout ---------------------------------------------------------


@pytest.mark.slow
def test_saturation_is_503_with_retry_after(tmp_path: Path, seed_body: bytes) -> None:
    small = start_server(tmp_path, "--workers", "1", "--queue", "1", "--max-body", "65536")
    try:
        assert httpx.get(f"{small.url}/healthz").json()["slots"] == 2
        go = threading.Barrier(12)

        def one(_: int) -> httpx.Response:
            go.wait()
            return httpx.post(
                f"{small.url}/v1/contracts/acceptance_plan.pdf?issue=false",
                content=seed_body,
                headers=JSON_TYPE,
                timeout=300,
            )

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(one, range(12)))
        codes = [r.status_code for r in responses]
        assert set(codes) <= {200, 503}, codes
        assert 503 in codes and 200 in codes
        for response in responses:
            if response.status_code == 503:
                assert_problem(response, 503)
                assert int(response.headers["retry-after"]) >= 1
        counts = httpx.get(f"{small.url}/healthz").json()["requests"]
        assert counts["rejected"] == codes.count(503)
        # --max-body is the limit
        big = b'{"x": "' + b"a" * 70_000 + b'"}'
        response = httpx.post(f"{small.url}/v1/validate", content=big, headers=JSON_TYPE)
        assert assert_problem(response, 413)["max_body"] == 65536
    finally:
        stop_server(small)


def test_request_past_its_timeout_is_504(tmp_path: Path, seed_body: bytes) -> None:
    slow = start_server(tmp_path, "--workers", "1", "--timeout", "1")
    try:
        response = httpx.post(
            f"{slow.url}/v1/contracts?issue=false",
            content=seed_body,
            headers=JSON_TYPE,
            timeout=300,
        )
        problem = assert_problem(response, 504)
        assert "1 s" in problem["detail"]
        assert httpx.get(f"{slow.url}/healthz").json()["requests"]["timed_out"] == 1
    finally:
        stop_server(slow)  # waits for the abandoned rendering; no office left


# --- the README's example runs as written ---------------------------------------------------


def test_readme_python_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Library and HTTP service", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", match.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "service_contract 运维服务合同" in done.stdout
    assert "amount amount.format" in done.stdout
