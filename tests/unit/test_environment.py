"""The options of serve and worker from CONTRACTGEN_* variables, and the README's table of them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from generator.cli import build_parser
from generator.cli.environment import from_environment, table, variables

from ..conftest import ROOT


def _parsed(argv: list[str], environ: dict[str, str]) -> argparse.Namespace:
    parser = build_parser()
    return from_environment(parser, parser.parse_args(argv), environ)


def test_the_readme_shows_exactly_the_variables_the_parser_knows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = table(build_parser())
    assert expected in readme, f"README's table of variables should be:\n{expected}"
    shown = {
        line.split("`")[1]
        for line in readme.split(expected.splitlines()[0], 1)[1].split("\n\n", 1)[0].splitlines()
        if line.startswith("| `CONTRACTGEN_")
    }
    assert shown == set(variables(build_parser()))
    assert {"CONTRACTGEN_PORT", "CONTRACTGEN_BROKER", "CONTRACTGEN_LOG_FORMAT"} <= shown


def test_the_command_line_wins_then_the_environment_then_the_default() -> None:
    environ = {"CONTRACTGEN_PORT": "9001", "CONTRACTGEN_TIMEOUT": "30", "CONTRACTGEN_HOST": ""}
    args = _parsed(["serve", "--timeout", "45"], environ)
    assert (args.port, args.timeout, args.host) == (9001, 45.0, "127.0.0.1")  # "" is unset
    assert (args.max_body, args.workers, args.log_format) == (1 << 20, None, "plain")
    given = _parsed(["serve", "--port", "9002"], {"CONTRACTGEN_PORT": "not a port"})
    assert given.port == 9002  # a variable the command line overrides is not even read
    paths = _parsed(["serve"], {"CONTRACTGEN_JOBS_DIR": "/srv/jobs", "CONTRACTGEN_QUEUE": "3"})
    assert (paths.jobs_dir, paths.queue) == (Path("/srv/jobs"), 3)


def test_flags_and_exclusive_groups() -> None:
    ledger = "sqlite:////tmp/x.db"
    off = _parsed(["worker", "--broker", "redis://h/0"], {"CONTRACTGEN_NO_LEDGER": "yes"})
    assert off.no_ledger is True
    on = _parsed(["serve", "--ledger", ledger], {"CONTRACTGEN_NO_LEDGER": "1"})
    assert (on.ledger, on.no_ledger) == (ledger, False)  # the group was given: no variable
    env = _parsed(["serve", "--no-ledger"], {"CONTRACTGEN_LEDGER": ledger})
    assert (env.ledger, env.no_ledger) == (None, True)
    both = _parsed(["serve"], {"CONTRACTGEN_LEDGER": ledger, "CONTRACTGEN_NO_LEDGER": "off"})
    assert (both.ledger, both.no_ledger) == (ledger, False)


def test_the_worker_s_broker_from_the_environment() -> None:
    args = _parsed(["worker"], {"CONTRACTGEN_BROKER": "redis://h:6379/1"})
    assert (args.broker, args.concurrency, args.log_level) == ("redis://h:6379/1", None, "info")


@pytest.mark.parametrize(
    ("argv", "variable", "value", "said"),
    [
        (["serve"], "CONTRACTGEN_PORT", "eighty", "应为整数"),
        (["serve"], "CONTRACTGEN_MAX_BODY", "99999999999", "之间"),
        (["serve"], "CONTRACTGEN_LOG_LEVEL", "loud", "debug、info、warning、error"),
        (["worker", "--broker", "redis://h/0"], "CONTRACTGEN_CONCURRENCY", "0", "1 到 64"),
        (["worker", "--broker", "redis://h/0"], "CONTRACTGEN_NO_LEDGER", "maybe", "true"),
    ],
)
def test_a_value_that_is_not_valid_is_a_usage_error_naming_the_variable(
    argv: list[str], variable: str, value: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        _parsed(argv, {variable: value})
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"错误：环境变量 {variable}" in err and said in err, err


def test_a_missing_broker_names_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        _parsed(["worker"], {})
    assert stopped.value.code == 2
    assert "缺少参数：--broker（或环境变量 CONTRACTGEN_BROKER）" in capsys.readouterr().err
