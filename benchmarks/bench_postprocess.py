"""CPU cost of the PDF post-processing of one contract set, against the stage it replaced.

The post-processing is everything after LibreOffice: cutting a joined set's
PDF into its documents, fonts renumbered and pruned, metadata, seal placement
and fields, the bundle — ``generator.pdf.finish_set``, called as
``generator.pipeline.add_pdfs`` calls it.

LibreOffice converts the seed contract's set twice, keeping the second (in a
batch the office's font counter has moved on, and every embedded Type 1 font
needs its UniqueID renumbered), both ways ``add_pdfs`` knows: joined into one
document (what it does for a whole set) and one document at a time (its
fallback). That happens once, before any clock starts; every round then runs
on the same raw PDFs.

The baseline, measured in the same run on the same raw PDFs: the stage before
the rebuild (``generator.pdfdoc`` + ``generator.seal`` of commit d1ad635),
checked out in a temporary git worktree, its optional C loop
(``generator/_eexec.c``) compiled there with gcc when possible, run in a
subprocess with ``PYTHONPATH`` on that worktree (see ``_old_stage.py``).

Reported: the median over ``--repeat`` rounds of the CPU seconds per contract
set (the process plus the children it waits for), joined and one by one, new
and old, and their ratio. The batch is CPU-bound, so CPU time, not wall time,
is what limits pages per second. The machines are shared and noisy: medians.

``--profile N`` then runs the new stage's joined set under cProfile for the
same rounds and prints its top N functions by own time and by cumulative time.

The old stage needs its libraries: ``.venv/bin/pip install -e '.[bench]'``.

    .venv/bin/python benchmarks/bench_postprocess.py [--repeat 15] [--pdfa] [--no-old]
        [--old-without-c] [--keep DIR] [--profile 25]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, median
from generator import default_kind
from generator.docx.join import join
from generator.inputs.load import load_data
from generator.kinds import parse
from generator.office import ConverterPool
from generator.pdf import Meta, Part, finish_set
from generator.pipeline import ContractSet, render_docx, seal_specs

#: the last commit of the stage before the rebuild
OLD_COMMIT = "d1ad635"


def cpu() -> float:
    """Return the CPU seconds used so far by this process and its waited-for children."""
    own, children = getrusage(RUSAGE_SELF), getrusage(RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclasses.dataclass
class Raw:
    """The seed set as LibreOffice made it: one PDF per document, and the joined set."""

    contract_set: ContractSet
    documents: list[bytes]
    joined: bytes
    counts: list[int]


def convert(pdfa: bool, keep: Path | None) -> Raw:
    """Return the seed set's raw PDFs, converted (the second time), or read from ``keep``."""
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
                joined_pdf, counts = pool.convert_sections(
                    joined.docx, sections, pdfa=pdfa, hanging_off=joined.hanging_off
                )
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            for name, pdf in zip(names, [*pdfs, joined_pdf], strict=False):
                name.write_bytes(pdf)
            names[-1].write_text(json.dumps(counts))
    return Raw(contract_set, pdfs, joined_pdf, list(counts))


def forget() -> None:
    """Forget what the stage keeps of the programs it read: a batch meets every set new."""
    from generator.pdf import type1

    for name in ("_programs", "_cmaps"):
        cache = getattr(type1, name, None)
        if cache is not None:
            cache.clear()
    parse = getattr(type1, "_parse", None)
    if hasattr(parse, "cache_clear"):  # the stage before issue 25 kept its programs so
        parse.cache_clear()


def new_actions(raw: Raw) -> dict[str, Callable[[], bytes | None]]:
    """Return the new stage's post-processing of the set, joined and one by one."""
    contract = raw.contract_set.contract
    docs = raw.contract_set.documents

    def part(kind: str, title: str, pages: int | None = None) -> Part:
        meta = Meta(title, contract.contract_no, contract.buyer.name, contract.signed_at)
        return Part(kind, meta, pages, seal_specs(kind))

    bundle = Meta(
        default_kind().set_title,
        contract.contract_no,
        contract.buyer.name,
        contract.signed_at,
    )
    joined = [
        (raw.joined, [part(d.kind, d.title, n) for d, n in zip(docs, raw.counts, strict=True)])
    ]
    single = [(pdf, [part(d.kind, d.title)]) for d, pdf in zip(docs, raw.documents, strict=True)]
    return {
        "joined": lambda: finish_set(joined, bundle)[1],
        "one_by_one": lambda: finish_set(single, bundle)[1],
    }


def old_worktree(parent: Path, with_c: bool) -> tuple[Path, str]:
    """Check out the old stage in ``parent/old``; compile its C loop; return it and a note."""
    tree = parent / "old"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), OLD_COMMIT],
        check=True,
        capture_output=True,
    )
    if not with_c:
        return tree, "its Python loops (--old-without-c)"
    target = tree / "generator" / f"_eexec{sysconfig.get_config_var('EXT_SUFFIX')}"
    built = subprocess.run(
        [
            os.environ.get("CC", "gcc"),
            "-shared",
            "-fPIC",
            "-O2",
            f"-I{sysconfig.get_paths()['include']}",
            str(tree / "generator" / "_eexec.c"),
            "-o",
            str(target),
        ],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        return tree, f"its Python loops: C module NOT built ({built.stderr.strip()[:200]})"
    return tree, "its C module built with gcc -O2"


def remove_worktree(tree: Path) -> None:
    """Remove the old stage's worktree (and its administrative files)."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
        check=False,
        capture_output=True,
    )


def old_times(raw: Raw, repeat: int, work: Path, with_c: bool) -> tuple[dict[str, Any], str]:
    """Return the old stage's CPU seconds per round on the same raw PDFs, and how it ran."""
    tree, note = old_worktree(work, with_c)
    try:
        contract = raw.contract_set.contract
        paths = []
        for doc, pdf in zip(raw.contract_set.documents, raw.documents, strict=True):
            path = work / f"{doc.kind}.pdf"
            path.write_bytes(pdf)
            paths.append([doc.kind, doc.title, str(path)])
        (work / "joined.pdf").write_bytes(raw.joined)
        job = {
            "documents": paths,
            "joined": str(work / "joined.pdf"),
            "counts": raw.counts,
            "subject": contract.contract_no,
            "author": contract.buyer.name,
            "date": contract.sign_date.isoformat(),
            "bundle_title": default_kind().set_title,
            "repeat": repeat,
        }
        (work / "job.json").write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        result = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("_old_stage.py")),
                str(work / "job.json"),
            ],
            env={**os.environ, "PYTHONPATH": str(tree)},
            cwd=tree,
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            hint = ""
            if "ModuleNotFoundError" in result.stderr:
                hint = "\n(the old stage's libraries: .venv/bin/pip install -e '.[bench]')"
            raise SystemExit(f"the old stage failed ({result.returncode}):\n{result.stderr}{hint}")
        times: dict[str, Any] = json.loads(result.stdout)
        if Path(times["generator"]) != (tree / "generator").resolve():
            raise SystemExit(f"the old stage was imported from {times['generator']}")
        if with_c and times["c_module"] is False and "NOT" not in note:
            note = "its Python loops: the C module was built but not loaded"
        return times, note
    finally:
        remove_worktree(tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pdfa", action="store_true", help="convert to PDF/A-2b")
    parser.add_argument(
        "--keep", type=Path, help="keep the converted PDFs in this folder, or reuse them from it"
    )
    parser.add_argument("--no-old", action="store_true", help="skip the stage before the rebuild")
    parser.add_argument(
        "--old-without-c", action="store_true", help="run the old stage's Python loops"
    )
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile the joined set: print the top N"
    )
    args = parser.parse_args()
    raw = convert(args.pdfa, args.keep)
    pages = sum(raw.counts)

    times: dict[str, list[float]] = {"joined": [], "one_by_one": []}
    outputs: dict[str, set[bytes | None]] = {"joined": set(), "one_by_one": set()}
    actions = new_actions(raw)
    for action in actions.values():
        action()  # imports, PDFium's start-up: not part of a set's cost
    for _ in range(args.repeat):
        for name, action in actions.items():
            forget()
            start = cpu()
            outputs[name].add(action())
            times[name].append(cpu() - start)
    if any(len(made) != 1 for made in outputs.values()):
        raise SystemExit("a bundle differed between rounds")

    old: dict[str, Any] | None = None
    note = "not measured (--no-old)"
    if not args.no_old:
        work = Path(tempfile.mkdtemp(prefix="bench-postprocess-"))
        try:
            old, note = old_times(raw, args.repeat, work, not args.old_without_c)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    kind = "PDF/A-2b" if args.pdfa else "PDF"
    print(
        f"post-processing, seed contract ({pages} pages, {kind}), {args.repeat} rounds, "
        "CPU s per contract set (medians)"
    )
    from generator.pdf import type1

    c_loop = (
        "built" if getattr(type1, "_eexec_c", None) is not None else "NOT built: its Python loop"
    )
    print(f"  new stage: generator/pdf of this tree, its C module {c_loop}")
    print(f"  old stage: {OLD_COMMIT} in a worktree, {note}")
    print(f"  {'':12s} {'new':>8s} {'old':>8s} {'new/old':>8s}  pages/CPU-s new, old")
    for name, label in (("joined", "joined set"), ("one_by_one", "one by one")):
        new_s = median(times[name])
        if old is None:
            print(f"  {label:12s} {new_s:8.3f}  ({pages / new_s:.0f} pages/CPU-s)")
            continue
        old_s = median(old[name])
        print(
            f"  {label:12s} {new_s:8.3f} {old_s:8.3f} {new_s / old_s:8.2f}"
            f"  {pages / new_s:6.0f}, {pages / old_s:.0f}"
        )
    if old is not None:
        speed = median(old["joined"]) / median(times["joined"])
        print(f"  ratio old/new, joined set (what a batch runs): {speed:.2f}x")
        if not old["deterministic"]:
            print("  (the old stage's bundle differed between rounds)")
    if args.profile:
        profile(actions["joined"], args.repeat, args.profile)


def profile(action: Callable[[], object], repeat: int, top: int) -> None:
    """Print the top functions of ``repeat`` runs of an action under cProfile."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    for _ in range(repeat):
        forget()
        profiler.enable()
        action()
        profiler.disable()
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats(order).print_stats(top)
        lines = text.getvalue().splitlines()
        start = next(n for n, line in enumerate(lines) if "ncalls" in line)
        print(f"\nprofile of the joined set, {repeat} rounds, by {order} (s for all rounds):")
        print("\n".join(line for line in lines[start:] if line.strip()))


if __name__ == "__main__":
    main()
