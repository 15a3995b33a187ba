"""The command line, run for real as a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import build_parser
from generator.inputs import load_data
from generator.kinds import parse

from ..builtin import KIND
from ..conftest import FIXTURES, ROOT, SAMPLES, run_cli


def test_validate_sample_exits_0() -> None:
    result = run_cli("validate", SAMPLES / "seed.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_validate_invalid_prints_one_line_per_issue() -> None:
    result = run_cli("validate", FIXTURES / "invalid" / "unknown_field.yaml", SAMPLES / "seed.yaml")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all("unknown_field.yaml: " in line for line in lines)
    # a declared field by its title, the path beside it; a misspelt key as it was typed
    titled = "unknown_field.yaml: 乙方 · 邮政编码（supplier.postcode）：必填项缺失 [required]"
    assert any(line.endswith(titled) for line in lines)
    assert any("supplier.postcod: " in line and line.endswith("[field.unknown]") for line in lines)


def test_validate_unreadable_file() -> None:
    result = run_cli("validate", "no-such-file.yaml")
    assert result.returncode == 1
    assert "文件不存在" in result.stderr


def test_validate_broken_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("buyer: [unclosed\n", encoding="utf-8")
    result = run_cli("validate", broken)
    assert result.returncode == 1
    assert "YAML" in result.stderr


@pytest.mark.parametrize(
    ("amount", "upper"),
    [("1578000", "壹佰伍拾柒万捌仟元整"), ("1409.50", "壹仟肆佰零玖元伍角整")],
)
def test_amount(amount: str, upper: str) -> None:
    result = run_cli("amount", amount)
    assert (result.returncode, result.stdout.strip()) == (0, upper)


@pytest.mark.parametrize("amount", ["1.005", "-1", "abc", "1e5", "10000000000000000"])
def test_amount_rejects(amount: str) -> None:
    result = run_cli("amount", "--", amount)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "金额" in result.stderr


def test_schema_prints_the_published_schema() -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    published = (ROOT / "schemas" / "om_service.schema.json").read_text(encoding="utf-8")
    assert result.stdout == published


def test_init_writes_a_valid_sample_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    assert run_cli("init", target).returncode == 0
    assert run_cli("validate", target).returncode == 0
    again = run_cli("init", target)
    assert again.returncode == 1
    assert "--force" in again.stderr


def test_init_xlsx_writes_the_blank_workbook_batch_reads(tmp_path: Path) -> None:
    target = tmp_path / "round.xlsx"
    made = run_cli("init", "--xlsx", target)
    assert made.returncode == 0, made.stderr
    from openpyxl import load_workbook

    assert load_workbook(target).sheetnames == ["合同", "付款分期", "验收内容与标准", "说明"]
    # a blank workbook holds no contract: the batch has nothing to make, and says so
    result = run_cli("batch", target, "-o", tmp_path / "out", "--no-ledger")
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "out" / "batch-report.json").read_text(encoding="utf-8")
    assert '"rows": 0' in report


def test_init_sample_is_the_bundled_seed(tmp_path: Path) -> None:
    packaged = KIND.sample
    assert packaged.read_bytes() == (SAMPLES / "seed.yaml").read_bytes()
    target = tmp_path / "new.yaml"
    assert run_cli("init", target).returncode == 0
    assert parse(load_data(target)) == parse(load_data(SAMPLES / "seed.yaml"))
    assert "# 法人；供应商法人姓名、性别" in target.read_text(encoding="utf-8")


def test_usage_error_exits_2() -> None:
    assert run_cli("frobnicate").returncode == 2


def _commands() -> list[list[str]]:
    found: list[list[str]] = []

    def visit(parser: object, prefix: list[str]) -> None:
        for action in getattr(parser, "_actions", []):
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                for name, sub in choices.items():
                    found.append([*prefix, name])
                    visit(sub, [*prefix, name])

    visit(build_parser(), [])
    return [c for c in found if not any(o[: len(c)] == c and len(o) > len(c) for o in found)]


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    # argparse's own words in Chinese too: 用法, 参数, 选项, and the help of -h
    assert result.stdout.startswith("用法：contractgen"), result.stdout
    assert "显示本帮助并退出" in result.stdout
    assert not {"usage", "positional", "options", "show this help"} & set(result.stdout.split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"contractgen {' '.join(command)}" in readme
