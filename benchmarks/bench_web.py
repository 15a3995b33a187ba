"""Measure the web workbench: the form page and live validation, against ``/healthz``.

Usage::

    .venv/bin/python benchmarks/bench_web.py [-n 200]

Starts ``contractgen serve`` (no token; nothing is rendered, so nothing is
recorded) on 127.0.0.1 and times, one
request at a time over one connection, ``GET /healthz`` (the baseline: the
service's cheapest answer), ``GET /`` (the whole form, built from the model)
and ``POST /validate`` with the sample contract's form, a bad postcode in it
(what htmx sends as a person types). Targets: ``/`` under 100 ms and live
validation under 50 ms, as medians.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_service import start_server
from generator.inputs.load import load_data
from generator.web.form import to_values

#: the targets of issue 15 (milliseconds, medians)
TARGETS = {"GET /": 100.0, "POST /validate": 50.0}


def timed(call: Callable[[], httpx.Response], count: int) -> list[float]:
    """Return the milliseconds of ``count`` calls, each checked to answer 200."""
    out = []
    for _ in range(count):
        start = time.perf_counter()
        response = call()
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:300]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="requests per measurement")
    args = parser.parse_args()
    form = to_values(dict(load_data(Path("samples/seed.yaml"))))
    form["buyer.postcode"] = "20007"
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(1, Path(tmp) / "server.log")
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                client.get("/")
                form["csrf"] = client.cookies["contractgen_csrf"]
                calls = {
                    "GET /healthz": lambda: client.get("/healthz"),
                    "GET /": lambda: client.get("/"),
                    "POST /validate": lambda: client.post("/validate", data=form),
                }
                for call in calls.values():  # warm up
                    timed(call, 5)
                figures = {name: timed(call, args.n) for name, call in calls.items()}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
    base = statistics.median(figures["GET /healthz"])
    print(f"{'request':<16}{'median ms':>10}{'p95 ms':>9}{'× healthz':>11}  target")
    for name, times in figures.items():
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        target = TARGETS.get(name)
        verdict = (
            "" if target is None else f"< {target:.0f} ms {'ok' if median < target else 'MISSED'}"
        )
        print(f"{name:<16}{median:>10.1f}{p95:>9.1f}{median / base:>11.1f}  {verdict}")


if __name__ == "__main__":
    main()
