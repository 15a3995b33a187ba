"""Shared helpers of the benchmarks: varied contracts, timing, medians."""

from __future__ import annotations

import copy
import json
import os
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from generator.inputs.load import load_data

ROOT = Path(__file__).resolve().parent.parent


def contracts(count: int) -> list[dict[str, Any]]:
    """Return ``count`` valid contracts varied from the seed (numbers, names, amounts)."""
    seed = dict(load_data(ROOT / "samples" / "seed.yaml"))
    out = []
    for n in range(count):
        data = copy.deepcopy(seed)
        data["contract_no"] = f"BENCH{n:05d}"
        data["supplier"]["name"] = f"上海第{n}号信息技术有限公司"
        data["amount"] = str(Decimal(100000 + 137 * n) + Decimal("0.25") * (n % 4))
        out.append(data)
    return out


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> Path:
    """Write contracts as a JSON-lines batch file."""
    with open(path, "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
    return path


def pdf_pages(out: Path) -> int:
    """Return the PDF pages of every contract folder under ``out``, from their manifests."""
    total = 0
    for manifest in out.glob("*/manifest.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        total += sum(doc["pdf"]["pages"] for doc in data["documents"])
    return total


_pipeline_pool: Any = None


def _start_pipeline(ready: Any) -> None:
    """Start a reference worker process: its own office, warmed up on one contract."""
    global _pipeline_pool
    from generator.kinds import parse
    from generator.office import ConverterPool
    from generator.pipeline import render_set

    _pipeline_pool = ConverterPool(1)
    render_set(parse(contracts(1)[0]), converter=_pipeline_pool)
    ready.put(True)


def _pipeline_pages(data: dict[str, Any]) -> int:
    """Make one contract's set in memory (DOCX, PDFs, bundle); return its PDF pages."""
    from generator.kinds import parse
    from generator.pipeline import render_set

    contract_set = render_set(parse(data), converter=_pipeline_pool)
    return sum(doc.pages or 0 for doc in contract_set.documents)


def pipeline_rate(items: list[dict[str, Any]], workers: int) -> float:
    """Return the PDF pages per second of the sets made in memory, one process per worker.

    What `contractgen batch` does for each contract, without the batch around it:
    no input file, no validation report, no files written, offices started
    before the clock starts. The reference for how much the batch machinery costs.
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ready = context.Queue()
    with context.Pool(workers, initializer=_start_pipeline, initargs=(ready,)) as pool:
        for _ in range(workers):
            ready.get(timeout=120)
        start = time.perf_counter()
        pages = sum(pool.map(_pipeline_pages, items, chunksize=1))
        seconds = time.perf_counter() - start
        pool.close()
        pool.join()
    return pages / seconds


def convert_rate(items: list[dict[str, Any]], workers: int) -> float:
    """Return the PDF pages per second of LibreOffice alone converting the joined sets.

    One thread per worker of one ConverterPool; nothing but the conversion is timed.
    """
    import dataclasses
    from concurrent.futures import ThreadPoolExecutor

    from generator.docx.join import join
    from generator.kinds import parse
    from generator.office import ConverterPool
    from generator.pipeline import render_docx

    jobs = []
    for data in items:
        joined = join([doc.docx for doc in render_docx(parse(data)).documents])
        assert joined is not None
        sections = [dataclasses.asdict(s) for s in joined.sections]
        jobs.append((joined.docx, sections, joined.hanging_off))

    def convert(job: tuple[bytes, list[dict[str, str]], bool]) -> tuple[bytes, list[int]]:
        docx, sections, hanging_off = job  # as the pipeline asks for it
        return converter.convert_sections(docx, sections, hanging_off=hanging_off)

    with ConverterPool(workers) as converter, ThreadPoolExecutor(workers) as threads:
        list(threads.map(convert, jobs[:workers]))  # start
        start = time.perf_counter()
        results = list(threads.map(convert, jobs))
        seconds = time.perf_counter() - start
    return sum(sum(counts) for _, counts in results) / seconds


def docx_files(items: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Write every document of the contracts' sets as DOCX into ``folder``; return the files."""
    from generator.kinds import parse
    from generator.pipeline import render_docx

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for n, data in enumerate(items):
        for doc in render_docx(parse(data)).documents:
            path = folder / f"{n:05d}_{doc.kind}.docx"
            path.write_bytes(doc.docx)
            files.append(path)
    return files


def plain_office_rate(files: list[Path], processes: int, work: Path) -> tuple[float, float]:
    """Return the pages per second and CPU seconds of plain ``soffice --convert-to pdf``.

    ``processes`` offices side by side, each given its share of the files (every
    ``processes``-th one) in one start, each with a fresh profile and the fonts
    contractgen shows its offices (generator/fonts/fonts.conf); the clock runs from
    the first start to the last exit. No pool, no bridge, no joining, no PDF stage.
    """
    import os
    import subprocess

    from generator.office.environment import (
        FONTS_CONF,
        IMPORT_FILTERS,
        OFFICE_FLAGS,
        find_soffice,
        office_env,
    )
    from generator.pdf import page_count

    out = work / "plain-pdf"
    commands = []
    for n in range(processes):
        share = files[n::processes]
        profile = (work / f"plain-profile-{n}").resolve().as_uri()
        commands.append(
            [
                find_soffice(),
                *OFFICE_FLAGS,
                f"-env:UserInstallation={profile}",
                f"--infilter={IMPORT_FILTERS['.docx']}",
                "--convert-to",
                "pdf:writer_pdf_Export",
                "--outdir",
                str(out),
                *map(str, share),
            ]
        )
    start = time.perf_counter()
    running = [
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=office_env(FONTS_CONF),
        )
        for command in commands
    ]
    cpu = 0.0
    for process in running:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
    seconds = time.perf_counter() - start
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) == len(files), (len(pdfs), len(files))
    return sum(page_count(pdf.read_bytes()) for pdf in pdfs) / seconds, cpu


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Return the wall times of running an action ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU seconds (user and system, from /proc) the processes ``pids`` have used.

    A process already gone counts for nothing.
    """
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    """Return the median (the machines are shared and noisy)."""
    return statistics.median(values)


class PeakMemory:
    """Sample the proportional set size (PSS) of a process tree; keep the peak.

    PSS counts shared pages once, split among the processes sharing them, so
    the sum over LibreOffice workers and Python is the memory really in use.
    """

    def __init__(self, root_pid: int, interval: float = 0.1) -> None:
        import threading

        self.root_pid = root_pid
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        """Return the peak in MiB."""
        return self.peak_kib / 1024

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(parent, []).append(int(entry.name))
        found, todo = [self.root_pid], [self.root_pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(self._pss(pid) for pid in self._tree())
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(self.interval)
