"""The service's asynchronous jobs for real: Redis, a worker and the service, all started here.

One contract sent as a job comes back (202, Location, polled to done) as the CLI's
bytes and is in the ledger the worker and the service share; a round sent as a
workbook calls back once done, signed with HMAC-SHA256, after a first callback
answered 500 (retried with back-off); the same Idempotency-Key gives the same job,
with another body it is refused; without a broker the routes answer 404, and a
broker that cannot be reached stops the service from starting, saying why.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import socket
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.inputs.load import load_data

from ..brokers import RedisServer, redis_bin
from ..conftest import SAMPLES, run_cli
from .test_queue import Worker
from .test_service import Server, samples, start_server, stop_server, wait_for_lines

pytestmark = pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed")

TOKEN = "jobs-test-token-0123456789"
#: the callbacks' own key (never the token)
CALLBACK_KEY = "jobs-callback-key-9876543210"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: a round of five on a loaded two-core machine
DONE_SECONDS = 600


class Stack:
    """Redis, one worker of two processes and the service, sharing a ledger and a jobs folder.

    ``persistent``: Redis runs with ``--appendonly yes`` (see :class:`RedisServer`).
    """

    def __init__(self, folder: Path, *, persistent: bool = False) -> None:
        self.redis = RedisServer(folder, persistent=persistent)
        self.ledger = f"sqlite:///{folder / 'ledger.db'}"
        self.jobs = folder / "jobs"
        self.worker = Worker(folder, self.redis.url, self.ledger, concurrency=2)
        key_file = folder / "callback.key"
        key_file.write_text(CALLBACK_KEY, encoding="utf-8")
        with pytest.MonkeyPatch.context() as env:
            env.setenv("CONTRACTGEN_CALLBACK_ALLOW", "127.0.0.1")  # the tests' receivers
            self.server: Server = start_server(
                folder,
                *("--workers", "1", "--ledger", self.ledger),
                *("--broker", self.redis.url, "--jobs-dir", str(self.jobs)),
                *("--callback-key-file", str(key_file)),
                token=TOKEN,
            )
        self.client = httpx.Client(
            base_url=self.server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )

    def close(self) -> None:
        self.client.close()
        try:
            stop_server(self.server)
        finally:
            self.worker.stop()
            self.redis.kill()

    def wait_done(self, location: str) -> dict[str, Any]:
        """Poll a job until it is done (with a deadline); return its status."""
        give_up = time.monotonic() + DONE_SECONDS
        while True:
            status: dict[str, Any] = self.client.get(location).json()
            if status["status"] == "done":
                return status
            assert time.monotonic() < give_up, status
            time.sleep(0.2)  # the poll's interval, within its deadline


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    made = Stack(tmp_path_factory.mktemp("jobs"))
    try:
        yield made
    finally:
        made.close()


class Receiver:
    """A callback endpoint on 127.0.0.1 that answers 500 first, then 204, and keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()
        calls, arrived = self.calls, self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(500 if len(calls) == 1 else 204)
                self.end_headers()
                if len(calls) > 1:
                    arrived.set()

            def log_message(self, *_: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def test_one_contract_as_a_job_is_the_cli_s_set_and_is_recorded(
    stack: Stack, tmp_path: Path
) -> None:
    data = {**load_data(SAMPLES / "seed.yaml")}
    body = json.dumps(data, ensure_ascii=False, default=str).encode()
    unsaid = stack.client.post(
        "/v1/jobs", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsaid.status_code == 400 and unsaid.json()["code"] == "issue.required"
    sent = stack.client.post(
        "/v1/jobs?issue=true", content=body, headers={"Content-Type": "application/json"}
    )
    assert sent.status_code == 202, sent.text
    location = sent.headers["location"]
    assert sent.json()["progress"] == {"done": 0, "total": 1}
    status = stack.wait_done(location)
    (row,) = status["rows"]
    assert row["status"] == "made", status
    assert "第 1 版已登记" in row["ledger"]
    number = row["contract_no"]
    got = stack.client.get(f"{location}/sets/{number}.zip")
    assert got.status_code == 200
    assert run_cli("render", SAMPLES / "seed.yaml", "-o", tmp_path, "--no-ledger").returncode == 0
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        for path in (tmp_path / number).iterdir():
            assert archive.read(f"{number}/{path.name}") == path.read_bytes(), path.name
    # the worker recorded it in the ledger the service reads
    recorded = stack.client.get(f"/v1/ledger/sets/{number}")
    assert recorded.status_code == 200 and recorded.json()["version"] == 1
    # by who asked (the token's user), not by the worker's OS user
    assert recorded.json()["issued_by"] == "服务令牌"
    assert stack.client.get("/v1/jobs/" + "0" * 32).status_code == 404
    invalid = stack.client.post(
        "/v1/jobs?issue=true",
        content=b'{"contract_no": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert invalid.status_code == 422 and invalid.json()["issues"]


def test_a_round_calls_back_signed_after_a_retry_and_a_key_gives_the_same_job(
    stack: Stack,
) -> None:
    receiver = Receiver()
    workbook = (SAMPLES / "batch.xlsx").read_bytes()
    headers = {"Content-Type": XLSX, "Idempotency-Key": "round-2026-01"}
    try:
        sent = stack.client.post(
            "/v1/jobs",
            params={"callback": receiver.url, "issue": "true"},
            content=workbook,
            headers=headers,
        )
        assert sent.status_code == 202, sent.text
        again = stack.client.post(
            "/v1/jobs",
            params={"callback": receiver.url, "issue": "true"},
            content=workbook,
            headers=headers,
        )
        assert again.status_code == 200
        assert again.headers["location"] == sent.headers["location"]
        other = stack.client.post(
            "/v1/jobs", params={"issue": "true"}, content=workbook + b"\0", headers=headers
        )
        assert other.status_code == 422
        assert other.json()["code"] == "jobs.idempotency_conflict"
        moved = stack.client.post(  # the same key and body, another callback: never kept silently
            "/v1/jobs",
            params={"callback": receiver.url + "2", "issue": "true"},
            content=workbook,
            headers=headers,
        )
        assert moved.status_code == 422, moved.text
        assert moved.json()["code"] == "jobs.idempotency_conflict"
        assert "回调地址" in moved.json()["detail"]
        status = stack.wait_done(sent.headers["location"])
        assert [r["status"] for r in status["rows"]] == ["made"] * 5
        assert receiver.arrived.wait(timeout=DONE_SECONDS)
    finally:
        receiver.close()
    assert len(receiver.calls) == 2  # 500 first, then accepted after the back-off
    for call_headers, call_body in receiver.calls:
        stamp, _, signature = call_headers["x-contractgen-signature"].partition(",")
        timestamp = stamp.removeprefix("t=").encode()
        expected = hmac.new(CALLBACK_KEY.encode(), timestamp + b"." + call_body, hashlib.sha256)
        assert signature == f"sha256={expected.hexdigest()}"
    called = json.loads(receiver.calls[-1][1])
    assert called["id"] == sent.json()["id"] and called["counts"] == {"made": 5}
    final = stack.client.get(sent.headers["location"]).json()
    assert final["callback"] == {"state": "delivered", "tries": 2}


def test_a_job_s_request_id_is_on_the_service_s_and_the_worker_s_lines_and_no_secret_is(
    stack: Stack,
) -> None:
    receiver = Receiver()  # 500 first, then 204: a callback retried, then delivered
    secret = "cb-secret-5e1f0a"
    body = json.dumps({**load_data(SAMPLES / "seed.yaml")}, ensure_ascii=False, default=str)
    try:
        sent = stack.client.post(
            "/v1/jobs",
            params={"callback": f"{receiver.url}?token={secret}", "issue": "true"},
            content=body.encode(),
            headers={"Content-Type": "application/json", "X-Request-ID": "ops-job-0001"},
        )
        assert sent.status_code == 202, sent.text
        assert sent.headers["x-request-id"] == "ops-job-0001"
        job = sent.json()["id"]
        status = stack.wait_done(sent.headers["location"])
        assert receiver.arrived.wait(timeout=DONE_SECONDS)
    finally:
        receiver.close()
    number = status["rows"][0]["contract_no"]
    fields = f"request_id=ops-job-0001 job_id={job}"
    # the service: the job created, and the access line, with the job and its contract
    lines = wait_for_lines(stack.server.log, fields, 2)
    assert any("job created" in line and f"contract_no={number}" in line for line in lines)
    assert any("contractgen.access: POST /v1/jobs 202" in line for line in lines), lines
    # the worker: its line and Celery's own about the job, with the request, job, task, number
    lines = wait_for_lines(stack.worker.log, fields, 2)
    made = [line for line in lines if "contractgen.worker: set made" in line]
    assert made and re.search(rf"task_id=[0-9a-f-]{{36}} contract_no={number}$", made[0]), lines
    assert any("succeeded in" in line for line in lines), lines
    wait_for_lines(stack.server.log, f"callback delivered (try 2, HTTP 204) job_id={job}", 1)
    for text in (stack.server.log.read_text(), stack.worker.text()):
        assert secret not in text and TOKEN not in text
    found = samples(stack.client.get("/metrics").text)
    assert found[("contractgen_jobs_created_total", (("body", "contract"),))] >= 1
    assert found[("contractgen_worker_jobs_total", (("outcome", "made"),))] >= 1
    assert found[("contractgen_callbacks_total", (("outcome", "retrying"),))] >= 1
    assert found[("contractgen_callbacks_total", (("outcome", "delivered"),))] >= 1
    assert found[("contractgen_broker_up", ())] == 1
    assert found[("contractgen_queue_waiting", ())] == 0
    assert found[("contractgen_queue_unacknowledged", ())] == 0
    assert found[("contractgen_callbacks_pending", ())] == 0
    ready = httpx.get(f"{stack.server.url}/readyz", timeout=10).json()
    assert ready["status"] == "ready" and set(ready["checks"]) == {"broker", "ledger", "office"}


def test_without_a_broker_jobs_are_404_and_an_unreachable_one_stops_the_start(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path)
    url = redis.url
    redis.kill()
    server = start_server(tmp_path, "--workers", "1", "--no-ledger")
    try:
        answer = httpx.post(f"{server.url}/v1/jobs", json={}, timeout=30)
        assert answer.status_code == 404 and answer.json()["code"] == "jobs.disabled"
    finally:
        stop_server(server)
    with pytest.raises(AssertionError, match="无法连接消息代理"):
        start_server(tmp_path, "--workers", "1", "--no-ledger", "--broker", url)


def test_callbacks_to_internal_addresses_are_refused_before_any_connection(stack: Stack) -> None:
    """SSRF: every spelling of an internal address is 422 at creation, and nothing connects.

    The addresses are literals (and ``localhost``, from /etc/hosts): resolving them sends
    no packet; a socket listening on 127.0.0.1 must see no connection.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    body = json.dumps({**load_data(SAMPLES / "seed.yaml")}, ensure_ascii=False, default=str)
    refused = {
        f"http://0x7f000001:{port}/": "jobs.callback_scheme",
        f"http://localhost:{port}/v1/ledger/check": "jobs.callback_scheme",
        f"http://[::1]:{port}/": "jobs.callback_scheme",
        f"https://0x7f000001:{port}/": "jobs.callback_address",
        f"https://2130706433:{port}/": "jobs.callback_address",
        f"https://127.1:{port}/": "jobs.callback_address",
        f"https://localhost:{port}/v1/ledger/check": "jobs.callback_address",
        f"https://[::1]:{port}/": "jobs.callback_address",
        f"https://[::ffff:127.0.0.1]:{port}/": "jobs.callback_address",
        f"https://[::127.0.0.1]:{port}/": "jobs.callback_address",
        f"https://[64:ff9b::7f00:1]:{port}/": "jobs.callback_address",
        f"https://[2002:7f00:1::]:{port}/": "jobs.callback_address",
        f"https://0.0.0.0:{port}/": "jobs.callback_address",
        f"https://[::]:{port}/": "jobs.callback_address",
        "https://169.254.169.254/latest/meta-data/": "jobs.callback_address",
        "https://[fe80::1]/": "jobs.callback_address",
        "https://[fd00::1]/": "jobs.callback_address",
        "https://10.0.0.1/": "jobs.callback_address",
        "https://192.168.1.1/": "jobs.callback_address",
        "https://100.64.0.1/": "jobs.callback_address",
        "https://224.0.0.1/": "jobs.callback_address",
        "https://user:pw@93.184.216.34/": "jobs.callback_url",
        "ftp://93.184.216.34/": "jobs.callback_url",
    }
    before = stack.client.get("/metrics").text.count("contractgen_jobs_created_total")
    try:
        for url, code in refused.items():
            answer = stack.client.post(
                "/v1/jobs",
                params={"callback": url, "issue": "true"},
                content=body.encode(),
                headers={"Content-Type": "application/json"},
            )
            assert answer.status_code == 422, (url, answer.text)
            problem = answer.json()
            assert problem["code"] == code, (url, problem)
            assert re.search(r"[\u4e00-\u9fff]", problem["detail"]), problem
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody called
    finally:
        listener.close()
    assert stack.client.get("/metrics").text.count("contractgen_jobs_created_total") == before


@pytest.mark.slow  # processes started one after another: the slow step
def test_callbacks_enabled_without_their_own_key_stop_the_start(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from ..conftest import ROOT

    def serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACTGEN_CALLBACK")}
        return subprocess.run(
            [sys.executable, "-m", "generator", "serve", "--port", "1", "--no-ledger"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**base, "CONTRACTGEN_TOKEN": TOKEN, **env},
            timeout=120,
        )

    no_key = serve({"CONTRACTGEN_CALLBACK_ALLOW": "127.0.0.1"})
    assert no_key.returncode == 2 and "回调签名密钥" in no_key.stderr, no_key.stderr
    same = serve({"CONTRACTGEN_CALLBACK_KEY": TOKEN})
    assert same.returncode == 2 and "不能与 API 令牌相同" in same.stderr, same.stderr
    short = serve({"CONTRACTGEN_CALLBACK_KEY": "short"})
    assert short.returncode == 2 and "过短" in short.stderr, short.stderr


def test_an_operator_lists_shows_and_requeues_a_job_and_a_running_row_says_where(
    stack: Stack,
) -> None:
    import redis

    from generator.queue import celery_app

    body = json.dumps({**load_data(SAMPLES / "seed.yaml")}, ensure_ascii=False, default=str)
    where = ("--broker", stack.redis.url, "--jobs-dir", stack.jobs)
    # The ledger's write lock held here keeps the row running (its set made, waiting to be
    # recorded) for as long as the test looks: a set is made too fast to be caught otherwise.
    holder = sqlite3.connect(stack.ledger.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        sent = stack.client.post(
            "/v1/jobs?issue=true",
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        assert sent.status_code == 202, sent.text
        job, location = sent.json()["id"], sent.headers["location"]
        give_up = time.monotonic() + DONE_SECONDS
        while True:  # the row, while it runs, says since when and on which worker
            (row,) = stack.client.get(location).json()["rows"]
            if row["status"] != "queued":
                break
            assert time.monotonic() < give_up, row
            time.sleep(0.02)  # the poll's interval, within its deadline
        assert row["status"] == "running", row
        assert row["started"].endswith("+00:00") and row["worker"].count(":") == 1, row
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    stack.wait_done(location)
    listed = run_cli("jobs", "list", *where, "--json")
    assert listed.returncode == 0, listed.stderr
    assert job in [j["id"] for j in json.loads(listed.stdout)]
    # lost: Redis forgot what became of the task (a broker restarted without persistence)
    app = celery_app(stack.redis.url)
    app.backend.forget(row["task"])
    shown = run_cli("jobs", "show", job, *where)
    assert shown.returncode == 0 and "排队中" in shown.stdout, shown.stdout
    again = run_cli("jobs", "requeue", job, *where)
    assert again.returncode == 0, again.stderr
    assert f"已重新提交 1 份：{row['contract_no']}" in again.stdout, again.stdout
    status = stack.wait_done(location)
    # made again: the same folder, the same ledger version, recorded by who asked
    (made,) = status["rows"]
    assert made["status"] == "made" and made["task"] == row["task"], made
    assert "第 1 版，与已登记的相同" in made["ledger"], made
    recorded = stack.client.get(f"/v1/ledger/sets/{row['contract_no']}").json()
    assert recorded["issued_by"] == "服务令牌", recorded
    done = run_cli("jobs", "show", job, *where)
    assert "已完成 1/1" in done.stdout and "已生成" in done.stdout, done.stdout
    unknown = run_cli("jobs", "show", "0" * 32, *where)
    assert unknown.returncode != 0 and "没有任务" in unknown.stderr
    assert redis.Redis.from_url(stack.redis.url).hlen("unacked") == 0
