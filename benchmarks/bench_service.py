"""Measure the HTTP service against the command line, one process per contract.

Usage::

    .venv/bin/python benchmarks/bench_service.py [-n 8] [--rounds 3] [--workers 2]
                                                 [--concurrency 1,4]

Starts ``contractgen serve`` on 127.0.0.1 and, at each concurrency, sends ``n``
varied contracts to ``POST /v1/contracts`` (the whole set as a zip) and to
``POST /v1/contracts/service_contract.pdf`` (one PDF); then does the same sets
with ``contractgen render FILE -o DIR``, one process per contract, the same
number at once (drafts both ways: nothing recorded). Each round gives requests per
second (wall clock) and the p50 and p95 latency of its requests; the table shows the
median over the rounds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, contracts, median

JSON_TYPE = {"Content-Type": "application/json"}


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the service and return it with its URL once /healthz answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CONTRACTGEN_TOKEN"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "generator", "serve", "--port", str(port)),
                # No set cache: each request renders, as a new contract would.
                *("--workers", str(workers), "--queue", "64", "--cached-sets", "0"),
                # Drafts are asked for (as `render` makes): no ledger, none of the user's touched.
                "--no-ledger",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not come up")


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(jobs: list[Callable[[], None]], concurrency: int) -> tuple[float, float, float]:
    """Run the jobs ``concurrency`` at a time; return requests/s, p50 and p95 seconds."""

    def timed(job: Callable[[], None]) -> float:
        start = time.perf_counter()
        job()
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(timed, jobs))
    wall = time.perf_counter() - start
    return len(jobs) / wall, percentile(latencies, 0.5), percentile(latencies, 0.95)


def rounds(
    make: Callable[[], list[Callable[[], None]]], concurrency: int, count: int
) -> tuple[float, float, float]:
    """Return the medians over ``count`` rounds of (requests/s, p50, p95)."""
    results = [measure(make(), concurrency) for _ in range(count)]
    return (
        median([r[0] for r in results]),
        median([r[1] for r in results]),
        median([r[2] for r in results]),
    )


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--contracts", type=int, default=8, help="contracts per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measurement")
    parser.add_argument("--workers", type=int, default=2, help="LibreOffice workers of the service")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated levels")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    data = contracts(args.contracts)
    bodies = [json.dumps(item, ensure_ascii=False).encode() for item in data]

    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        files = []
        for n, item in enumerate(data):
            path = folder / f"contract{n}.json"
            path.write_text(json.dumps(item, ensure_ascii=False), encoding="utf-8")
            files.append(path)

        proc, url = start_server(args.workers, folder / "server.log")
        table: list[tuple[str, int, tuple[float, float, float]]] = []
        try:
            with httpx.Client(base_url=url, timeout=600) as client:

                def post(path: str, body: bytes) -> Callable[[], None]:
                    def run() -> None:
                        # drafts, as the command line's render makes: neither records
                        response = client.post(
                            path, params={"issue": "false"}, content=body, headers=JSON_TYPE
                        )
                        if response.status_code != 200:
                            raise SystemExit(f"{path}: {response.status_code} {response.text}")

                    return run

                # Warm up: the offices start on first use.
                post("/v1/contracts", bodies[0])()
                post("/v1/contracts/service_contract.pdf", bodies[0])()
                for level in levels:
                    table.append(
                        (
                            "service: set (zip)",
                            level,
                            rounds(
                                lambda: [post("/v1/contracts", b) for b in bodies],
                                level,
                                args.rounds,
                            ),
                        )
                    )
                for level in levels:
                    table.append(
                        (
                            "service: one PDF",
                            level,
                            rounds(
                                lambda: [
                                    post("/v1/contracts/service_contract.pdf", b) for b in bodies
                                ],
                                level,
                                args.rounds,
                            ),
                        )
                    )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=300)

        def render(path: Path) -> Callable[[], None]:
            def run() -> None:
                out = Path(tempfile.mkdtemp(dir=folder))
                subprocess.run(
                    [sys.executable, "-m", "generator", "render", str(path), "-o", str(out)],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )

            return run

        for level in levels:
            table.append(
                (
                    "CLI: set (process each)",
                    level,
                    rounds(lambda: [render(p) for p in files], level, args.rounds),
                )
            )

    print(
        f"{args.contracts} contracts per round, median of {args.rounds} rounds, "
        f"service with {args.workers} LibreOffice workers, {os.cpu_count()} cores"
    )
    print(f"{'what':<26}{'conc':>5}{'req/s':>9}{'p50 s':>9}{'p95 s':>9}")
    for what, level, (rps, p50, p95) in table:
        print(f"{what:<26}{level:>5}{rps:>9.2f}{p50:>9.2f}{p95:>9.2f}")
    by = {(what, level): rps for what, level, (rps, _, _) in table}
    for level in levels:
        cli = by[("CLI: set (process each)", level)]
        print(
            f"concurrency {level}: service set {by[('service: set (zip)', level)] / cli:.1f}x, "
            f"one PDF {by[('service: one PDF', level)] / cli:.1f}x the CLI's sets per second"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
