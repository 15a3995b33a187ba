"""Pages per second through Redis and two workers, against the in-process batch, and a lost worker.

Measured in the same run, on the same JSON-lines round of varied contracts, the
two taking turns ``--repeat`` times (medians printed):
- the baseline: ``contractgen batch --workers 2`` in-process (two processes, each
  with its own office, started inside the timing as a batch starts them);
- ``contractgen batch --broker`` to two ``contractgen worker --concurrency 1`` (one
  process and one office each, as two machines would be), through a Redis started
  here on 127.0.0.1 (no persistence); the workers are started, and their offices
  warmed by one contract each, before the clock;
- the ratio of the two rates (target ≥ 0.9);
- then ``--kills`` times: a worker's whole process group killed (SIGKILL) while its
  job runs, and the time until that job runs again on the other worker (its second
  run counted in Redis): the keeper's bound is 18 s (15 s without a beat, and a
  beat's 3 s).

    .venv/bin/python benchmarks/bench_queue.py [--contracts 20] [--repeat 3] [--kills 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, contracts, median, pdf_pages, write_jsonl
from tests.brokers import RedisServer

CLI = [sys.executable, "-m", "generator"]
#: the longest a round or a worker's start may take on a loaded machine
DEADLINE = 900.0


def batch(source: Path, out: Path, *extra: str, wait: bool = True) -> subprocess.Popen[str]:
    """Start one batch into a fresh folder (no ledger); with ``wait``, wait for it."""
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.Popen(
        [*CLI, "batch", str(source), "-o", str(out), "--no-ledger", *extra],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        finished(proc)
    return proc


def finished(proc: subprocess.Popen[str]) -> None:
    """Wait for a batch; fail unless it made every row."""
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0, err[-2000:]


def timed(source: Path, out: Path, *extra: str) -> tuple[float, int]:
    """Run one batch; return its seconds and the PDF pages it made."""
    start = time.perf_counter()
    batch(source, out, *extra)
    return time.perf_counter() - start, pdf_pages(out)


class Worker:
    """``contractgen worker --concurrency 1`` in a process group of its own (a machine's)."""

    def __init__(self, broker: str, log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*CLI, "worker", "--broker", broker, "--concurrency", "1", "--no-ledger"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for(r"ready\.")

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str) -> None:
        """Wait until the log matches (a poll with a deadline)."""
        give_up = time.monotonic() + DEADLINE
        while not re.search(pattern, self.text()):
            assert self.proc.poll() is None and time.monotonic() < give_up, self.text()
            time.sleep(0.05)  # the poll's interval, within its deadline

    def received(self) -> list[str]:
        return re.findall(r"Task contractgen\.make\[([^\]]+)\] received", self.text())

    def kill(self) -> None:
        """Kill the whole process group at once: the main process, its pool, its office."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.kill()


def _runs(client: redis.Redis, job: str) -> int:
    """Return how many runs of a job have begun (each counts itself in Redis first)."""
    return int(client.scard(f"contractgen:attempts:{job}"))


def lost_worker(server: RedisServer, folder: Path, source: Path, workers: list[Worker]) -> float:
    """Kill the process group of the worker running a job; return when it runs again (s)."""
    client = redis.Redis.from_url(server.url)
    try:
        before = [len(worker.received()) for worker in workers]
        sent = batch(source, folder / "lost", "--broker", server.url, wait=False)
        give_up = time.monotonic() + DEADLINE
        victim, job = None, ""
        while victim is None:  # the first job of this round one of them runs
            for worker, seen in zip(workers, before, strict=True):
                running = [j for j in worker.received()[seen:] if _runs(client, j) >= 1]
                if running:
                    victim, job = worker, running[0]
            assert time.monotonic() < give_up, "no job ran"
            time.sleep(0.01)  # the poll's interval, within its deadline
        victim.kill()
        killed = time.perf_counter()
        while _runs(client, job) < 2:  # running again, on the other worker
            assert time.monotonic() < give_up, "the lost job never ran again"
            time.sleep(0.05)  # the poll's interval, within its deadline
        seconds = time.perf_counter() - killed
        finished(sent)
        workers[workers.index(victim)] = Worker(server.url, victim.log.with_suffix(".again.log"))
        return seconds
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    try:
        source = write_jsonl(folder / "round.jsonl", contracts(args.contracts))
        warm = write_jsonl(folder / "warm.jsonl", contracts(4))
        small = write_jsonl(folder / "small.jsonl", contracts(4))
        server = RedisServer(folder)
        workers = [Worker(server.url, folder / f"worker-{n}.log") for n in (1, 2)]
        local: list[tuple[float, int]] = []
        queued: list[tuple[float, int]] = []
        recovery: list[float] = []
        try:
            batch(warm, folder / "warm", "--broker", server.url)
            for _ in range(args.repeat):  # taking turns: the machine's load falls on both
                local.append(timed(source, folder / "local", "--workers", "2"))
                queued.append(timed(source, folder / "queued", "--broker", server.url))
            for _ in range(args.kills):
                recovery.append(lost_worker(server, folder, small, workers))
        finally:
            for worker in workers:
                worker.stop()
            server.kill()
        report(args, local, queued, recovery)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(
    args: argparse.Namespace,
    local: list[tuple[float, int]],
    queued: list[tuple[float, int]],
    recovery: list[float],
) -> None:
    """Print the table: seconds and pages/s of each, the ratio, the lost worker's times."""
    here, there = [p / s for s, p in local], [p / s for s, p in queued]
    print(f"{args.contracts} contracts (DOCX + PDF + bundle each), {args.repeat} rounds each")
    print(f"taking turns, medians; {local[0][1]} PDF pages a round")
    print(f"{'':46} {'seconds':>8} {'pages/s':>8}")
    for name, runs, rates in (
        ("in-process batch, 2 processes (--workers 2)", local, here),
        ("through Redis, 2 workers of 1 process each", queued, there),
    ):
        print(f"{name:46} {median([s for s, _ in runs]):8.2f} {median(rates):8.1f}")
    shown = ", ".join(f"{q / p:.2f}" for q, p in zip(there, here, strict=True))
    overall = median(there) / median(here)
    print(f"ratio queue / in-process: {overall:.2f} (rounds {shown}); target >= 0.9")
    if recovery:
        times = ", ".join(f"{s:.1f}" for s in recovery)
        print(
            f"a lost worker's job running again on the other: {median(recovery):.1f} s "
            f"median ({times}); bound 18 s after its last beat"
        )


if __name__ == "__main__":
    main()
