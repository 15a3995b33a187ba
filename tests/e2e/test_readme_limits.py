"""Every refusal the README documents, run for real through the command line.

The README's "Limits" section is the user's contract: its table names each
code a contract file can be refused with, and its "Exit statuses" paragraph the
status of invalid data and of a usage error. These tests read both from the
README itself, so a code documented without a case here, or a case whose code
the README does not list, fails; each case is then run as a user would, with
``contractgen validate`` and ``contractgen render``, and must be refused with
the code, a Chinese message naming the field, the documented exit status and
nothing written.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import ROOT, SAMPLES, run_cli
from ..unit.test_seal_blocks import DATED_NAME

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Limits", 1)[1].split("\n## ", 1)[0]
SEED = yaml.safe_load((SAMPLES / "seed.yaml").read_text(encoding="utf-8"))


def _documented_codes() -> set[str]:
    """Return the codes of the README's contract-data table (its "at the limit" column)."""
    table = SECTION.split("**Contract data**", 1)[1].split("\n\n", 2)[1]
    codes: set[str] = set()
    for row in table.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        codes.update(re.findall(r"`([a-z_]+\.[a-z_]+)`", cells[-1]))
    return codes


def _exit_status(what: str) -> int:
    """Return the exit status the README's "Exit statuses" paragraph gives for ``what``."""
    paragraph = SECTION.split("**Exit statuses**", 1)[1]
    found = re.search(rf"(\d+) {re.escape(what)}", paragraph)
    assert found, f"the README gives no exit status for {what!r}"
    return int(found.group(1))


# A case writes one contract file into a folder and returns it with the path the
# refusal must name ("" for the whole file).
Case = Callable[[Path], tuple[Path, str]]


def _with(field: str, value: Any, suffix: str = ".json") -> Case:
    """A case: the seed with ``field`` (dotted, list items by index) set to ``value``."""

    def write(folder: Path) -> tuple[Path, str]:
        data = copy.deepcopy(SEED)
        target: Any = data
        *parents, last = field.split(".")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
        path = folder / f"contract{suffix}"
        # escaped: a lone surrogate can only be written so ("\ud800"), as JSON allows
        path.write_text(json.dumps(data, default=str), encoding="utf-8")
        return path, re.sub(r"\.(\d+)", r"[\1]", field)

    return write


def _text(name: str, content: str | bytes, where: str = "") -> Case:
    """A case: a file of exactly this content."""

    def write(folder: Path) -> tuple[Path, str]:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path, where

    return write


def _folder(folder: Path) -> tuple[Path, str]:
    path = folder / "contract.yaml"
    path.mkdir()
    return path, ""


def _seed_yaml() -> str:
    return (SAMPLES / "seed.yaml").read_text(encoding="utf-8")


def _instalments(count: int) -> list[dict[str, Any]]:
    share = 100 // count
    rows = [{"percent": share, "condition": f"第{n + 1}期"} for n in range(count)]
    rows[-1]["percent"] += 100 - share * count
    return rows


CASES: dict[str, Case] = {
    "input.not_file": _folder,
    "input.encoding": _text("contract.yaml", _seed_yaml().encode("gb18030")),
    "input.type": _text("contract.txt", _seed_yaml()),
    "input.too_large": _text("contract.yaml", _seed_yaml() + "#" * (1 << 20) + "\n"),
    "input.too_deep": _text("contract.json", '{"x": ' * 40 + "1" + "}" * 40),
    "input.too_many_values": _text(
        "contract.yaml", _seed_yaml() + "extra: [" + ", ".join(["1"] * 20_001) + "]\n"
    ),
    "input.yaml_alias": _text(
        "contract.yaml",
        _seed_yaml().replace("sign_place: 网上签约", "sign_place: &p 网上签约") + "extra: *p\n",
    ),
    "input.duplicate_key": _text("contract.yaml", _seed_yaml() + "amount: 15780\n", "amount"),
    "input.number_too_long": _text(
        "contract.json",
        json.dumps(SEED, ensure_ascii=False, default=str).replace(
            '"amount": 1578000', '"amount": ' + "9" * 40
        ),
        "amount",
    ),
    "input.json": _text(
        "contract.json",
        json.dumps(SEED, ensure_ascii=False, default=str).replace(
            '"amount": 1578000', '"amount": NaN'
        ),
    ),
    "type.integer": _with("payment.days", True),
    "text.too_long": _with("project_name", "运维" * 101),
    "contract_no.unsafe": _with("contract_no", "A" * 65),
    "list.too_long": _with("payment.instalments", _instalments(25)),
    "date.range": _with("sign_date", "1999-12-31"),
    "text.bidi": _with("supplier.name", "上海众恒\u202e司公限有"),
    "text.invisible": _with("supplier.name", "上海众恒\u200b信息技术有限公司"),
    "text.control": _with("other_terms", "无\x07"),
    "text.noncharacter": _with("other_terms", "无\ufffe"),
    "text.surrogate": _with("other_terms", "无\ud800"),
    "text.private_use": _with("other_terms", "无\ue000"),
    "text.no_glyph": _with("other_terms", "很好\U0001f44d\U0001f3fd"),
    "text.reserved": _with("other_terms", "本合同经甲方（盖章）后生效"),
    "text.seal_block_date": _with("supplier.name", DATED_NAME),
}


def test_every_documented_code_has_a_case_and_every_case_is_documented() -> None:
    assert _documented_codes() == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_documented_refusal(code: str, tmp_path: Path) -> None:
    invalid = _exit_status("invalid data")
    source, where = CASES[code](tmp_path)
    checked = run_cli("validate", source)
    out = tmp_path / "out"
    made = run_cli("render", source, "-o", out)
    for result in (checked, made):
        said = result.stdout + result.stderr
        assert result.returncode == invalid, said
        assert "Traceback" not in said, said
        assert f"[{code}]" in said or f"({code})" in said or code in said, said
        assert re.search(r"[\u4e00-\u9fff]", said.replace(str(source), "")), said
        if where:
            assert where in said, said
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))


#: each usage error the README names, as a command; none may write anything
USAGE: dict[str, Callable[[Path], tuple[str | Path, ...]]] = {
    "a bad option or value": lambda tmp: (
        "render",
        SAMPLES / "seed.yaml",
        "-o",
        tmp / "o",
        "-f",
        "docs",
    ),
    "an output path that cannot be a folder": lambda tmp: (
        "render",
        SAMPLES / "seed.yaml",
        "-o",
        tmp / "file",
    ),
    "`init` into a missing folder": lambda tmp: ("init", tmp / "missing" / "contract.yaml"),
    "`--templates` that is not a folder": lambda tmp: (
        "render",
        SAMPLES / "seed.yaml",
        "-o",
        tmp / "o",
        "--templates",
        tmp / "file",
    ),
    "`--token`": lambda tmp: ("serve", "--token", "secret"),
}


def test_every_documented_usage_error_has_a_case() -> None:
    paragraph = SECTION.split("**Exit statuses**", 1)[1]
    listed = re.search(r"usage error \((.*?)\)", paragraph, re.S)
    assert listed, paragraph
    named = [part.strip() for part in re.split(r",\s*", listed.group(1).replace("\n", " "))]
    assert named == list(USAGE)


@pytest.mark.parametrize("what", list(USAGE))
def test_each_documented_usage_error(what: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))
    result = run_cli(*USAGE[what](tmp_path))
    assert result.returncode == _exit_status("usage error"), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "错误" in result.stderr, result.stderr
    assert sorted(tmp_path.rglob("*")) == before


def test_success_is_the_documented_status(tmp_path: Path) -> None:
    result = run_cli("validate", SAMPLES / "seed.yaml")
    assert result.returncode == _exit_status("success"), result.stderr
