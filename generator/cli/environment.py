"""The options of ``serve`` and ``worker`` from ``CONTRACTGEN_*`` variables, and their logs.

Every option of ``contractgen serve`` and ``contractgen worker`` can also be given
as an environment variable, its long name in capitals with ``_`` for ``-``
(``--max-body`` is ``CONTRACTGEN_MAX_BODY``, ``--no-ledger`` ``CONTRACTGEN_NO_LEDGER=1``):
the command line wins, then the environment, then the default. A variable's
value is checked as the option's would be; one that is not valid stops the
command with a usage error (exit status 2) naming the variable. An empty
variable counts as unset. Where an option belongs to a group of exclusive
options (``--ledger`` / ``--no-ledger``), one of the group given on the command
line sets the whole group aside from the environment.

:func:`add_operations` gives both commands ``--log-level`` and ``--log-format``
and declares the variables; :func:`from_environment` resolves a parsed command
line against the environment; :func:`table` writes the README's table of every
variable (a unit test checks that the README shows exactly that table).
"""

from __future__ import annotations

import argparse
import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..logs import FORMATS, LEVELS

__all__ = ["COMMANDS", "PREFIX", "add_operations", "from_environment", "table", "variables"]

PREFIX = "CONTRACTGEN_"
#: the commands whose options the environment may give
COMMANDS = ("serve", "worker")
#: variables read where they are used rather than here: (option, default) as the table shows
ELSEWHERE = {
    "CONTRACTGEN_KINDS": (
        "`--kinds` (every command: folders joined by `:`, added to those of `--kinds`)",
        "none",
    ),
    "CONTRACTGEN_CALLBACK_ALLOW": (
        "hosts a job's callback may reach over http or at an internal address (serve)",
        "none: https to public addresses only",
    ),
    "CONTRACTGEN_CALLBACK_KEY": (
        "the callback key itself (serve; `--callback-key-file` wins)",
        "none: no callbacks",
    ),
    "CONTRACTGEN_TOKEN": (
        "the token itself, at least 20 characters (serve; `--token-file` wins; empty is an error)",
        "none: no authentication",
    ),
    "CONTRACTGEN_SESSION_SECRET": (
        "the workbench's session key (serve; the same on every replica)",
        "a key of the process: sessions end with it",
    ),
    "CONTRACTGEN_LEDGER_KEY_FILE": (
        "`--ledger-key` (every command): the ledger's signing key, a PEM file only its owner "
        "may read; issuing needs it",
        "none: nothing can be issued",
    ),
    "CONTRACTGEN_LEDGER_PUBKEY": (
        "`--ledger-pubkey` (verify, ledger check and queries; the service's verification): "
        "public keys, PEM files joined by `:`",
        "the signing key's own",
    ),
    "CONTRACTGEN_USER": (
        "who the ledger records for the command line (every command but serve)",
        "the OS user@host",
    ),
}
#: the defaults the table shows for options whose default is computed, or absent
_SHOWN = {
    "workers": "one per core",
    "token_file": "none (`CONTRACTGEN_TOKEN`)",
    "users": "none: no named users",
    "allowed_host": "the listening address, localhost, 127.0.0.1",
    "max_connections": "from the open-file limit, at most 1000",
    "queue": "as many as rendering slots",
    "templates": "the built-in templates",
    "ledger": "the user's SQLite file",
    "broker": "none: no jobs",
    "jobs_dir": "`~/.local/share/contractgen/jobs`",
    "callback_key_file": "none (`CONTRACTGEN_CALLBACK_KEY`)",
    "concurrency": "one per core",
    "name": "`contractgen-PID@host`",
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class _Unset:
    """The default of an option the environment may give, until it is resolved."""

    def __repr__(self) -> str:
        return "<not given: see generator.cli.environment.from_environment>"


_UNSET = _Unset()


@dataclass(frozen=True)
class _Option:
    """One option of a command that a variable may give."""

    variable: str
    command: str
    parser: argparse.ArgumentParser
    action: argparse.Action
    default: Any
    required: bool


#: the options each top-level parser declared
_DECLARED: weakref.WeakKeyDictionary[argparse.ArgumentParser, list[_Option]] = (
    weakref.WeakKeyDictionary()
)


def _commands(parser: argparse.ArgumentParser) -> Mapping[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: Mapping[str, argparse.ArgumentParser] = action.choices
            return found
    return {}


def _variable(action: argparse.Action) -> str:
    longest = max(action.option_strings, key=len)
    return PREFIX + longest.lstrip("-").upper().replace("-", "_")


def add_operations(parser: argparse.ArgumentParser) -> None:
    """Give ``serve`` and ``worker`` their log options, and their options their variables.

    Call it once the commands are all added. A command line parsed with the parser
    must then go through :func:`from_environment`: until then, the options the
    environment may give hold a placeholder.
    """
    declared: list[_Option] = []
    for command in COMMANDS:
        sub = _commands(parser)[command]
        sub.add_argument(
            "--log-level",
            choices=LEVELS,
            default="info",
            help="日志级别（默认 info）",
        )
        sub.add_argument(
            "--log-format",
            choices=FORMATS,
            default="plain",
            help="日志格式：plain 为带时间与级别的文本行，json 为每行一个 JSON 对象（默认 plain）",
        )
        for action in sub._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, argparse._HelpAction):
                continue
            option = _Option(
                _variable(action), command, sub, action, action.default, action.required
            )
            declared.append(option)
            action.default, action.required = _UNSET, False
            action.help = f"{action.help or ''}［环境变量 {option.variable}］"
    _DECLARED[parser] = declared


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"应为 1/true/yes/on 或 0/false/no/off，不是 {text!r}")


def _converted(option: _Option, text: str) -> Any:
    """Return a variable's value as the option's, or stop with a usage error naming it."""
    action = option.action
    try:
        if action.nargs == 0:  # a flag: --no-ledger
            return _flag(text)
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
        option.parser.error(f"环境变量 {option.variable} 的值无效：{exc}")
    if action.choices is not None and value not in action.choices:
        choices = "、".join(map(str, action.choices))
        option.parser.error(f"环境变量 {option.variable} 应为 {choices} 之一，不是 {text!r}")
    return value


def _given_groups(option: _Option, args: argparse.Namespace) -> bool:
    """Tell whether another option of this option's exclusive group was on the command line."""
    for group in option.parser._mutually_exclusive_groups:
        if option.action in group._group_actions:
            return any(
                getattr(args, other.dest, _UNSET) is not _UNSET
                for other in group._group_actions
                if other is not option.action
            )
    return False


def from_environment(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
) -> argparse.Namespace:
    """Fill the options the command line did not give from the environment, else the defaults."""
    environ = os.environ if environ is None else environ
    options = [o for o in _DECLARED.get(parser, []) if o.command == getattr(args, "command", "")]
    grouped = {id(o): _given_groups(o, args) for o in options}
    for option in options:
        dest = option.action.dest
        if getattr(args, dest, _UNSET) is not _UNSET:
            continue  # the command line's
        text = environ.get(option.variable, "")
        if text and not grouped[id(option)]:
            setattr(args, dest, _converted(option, text))
        elif option.required:
            option.parser.error(
                f"缺少参数：{option.action.option_strings[-1]}（或环境变量 {option.variable}）"
            )
        else:
            setattr(args, dest, option.default)
    return args


def variables(parser: argparse.ArgumentParser) -> list[str]:
    """Return every variable the command line reads, sorted."""
    return sorted({o.variable for o in _DECLARED.get(parser, [])} | set(ELSEWHERE))


def _default(option: _Option) -> str:
    if option.required:
        return "required"
    if option.default is None:
        return _SHOWN.get(option.action.dest, "none")
    if option.default is False:
        return "off"
    if isinstance(option.default, float) and option.default.is_integer():
        return f"`{int(option.default)}`"
    return f"`{option.default}`"


def table(parser: argparse.ArgumentParser) -> str:
    """Return the Markdown table of every variable: the option it gives, and its default."""
    rows = ["| variable | option | default |", "|---|---|---|"]
    declared = _DECLARED.get(parser, [])
    for variable in variables(parser):
        if variable in ELSEWHERE:
            option_text, default = ELSEWHERE[variable]
            rows.append(f"| `{variable}` | {option_text} | {default} |")
            continue
        mine = [o for o in declared if o.variable == variable]
        flag = max(mine[0].action.option_strings, key=len)
        commands = ", ".join(o.command for o in mine)
        defaults = {_default(o) for o in mine}
        if len(defaults) == 1:
            default = defaults.pop()
        else:
            default = "; ".join(f"{o.command}: {_default(o)}" for o in mine)
        rows.append(f"| `{variable}` | `{flag}` ({commands}) | {default} |")
    return "\n".join(rows) + "\n"
