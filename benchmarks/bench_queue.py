"""Contracts per second through Celery and Redis, against the in-process batch.

Measured in the same run, each ``--repeat`` times (medians printed), on the same
JSON-lines round of varied contracts:
- the baseline: ``contractgen batch`` in-process, 1 and 2 worker processes
  (each with its own office, started inside the timing as a batch starts them);
- ``contractgen batch --broker`` with one ``contractgen worker`` of 1 process, then
  of 2 processes, through a Redis started here (no persistence); the workers are
  started, and their offices warmed by one contract, before the clock;
- the broker's overhead per job: the queued time minus the in-process time at the
  same concurrency, divided by the contracts. The in-process batch pays its offices'
  start (about 2 s) inside the timing and the warmed workers do not, so the figure
  is the queue's cost net of that start, and can come out negative.

    .venv/bin/python benchmarks/bench_queue.py [--contracts 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, contracts, median, write_jsonl
from tests.brokers import RedisServer

CLI = [sys.executable, "-m", "generator"]


def batch(source: Path, out: Path, *extra: str) -> float:
    """Run one batch into a fresh folder; return its seconds."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(
        [*CLI, "batch", str(source), "-o", str(out), "--no-ledger", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    return seconds


def start_worker(broker: str, concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    """Start a worker and wait (a poll with a deadline) until it is ready."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CLI, "worker", "--broker", broker, "--concurrency", str(concurrency), "--no-ledger"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    give_up = time.monotonic() + 120
    while not re.search(r"ready\.", log.read_text(errors="replace")):
        assert proc.poll() is None and time.monotonic() < give_up, log.read_text()
        time.sleep(0.1)  # the poll's interval, within its deadline
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    try:
        source = write_jsonl(folder / "round.jsonl", contracts(args.contracts))
        warm = write_jsonl(folder / "warm.jsonl", contracts(2))
        redis = RedisServer(folder)
        figures: dict[str, list[float]] = {}
        try:
            for workers in (1, 2):
                figures[f"in-process, {workers} worker(s)"] = [
                    batch(source, folder / "local", "--workers", str(workers))
                    for _ in range(args.repeat)
                ]
            for workers in (1, 2):
                proc = start_worker(redis.url, workers, folder / f"worker-{workers}.log")
                try:
                    batch(warm, folder / "warm", "--broker", redis.url)
                    figures[f"queue, 1 worker of {workers} process(es)"] = [
                        batch(source, folder / "queued", "--broker", redis.url)
                        for _ in range(args.repeat)
                    ]
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=120)
        finally:
            redis.kill()
        count = args.contracts
        base = median(figures["in-process, 1 worker(s)"])
        print(f"{count} contracts (DOCX + PDF + bundle each), {args.repeat} runs, medians")
        print(f"{'':38} {'seconds':>8} {'contracts/s':>12} {'× in-process 1':>15}")
        for name, runs in figures.items():
            seconds = median(runs)
            print(f"{name:38} {seconds:8.2f} {count / seconds:12.2f} {base / seconds:15.2f}")
        for workers in (1, 2):
            queued = median(figures[f"queue, 1 worker of {workers} process(es)"])
            local = median(figures[f"in-process, {workers} worker(s)"])
            per_job = (queued - local) / count * 1000
            print(f"broker overhead per job at {workers} process(es): {per_job:+.0f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
