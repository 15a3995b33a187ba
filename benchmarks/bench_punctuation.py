"""The office's CPU for a joined set: hanging punctuation set at import against after loading.

LibreOffice 7.4 hangs full-width punctuation into the margin unless told not to. The
bridge used to turn it off once the document was loaded, and the office laid every page
out a second time; the joined file now says it in its paragraph defaults
(``generator/docx/join.py``) and the bridge sets nothing. Both ways convert the same
joined sets of varied contracts through one office, taking turns round by round; the
CPU seconds of the office's processes (from /proc) are counted for each way, and the
pages are compared: they must be the same.

    .venv/bin/python benchmarks/bench_punctuation.py [--contracts 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import contracts, cpu_seconds, median
from generator.docx.join import join
from generator.kinds import parse
from generator.office import ConverterPool
from generator.pdf.document import open_pdf
from generator.pipeline import render_docx

_ELEMENT = b'<w:overflowPunct w:val="1"/>'


def office_cpu(pool: ConverterPool) -> float:
    """Return the CPU seconds the pool's office processes have used."""
    return cpu_seconds(pool.office_pids())


def without_element(docx: bytes) -> bytes:
    """Return the joined file as it was before: no w:overflowPunct in its defaults."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        for name in source.namelist():
            data = source.read(name)
            if name == "word/styles.xml":
                assert data.count(_ELEMENT) == 1
                data = data.replace(_ELEMENT, b"")
            package.writestr(name, data)
    return out.getvalue()


def drawn(pdf: bytes) -> list[bytes]:
    """Return what each page draws."""
    with open_pdf(pdf) as doc:
        return [page.Contents.read_bytes() for page in doc.pages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    jobs = []
    for data in contracts(args.contracts):
        joined = join([doc.docx for doc in render_docx(parse(data)).documents])
        assert joined is not None and joined.hanging_off
        sections = [dataclasses.asdict(section) for section in joined.sections]
        jobs.append((joined.docx, without_element(joined.docx), sections))
    cpu: dict[str, list[float]] = {"at import": [], "after loading": []}
    with ConverterPool(1, recycle_after=None) as pool:
        pool.convert_sections(jobs[0][0], jobs[0][2], hanging_off=True)  # started, warm
        for _ in range(args.repeat):
            pages: dict[str, list[list[bytes]]] = {}
            for way in cpu:
                before = office_cpu(pool)
                made = []
                for docx, old, sections in jobs:
                    if way == "at import":
                        pdf, _ = pool.convert_sections(docx, sections, hanging_off=True)
                    else:
                        pdf, _ = pool.convert_sections(old, sections)
                    made.append(drawn(pdf))
                cpu[way].append((office_cpu(pool) - before) / len(jobs))
                pages[way] = made
            assert pages["at import"] == pages["after loading"], "the pages differ"
    new, old = median(cpu["at import"]), median(cpu["after loading"])
    print(f"The office's CPU a joined set, {args.contracts} contracts, medians of {args.repeat}")
    print(f"  hanging punctuation set at import    {new:.3f} CPU-s")
    print(f"  set by the bridge after loading      {old:.3f} CPU-s")
    print(f"  ratio {new / old:.2f}; the pages of every set the same both ways")


if __name__ == "__main__":
    main()
