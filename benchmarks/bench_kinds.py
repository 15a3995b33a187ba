"""The seed set's DOCX and PDF throughput on this tree against the tree before contract kinds.

Contract kinds moved the O&M set from Python into ``templates/om_service/kind.yaml``: its
model, rules and context are now derived from the declaration at start-up. This measures
that the sets are made as fast as before: the baseline is the tree of the commit before
the declaration was added (or ``--baseline REF``), checked out in a temporary worktree and
run with the same interpreter, in the same run, the two trees taking turns.

    .venv/bin/python benchmarks/bench_kinds.py [--sets 40] [--repeat 3] [--baseline REF]

First the bytes: every file of the seed's and the cross-year sample's sets (DOCX, PDF,
bundle; not the manifest, which now names the kind) made by each tree, compared. Then
DOCX: ``render_docx`` of the seed's set in one process (documents per second). PDF: a
``Generator`` with two offices making distinct sets with PDFs, nothing cached (pages per
second). Prints each round, the medians and the ratio this tree / baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: run inside each tree (its own ``generator`` first on the path): print one JSON line
PROBE = r"""
import copy, json, sys, time
import generator
from generator import Generator, load_data, parse
from generator.pipeline import render_docx

seed = dict(load_data(__import__("pathlib").Path(sys.argv[1])))
sets, mode = int(sys.argv[2]), sys.argv[3]

def variant(n):
    data = copy.deepcopy(seed)
    data["contract_no"] = f"BENCH{n:05d}"
    return data

if mode == "hashes":  # the bytes of every file of the sample's set, DOCX and PDF
    import hashlib
    with Generator(workers=2, cached_sets=0) as made:
        files = made.render(seed).files()
    digests = {n: hashlib.sha256(b).hexdigest() for n, b in files.items() if n != "manifest.json"}
    print(json.dumps({"file": generator.__file__, "rate": 0, "digests": digests}))
elif mode == "docx":
    contracts = [parse(variant(n)) for n in range(sets)]
    render_docx(contracts[0])  # templates compiled once, outside the clock
    start = time.perf_counter()
    documents = sum(len(render_docx(c).documents) for c in contracts)
    seconds = time.perf_counter() - start
    print(json.dumps({"file": generator.__file__, "rate": documents / seconds}))
else:
    with Generator(workers=2, cached_sets=0) as made:
        made.render(variant(99999), formats=("pdf",))  # offices started outside the clock
        start = time.perf_counter()
        pages = 0
        for n in range(sets):
            pages += sum(d.pages or 0 for d in made.render(variant(n), formats=("pdf",)).documents)
        seconds = time.perf_counter() - start
    print(json.dumps({"file": generator.__file__, "rate": pages / seconds}))
"""


def _baseline_ref() -> str:
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "templates/om_service/kind.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise SystemExit("no commit adds templates/om_service/kind.yaml: give --baseline REF")
    return f"{added[-1]}^"


def _probe(tree: Path, seed: Path, sets: int, mode: str) -> float:
    return float(_run(tree, seed, sets, mode)["rate"])


def _run(tree: Path, seed: Path, sets: int, mode: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(tree), "XDG_DATA_HOME": tempfile.mkdtemp()}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(seed), str(sets), mode],
        cwd=tempfile.gettempdir(),  # not the checkout: the tree's own package is imported
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{tree}: {mode} failed:\n{done.stderr[-2000:]}")
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    assert str(answer["file"]).startswith(str(tree)), answer["file"]
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default=None, help="git ref of the baseline tree")
    args = parser.parse_args()
    ref = args.baseline or _baseline_ref()
    seed = ROOT / "samples" / "seed.yaml"
    with tempfile.TemporaryDirectory(prefix="bench-kinds-") as scratch:
        base = Path(scratch) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(base), ref], cwd=ROOT, check=True
        )
        # the optional C loop of the PDF stage, built in the checkout: the same for both trees
        for built in (ROOT / "generator" / "pdf").glob("_eexec*.so"):
            shutil.copyfile(built, base / "generator" / "pdf" / built.name)
        try:
            for sample in ("seed.yaml", "cross_year.yaml"):
                path = ROOT / "samples" / sample
                ours_files = _run(ROOT, path, 0, "hashes")["digests"]
                theirs_files = _run(base, path, 0, "hashes")["digests"]
                same = ours_files == theirs_files
                print(
                    f"{sample}: {len(ours_files)} files (DOCX, PDF, bundle) "
                    + (
                        "byte-identical to the baseline's" if same else "DIFFER from the baseline's"
                    ),
                    flush=True,
                )
            for mode, unit, sets in (
                ("docx", "documents/s", args.sets * 5),
                ("pdf", "pages/s", args.sets),
            ):
                ours: list[float] = []
                theirs: list[float] = []
                for round_no in range(1, args.repeat + 1):
                    theirs.append(_probe(base, seed, sets, mode))
                    ours.append(_probe(ROOT, seed, sets, mode))
                    print(
                        f"{mode} round {round_no}: this tree {ours[-1]:.1f} {unit}, "
                        f"baseline {theirs[-1]:.1f} {unit}",
                        flush=True,
                    )
                mine, before = statistics.median(ours), statistics.median(theirs)
                print(
                    f"{mode}: median this tree {mine:.1f} {unit}, baseline ({ref[:12]}) "
                    f"{before:.1f} {unit}, ratio {mine / before:.3f}",
                    flush=True,
                )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False
            )


if __name__ == "__main__":
    main()
