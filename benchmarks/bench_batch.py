"""A procurement round: `contractgen batch` over many contracts, DOCX + PDF + bundle.

Target (issue 5): contracts per minute within 15% of the PDF pool's own page
rate (the batch machinery adds almost nothing), and peak memory under
1.5 GiB for all processes, LibreOffice included (PSS, sampled every 0.1 s).
Measured in the same run:
- the batch, as a subprocess, with its peak memory;
- the pool's own rate: the same contracts' DOCX converted through a
  ConverterPool with one thread per worker, nothing else;
- the baseline: one `contractgen render` process per contract, on a subset.

    .venv/bin/python benchmarks/bench_batch.py [--contracts 500] [--baseline 10]
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, PeakMemory, contracts, pdf_pages, write_jsonl
from generator.api import render_docx
from generator.convert import ConverterPool
from generator.validate import parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=500)
    parser.add_argument("--baseline", type=int, default=10, help="contracts rendered one by one")
    parser.add_argument("--pool-sample", type=int, default=20, help="contracts for the pool rate")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    items = contracts(args.contracts)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    cli = [sys.executable, "-m", "generator"]
    try:
        source = write_jsonl(work / "round.jsonl", items)
        out = work / "out"
        start = time.perf_counter()
        process = subprocess.Popen(
            [*cli, "batch", str(source), "-o", str(out), "--workers", str(args.workers)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with PeakMemory(process.pid) as memory:
            process.wait()
        batch_s = time.perf_counter() - start
        assert process.returncode == 0, process.returncode
        pages = pdf_pages(out)

        documents = [
            d.docx for data in items[: args.pool_sample] for d in render_docx(parse(data)).documents
        ]
        with ConverterPool(args.workers) as pool:
            pool.convert_bytes(documents[-1])  # start the offices outside the timing
            with ThreadPoolExecutor(args.workers) as threads:
                pool_start = time.perf_counter()
                list(threads.map(pool.convert_bytes, documents))
                pool_s = time.perf_counter() - pool_start
        pool_pages = pages * args.pool_sample / args.contracts

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
                [*cli, "render", str(path), "-o", str(single / "out")],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        base_s = time.perf_counter() - base_start
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per_minute = args.contracts / batch_s * 60
    base_per_minute = args.baseline / base_s * 60
    batch_rate, pool_rate = pages / batch_s, pool_pages / pool_s
    print(f"Batch: {args.contracts} contracts, {pages} PDF pages, {args.workers} workers")
    print(
        f"  contractgen batch (DOCX+PDF+bundle) {batch_s:7.1f} s  {per_minute:6.1f} contracts/min"
    )
    print(f"  batch page rate                     {batch_rate:7.1f} pages/s")
    print(f"  peak memory, all processes (PSS)    {memory.peak_mib:7.0f} MiB   target < 1536 MiB")
    print(f"  pool alone ({args.pool_sample} contracts, convert only)  {pool_rate:6.1f} pages/s")
    print(f"  batch / pool page rate              {batch_rate / pool_rate:7.2f}   target >= 0.85")
    print(f"  one render per contract ({args.baseline})  {base_per_minute:6.1f} contracts/min")
    print(f"  ratio batch / one-by-one            {per_minute / base_per_minute:7.1f}x")


if __name__ == "__main__":
    main()
