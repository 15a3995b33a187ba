"""Measure DOCX→PDF conversion: the persistent ConverterPool against one soffice per file.

Usage::

    .venv/bin/python benchmarks/bench_convert.py [DOCX] [-n 40] [--workers 2]

Without DOCX it writes a ~14-page Chinese contract-like document with python-docx.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from generator.office import ConverterPool, convert_once
from generator.pdf import page_count as pdf_page_count

CLAUSE = (
    "甲乙双方本着平等互利的原则，经友好协商，就上海市大数据中心数字化项目运维和综合保障服务"
    "达成如下条款，以资共同遵守。乙方应按照合同约定的服务范围、服务内容和服务标准，"
    "在服务期内提供7×24小时的运维保障，并于每月5日前提交上月服务报告。"
    "Service Level Agreement: 99.9% availability, response within 30 minutes."
)


def styled_run(paragraph: object, text: str, east_asia: str, size: float) -> None:
    """Add a run whose Chinese font is ``east_asia`` and Latin font Times New Roman."""
    run = paragraph.add_run(text)  # type: ignore[attr-defined]
    run.font.name = "Times New Roman"
    run.font.size = Pt(size)
    run._element.get_or_add_rPr().rFonts.set(qn("w:eastAsia"), east_asia)


def make_document(path: Path, articles: int = 17) -> None:
    """Write a contract-like DOCX of about fourteen pages to ``path``."""
    doc = Document()
    styled_run(doc.add_paragraph(), "政府采购服务合同", "黑体", 22)
    for number in range(1, articles + 1):
        styled_run(doc.add_paragraph(), f"第{number}条 服务内容与要求", "黑体", 14)
        for clause in range(1, 5):
            styled_run(doc.add_paragraph(), f"{number}.{clause} {CLAUSE}", "宋体", 12)
        styled_run(doc.add_paragraph(), "验收方式：☑ 一次性验收  ☐ 分期验收", "仿宋_GB2312", 12)
    table = doc.add_table(rows=6, cols=4)
    for row in table.rows:
        for cell in row.cells:
            cell.text = "壹佰伍拾柒万捌仟元整"
    doc.save(str(path))


def pages(pdf: Path) -> int:
    """Return the number of pages of a PDF."""
    return pdf_page_count(pdf.read_bytes())


def report(name: str, seconds: list[float], page_count: int, wall: float) -> float:
    """Print the figures of one run and return its throughput in documents per second."""
    docs_per_s = len(seconds) / wall
    print(
        f"{name:<28} n={len(seconds):<3} median {statistics.median(seconds):6.3f} s/doc  "
        f"min {min(seconds):6.3f}  max {max(seconds):6.3f}  "
        f"{docs_per_s:6.2f} docs/s  {docs_per_s * page_count:7.1f} pages/s"
    )
    return docs_per_s


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docx", nargs="?", type=Path, help="document to convert")
    parser.add_argument("-n", type=int, default=40, help="pool conversions (naive: n/4)")
    parser.add_argument("--workers", type=int, default=None, help="pool size (default: cores)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        work = Path(tmp)
        source = args.docx
        if source is None:
            source = work / "contract.docx"
            make_document(source)
        data = source.read_bytes()

        with ConverterPool(args.workers) as pool:
            start = time.perf_counter()
            first = pool.convert_bytes(data)
            cold = time.perf_counter() - start
            (work / "first.pdf").write_bytes(first)
            page_count = pages(work / "first.pdf")
            print(f"document: {source} ({len(data)} bytes, {page_count} pages)")
            print(f"pool: {pool.size} workers; first conversion incl. start-up {cold:.3f} s")

            def timed(_: int) -> float:
                began = time.perf_counter()
                pool.convert_bytes(data)
                return time.perf_counter() - began

            # Warm every worker so that start-ups do not count as conversions.
            with ThreadPoolExecutor(pool.size) as ex:
                list(ex.map(timed, range(pool.size)))

            start = time.perf_counter()
            sequential = [timed(i) for i in range(args.n)]
            seq_rate = report("pool, 1 caller", sequential, page_count, time.perf_counter() - start)

            start = time.perf_counter()
            with ThreadPoolExecutor(pool.size) as ex:
                parallel = list(ex.map(timed, range(args.n)))
            par_rate = report(
                f"pool, {pool.size} callers", parallel, page_count, time.perf_counter() - start
            )
            print(f"pool stats: {pool.stats}")

        naive_n = max(1, args.n // 4)
        naive: list[float] = []
        start = time.perf_counter()
        for i in range(naive_n):
            began = time.perf_counter()
            convert_once(source, work / f"once{i}")
            naive.append(time.perf_counter() - began)
        naive_rate = report(
            "naive soffice per file", naive, page_count, time.perf_counter() - start
        )

    print(
        f"ratio pool/naive: {seq_rate / naive_rate:.1f}x (1 caller), "
        f"{par_rate / naive_rate:.1f}x ({pool.size} callers); "
        f"median {statistics.median(naive) / statistics.median(sequential):.1f}x faster per doc"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
