"""DOCX-only generation of a batch: contractgen's batch path against plain docxtpl.

Target (issue 3): at least 100 documents per second on this 2-core machine.
The baseline is plain docxtpl as usually written — the template reloaded from
disk for every render — run with the same number of processes, in the same
run. Prints medians of several repeats.

    .venv/bin/python benchmarks/bench_docx.py [--contracts 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import contracts, median, timed, write_jsonl
from generator import default_kind
from generator.batch import Options, run_batch
from generator.kinds import parse

#: the built-in kind's documents and the folder of their templates
KINDS = default_kind().keys
TEMPLATE_DIR = default_kind().folder


def _plain_docxtpl(data: dict[str, Any], out_dir: str) -> None:
    import jinja2
    from docxtpl import DocxTemplate

    contract = parse(data)
    context = contract.kind.context(contract)
    for kind in KINDS:
        template = DocxTemplate(TEMPLATE_DIR / f"{kind}.docx")
        template.render(context, jinja2.Environment(autoescape=True), autoescape=True)
        buffer = io.BytesIO()
        template.save(buffer)
        Path(out_dir, f"{data['contract_no']}_{kind}.docx").write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    items = contracts(args.contracts)
    documents = args.contracts * len(KINDS)
    work = Path(tempfile.mkdtemp(prefix="bench-docx-"))
    try:
        source = write_jsonl(work / "batch.jsonl", items)

        def ours() -> None:
            out = work / "ours"
            shutil.rmtree(out, ignore_errors=True)
            summary = run_batch(
                source, out, Options(formats=("docx",), workers=args.workers), io.StringIO()
            )
            assert summary.counts["made"] == args.contracts, summary.counts

        def baseline() -> None:
            out = work / "plain"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            with ProcessPoolExecutor(args.workers) as pool:
                list(pool.map(_plain_docxtpl, items, [str(out)] * len(items)))

        ours_s = median(timed(ours, args.repeat))
        base_s = median(timed(baseline, args.repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate, base = documents / ours_s, documents / base_s
    print(f"DOCX: {args.contracts} contracts, {documents} documents, {args.workers} workers")
    print(f"  contractgen batch --format docx  {ours_s:6.2f} s  {rate:7.1f} documents/s")
    print(f"  plain docxtpl, reload per render {base_s:6.2f} s  {base:7.1f} documents/s")
    print(f"  medians of {args.repeat}; ratio {base_s / ours_s:.1f}x; target >= 100 documents/s")


if __name__ == "__main__":
    main()
