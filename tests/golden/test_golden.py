"""Golden text: each sample rendered, its text compared with a checked-in file.

Run ``pytest tests/golden --update-golden`` to rewrite the files after an
intended change, and read the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.inputs.load import load_data
from generator.kinds import parse
from generator.pipeline import render_docx

from ..builtin import KINDS
from ..conftest import SAMPLES
from ..docx_text import docx_text, header_footer_text

GOLDEN = Path(__file__).resolve().parent
CASES = [(sample, kind) for sample in sorted(SAMPLES.glob("*.yaml")) for kind in KINDS]


@pytest.mark.parametrize(("sample", "kind"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_rendered_text_matches_golden(
    sample: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    contract_set = render_docx(parse(load_data(sample)))
    document = next(d for d in contract_set.documents if d.kind == kind)
    text = f"[页眉/页脚]\n{header_footer_text(document.docx)}\n[正文]\n{docx_text(document.docx)}"
    golden = GOLDEN / sample.stem / f"{kind}.txt"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}: run pytest --update-golden"
    assert text == golden.read_text(encoding="utf-8")
