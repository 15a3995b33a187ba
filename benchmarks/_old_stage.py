"""The post-processing before the rebuild, timed: run by bench_postprocess.py, not by hand.

Runs with ``PYTHONPATH`` set to a git worktree of the last commit before the
PDF stage was rebuilt (d1ad635), whose ``generator.pdfdoc`` and
``generator.seal`` are imported from there. Reads a job (JSON: the raw PDFs'
paths, the joined set's page counts, the metadata, the rounds) from the
file named on the command line and prints, as JSON, the CPU seconds of each
round (this process plus the pdftotext children it waits for) of what the
old ``generator.pipeline.add_pdfs`` ran after LibreOffice:

* joined: ``pdfdoc.split`` (documents and bundle), then per document
  ``seal.add_seal_fields`` and ``pdfdoc.page_count``, and the bundle's count;
* one by one: per document ``pdfdoc.finish``, ``seal.add_seal_fields``,
  ``pdfdoc.page_count``; then ``pdfdoc.bundle`` and its count.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage
from typing import Any


def cpu() -> float:
    """Return the CPU seconds used so far by this process and its waited-for children."""
    own, children = getrusage(RUSAGE_SELF), getrusage(RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    import generator
    from generator import pdfdoc, seal  # type: ignore[attr-defined]

    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    meta: dict[str, Any] = {
        "subject": job["subject"],
        "author": job["author"],
        "date": dt.date.fromisoformat(job["date"]),
    }
    title = job["bundle_title"]
    raws = [(kind, name, Path(path).read_bytes()) for kind, name, path in job["documents"]]
    joined = Path(job["joined"]).read_bytes()
    named = [(name, pages) for (_, name, _), pages in zip(raws, job["counts"], strict=True)]

    def joined_set() -> bytes:
        documents, whole = pdfdoc.split(joined, named, title=title, **meta)
        for (kind, _, _), document in zip(raws, documents, strict=True):
            sealed, _ = seal.add_seal_fields(document, kind)
            pdfdoc.page_count(sealed)
        pdfdoc.page_count(whole)
        return bytes(whole)

    def one_by_one() -> bytes:
        parts = []
        for kind, name, raw in raws:
            finished = pdfdoc.finish(raw, title=name, **meta)
            sealed, _ = seal.add_seal_fields(finished, kind)
            pdfdoc.page_count(sealed)
            parts.append((name, finished))
        whole = pdfdoc.bundle(parts, title=title, **meta)
        pdfdoc.page_count(whole)
        return bytes(whole)

    times: dict[str, list[float]] = {"joined": [], "one_by_one": []}
    outputs: set[bytes] = set()
    for _ in range(job["repeat"]):
        for name, action in (("joined", joined_set), ("one_by_one", one_by_one)):
            start = cpu()
            outputs.add(action())
            times[name].append(cpu() - start)
    result = {
        **times,
        "generator": str(Path(generator.__file__).resolve().parent),
        "c_module": pdfdoc._eexec_c is not None,
        "deterministic": len(outputs) == 2,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
