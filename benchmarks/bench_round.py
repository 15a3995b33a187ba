"""A small round against a large one: `contractgen batch` of 20 contracts and of 100.

Target (issue 25): a round of 20 at >= 0.8 of the pages per second of a round of 100.
A round pays fixed costs (the command's start and imports, two offices started while
the rows are read and validated, the last sets finishing one office before the other)
that a large round spreads over more sets. Both are the command as a clerk runs it,
drafts (`--no-ledger`), PDF and DOCX, two workers; the rounds take turns, so that a
noisy stretch of the shared machine hits both; medians are printed, with the time
to the first set made.

    .venv/bin/python benchmarks/bench_round.py [--small 20] [--large 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, contracts, median, pdf_pages, write_jsonl

_FIRST = re.compile(r"^\[1/\d+\] ")


def run_round(source: Path, out: Path) -> tuple[float, float, int]:
    """Run the batch; return its seconds, the seconds to its first set, and its PDF pages."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "generator", "batch", str(source), "-o", str(out)]
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--no-ledger", "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = None
    for line in process.stderr:
        if first is None and _FIRST.match(line):
            first = time.perf_counter() - start
    seconds = time.perf_counter() - start
    if process.wait():
        raise SystemExit(f"the batch of {source.name} failed")
    assert first is not None
    return seconds, first, pdf_pages(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-round-"))
    rates: dict[int, list[float]] = {args.small: [], args.large: []}
    firsts: dict[int, list[float]] = {args.small: [], args.large: []}
    seconds: dict[int, list[float]] = {args.small: [], args.large: []}
    try:
        sources = {n: write_jsonl(work / f"round{n}.jsonl", contracts(n)) for n in rates}
        for _ in range(args.repeat):
            for n, source in sources.items():
                took, first, pages = run_round(source, work / "out")
                rates[n].append(pages / took)
                firsts[n].append(first)
                seconds[n].append(took)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"Rounds of {args.small} and {args.large} contracts, medians of {args.repeat}")
    for n in rates:
        print(
            f"  {n:4d} contracts  {median(rates[n]):6.1f} pages/s  {median(seconds[n]):6.1f} s"
            f"  first set after {median(firsts[n]):.2f} s"
        )
    pairs = ", ".join(
        f"{a / b:.2f}" for a, b in zip(rates[args.small], rates[args.large], strict=True)
    )
    ratio = median(rates[args.small]) / median(rates[args.large])
    print(f"  {args.small} / {args.large}: {ratio:.2f}  target >= 0.80 (rounds {pairs})")


if __name__ == "__main__":
    main()
