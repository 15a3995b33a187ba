"""A procurement round: `contractgen batch` over many contracts, against LibreOffice alone.

Targets (issue 25): the batch (DOCX + PDF + bundle) at >= 0.9 of LibreOffice alone
converting the same sets and >= 0.95 of the PDF pool making them in memory;
`batch --format pdf` at >= 1.3 of two plain `soffice --convert-to pdf`
processes given the same DOCX files; peak memory (PSS, all processes, sampled
every 0.1 s) under 1 GiB. Measured in the same run, the rounds alternating so
that a noisy stretch of the shared machine hits every measure:
- the batch, as a subprocess (`--format all`, then `--format pdf`), its peak
  memory and the CPU seconds of its process tree (offices included);
- the PDF pool's own rate: the same contracts, the same work per contract (DOCX,
  the set converted, split, finished, sealable, bundled) in one process per core
  with its own office, in memory, offices started before the clock: everything
  but the batch machinery (input file, validation, files, report, progress);
- LibreOffice alone converting the joined sets through the pool (offices
  started before the clock): what no change of ours can go below;
- the plainest baseline: the sets' DOCX files (four a set) given to two plain
  `soffice --headless --convert-to pdf` processes, half each, one start each;
- once, one `contractgen render` process per contract, on a subset.

    .venv/bin/python benchmarks/bench_batch.py [--contracts 100] [--repeat 3] [--baseline 10]
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
    docx_files,
    median,
    pdf_pages,
    pipeline_rate,
    plain_office_rate,
    write_jsonl,
)


def run_batch_process(
    cli: list[str], source: Path, out: Path, workers: int, fmt: str
) -> tuple[float, float, float]:
    """Run `contractgen batch` as a subprocess; return its seconds, peak MiB and CPU seconds."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(
        [
            *cli,
            "batch",
            str(source),
            "-o",
            str(out),
            "--workers",
            str(workers),
            "--format",
            fmt,
            "--no-ledger",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with PeakMemory(process.pid) as memory:
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    assert process.returncode == 0, process.returncode
    return seconds, memory.peak_mib, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100)
    parser.add_argument("--baseline", type=int, default=10, help="contracts rendered one by one")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every measure")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    items = contracts(args.contracts)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    cli = [sys.executable, "-m", "generator"]
    rates: dict[str, list[float]] = {
        "batch": [],
        "batch_pdf": [],
        "pool": [],
        "office": [],
        "plain": [],
    }
    cpu: dict[str, list[float]] = {"batch": [], "batch_pdf": [], "plain": []}
    peaks: list[float] = []
    try:
        source = write_jsonl(work / "round.jsonl", items)
        files = docx_files(items, work / "docx")
        out = work / "out"
        pages = 0
        for _ in range(args.repeat):
            for name, fmt in (("batch", "all"), ("batch_pdf", "pdf")):
                seconds, peak, used = run_batch_process(cli, source, out, args.workers, fmt)
                pages = pdf_pages(out)
                rates[name].append(pages / seconds)
                cpu[name].append(used / args.contracts)
                peaks.append(peak)
            rates["pool"].append(pipeline_rate(items, args.workers))
            rates["office"].append(convert_rate(items, args.workers))
            plain_work = work / "plain"
            shutil.rmtree(plain_work, ignore_errors=True)
            rate, used = plain_office_rate(files, args.workers, plain_work)
            rates["plain"].append(rate)
            cpu["plain"].append(used / args.contracts)

        single = work / "single"
        single.mkdir()
        singles = []
        for data in items[: args.baseline]:
            path = single / f"{data['contract_no']}.json"
            path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
            singles.append(path)
        base_start = time.perf_counter()
        for path in singles:
            subprocess.run(
                [*cli, "render", str(path), "-o", str(single / "out"), "--no-ledger"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        base_s = time.perf_counter() - base_start
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rate = {name: median(values) for name, values in rates.items()}

    def rounds(top: str, bottom: str) -> str:
        pairs = zip(rates[top], rates[bottom], strict=True)
        return ", ".join(f"{a / b:.2f}" for a, b in pairs)

    per_minute = rate["batch"] * 60 / (pages / args.contracts)
    base_per_minute = args.baseline / base_s * 60
    print(f"Batch: {args.contracts} contracts, {pages} PDF pages, {args.workers} workers")
    print(f"  medians of {args.repeat} rounds, every measure once a round, in turn")
    print(
        f"  contractgen batch (DOCX+PDF+bundle)  {rate['batch']:7.1f} pages/s"
        f"  {per_minute:6.1f} contracts/min  {median(cpu['batch']):.3f} CPU-s a set"
    )
    print(
        f"  contractgen batch --format pdf       {rate['batch_pdf']:7.1f} pages/s"
        f"  {median(cpu['batch_pdf']):.3f} CPU-s a set"
    )
    print(f"  peak memory, all processes (PSS)     {max(peaks):7.0f} MiB  target < 1024 MiB")
    print(f"  PDF pool, in memory, same contracts  {rate['pool']:7.1f} pages/s")
    print(f"  LibreOffice alone, joined sets       {rate['office']:7.1f} pages/s")
    print(
        f"  {args.workers} plain soffice --convert-to pdf    {rate['plain']:7.1f} pages/s"
        f"  {median(cpu['plain']):.3f} CPU-s a set"
    )
    print(
        f"  batch / LibreOffice alone            {rate['batch'] / rate['office']:7.2f}"
        f"   target >= 0.90 (rounds {rounds('batch', 'office')})"
    )
    print(
        f"  batch / PDF pool                     {rate['batch'] / rate['pool']:7.2f}"
        f"   target >= 0.95 (rounds {rounds('batch', 'pool')})"
    )
    print(
        f"  batch --format pdf / plain soffice   {rate['batch_pdf'] / rate['plain']:7.2f}"
        f"   target >= 1.30 (rounds {rounds('batch_pdf', 'plain')})"
    )
    print(f"  one render per contract ({args.baseline})   {base_per_minute:6.1f} contracts/min")
    print(f"  ratio batch / one-by-one             {per_minute / base_per_minute:7.1f}x")


if __name__ == "__main__":
    main()
