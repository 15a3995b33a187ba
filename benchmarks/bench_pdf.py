"""PDF generation for a batch: the worker pool against a fresh soffice per file.

Target (issue 4): at least 100 PDF pages per second on this 2-core machine.
Ours is the product path — `contractgen batch --format pdf` (render, convert
through the persistent pool, seal fields, bundle, manifest). The naive way is
one `soffice --convert-to pdf` process per DOCX file, timed on a subset of
the same contracts in the same run (it is ~10x slower, so a subset keeps the
run short); rates are compared, not totals. Also measured in the same run,
alternating with the batch so that a noisy stretch of the shared machine hits
both: LibreOffice alone, the pool converting the same contracts' joined sets
without any post-processing (no splitting, fonts, metadata, seals, bundle,
files): how much of the office's rate the product path keeps.

    .venv/bin/python benchmarks/bench_pdf.py [--contracts 100] [--naive 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import contracts, convert_rate, median, pdf_pages, timed, write_jsonl
from generator.batch import Options, run_batch
from generator.kinds import parse
from generator.office import convert_once
from generator.pipeline import render_docx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100)
    parser.add_argument("--naive", type=int, default=5, help="contracts converted the naive way")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--office-sample", type=int, help="sets for LibreOffice alone (default: all contracts)"
    )
    args = parser.parse_args()
    items = contracts(args.contracts)
    work = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    try:
        source = write_jsonl(work / "batch.jsonl", items)
        out = work / "ours"

        def ours() -> None:
            shutil.rmtree(out, ignore_errors=True)
            options = Options(formats=("pdf",), workers=args.workers)
            summary = run_batch(source, out, options, io.StringIO())
            assert summary.counts["made"] == args.contracts, summary.counts

        sample = items[: args.office_sample or args.contracts]
        ours_times, office_rates = [], []
        for _ in range(args.repeat):
            ours_times += timed(ours, 1)
            office_rates.append(convert_rate(sample, args.workers))
        ours_s, office_rate = median(ours_times), median(office_rates)
        pages = pdf_pages(out)

        naive_dir = work / "naive"
        naive_dir.mkdir()
        files = []
        for data in items[: args.naive]:
            for document in render_docx(parse(data)).documents:
                path = naive_dir / f"{data['contract_no']}_{document.kind}.docx"
                path.write_bytes(document.docx)
                files.append(path)
        naive_pages = args.naive * pages / args.contracts

        def naive() -> None:
            for path in files:
                convert_once(path, naive_dir / "pdf")

        naive_s = median(timed(naive, max(1, args.repeat - 1)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rate, naive_rate = pages / ours_s, naive_pages / naive_s
    print(f"PDF: {args.contracts} contracts, {pages} pages, {args.workers} workers")
    print(
        f"  contractgen batch --format pdf  {ours_s:7.2f} s  {rate:6.1f} pages/s"
        f"  {args.contracts / ours_s:5.2f} contracts/s"
    )
    print(
        f"  fresh soffice per file ({len(files)} files) {naive_s:7.2f} s  {naive_rate:6.1f} pages/s"
        f"  {args.naive / naive_s:5.2f} contracts/s"
    )
    print(
        f"  LibreOffice alone ({len(sample)} joined sets)    {office_rate:6.1f} pages/s"
        f"  (the pool converting, no post-processing)"
    )
    print(f"  medians of {args.repeat} rounds; target >= 100 pages/s")
    print(f"  ratio to a fresh soffice per file   {rate / naive_rate:5.1f}x")
    print(f"  ratio to LibreOffice alone          {rate / office_rate:5.2f}")


if __name__ == "__main__":
    main()
