"""The workbench behind a load balancer: two replicas, one Redis, one worker, all real.

Two ``contractgen serve --broker`` replicas on 127.0.0.1 share Redis, the jobs folder,
the SQLite ledger, the token and the session secret; one ``contractgen worker`` makes
the sets. A clerk signs in once on A, and the cookie opens B too. A round of three rows
(one bad) uploaded on A is shown on B, started there (生成并签发), followed on A until
done, and downloaded from B: its zip holds both sets and the batch's report, the worker
made them (its log names each row's task), and the ledger names the clerk, not the
worker's OS user. A set previewed on A is downloaded and issued (签发并登记) on B, once.
A round unknown to Redis says so, plainly; with Redis away, a round page says to try
again (503, ``Retry-After``).

Slow (a worker's start and two replicas' offices, three renders): ``-m slow``.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from generator.ledger import Ledger
from generator.web.form import to_values

from ..brokers import RedisServer, redis_bin
from .browser import TOKEN
from .test_queue import Worker
from .test_service import Server, start_server, stop_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed"),
]

SECRET = "replicas-test-secret-0123456789abcdef"
NUMBERS = ["11NMB2F042362026401", "11NMB2F042362026402"]
PREVIEWED = "11NMB2F042362026403"
#: who the ledger names: the user of the token (the workbench's sign-in)
CLERK = "服务令牌"
#: a round of two on one worker process, on a loaded two-core machine
DONE_SECONDS = 300


class Replicas:
    """Redis, one worker and two service replicas sharing the jobs folder and the ledger."""

    def __init__(self, folder: Path) -> None:
        self.redis = RedisServer(folder)
        self.ledger = f"sqlite:///{folder / 'ledger.db'}"
        self.jobs = folder / "jobs"
        args = (
            *("--workers", "1", "--ledger", self.ledger),
            *("--broker", self.redis.url, "--jobs-dir", str(self.jobs)),
        )
        self.servers: list[Server] = []
        self.worker: Worker | None = None
        os.environ["CONTRACTGEN_SESSION_SECRET"] = SECRET  # the servers' environment is ours
        try:
            with ThreadPoolExecutor(2) as pool:  # all at once: each waits for its office
                starting = [pool.submit(start_server, folder, *args, token=TOKEN) for _ in "AB"]
                # started by this thread: it dies with the thread that started it
                self.worker = Worker(folder, self.redis.url, self.ledger)
                self.servers = [future.result() for future in starting]
        except BaseException:
            self.close()
            raise
        finally:
            del os.environ["CONTRACTGEN_SESSION_SECRET"]

    def close(self) -> None:
        try:
            for server in self.servers:
                stop_server(server)
        finally:
            if self.worker is not None:
                self.worker.stop()
            self.redis.kill()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    made = Replicas(tmp_path_factory.mktemp("replicas"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def clients(replicas: Replicas) -> Iterator[tuple[httpx.Client, httpx.Client, str]]:
    """Return a client of A signed in, one of B with A's cookies, and the session's CSRF."""
    a, b = (httpx.Client(base_url=s.url, timeout=120) for s in replicas.servers)
    try:
        csrf = a.get("/login").cookies["contractgen_csrf"]
        signed = a.post("/login", data={"token": TOKEN, "csrf": csrf})
        assert signed.status_code == 303, signed.text
        csrf = a.cookies["contractgen_csrf"]
        for name in ("contractgen_session", "contractgen_csrf"):
            b.cookies.set(name, a.cookies[name])  # what a browser sends to either replica
        yield a, b, csrf
    finally:
        a.close()
        b.close()


def _round_body(seed: dict[str, Any]) -> bytes:
    """Return a round as JSON lines: two good rows and one whose postcode is wrong."""
    rows = []
    for number in [*NUMBERS, "11NMB2F042362026409"]:
        row = copy.deepcopy(seed)
        row["contract_no"] = number
        rows.append(row)
    rows[-1]["buyer"]["postcode"] = "20007"
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode()


def worker_log(replicas: Replicas) -> str:
    assert replicas.worker is not None
    return replicas.worker.text()


def _wait_done(client: httpx.Client, round_id: str) -> str:
    """Poll a round's progress (as the page does) until it is done; return its section."""
    give_up = time.monotonic() + DONE_SECONDS
    while True:
        section = client.get(f"/rounds/{round_id}/progress")
        assert section.status_code == 200, section.text
        if "已完成" in section.text:
            return section.text
        assert time.monotonic() < give_up, section.text
        time.sleep(0.2)  # the poll's interval, within its deadline


def test_a_round_uploaded_on_one_replica_is_made_by_the_worker_and_served_by_the_other(
    replicas: Replicas,
    clients: tuple[httpx.Client, httpx.Client, str],
    seed_data: dict[str, Any],
) -> None:
    a, b, csrf = clients
    assert b.get("/rounds").status_code == 200  # A's session opens B
    sent = a.post(
        "/rounds",
        data={"csrf": csrf},
        files={"file": ("第一批.jsonl", _round_body(seed_data), "application/jsonl")},
    )
    assert sent.status_code == 303, sent.text
    round_id = sent.headers["location"].rsplit("/", 1)[1]

    assert f'href="/rounds/{round_id}"' in b.get("/rounds").text  # listed on B too
    checked = b.get(f"/rounds/{round_id}")
    assert checked.status_code == 200, checked.text
    assert "2 份可以生成，1 行有问题" in checked.text
    assert "[postcode.format]" in checked.text
    assert "生成并签发 2 份合同" in checked.text
    started = b.post(f"/rounds/{round_id}/start", data={"csrf": csrf, "issue": "1"})
    assert started.status_code == 303, started.text
    again = a.post(f"/rounds/{round_id}/start", data={"csrf": csrf, "issue": "0"})
    assert again.status_code == 409 and "已经开始过" in again.text

    done = _wait_done(a, round_id)
    assert "2 份已生成，1 行有问题" in done
    assert f"开始人 {CLERK}" in done and "由工作进程生成" in done
    archive = b.get(f"/rounds/{round_id}/files/round.zip")
    assert archive.status_code == 200, archive.text
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        names = zipped.namelist()
        report = json.loads(zipped.read("batch-report.json"))
        for number in NUMBERS:
            manifest = json.loads(zipped.read(f"{number}/manifest.json"))
            assert manifest["contract_no"] == number
    assert [row["status"] for row in report["rows"]] == ["made", "made", "failed"]
    assert report["summary"]["source"] == "第一批.jsonl"
    assert not any(part.startswith(".") for name in names for part in name.split("/"))
    assert b.get(f"/rounds/{round_id}/files/batch-report.csv").status_code == 200

    # the worker made them: its log says each of the job's tasks succeeded
    with redis.Redis.from_url(replicas.redis.url) as client:
        job = json.loads(client.get(f"contractgen:round:{round_id}") or b"{}")["job"]
    status = b.get(f"/v1/jobs/{job}", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    tasks = [row["task"] for row in status["rows"] if row["status"] == "made"]
    assert len(tasks) == 2, status
    for task in tasks:
        assert re.search(rf"contractgen\.make\[{task}\] succeeded", worker_log(replicas))
    # and recorded them in the clerk's name, not the worker's OS user
    with Ledger(replicas.ledger, existing=True) as ledger:
        for number in NUMBERS:
            (event,) = ledger.history(number)
            assert (event["action"], event["actor"]) == ("issue", CLERK)

    unknown = b.get("/rounds/AAAAAAAAAAAA")
    assert unknown.status_code == 404
    assert "各服务副本共享的批次记录中没有这一批" in unknown.text
    assert "只保留最近" not in unknown.text


def test_a_set_previewed_on_one_replica_is_downloaded_and_issued_on_the_other(
    replicas: Replicas,
    clients: tuple[httpx.Client, httpx.Client, str],
    seed_data: dict[str, Any],
) -> None:
    a, b, csrf = clients
    data = {**copy.deepcopy(seed_data), "contract_no": PREVIEWED}
    preview = a.post("/contract", data={**to_values(data), "csrf": csrf, "action": "preview"})
    assert preview.status_code == 200, preview.text
    found = re.search(r'action="/sets/([^/"]+)/issue"', preview.text)
    assert found, "the draft's 签发 button"
    set_id = found.group(1)
    on_a, on_b = a.get(f"/sets/{set_id}.zip"), b.get(f"/sets/{set_id}.zip")
    assert on_b.status_code == 200 and on_b.content == on_a.content
    picture = b.get(f"/sets/{set_id}/pages/0/0.png")
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")

    issued = b.post(f"/sets/{set_id}/issue", data={"csrf": csrf})
    assert issued.status_code == 200, issued.text
    assert f"已由 {CLERK} 于" in issued.text and "已签发" in issued.text
    twice = a.post(f"/sets/{set_id}/issue", data={"csrf": csrf})  # A held it as a draft
    assert twice.status_code == 200 and f"已由 {CLERK} 于" in twice.text
    with Ledger(replicas.ledger, existing=True) as ledger:
        assert [e["action"] for e in ledger.history(PREVIEWED)] == ["issue"]


def test_with_redis_away_a_round_page_says_to_try_again_shortly(
    replicas: Replicas, clients: tuple[httpx.Client, httpx.Client, str]
) -> None:
    _, b, _ = clients
    replicas.redis.kill()
    try:
        away = b.get("/rounds")
        assert away.status_code == 503 and away.headers["retry-after"] == "5"
        assert "消息队列（Redis）暂时无法连接" in away.text
    finally:
        replicas.redis.start()  # empty, as a broker without persistence comes back
    assert b.get("/rounds").status_code == 200
