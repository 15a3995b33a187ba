"""What the ledger costs: a batch with and without recording, and a verification's lookup.

Measured in the same run, rounds alternating so a noisy stretch of the shared
machine hits every configuration:
- `contractgen batch` (DOCX + PDF + bundle) with `--no-ledger` (the baseline),
  with the embedded SQLite ledger, and with a PostgreSQL ledger on a server
  this benchmark starts (as the tests do); target: recording adds under 5%;
- `Ledger.attest` of a file's SHA-256 (what `verify` runs: the index, then the
  signed events of its number and the newest) in a ledger holding `--recorded`
  sets, both backends: it answers in milliseconds.

    .venv/bin/python benchmarks/bench_ledger.py [--contracts 60] [--repeat 3] [--recorded 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, contracts, median, write_jsonl
from generator import parse
from generator.ledger import Ledger
from generator.ledger.keys import KEY_ENVIRONMENT, new_key
from generator.pipeline import render_docx
from tests.databases import postgres_server


def batch_seconds(source: Path, out: Path, workers: int, ledger: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    command = [sys.executable, "-m", "generator", "batch", str(source), "-o", str(out)]
    subprocess.run(
        [*command, "--workers", str(workers), *ledger],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def fresh_postgres_db(server: str, name: str) -> str:
    import sqlalchemy

    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def lookup_ms(url: str, recorded: int) -> tuple[float, float]:
    """Record ``recorded`` DOCX sets, then time finds of their files; return (median, p95) ms."""
    items = contracts(recorded)
    digests = []
    with Ledger(url) as ledger:
        for data in items:
            contract_set = render_docx(parse(data))
            ledger.record(contract_set, actor="bench")
            digests.append(hashlib.sha256(contract_set.documents[0].docx).hexdigest())
        sample = random.Random(7).sample(digests, min(200, len(digests)))
        times = []
        for digest in sample:
            start = time.perf_counter()
            found = ledger.attest(digest).matches  # what verify runs: the signed events too
            times.append((time.perf_counter() - start) * 1000)
            assert found, digest
    times.sort()
    return median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--recorded", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    if not os.environ.get(KEY_ENVIRONMENT):
        # recording signs every event: a key of this run's, which the batches inherit
        new_key(work / "ledger-key.pem")
        os.environ[KEY_ENVIRONMENT] = str(work / "ledger-key.pem")
    runs: dict[str, list[float]] = {"none": [], "sqlite": [], "postgresql": []}
    try:
        with postgres_server() as server:
            source = write_jsonl(work / "round.jsonl", contracts(args.contracts))
            for round_no in range(args.repeat):
                sqlite = f"sqlite:///{work / f'round{round_no}.sqlite3'}"
                postgres = fresh_postgres_db(server, f"round{round_no}")
                for name, ledger in (
                    ("none", ["--no-ledger"]),
                    ("sqlite", ["--ledger", sqlite]),
                    ("postgresql", ["--ledger", postgres]),
                ):
                    runs[name].append(batch_seconds(source, work / "out", args.workers, ledger))
            lookups = {
                "sqlite": lookup_ms(f"sqlite:///{work / 'lookup.sqlite3'}", args.recorded),
                "postgresql": lookup_ms(fresh_postgres_db(server, "lookup"), args.recorded),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = median(runs["none"])
    print(f"Ledger: batch of {args.contracts} contracts (DOCX+PDF+bundle), {args.workers} workers,")
    print(f"  medians of {args.repeat} rounds, configurations alternating")
    print(f"  no ledger (baseline)        {base:7.2f} s")
    for name in ("sqlite", "postgresql"):
        seconds = median(runs[name])
        print(
            f"  {name:<11} ledger          {seconds:7.2f} s  {seconds / base - 1:+7.1%}"
            "   target < +5%"
        )
        # Each round against the baseline of the same round: the noise of the machine shows.
        rounds = ", ".join(
            f"{r / b - 1:+.1%}" for r, b in zip(runs[name], runs["none"], strict=True)
        )
        print(f"    per round                   {rounds}")
    print(f"Verification lookup by SHA-256 among {args.recorded} recorded sets (200 lookups):")
    for name, (mid, p95) in lookups.items():
        print(f"  {name:<11} median {mid:6.2f} ms   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
