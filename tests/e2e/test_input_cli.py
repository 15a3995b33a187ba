"""Hostile and clumsy contract files through the real CLI: refused, placed, nothing made."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..conftest import FIXTURES, SAMPLES, run_cli

INVALID = FIXTURES / "invalid"
INPUT = FIXTURES / "input"


@pytest.mark.parametrize(
    ("file", "path", "code"),
    [
        # read wrongly before: a key twice, booleans as numbers, aliases
        (INPUT / "duplicate_amount.yaml", "amount", "input.duplicate_key"),
        (INPUT / "duplicate_key.json", "payment.days", "input.duplicate_key"),
        (INPUT / "boolean_days.json", "payment.days", "type.integer"),
        (INPUT / "alias_bomb.yaml", "b[0]", "input.yaml_alias"),
        # text limits
        (INVALID / "text_too_long_project_name.yaml", "project_name", "text.too_long"),
        (INVALID / "list_too_long_other_documents.yaml", "other_documents", "list.too_long"),
        # characters that reorder, hide, break the DOCX or do not print
        (INVALID / "text_bidi_override.yaml", "supplier.name", "text.bidi"),
        (INVALID / "text_zero_width.yaml", "contract_no", "text.invisible"),
        (INVALID / "text_noncharacter.yaml", "other_terms", "text.noncharacter"),
        (INPUT / "lone_surrogate.json", "buyer.contact", "text.surrogate"),
        (INVALID / "text_c1_control.yaml", "buyer.address", "text.control"),
        (INVALID / "text_no_glyph_emoji.yaml", "buyer.contact", "text.no_glyph"),
        # the machinery's words, device names, dates a PDF cannot carry
        (INVALID / "text_seal_keyword.yaml", "other_terms", "text.reserved"),
        (INVALID / "contract_no_superscript_device.yaml", "contract_no", "contract_no.unsafe"),
        (INVALID / "date_year_0001.yaml", "sign_date", "date.range"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_render_refuses_with_the_field_and_makes_nothing(
    tmp_path: Path, file: Path, path: str, code: str
) -> None:
    out = tmp_path / "out"
    result = run_cli("render", file, "-o", out, "--format", "docx")
    assert result.returncode == 1, result.stderr
    # the field by its title with its path beside it (a file that cannot be read: the path)
    assert f"（{path}）：" in result.stderr or f": {path}: " in result.stderr
    assert f"[{code}]" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: d / "zero.yaml", "input.not_file"),
        (lambda d: d / "deep.json", "input.too_deep"),
        (lambda d: d / "deep.yaml", "input.too_deep"),
        (lambda d: d / "big-integer.json", "input.number_too_long"),
    ],
    ids=["dev-zero", "deep-json", "deep-yaml", "big-integer"],
)
def test_validate_refuses_bombs_with_a_code(tmp_path: Path, make: object, code: str) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.yaml").write_text("- " * 100_000 + "x\n")
    (tmp_path / "big-integer.json").write_text('{"amount": ' + "9" * 5000 + "}")
    file = make(tmp_path)  # type: ignore[operator]
    result = run_cli("validate", file)
    assert result.returncode == 1
    assert f"[{code}]" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_reports_every_file() -> None:
    files = [
        INPUT / "duplicate_amount.yaml",
        SAMPLES / "seed.yaml",
        INVALID / "date_year_0001.yaml",
    ]
    result = run_cli("validate", *files)
    assert result.returncode == 1
    assert "[input.duplicate_key]" in result.stderr
    assert "有效" in result.stdout
    assert "[date.range]" in result.stderr


def test_rare_ideographs_print_from_an_embedded_font(tmp_path: Path) -> None:
    # 𪚥 (U+2A6A5, Extension B) and 𫝀 (U+2B740, Extension D) are in people's names;
    # Noto CJK lacks them, HanaMinB (fonts-hanazono) has them.
    text = (SAMPLES / "seed.yaml").read_text(encoding="utf-8")
    text = text.replace("  contact: 黄旻", "  contact: 黄𪚥").replace(
        "name: 高吉瑞", "name: 高𫝀瑞"
    )
    contract = tmp_path / "rare.yaml"
    contract.write_text(text, encoding="utf-8")
    result = run_cli("render", contract, "-o", tmp_path / "out", "--format", "pdf")
    assert result.returncode == 0, result.stderr
    pdf = next((tmp_path / "out").glob("*/01_*.pdf"))

    words = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True)
    assert "联系人：黄𪚥" in words.stdout
    assert "高𫝀瑞" in words.stdout

    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert any("HanaMin" in row for row in rows)
    assert all(row.split()[-5] == "yes" for row in rows), fonts.stdout  # the emb column
