"""A procurement round: `contractgen batch` over many contracts, DOCX + PDF + bundle.

Target (issue 5): a page rate within 15% of the PDF pool's own page rate (the
batch machinery adds almost nothing), and peak memory under 1.5 GiB for all
processes, LibreOffice included (PSS, sampled every 0.1 s). Measured in the
same run:
- the batch, as a subprocess, with its peak memory;
- the PDF pool's own rate (the reference for the target): the same contracts,
  the same work per contract (DOCX, the set converted, split, finished,
  sealable, bundled) in one process per core with its own office, in memory,
  offices started before the clock: everything but the batch machinery (input
  file, validation, files, report, progress, resume);
- LibreOffice alone converting the joined sets, for context: the rest of the
  gap is the PDF post-processing in Python;
- the baseline: one `contractgen render` process per contract, on a subset.

    .venv/bin/python benchmarks/bench_batch.py [--contracts 500] [--repeat 3] [--baseline 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    ROOT,
    PeakMemory,
    contracts,
    convert_rate,
    median,
    pdf_pages,
    pipeline_rate,
    write_jsonl,
)


def run_batch_process(cli: list[str], source: Path, out: Path, workers: int) -> tuple[float, float]:
    """Run `contractgen batch` as a subprocess; return its seconds and peak memory in MiB."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(
        [*cli, "batch", str(source), "-o", str(out), "--workers", str(workers), "--no-ledger"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with PeakMemory(process.pid) as memory:
        process.wait()
    seconds = time.perf_counter() - start
    assert process.returncode == 0, process.returncode
    return seconds, memory.peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=500)
    parser.add_argument("--baseline", type=int, default=10, help="contracts rendered one by one")
    parser.add_argument("--office-sample", type=int, default=60, help="sets for LibreOffice alone")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of batch and PDF pool")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    items = contracts(args.contracts)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    cli = [sys.executable, "-m", "generator"]
    batch_rates, pool_rates, peaks, seconds = [], [], [], []
    try:
        source = write_jsonl(work / "round.jsonl", items)
        out = work / "out"
        # Alternating, so that a noisy stretch of the shared machine hits both.
        for _ in range(args.repeat):
            batch_s, peak = run_batch_process(cli, source, out, args.workers)
            pages = pdf_pages(out)
            seconds.append(batch_s)
            batch_rates.append(pages / batch_s)
            peaks.append(peak)
            pool_rates.append(pipeline_rate(items, args.workers))
        office_rate = convert_rate(items[: args.office_sample], args.workers)

        single = work / "single"
        single.mkdir()
        files = []
        for data in items[: args.baseline]:
            path = single / f"{data['contract_no']}.json"
            path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
            files.append(path)
        base_start = time.perf_counter()
        for path in files:
            subprocess.run(
                [*cli, "render", str(path), "-o", str(single / "out"), "--no-ledger"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        base_s = time.perf_counter() - base_start
    finally:
        shutil.rmtree(work, ignore_errors=True)

    batch_s = median(seconds)
    per_minute = args.contracts / batch_s * 60
    base_per_minute = args.baseline / base_s * 60
    batch_rate, pool_rate = median(batch_rates), median(pool_rates)
    rounds = ", ".join(f"{b / p:.2f}" for b, p in zip(batch_rates, pool_rates, strict=True))
    print(f"Batch: {args.contracts} contracts, {pages} PDF pages, {args.workers} workers")
    print(f"  medians of {args.repeat} rounds, batch and PDF pool alternating")
    print(
        f"  contractgen batch (DOCX+PDF+bundle) {batch_s:7.1f} s  {per_minute:6.1f} contracts/min"
    )
    print(f"  batch page rate                     {batch_rate:7.1f} pages/s")
    print(f"  peak memory, all processes (PSS)    {max(peaks):7.0f} MiB   target < 1536 MiB")
    print(f"  PDF pool, in memory, same contracts {pool_rate:7.1f} pages/s")
    print(f"  batch / PDF pool page rate          {batch_rate / pool_rate:7.2f}   target >= 0.85")
    print(f"    per round                         {rounds}")
    print(f"  LibreOffice alone ({args.office_sample} joined sets)   {office_rate:6.1f} pages/s")
    print(f"  batch / LibreOffice alone           {batch_rate / office_rate:7.2f}")
    print(f"  one render per contract ({args.baseline})  {base_per_minute:6.1f} contracts/min")
    print(f"  ratio batch / one-by-one            {per_minute / base_per_minute:7.1f}x")


if __name__ == "__main__":
    main()
