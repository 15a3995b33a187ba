"""The job queue for real: Redis started here, real worker processes, real kills and restarts.

A round sent through the queue gives the local batch's folders and report, byte
for byte; a worker process killed mid-job has its job redelivered and the set made
once (one folder, one ledger version); a job that kills its worker every time fails
after a bounded number of deliveries and the others are made; a broker that
cannot be reached is a clear error before anything is written. Redis restarted
mid-round, with and without persistence: tests/e2e/test_restarts.py.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ..brokers import RedisServer, die_with_parent, redis_bin
from ..conftest import ROOT, SAMPLES, run_cli
from .test_service import alive, descendants

pytestmark = pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed")

NUMBERS = [
    "11NMB2F042362026201",
    "11NMB2F051882026307",
    "11NMB2F042362026202",
    "11NMB2F042362026203",
    "11NMB2F042362026204",
]
#: a round of five contracts on a loaded two-core machine
ROUND_SECONDS = 600


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.kill()


class Worker:
    """``contractgen worker`` in a process of its own, its log in a file."""

    def __init__(
        self,
        folder: Path,
        broker: str,
        ledger: str,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        """Start it; ``env``: variables added to the test's; its own process group (killpg)."""
        self.log = folder / f"worker-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "generator", "worker", "--broker", broker),
                    *("--concurrency", str(concurrency), "--ledger", ledger, *extra),
                ],
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_own_group_dying_with_parent,
            )
        self.wait_for(r"ready\.")

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, count: int = 1, seconds: float = ROUND_SECONDS) -> None:
        """Wait until the log matches ``pattern`` ``count`` times (a poll with a deadline)."""
        give_up = time.monotonic() + seconds
        while len(re.findall(pattern, self.text())) < count:
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < give_up, f"no {pattern!r} in the log:\n{self.text()}"
            time.sleep(0.05)  # the poll's interval, within its deadline

    def first_received(self) -> str:
        """Wait for the first job the worker receives; return its id."""
        pattern = r"Task contractgen\.make\[([^\]]+)\] received"
        self.wait_for(pattern)
        return str(re.findall(pattern, self.text())[0])

    def pool(self) -> list[int]:
        """Return the pids of the worker's pool processes (its direct children)."""
        return [pid for pid in descendants(self.proc.pid) if _parent(pid) == self.proc.pid]

    def stop(self) -> None:
        """Stop it (SIGTERM: a warm shutdown) and check nothing it started is left."""
        family = list(descendants(self.proc.pid))
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the worker did not stop:\n{self.text()}") from None
        give_up = time.monotonic() + 30
        while alive(family):
            assert time.monotonic() < give_up, {p: descendants(p) for p in alive(family)}
            time.sleep(0.05)  # the poll's interval, within its deadline


def _own_group_dying_with_parent() -> None:
    """In a worker's child: a process group of its own (as a machine's), killed with the test."""
    os.setpgid(0, 0)
    die_with_parent()


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])


def _wait_running(url: str, job: str, delivery: int, worker: Worker) -> None:
    """Wait until a job's ``delivery``-th run has begun: the task counts it in Redis first.

    Each run adds a token of its own to the set ``contractgen:attempts:<id>``.
    """
    counts = redis.Redis.from_url(url)
    try:
        give_up = time.monotonic() + ROUND_SECONDS
        while counts.scard(f"contractgen:attempts:{job}") < delivery:
            assert time.monotonic() < give_up, worker.text()
            time.sleep(0.01)  # the poll's interval, within its deadline
    finally:
        counts.close()


def _batch(broker: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    """Start ``batch --broker`` (killed with the test process, should the test fail first)."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "generator", "batch", str(SAMPLES / "batch.xlsx")),
            *("-o", str(out), "--broker", broker, "--issue", *extra),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,
    )


def _stderr_until(proc: subprocess.Popen[str], pattern: str) -> str:
    """Read a process's stderr until ``pattern`` appears (a poll with a deadline); return it."""
    assert proc.stderr is not None
    fd, got = proc.stderr.fileno(), b""
    give_up = time.monotonic() + ROUND_SECONDS
    while not re.search(pattern, got.decode("utf-8", errors="replace")):
        assert time.monotonic() < give_up, got.decode("utf-8", errors="replace")
        if select.select([fd], [], [], 1.0)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"the batch ended first:\n{got.decode('utf-8', errors='replace')}"
            got += chunk
    return got.decode("utf-8", errors="replace")


def _versions(ledger: str) -> dict[str, list[int]]:
    listed = run_cli("ledger", "list", "--ledger", ledger, "--json")
    assert listed.returncode == 0, listed.stderr
    found: dict[str, list[int]] = {}
    for row in json.loads(listed.stdout):
        found.setdefault(row["contract_no"], []).append(row["version"])
    return found


def _whole(out: Path) -> None:
    """Assert every set folder is whole (every file its manifest names) and no staging is left."""
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    for number in NUMBERS:
        manifest = json.loads((out / number / "manifest.json").read_text(encoding="utf-8"))
        for doc in manifest["documents"]:
            for kind in ("docx", "pdf"):
                assert (out / number / doc[kind]["file"]).is_file()


@pytest.mark.slow  # in the slow step of CI: the main suite stays under 15 minutes
def test_a_round_through_the_queue_is_the_local_round(broker: RedisServer, tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    worker = Worker(tmp_path, broker.url, ledger, concurrency=2)
    try:
        sent = _batch(broker.url, tmp_path / "queued")
        _, err = sent.communicate(timeout=ROUND_SECONDS)
        assert sent.returncode == 0, err
        assert "[5/5]" in err
    finally:
        worker.stop()
    local = run_cli("batch", SAMPLES / "batch.xlsx", "-o", tmp_path / "local", "--no-ledger")
    assert local.returncode == 0, local.stderr
    queued = json.loads((tmp_path / "queued" / "batch-report.json").read_text(encoding="utf-8"))
    here = json.loads((tmp_path / "local" / "batch-report.json").read_text(encoding="utf-8"))
    assert [(r["where"], r["contract_no"], r["status"]) for r in queued["rows"]] == [
        (r["where"], r["contract_no"], r["status"]) for r in here["rows"]
    ]
    for number in NUMBERS:
        a, b = tmp_path / "queued" / number, tmp_path / "local" / number
        assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
        for path in a.iterdir():
            assert path.read_bytes() == (b / path.name).read_bytes(), path
    # the workers recorded what they issued, the report says so
    assert _versions(ledger) == {number: [1] for number in NUMBERS}
    assert all("第 1 版已登记" in r["ledger"] for r in queued["rows"])
    # sent again: everything is up to date, nothing is sent
    again = _batch(broker.url, tmp_path / "queued")
    _, err = again.communicate(timeout=ROUND_SECONDS)
    assert again.returncode == 0 and "跳过（已是最新） 5" in err


@pytest.mark.slow
def test_a_worker_killed_mid_job_has_its_job_redelivered_and_made_once(
    broker: RedisServer, tmp_path: Path
) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    worker = Worker(tmp_path, broker.url, ledger, concurrency=1)
    try:
        sent = _batch(broker.url, tmp_path / "out")
        job = worker.first_received()
        _wait_running(broker.url, job, 1, worker)
        (pool,) = worker.pool()
        os.kill(pool, signal.SIGKILL)  # the process and, with it, its office
        _, err = sent.communicate(timeout=ROUND_SECONDS)
        assert sent.returncode == 0, err
        log = worker.text()
    finally:
        worker.stop()
    assert f"pid:{pool} exited with 'signal 9 (SIGKILL)'" in log, log
    assert "'attempt': 2" in log  # the killed job, delivered again
    assert not alive([pool])
    _whole(tmp_path / "out")
    # made once: one version per contract, whatever was made twice
    assert _versions(ledger) == {number: [1] for number in NUMBERS}


@pytest.mark.slow
def test_a_job_that_kills_its_worker_every_time_fails_after_bounded_tries(
    broker: RedisServer, tmp_path: Path
) -> None:
    from generator.queue import ATTEMPTS_MAX

    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    worker = Worker(tmp_path, broker.url, ledger, concurrency=1)
    try:
        sent = _batch(broker.url, tmp_path / "out")
        # the first job is the poison: whenever it runs, its process is killed (as an
        # out-of-memory killer would), and it is delivered again, up to the bound. It runs
        # once its delivery is counted in Redis: that is when it is killed.
        poison = worker.first_received()
        for kill in range(ATTEMPTS_MAX):
            _wait_running(broker.url, poison, kill + 1, worker)
            (pool,) = worker.pool()
            os.kill(pool, signal.SIGKILL)
            worker.wait_for(rf"pid:{pool} exited with 'signal 9")
        _, err = sent.communicate(timeout=ROUND_SECONDS)
    finally:
        worker.stop()
    assert sent.returncode == 1
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8"))
    statuses = {r["contract_no"]: r["status"] for r in report["rows"]}
    poisoned = [r for r in report["rows"] if r["status"] == "failed"]
    assert len(poisoned) == 1 and poisoned[0]["errors"][0]["code"] == "job.poison"
    assert list(statuses.values()).count("made") == 4
    assert f"'attempt': {ATTEMPTS_MAX + 1}" in worker.text()
    assert "[job.poison]" in err


@pytest.mark.slow
def test_sigterm_to_a_round_sent_to_a_broker_writes_its_report_and_exits_130(
    broker: RedisServer, tmp_path: Path
) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    worker = Worker(tmp_path, broker.url, ledger, concurrency=1)
    try:
        sent = _batch(broker.url, tmp_path / "out")
        head = _stderr_until(sent, r"\[1/5\]")  # one outcome in: the round is under way
        sent.send_signal(signal.SIGTERM)
        _, rest = sent.communicate(timeout=ROUND_SECONDS)
    finally:
        worker.stop()
    assert sent.returncode == 130, head + rest
    assert "已中断" in rest, rest
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8"))
    statuses = [r["status"] for r in report["rows"]]
    assert "made" in statuses and len(statuses) == 5, statuses
    assert "interrupted" in statuses, statuses
    assert set(statuses) <= {"made", "interrupted"}, statuses
    _no_staging(tmp_path / "out")


def _no_staging(out: Path) -> None:
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_a_broker_that_cannot_be_reached_is_a_clear_error_before_anything_is_written(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path)
    url = server.url
    server.kill()
    out = tmp_path / "out"
    batch = run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--broker", url)
    assert batch.returncode == 1
    assert "无法连接消息代理" in batch.stderr and "[queue.unreachable]" in batch.stderr
    assert not out.exists()
    worker = run_cli("worker", "--broker", url, "--no-ledger", timeout=120)
    assert worker.returncode == 1 and "[queue.unreachable]" in worker.stderr
    secret = url.replace("redis://", "redis://:hunter2@")
    shown = run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--broker", secret)
    assert "hunter2" not in shown.stderr and "***" in shown.stderr
    usage = run_cli("batch", SAMPLES / "batch.xlsx", "-o", out, "--broker", url, "--workers", "2")
    assert usage.returncode == 2 and "--workers" in usage.stderr
