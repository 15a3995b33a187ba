"""The office's CPU for a joined set: its idle work for a typing user off, against on.

Profiled with ``perf record --call-graph dwarf`` on soffice.bin, a warm office
converting joined sets spent about 7% of its CPU collecting the words it laid out
for word completion, and twice about 6% counting the document's words: once for
its status bar while loading, once as an idle job for the statistics. The bridge
now turns completion's collecting off and the status bar off in the office's
private profile, and locks the document's controllers from loading to the export
(``generator/office/_uno_worker.py``). The baseline is the bridge as it was
(``--before``, a git revision, the file read with ``git show``); the same joined
sets of varied contracts go through one office of each, the two taking turns set
by set. The CPU seconds of each office's processes (from /proc) are counted, and
what every page draws and the bookmarks must be the same both ways. The bridge's
own CPU is counted apart: it now asks the office for the sections' marks once a set
rather than at every look, and reuses one search for the page totals.

    .venv/bin/python benchmarks/bench_idle.py [--contracts 30] [--repeat 3] [--before 7288bfd]
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generator.office.worker as worker_module
from benchmarks.bench_punctuation import drawn, office_cpu
from benchmarks.common import ROOT, contracts, cpu_seconds, median
from generator.docx.join import join
from generator.kinds import parse
from generator.office import ConverterPool
from generator.office.processes import descendants
from generator.pdf.document import open_pdf
from generator.pipeline import render_docx

#: the last commit whose bridge left the office's idle work on
BEFORE = "7288bfd"


def bookmarks(pdf: bytes) -> list[str]:
    """Return the titles of a PDF's bookmarks, depth first."""
    titles: list[str] = []
    with open_pdf(pdf) as doc, doc.open_outline() as outline:
        stack = list(reversed(outline.root))
        while stack:
            item = stack.pop()
            titles.append(item.title)
            stack.extend(reversed(item.children))
    return titles


def bridge_cpu(pool: ConverterPool) -> float:
    """Return the CPU seconds the pool's UNO bridges (and their keepers) have used."""
    pids = []
    for worker in pool._workers:
        if worker.bridge is not None:
            pids += [worker.bridge.pid, *descendants(worker.bridge.pid)]
    return cpu_seconds(pids)


def started_with(bridge: Path, pool: ConverterPool, docx: bytes, sections: list) -> None:
    """Start the pool's office with ``bridge`` as its UNO bridge (its first conversion)."""
    kept = worker_module.BRIDGE_SCRIPT
    worker_module.BRIDGE_SCRIPT = bridge  # read by Worker.start, once per office
    try:
        pool.convert_sections(docx, sections, hanging_off=True)
    finally:
        worker_module.BRIDGE_SCRIPT = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", default=BEFORE, help="the git revision of the baseline")
    args = parser.parse_args()
    jobs = []
    for data in contracts(args.contracts):
        joined = join([doc.docx for doc in render_docx(parse(data)).documents])
        assert joined is not None and joined.hanging_off
        jobs.append((joined.docx, [dataclasses.asdict(section) for section in joined.sections]))
    with tempfile.TemporaryDirectory() as tmp:
        old_bridge = Path(tmp) / "_uno_worker.py"
        old_bridge.write_bytes(
            subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{args.before}:generator/office/_uno_worker.py"],
                check=True,
                capture_output=True,
            ).stdout
        )
        ways = {"idle work off": worker_module.BRIDGE_SCRIPT, "idle work on": old_bridge}
        cpu: dict[str, list[float]] = {way: [] for way in ways}
        bridges: dict[str, list[float]] = {way: [] for way in ways}
        pools = {way: ConverterPool(1, recycle_after=None) for way in ways}
        try:
            for way, bridge in ways.items():
                started_with(bridge, pools[way], *jobs[0])  # started, warm
            for _ in range(args.repeat):
                spent = dict.fromkeys(ways, 0.0)
                bridged = dict.fromkeys(ways, 0.0)
                for docx, sections in jobs:
                    made = {}
                    for way, pool in pools.items():
                        before, before_bridge = office_cpu(pool), bridge_cpu(pool)
                        pdf, _ = pool.convert_sections(docx, sections, hanging_off=True)
                        spent[way] += office_cpu(pool) - before
                        bridged[way] += bridge_cpu(pool) - before_bridge
                        made[way] = (drawn(pdf), bookmarks(pdf))
                    assert made["idle work off"] == made["idle work on"], "the pages differ"
                for way in ways:
                    cpu[way].append(spent[way] / len(jobs))
                    bridges[way].append(bridged[way] / len(jobs))
        finally:
            for pool in pools.values():
                pool.close()
    new, old = median(cpu["idle work off"]), median(cpu["idle work on"])
    print(f"The office's CPU a joined set, {args.contracts} contracts, medians of {args.repeat}")
    for label, figure, way in (
        ("idle work off (this tree)", new, "idle work off"),
        (f"idle work on ({args.before})", old, "idle work on"),
    ):
        print(f"  {label:<28} {figure:.3f} CPU-s  rounds {fmt(cpu[way])}")
    print(f"  ratio {new / old:.2f}; every page and bookmark the same both ways")
    new, old = median(bridges["idle work off"]), median(bridges["idle work on"])
    print("The UNO bridge's CPU a joined set (Debian's python3 and pyuno)")
    for label, figure, way in (
        ("this tree", new, "idle work off"),
        (args.before, old, "idle work on"),
    ):
        print(f"  {label:<28} {figure:.3f} CPU-s  rounds {fmt(bridges[way])}")
    print(f"  ratio {new / old:.2f}")


def fmt(values: list[float]) -> str:
    """Return round figures as text."""
    return ", ".join(f"{value:.3f}" for value in values)


if __name__ == "__main__":
    main()
