"""How cost grows with a set's pages: a 3-page, a 30-page and a 150-page set, time per page.

Target (issue 25): the time per page within 1.5x across the three sizes, for
the whole product path and for our part of it. The sets are made from data
built here, all valid against their kind's declaration:
- small: the supplement kind's sample (one document, 补充合同), about 3 pages;
- seed: the O&M kind's seed (samples/seed.yaml), four documents, about 30 pages;
- long: the seed with every list as long and every text as long as the
  declaration allows (30 acceptance rows, 24 instalments, 20 other
  documents, other_terms and confidential_extra of 5,000 characters, ...),
  the texts written as checklists of short lines (as clerks list things),
  since dense prose at the same lengths gives only about 95 pages.

Each round, the sizes taking turns, one warmed office (a ConverterPool of 1),
everything in this process:
- whole: ``render_set`` of the data (validation, DOCX, the set joined and
  converted, the PDF stage, the bundle): its wall time, the wall time spent
  inside the pool's conversions, the CPU time of this process (ours: the
  office and its bridge are other processes) and of the office's (/proc);
- office: LibreOffice alone converting the same joined DOCX through the pool
  (as ``benchmarks/common.convert_rate`` does; a set of one document does not
  join and converts as it is, as ``add_pdfs`` does): its wall time and CPU;
- stages: our CPU in each stage on its own: validation, DOCX render
  (``render_docx``), joining, the PDF stage (``finish_set`` on the office's
  raw PDF, the font programs it read forgotten, as a fresh conversion's are);
- LibreOffice alone converting the small set's document ``--joined`` times
  joined into one file: what joining small sets of several contracts into one
  office pass would give.

Reported, medians of ``--repeat`` rounds: the pages, then per page: the
whole path; LibreOffice alone; our part, as the whole less LibreOffice alone
and as the whole less its own conversion; our CPU and the office's; each of
our stages; the ratio max/min across sizes (and per round), the same for the
two larger sizes alone; and a set's cost as fixed + per page (least squares
through the three sizes). ``--profile N`` then runs each size's whole path
once under cProfile and prints its top N functions by own time.

    .venv/bin/python benchmarks/bench_growth.py [--repeat 3] [--profile 20] [--joined 10]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import dataclasses
import io
import os
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, median
from generator.docx.join import join
from generator.inputs.load import load_data
from generator.kinds import Contract, parse
from generator.office import ConverterPool
from generator.pdf import Meta, Part, finish_set, type1
from generator.pipeline import render_docx, render_set, seal_specs

#: clock ticks per second of /proc's CPU times
_TICKS = os.sysconf("SC_CLK_TCK")


def checklist(line: str, limit: int) -> str:
    """Return numbered short lines made from ``line`` (with ``{n}``), as long as fits ``limit``."""
    lines: list[str] = []
    n = 1
    while True:
        piece = line.format(n=n)
        if len("\n".join([*lines, piece])) > limit:
            return "\n".join(lines)
        lines.append(piece)
        n += 1


def prose(sentence: str, limit: int) -> str:
    """Return ``sentence`` (with ``{n}``) repeated and numbered, as long as fits ``limit``."""
    out, n = "", 1
    while len(out) + len(piece := sentence.format(n=n)) <= limit:
        out, n = out + piece, n + 1
    return out


def small_data() -> dict[str, Any]:
    """Return the supplement kind's sample: one document of about 3 pages."""
    return dict(load_data(ROOT / "templates" / "supplement" / "sample.yaml"))


def seed_data() -> dict[str, Any]:
    """Return the O&M seed: four documents, about 30 pages."""
    return dict(load_data(ROOT / "samples" / "seed.yaml"))


def long_data() -> dict[str, Any]:
    """Return the seed at the declaration's limits: every list full, every long text full.

    templates/om_service/kind.yaml caps acceptance_plan.items at 30 rows
    (环节 100, 内容 and 标准 500 characters each), payment.instalments at 24
    (条件 500), other_documents at 20 (200 each), other_terms and
    confidential_extra at 5,000, the acceptance procedure at 2,000, the bond,
    the acceptance time, the sampling ratio and the destroyed products' handling
    (sampling and destructive tests both 是) at 500. The texts are checklists of
    short lines: a line break costs a printed line, so they make more pages than
    prose of the same length.
    """
    data = copy.deepcopy(seed_data())
    data["performance_bond"] = checklist("（{n}）保函一份", 500)
    data["other_terms"] = checklist("（{n}）提交运维月报及工单", 5000)
    data["confidential_extra"] = checklist("（{n}）系统配置快照及日志", 5000)
    plan = data["acceptance_plan"]
    plan.update(sampling="是", destructive="是")
    plan["sampling_ratio"] = checklist("{n}.抽查一成", 500)
    plan["destroyed_handling"] = checklist("{n}.折价赔偿", 500)
    plan["time"] = checklist("{n}.季末考核", 500)
    plan["procedure"] = checklist("{n}. 乙方提交报告", 2000)
    plan["items"] = [
        {
            "stage": checklist(f"{row}." + "运维{n}", 100),
            "content": checklist("{n}.巡检与告警", 500),
            "standard": checklist("{n}.记录齐全", 500),
        }
        for row in range(1, 31)
    ]
    data["payment"]["instalments"] = [
        {
            "percent": 4 if n <= 20 else 5,
            "condition": checklist(f"第{n}期" + "条件{n}：考核合格", 500),
        }
        for n in range(1, 25)
    ]
    data["other_documents"] = [
        checklist(f"《说明书第{n}册》" + "附件{n}", 200) for n in range(1, 21)
    ]
    return data


#: the sizes, in the order they take turns
SIZES: dict[str, Callable[[], dict[str, Any]]] = {
    "small": small_data,
    "seed": seed_data,
    "long": long_data,
}


def tree_cpu(root: int) -> float:
    """Return the CPU seconds used so far by the descendants of ``root`` (not ``root`` itself)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[1] is the parent pid; utime and stime are the 14th and 15th of stat
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


@dataclasses.dataclass
class Sample:
    """One measure of one size: wall seconds (all, and inside the office's calls), CPU seconds."""

    wall: float
    inside: float
    ours: float
    office: float


class Timed:
    """The pool, the wall time of every conversion asked of it added up (nothing else changed)."""

    def __init__(self, pool: ConverterPool) -> None:
        self.pool = pool
        self.seconds = 0.0

    def _timed(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def convert_sections(self, *args: Any, **kwargs: Any) -> tuple[bytes, list[int]]:
        return self._timed(self.pool.convert_sections, *args, **kwargs)  # type: ignore[no-any-return]

    def convert_bytes(self, *args: Any, **kwargs: Any) -> bytes:
        return self._timed(self.pool.convert_bytes, *args, **kwargs)  # type: ignore[no-any-return]


def measured(action: Callable[[Timed], object], pool: ConverterPool) -> Sample:
    """Run ``action`` with the timed pool; return its wall times, our CPU and the office's."""
    me, timed = os.getpid(), Timed(pool)
    office, ours = tree_cpu(me), time.process_time()
    start = time.perf_counter()
    action(timed)
    wall = time.perf_counter() - start
    return Sample(wall, timed.seconds, time.process_time() - ours, tree_cpu(me) - office)


def cpu_of(action: Callable[[], object]) -> float:
    """Run ``action``; return this process's CPU seconds for it."""
    start = time.process_time()
    action()
    return time.process_time() - start


@dataclasses.dataclass
class Size:
    """A size's contract, its joined DOCX, its pages, and what each round measured."""

    data: dict[str, Any]
    contract: Contract
    docx: list[bytes]
    joined: Any
    pages: int = 0
    documents: list[int] = dataclasses.field(default_factory=list)
    whole: list[Sample] = dataclasses.field(default_factory=list)
    office: list[Sample] = dataclasses.field(default_factory=list)
    stages: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: {"parse": [], "docx": [], "join": [], "pdf": []}
    )


def prepare(data: dict[str, Any]) -> Size:
    """Return a size's parsed contract and joined DOCX (None when its set converts one by one)."""
    contract = parse(data)
    docx = [doc.docx for doc in render_docx(contract).documents]
    return Size(data, contract, docx, join(docx))


def office_alone(size: Size, pool: Any) -> list[tuple[bytes, list[int] | None]]:
    """Convert the size's set through the pool as ``add_pdfs`` does; return the raw PDFs.

    A joined set is one PDF with each document's page count; a set that does
    not join (one document) converts one document at a time (counts None).
    """
    joined = size.joined
    if joined is None:
        return [(pool.convert_bytes(docx), None) for docx in size.docx]
    sections = [dataclasses.asdict(section) for section in joined.sections]
    raw, counts = pool.convert_sections(joined.docx, sections, hanging_off=joined.hanging_off)
    return [(raw, counts)]


def round_of(size: Size, pool: ConverterPool) -> None:
    """Measure one round of one size: the whole path, the office alone, our stages."""
    made: list[Any] = []

    def whole(timed: Timed) -> None:
        made.append(render_set(parse(size.data), converter=timed))  # type: ignore[arg-type]

    size.whole.append(measured(whole, pool))
    size.documents = [doc.pages for doc in made[0].documents]
    size.pages = sum(size.documents)
    raws: list[list[tuple[bytes, list[int] | None]]] = []
    size.office.append(measured(lambda timed: raws.append(office_alone(size, timed)), pool))
    docx = render_docx(size.contract)
    size.stages["parse"].append(cpu_of(lambda: parse(size.data)))
    size.stages["docx"].append(cpu_of(lambda: render_docx(size.contract)))
    size.stages["join"].append(cpu_of(lambda: join(size.docx)))
    pages: list[int] = []
    forget()
    size.stages["pdf"].append(cpu_of(lambda: pages.append(pdf_stage(docx, raws[0]))))
    assert pages == [size.pages], (pages, size.pages)


def forget() -> None:
    """Forget the font programs the PDF stage read: a fresh conversion's are new to it."""
    type1._programs.clear()
    type1._cmaps.clear()


def office_round(size: Size, pool: ConverterPool) -> None:
    """Measure one round of LibreOffice alone converting a size; count its pages."""
    raws: list[list[tuple[bytes, list[int] | None]]] = []
    size.office.append(measured(lambda timed: raws.append(office_alone(size, timed)), pool))
    counts = [n for _, pages in raws[0] for n in pages or ()]
    if counts:
        size.pages = sum(counts)


def pdf_stage(contract_set: Any, raws: list[tuple[bytes, list[int] | None]]) -> int:
    """Run the PDF stage alone on the office's raw PDFs, as ``add_pdfs`` does; return the pages."""
    contract = contract_set.contract
    kind, envelope = contract.kind, contract.envelope

    def meta(title: str) -> Meta:
        return Meta(title, envelope.contract_no, envelope.buyer, contract.signed_at)

    def part(doc: Any, pages: int | None) -> Part:
        crossing = kind.document(doc.kind).cross_page_seal
        return Part(doc.kind, meta(doc.title), pages, seal_specs(doc.kind, kind), crossing)

    documents = contract_set.documents
    if raws[0][1] is None:  # one PDF per document
        converted = [
            (raw, [part(doc, None)]) for (raw, _), doc in zip(raws, documents, strict=True)
        ]
    else:
        raw, counts = raws[0]
        assert counts is not None
        converted = [(raw, [part(doc, n) for doc, n in zip(documents, counts, strict=True)])]
    finished, _ = finish_set(converted, meta(kind.set_title))
    return sum(pdf.pages for pdf in finished)


def profile(size: Size, pool: ConverterPool, top: int) -> str:
    """Return the top functions by own time of one whole path of a size under cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    render_set(size.contract, converter=pool)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def line_fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Return the intercept and slope of the least-squares line through ``points``."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - slope * mean_x, slope


#: the rows of the table: key, title, the value of a round in seconds (of a size)
ROWS: list[tuple[str, str, Callable[[Size, int], float]]] = [
    ("whole", "whole path (render_set), wall", lambda s, n: s.whole[n].wall),
    ("office", "LibreOffice alone, wall", lambda s, n: s.office[n].wall),
    ("diff", "whole - LibreOffice alone, wall", lambda s, n: s.whole[n].wall - s.office[n].wall),
    (
        "ours",
        "ours: whole - its conversion, wall",
        lambda s, n: s.whole[n].wall - s.whole[n].inside,
    ),
    ("ours_cpu", "ours: CPU in the whole path", lambda s, n: s.whole[n].ours),
    ("office_cpu", "office CPU in the whole path", lambda s, n: s.whole[n].office),
    ("alone_cpu", "office CPU, converting alone", lambda s, n: s.office[n].office),
    ("parse", "  our CPU: validation", lambda s, n: s.stages["parse"][n]),
    ("docx", "  our CPU: DOCX render", lambda s, n: s.stages["docx"][n]),
    ("join", "  our CPU: joining", lambda s, n: s.stages["join"][n]),
    ("pdf", "  our CPU: PDF stage + bundle", lambda s, n: s.stages["pdf"][n]),
]


def report(sizes: dict[str, Size], repeat: int) -> None:
    """Print the table: ms per page of every size, their max/min, the fixed and per-page costs."""
    table = {
        key: {
            name: median([value(s, n) for n in range(repeat)]) / s.pages * 1000
            for name, s in sizes.items()
        }
        for key, _, value in ROWS
    }
    print(f"Growth: ms per page, medians of {repeat} rounds, the sizes in turn, one office")
    for name, s in sizes.items():
        print(f"  {name:6} {s.pages:4d} pages (documents {s.documents})")
    print(f"  {'ms per page':36}" + "".join(f"{name:>9}" for name in sizes) + "  max/min")
    for key, title, _ in ROWS:
        values = list(table[key].values())
        ratio = f"{max(values) / min(values):6.2f}x" if min(values) > 0 else "     -"
        print(f"  {title:36}" + "".join(f"{v:9.2f}" for v in values) + f"  {ratio}")
    print("  a set's cost, fixed + per page (least squares through the three sizes), ms:")
    for key, title, _ in ROWS:
        points = [(s.pages, table[key][name] * s.pages) for name, s in sizes.items()]
        fixed, slope = line_fit(points)
        print(f"  {title.strip():36}{fixed:9.1f} + {slope:6.2f} a page")
    for key, title, value in ROWS[:1] + ROWS[3:5]:
        values = list(table[key].values())
        rounds = []
        for n in range(repeat):
            ms = [value(s, n) / s.pages for s in sizes.values()]
            rounds.append(f"{max(ms) / min(ms):.2f}" if min(ms) > 0 else "-")
        met = "met" if max(values) <= 1.5 * min(values) else "NOT met"
        print(
            f"  {title.split(',')[0]:36}max/min {max(values) / min(values):5.2f}x"
            f"  target <= 1.5x: {met} (rounds {', '.join(rounds)})"
        )
    _, *larger = sizes
    for key, title, _ in ROWS[:1] + ROWS[3:5]:
        values = [table[key][name] for name in larger]
        print(
            f"  {title.split(',')[0]:36}max/min {max(values) / min(values):5.2f}x"
            f" of {' and '.join(larger)} alone"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every size")
    parser.add_argument("--profile", type=int, default=0, help="top N functions per size")
    parser.add_argument(
        "--joined", type=int, default=10, help="the small set's document N times in one pass"
    )
    args = parser.parse_args()
    sizes = {name: prepare(build()) for name, build in SIZES.items()}
    small = sizes["small"]
    many = dataclasses.replace(small, docx=small.docx * args.joined, joined=None, office=[])
    many.joined = join(many.docx)
    with ConverterPool(1) as pool:
        for size in sizes.values():  # warm-up: the office started, every template read
            render_set(size.contract, converter=pool)
        for _ in range(args.repeat):
            for size in sizes.values():
                round_of(size, pool)
            office_round(many, pool)
        profiles = {n: profile(s, pool, args.profile) for n, s in sizes.items() if args.profile}
    report(sizes, args.repeat)
    alone = median([sample.wall for sample in many.office]) / many.pages * 1000
    print(
        f"  LibreOffice alone, the small set's document {args.joined} times joined in one pass"
        f" ({many.pages} pages): {alone:.2f} ms per page"
    )
    for name, text in profiles.items():
        print(f"\n--- {name}: top {args.profile} by own time ---\n{text}")


if __name__ == "__main__":
    main()
