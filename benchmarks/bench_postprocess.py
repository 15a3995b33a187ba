"""CPU cost of the PDF post-processing of one contract set: finish, seal fields, count, bundle.

LibreOffice converts the seed contract's four documents (twice, keeping the
second set: in a batch the office's font counter has moved on, and every
embedded Type 1 font needs its UniqueID renumbered); then the steps
``generator.api.add_pdfs`` runs after conversion are timed, one after the
other in this thread, over ``--repeat`` rounds. Reported: the median CPU
seconds per contract set (this process, plus the pdftotext children it waits
for), and per step. The batch is CPU-bound, so CPU time, not wall time, is
what limits pages per second.

    .venv/bin/python benchmarks/bench_postprocess.py [--repeat 15] [--pdfa]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, median
from generator import pdfdoc, seal
from generator.api import render_docx
from generator.convert import ConverterPool
from generator.load import load_data
from generator.render import KINDS
from generator.validate import parse

_T = TypeVar("_T")


def cpu() -> float:
    """Return the CPU seconds used so far by this process and its waited-for children."""
    own, children = getrusage(RUSAGE_SELF), getrusage(RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def convert(pdfa: bool, keep: Path | None) -> tuple[Any, list[tuple[str, str, bytes]]]:
    """Return the seed contract and its documents as (kind, title, raw LibreOffice PDF)."""
    contract_set = render_docx(parse(load_data(ROOT / "samples" / "seed.yaml")))
    docs = contract_set.documents
    names = [keep / f"{doc.kind}{'.pdfa' if pdfa else ''}.pdf" for doc in docs] if keep else []
    if names and all(name.exists() for name in names):
        pdfs = [name.read_bytes() for name in names]
    else:
        with ConverterPool(1) as pool:
            # The second conversion, as in a batch: an office that has embedded fonts
            # before numbers them on, so every font program needs renumbering.
            for _ in range(2):
                pdfs = [pool.convert_bytes(doc.docx, pdfa=pdfa) for doc in docs]
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            for name, pdf in zip(names, pdfs, strict=True):
                name.write_bytes(pdf)
    raws = [(doc.kind, doc.title, pdf) for doc, pdf in zip(docs, pdfs, strict=True)]
    return contract_set.contract, raws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pdfa", action="store_true", help="convert to PDF/A-2b")
    parser.add_argument(
        "--keep", type=Path, help="keep the converted PDFs in this folder, or reuse them from it"
    )
    args = parser.parse_args()
    contract, raws = convert(args.pdfa, args.keep)
    meta: dict[str, Any] = {
        "subject": contract.contract_no,
        "author": contract.buyer.name,
        "date": contract.sign_date,
    }
    steps: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    outputs: set[bytes] = set()

    def step(name: str, action: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        start = cpu()
        result = action(*args, **kwargs)
        steps[name].append(cpu() - start)
        return result

    bundle_title = f"{KINDS['service_contract']}（全套）"
    for _ in range(args.repeat):
        start = cpu()
        parts = []
        for kind, title, raw in raws:
            finished = step(f"finish {kind}", pdfdoc.finish, raw, title=title, **meta)
            sealed, _ = step(f"seal {kind}", seal.add_seal_fields, finished, kind)
            step("page_count x5", pdfdoc.page_count, sealed)
            parts.append((title, finished))
        bundled = step("bundle", pdfdoc.bundle, parts, title=bundle_title, **meta)
        step("page_count x5", pdfdoc.page_count, bundled)
        totals.append(cpu() - start)
        outputs.add(bundled)

    pages = sum(pdfdoc.page_count(raw) for _, _, raw in raws)
    print(f"post-processing, seed contract ({pages} pages), {args.repeat} rounds, CPU s (median)")
    for name, values in steps.items():
        k = len(values) // args.repeat
        per_round = [sum(values[i * k : (i + 1) * k]) for i in range(args.repeat)]
        print(f"  {name:38s} {median(per_round):6.3f}")
    total = median(totals)
    print(f"  {'total per contract set':38s} {total:6.3f}  ({pages / total:.0f} pages/CPU-s)")
    if len(outputs) != 1:
        raise SystemExit("the bundle differed between rounds")


if __name__ == "__main__":
    main()
