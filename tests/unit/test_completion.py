"""Shell completion: the bash script made from the parser completes commands and options."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.cli import build_parser
from generator.cli.completion import commands_of, script

from ..conftest import run_cli


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "contractgen.bash"
    path.write_text(script("bash", build_parser()), encoding="utf-8")
    return path


def _complete(bash_script: Path, *words: str, cwd: Path | None = None) -> list[str]:
    """Return what bash offers for the last of ``words`` (the line typed so far)."""
    bash = shutil.which("bash")
    assert bash is not None, "bash is needed"
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
        'COMP_LINE="$*"; _contractgen; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        [bash, "--norc", "-c", program, "bash", str(bash_script), "contractgen", *words],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        cwd=cwd,
    )
    return [line for line in result.stdout.splitlines() if line]


def test_bash_completes_a_command(bash_script: Path) -> None:
    assert _complete(bash_script, "ren") == ["render"]
    assert set(_complete(bash_script, "")) >= {"render", "batch", "serve", "completion"}


def test_bash_completes_an_option_and_its_choices(bash_script: Path) -> None:
    assert "--format" in _complete(bash_script, "batch", "--fo")
    assert _complete(bash_script, "batch", "round.xlsx", "--format", "") == ["all", "docx", "pdf"]
    # an option's value is not taken for a command: still the batch's options after it
    assert "--publish" in _complete(bash_script, "batch", "-o", "out", "--pu")


def test_bash_completes_subcommands_after_global_options(bash_script: Path) -> None:
    assert _complete(bash_script, "--kinds", "mine", "ledger", "li") == ["list"]
    assert "--status" in _complete(bash_script, "ledger", "list", "--st")
    assert _complete(bash_script, "completion", "") == ["bash", "zsh"]


def test_bash_completes_paths_where_a_path_is_asked(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text("", encoding="utf-8")
    (tmp_path / "sets").mkdir()
    assert _complete(bash_script, "render", "se", cwd=tmp_path) == ["seed.yaml", "sets"]
    assert _complete(bash_script, "render", "seed.yaml", "-o", "se", cwd=tmp_path) == ["sets"]


def test_every_command_and_option_is_in_the_scripts() -> None:
    bash, zsh = script("bash", build_parser()), script("zsh", build_parser())
    top = commands_of(build_parser())
    stack = [top]
    while stack:
        command = stack.pop()
        stack.extend(command.commands)
        for name in command.path[-1:]:
            assert name in bash and f"{name}:" in zsh, name
        for option in command.options:
            for flag in option.flags:
                assert flag in bash and flag in zsh, (command.key, flag)
    assert "--token " not in bash  # the refused option is not offered


def test_the_completion_command_prints_the_script() -> None:
    for shell in ("bash", "zsh"):
        result = run_cli("completion", shell)
        assert result.returncode == 0, result.stderr
        assert result.stdout == script(shell, build_parser())
    refused = run_cli("completion", "fish")
    assert refused.returncode == 2
    assert "无效的选项" in refused.stderr
