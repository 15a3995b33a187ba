"""``contractgen completion bash|zsh``: a shell completion script made from the parser itself.

The script is generated from :func:`generator.cli.build_parser`: every command and
subcommand, their options (with their choices, and files or folders where an option
or argument is a path), so it never falls behind the command line. Install it with
``contractgen completion bash > ~/.local/share/bash-completion/completions/contractgen``
or ``contractgen completion zsh > "${fpath[1]}/_contractgen"``.
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SHELLS",
    "Command",
    "Option",
    "Value",
    "add_completion_command",
    "bash_script",
    "commands_of",
    "script",
    "zsh_script",
]

#: the shells a script is made for
SHELLS = ("bash", "zsh")
#: the help of -h/--help (argparse's own is in English)
_HELP = "显示帮助并退出"


@dataclass(frozen=True, slots=True)
class Value:
    """What an option's value or a positional argument is: choices, a file, a folder, or text."""

    choices: tuple[str, ...] = ()
    #: "file", "dir" or "" (free text: nothing to complete)
    path: str = ""
    metavar: str = ""
    #: how many: "1", "?" (optional) or "*" (any number; an option given again and again)
    count: str = "1"


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a command: its spellings, its help, and its value (None: a flag)."""

    flags: tuple[str, ...]
    help: str
    value: Value | None


@dataclass(slots=True)
class Command:
    """One command of the line (the top level has the empty path)."""

    path: tuple[str, ...]
    help: str
    options: list[Option] = field(default_factory=list)
    positionals: list[Value] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Return the command's path as one string ("" for the top level)."""
        return " ".join(self.path)


def _value(action: argparse.Action) -> Value:
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    choices = tuple(str(c) for c in action.choices) if action.choices else ()
    path = ""
    if not choices and action.type is Path:
        path = "dir" if metavar == "DIR" else "file"
    if isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+"):
        count = "*"
    else:
        count = "?" if action.nargs == "?" else "1"
    return Value(choices, path, metavar or action.dest.upper(), count)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if isinstance(action, argparse._HelpAction):
        return _HELP
    if not action.help:
        return ""
    return " ".join(parser._get_formatter()._expand_help(action).split())


def commands_of(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = (), summary: str = ""
) -> Command:
    """Return the command tree of ``parser``: its options, arguments and subcommands."""
    command = Command(path, summary)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                command.commands.append(commands_of(sub, (*path, name), helps.get(name, "")))
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            value = None if action.nargs == 0 else _value(action)
            flags = tuple(action.option_strings)
            command.options.append(Option(flags, _help(parser, action), value))
        else:
            command.positionals.append(_value(action))
    return command


def _walk(command: Command) -> list[Command]:
    return [command, *(c for sub in command.commands for c in _walk(sub))]


def _kind(value: Value) -> str:
    """Return how bash completes a value: ``choices A B``, ``file``, ``dir`` or ``none``."""
    if value.choices:
        return "choices " + " ".join(value.choices)
    return value.path or "none"


def _arm(patterns: list[str], body: str) -> str:
    return f"        {'|'.join(shlex.quote(p) for p in patterns)}) {body} ;;"


def bash_script(top: Command) -> str:
    """Return the bash completion script of the command tree ``top``."""
    commands = _walk(top)
    subs, options, values, positionals = [], [], [], []
    for c in commands:
        if c.commands:
            names = " ".join(s.path[-1] for s in c.commands)
            subs.append(_arm([c.key], f"echo {shlex.quote(names)}"))
        flags = " ".join(f for o in c.options for f in o.flags)
        options.append(_arm([c.key], f"echo {shlex.quote(flags)}"))
        for o in c.options:
            if o.value is not None:
                patterns = [f"{c.key}|{f}" for f in o.flags]
                values.append(_arm(patterns, f"echo {shlex.quote(_kind(o.value))}"))
        kinds = sorted({_kind(p) for p in c.positionals} - {"none"})
        if kinds:
            positionals.append(_arm([c.key], f"echo {shlex.quote(kinds[0])}"))
    return _BASH.format(
        commands="\n".join(subs),
        options="\n".join(options),
        values="\n".join(values),
        positionals="\n".join(positionals),
    )


_BASH = """\
# bash completion for contractgen (made by: contractgen completion bash)
# source <(contractgen completion bash), or save it as
# ~/.local/share/bash-completion/completions/contractgen

__contractgen_commands() {{
    case "$1" in
{commands}
    esac
}}

__contractgen_options() {{
    case "$1" in
{options}
    esac
}}

# how an option's value is completed: "choices A B", "file", "dir" or "none"; nothing for a flag
__contractgen_value() {{
    case "$1|$2" in
{values}
    esac
}}

__contractgen_positional() {{
    case "$1" in
{positionals}
    esac
}}

__contractgen_reply() {{
    local cur=$2
    case "$1" in
        choices\\ *) mapfile -t COMPREPLY < <(compgen -W "${{1#choices }}" -- "$cur") ;;
        file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        dir) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
        *) COMPREPLY=() ;;
    esac
}}

_contractgen() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} path="" pending="" word i subs
    COMPREPLY=()
    # the command typed so far, skipping options and their values
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ -n $pending ]]; then
            pending=""
            continue
        fi
        case $word in
            --*=*) ;;
            -*) pending=$(__contractgen_value "$path" "$word") ;;
            *)
                subs=" $(__contractgen_commands "$path") "
                [[ $subs == *" $word "* ]] && path=${{path:+$path }}$word
                ;;
        esac
    done
    if [[ -n $pending ]]; then
        __contractgen_reply "$pending" "$cur"
    elif [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(__contractgen_options "$path")" -- "$cur")
    else
        subs=$(__contractgen_commands "$path")
        if [[ -n $subs ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
        else
            __contractgen_reply "$(__contractgen_positional "$path")" "$cur"
        fi
    fi
}}

complete -F _contractgen contractgen
"""


def _zsh_quote(text: str) -> str:
    """Quote ``text`` for a single-quoted _arguments spec (brackets and colons escaped)."""
    escaped = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return escaped.replace(":", "\\:").replace("'", "'\\''")


def _zsh_action(value: Value) -> str:
    if value.choices:
        return "(" + " ".join(value.choices) + ")"
    return {"file": "_files", "dir": "_files -/"}.get(value.path, " ")


def _zsh_function(command: Command) -> list[str]:
    name = "_contractgen" + "".join(f"_{p.replace('-', '_')}" for p in command.path)
    specs = []
    for o in command.options:
        flags = o.flags[0] if len(o.flags) == 1 else "{" + ",".join(o.flags) + "}"
        exclusive = f"'({' '.join(o.flags)})'" if len(o.flags) > 1 else ""
        if o.value is not None and o.value.count == "*":
            exclusive, flags = "", f"'*'{flags}"
        spec = f"'[{_zsh_quote(o.help)}]" if o.help else "'"
        if o.value is not None:
            spec += f":{_zsh_quote(o.value.metavar)}:{_zsh_action(o.value)}"
        specs.append(f"{exclusive}{flags}{spec}'")
    lines = [f"{name}() {{"]
    if command.commands:
        described = " ".join(
            f"'{_zsh_quote(c.path[-1])}:{_zsh_quote(c.help)}'" for c in command.commands
        )
        specs += ["'1: :->command'", "'*:: :->argument'"]
        lines += [
            "    local curcontext=$curcontext state line",
            f"    local -a commands=({described})",
            "    _arguments -C \\",
            *(f"        {s} \\" for s in specs),
            "        && return",
            "    case $state in",
            "        command) _describe -t commands 'contractgen 命令' commands ;;",
            "        argument)",
            "            case $line[1] in",
            *(
                f"                {c.path[-1]}) {name}_{c.path[-1].replace('-', '_')} ;;"
                for c in command.commands
            ),
            "            esac",
            "            ;;",
            "    esac",
        ]
    else:
        for p in command.positionals:
            where = {"1": "", "?": ":"}.get(p.count, "*")
            specs.append(f"'{where}:{_zsh_quote(p.metavar)}:{_zsh_action(p)}'")
        lines += ["    _arguments -s \\", *(f"        {s} \\" for s in specs), "        && return"]
    lines.append("}")
    return lines


def zsh_script(top: Command) -> str:
    """Return the zsh completion script of the command tree ``top``."""
    lines = [
        "#compdef contractgen",
        "# zsh completion for contractgen (made by: contractgen completion zsh)",
        '# save it as _contractgen in a folder of $fpath, e.g. "${fpath[1]}/_contractgen"',
        "",
    ]
    for command in _walk(top):
        lines += [*_zsh_function(command), ""]
    lines.append('_contractgen "$@"')
    return "\n".join(lines) + "\n"


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """Return the completion script of ``parser`` for ``shell`` (one of :data:`SHELLS`)."""
    top = commands_of(parser)
    return bash_script(top) if shell == "bash" else zsh_script(top)


def _cmd_completion(args: argparse.Namespace) -> int:
    from .main import build_parser

    print(script(args.shell, build_parser()), end="")
    return 0


def add_completion_command(commands: Any) -> None:
    """Add ``completion bash|zsh`` to the command line."""
    completion = commands.add_parser("completion", help="输出 shell 补全脚本（bash 或 zsh）")
    completion.add_argument("shell", choices=SHELLS, help="shell 类型")
    completion.set_defaults(func=_cmd_completion)
