"""DOCX-only generation of a batch: contractgen's batch path against plain docxtpl.

Targets: at least 100 documents per second on this 2-core machine (issue 3), and
``contractgen batch --format docx`` at 500 documents per second end to end with the
ledger on (issue 25): the command as a clerk runs it, a process started for it, the
sets issued into the office's SQLite ledger (there before the round, empty; each set's
files flushed, its record signed and committed). The baseline is plain docxtpl as
usually written — the template reloaded from disk for every render — run with the same
number of processes, in the same run.
The measures take turns, round by round; medians of the rounds are printed.

    .venv/bin/python benchmarks/bench_docx.py [--contracts 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import contracts, median, timed, write_jsonl
from generator import default_kind
from generator.batch import Options, run_batch
from generator.kinds import parse
from generator.ledger import Ledger

#: the built-in kind's documents and the folder of their templates
KINDS = default_kind().keys
TEMPLATE_DIR = default_kind().folder


def _plain_docxtpl(data: dict[str, Any], out_dir: str) -> None:
    import jinja2
    from docxtpl import DocxTemplate

    from generator.docx.layout import FILTERS as LAYOUT_FILTERS
    from generator.domain.filters import FILTERS

    contract = parse(data)
    context = contract.kind.context(contract)
    for kind in KINDS:
        template = DocxTemplate(TEMPLATE_DIR / f"{kind}.docx")
        env = jinja2.Environment(autoescape=True)
        env.filters.update(FILTERS, **LAYOUT_FILTERS)  # what the templates use
        template.render(context, env, autoescape=True)
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

        key = work / "ledger-key.pem"
        subprocess.run(
            [sys.executable, "-m", "generator", "ledger", "key", "new", str(key)],
            check=True,
            capture_output=True,
        )

        # An office's ledger exists before its round: an empty one, migrated before the clock.
        empty = work / "empty-ledger.db"
        Ledger(f"sqlite:///{empty}").close()

        def command(issue: bool) -> float:
            out, ledger = work / "cli", work / "ledger.db"
            shutil.rmtree(out, ignore_errors=True)
            for stale in (ledger, Path(f"{ledger}-wal"), Path(f"{ledger}-shm")):
                stale.unlink(missing_ok=True)  # the last round's log would not fit the copy
            shutil.copyfile(empty, ledger)
            how = ["--issue", "--ledger", f"sqlite:///{ledger}"] if issue else ["--no-ledger"]
            started = time.perf_counter()
            cli = [sys.executable, "-m", "generator", "--ledger-key", str(key), "batch"]
            cli += [str(source), "-o", str(out), "--format", "docx"]
            done = subprocess.run(
                [*cli, "--workers", str(args.workers), *how], capture_output=True, text=True
            )
            if done.returncode:
                raise SystemExit(done.stderr[-3000:])
            return time.perf_counter() - started

        def baseline() -> None:
            out = work / "plain"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            with ProcessPoolExecutor(args.workers) as pool:
                list(pool.map(_plain_docxtpl, items, [str(out)] * len(items)))

        rounds: dict[str, list[float]] = {"ours": [], "issued": [], "drafts": [], "base": []}
        for _ in range(args.repeat):
            rounds["ours"] += timed(ours, 1)
            rounds["issued"].append(command(issue=True))
            rounds["drafts"].append(command(issue=False))
            rounds["base"] += timed(baseline, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours_s, base_s = median(rounds["ours"]), median(rounds["base"])
    issued_s, drafts_s = median(rounds["issued"]), median(rounds["drafts"])
    print(f"DOCX: {args.contracts} contracts, {documents} documents, {args.workers} workers")
    for what, seconds in (
        ("run_batch in-process            ", ours_s),
        ("contractgen batch, issued       ", issued_s),
        ("contractgen batch, drafts       ", drafts_s),
        ("plain docxtpl, reload per render", base_s),
    ):
        print(f"  {what} {seconds:6.2f} s  {documents / seconds:7.1f} documents/s")
    print(
        f"  medians of {args.repeat}; in-process {base_s / ours_s:.1f}x the baseline, the"
        f" command issuing {base_s / issued_s:.1f}x; targets >= 100 documents/s in-process,"
        " >= 500 documents/s issued"
    )


if __name__ == "__main__":
    main()
