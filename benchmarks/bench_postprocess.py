"""CPU cost of the PDF post-processing of one contract set: finish, seal fields, count, bundle.

LibreOffice converts the seed contract's set twice, keeping the second (in a
batch the office's font counter has moved on, and every embedded Type 1 font
needs its UniqueID renumbered), both ways ``generator.api.add_pdfs`` knows:
joined into one document (what it does for a whole set) and one document at a
time (its fallback). Then the steps it runs after conversion are timed, one
after the other in this thread, over ``--repeat`` rounds. Reported: the median CPU
seconds per contract set (this process, plus the pdftotext children it waits
for), and per step. The batch is CPU-bound, so CPU time, not wall time, is
what limits pages per second.

    .venv/bin/python benchmarks/bench_postprocess.py [--repeat 15] [--pdfa]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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
from generator.join import join
from generator.load import load_data
from generator.render import KINDS
from generator.validate import parse

_T = TypeVar("_T")


def cpu() -> float:
    """Return the CPU seconds used so far by this process and its waited-for children."""
    own, children = getrusage(RUSAGE_SELF), getrusage(RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def convert(
    pdfa: bool, keep: Path | None
) -> tuple[Any, list[tuple[str, str, bytes]], tuple[bytes, list[int]]]:
    """Return the seed contract, its documents as (kind, title, raw PDF), and the joined PDF."""
    contract_set = render_docx(parse(load_data(ROOT / "samples" / "seed.yaml")))
    docs = contract_set.documents
    suffix = ".pdfa" if pdfa else ""
    names = [keep / f"{doc.kind}{suffix}.pdf" for doc in docs] if keep else []
    names += [keep / f"joined{suffix}.pdf", keep / f"joined{suffix}.json"] if keep else []
    if names and all(name.exists() for name in names):
        pdfs = [name.read_bytes() for name in names[:-2]]
        joined_pdf, counts = names[-2].read_bytes(), json.loads(names[-1].read_text())
    else:
        joined = join([doc.docx for doc in docs])
        assert joined is not None
        sections = [dataclasses.asdict(section) for section in joined.sections]
        with ConverterPool(1) as pool:
            # The second conversion, as in a batch: an office that has embedded fonts
            # before numbers them on, so every font program needs renumbering.
            for _ in range(2):
                pdfs = [pool.convert_bytes(doc.docx, pdfa=pdfa) for doc in docs]
                joined_pdf, counts = pool.convert_sections(joined.docx, sections, pdfa=pdfa)
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            for name, pdf in zip(names, [*pdfs, joined_pdf], strict=False):
                name.write_bytes(pdf)
            names[-1].write_text(json.dumps(counts))
    raws = [(doc.kind, doc.title, pdf) for doc, pdf in zip(docs, pdfs, strict=True)]
    return contract_set.contract, raws, (joined_pdf, counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pdfa", action="store_true", help="convert to PDF/A-2b")
    parser.add_argument(
        "--keep", type=Path, help="keep the converted PDFs in this folder, or reuse them from it"
    )
    args = parser.parse_args()
    contract, raws, (joined_pdf, counts) = convert(args.pdfa, args.keep)
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
    kinds = [kind for kind, _, _ in raws]
    joined_totals: list[float] = []
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

        start = cpu()
        named = [(title, n) for (_, title, _), n in zip(raws, counts, strict=True)]
        documents, whole = step(
            "joined: split", pdfdoc.split, joined_pdf, named, title=bundle_title, **meta
        )
        for kind, document in zip(kinds, documents, strict=True):
            sealed, _ = step("joined: seal x4", seal.add_seal_fields, document, kind)
            step("joined: page_count x5", pdfdoc.page_count, sealed)
        step("joined: page_count x5", pdfdoc.page_count, whole)
        joined_totals.append(cpu() - start)
        outputs.add(whole)

    pages = sum(pdfdoc.page_count(raw) for _, _, raw in raws)
    print(f"post-processing, seed contract ({pages} pages), {args.repeat} rounds, CPU s (median)")
    for name, values in steps.items():
        k = len(values) // args.repeat
        per_round = [sum(values[i * k : (i + 1) * k]) for i in range(args.repeat)]
        print(f"  {name:38s} {median(per_round):6.3f}")
    total, joined_total = median(totals), median(joined_totals)
    print(f"  {'total, one by one':38s} {total:6.3f}  ({pages / total:.0f} pages/CPU-s)")
    print(
        f"  {'total, joined set':38s} {joined_total:6.3f}  ({pages / joined_total:.0f} pages/CPU-s)"
    )
    if len(outputs) != 2:
        raise SystemExit("a bundle differed between rounds")


if __name__ == "__main__":
    main()
