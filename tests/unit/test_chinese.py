"""Nothing a clerk reads is in English: every Chinese message of the package, word by word.

The message catalogue is every string of the package that holds Chinese (what the CLI,
the workbench, the reports and the errors say), docstrings left out. A Latin word in one
must be a name (of a program, a format, a command or option of this CLI, a key a person
writes in a file) or it is English a clerk would read. Codes, paths and identifiers
(``postcode.format``, ``--ledger``, ``CONTRACTGEN_TOKEN``, ``{year}``) are not words.
"""

from __future__ import annotations

import ast
import re

from generator.cli import build_parser

from ..conftest import ROOT

PACKAGE = ROOT / "generator"
#: where English is for developers: the OpenAPI reference of the HTTP interface (read by
#: the e-signing platform's programmers) and the reader of 大写 back into a number, a
#: library function no face calls
FOR_DEVELOPERS = {
    "service/openapi.py",
    "service/app.py",
    "service/ledger_schemas.py",
    "domain/amount.py",
    # the shell code of the completion scripts
    "cli/completion.py",
}
#: names a Chinese text may hold: programs, formats, standards, products
NAMES = {
    "contractgen",
    "PDF",
    "DOCX",
    "JSON",
    "JSONL",
    "YAML",
    "CSV",
    "Excel",
    "xlsx",
    "zip",
    "HTTP",
    "URL",
    "API",
    "ID",
    "LibreOffice",
    "PostgreSQL",
    "SQLite",
    "Redis",
    "Celery",
    "Windows",
    "Word",
    "WPS",
    "Unicode",
    "UTF",
    "GB",
    "DTD",
    "README",
    "Schema",
    "MiB",
    "KB",
    "chinesecalendar",
    "docxtpl",
    "Jinja",
    "bash",
    "zsh",
    "shell",
    "ps",
    "chmod",
    "Authorization",
    # lowercase, as file names and URLs end
    "csv",
    "jsonl",
    "yaml",
    "yml",
    "http",
    "redis",
}
#: keys a person writes in a file this program reads (kind.yaml, a calendar, the log
#: formats), and the names of the templates' filters
KEYS = {
    "true",
    "false",
    "year",
    "notice",
    "holidays",
    "workdays",
    "seals",
    "choice",
    "choices",
    "fields",
    "id",
    "plain",
    "json",
    "info",
    "all",
    "letter",
    "wan",
    "tr",
    "commands",
    "tick",
    "upper",
    "source",
    "unused",
    "constants",
    "publication",
    "attachment",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
#: identifiers, paths, options, placeholders and codes: not words
CODE = re.compile(
    r"\{[^{}]*\}"  # a placeholder
    r"|(?<![A-Za-z])--?[A-Za-z][A-Za-z0-9-]*"  # an option
    r"|\$?[A-Za-z0-9_]+(?:[._/:=+@-]+[A-Za-z0-9_]+)+"  # a path, a code, a file name, a URL
    r"|[A-Za-z]+\d+[A-Za-z0-9]*|\d+[A-Za-z]+"  # U+202E, 2b, x86
    r"|(?<![A-Za-z])[A-Z][A-Z0-9_]{2,}(?![A-Za-z])"  # CONTRACTGEN_TOKEN, an acronym
)
WORD = re.compile(r"[A-Za-z]{2,}")


def _commands() -> set[str]:
    """Return every word of the CLI's commands and options (they are what a clerk types)."""
    words: set[str] = set()

    def visit(parser: object) -> None:
        for action in getattr(parser, "_actions", []):
            for option in action.option_strings:
                words.update(WORD.findall(option))
            choices = getattr(action, "choices", None) or {}
            for name in choices:
                words.update(WORD.findall(str(name)))
                if isinstance(choices, dict):
                    visit(choices[name])

    visit(build_parser())
    return words


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def _english() -> dict[str, list[str]]:
    allowed = NAMES | KEYS | _commands()
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name in FOR_DEVELOPERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if id(node) in docs or not CJK.search(node.value):
                continue
            for word in WORD.findall(CODE.sub(" ", node.value)):
                if word not in allowed:
                    found.setdefault(word, []).append(f"{name}:{node.lineno}")
    return found


def test_no_english_word_in_any_chinese_message() -> None:
    assert _english() == {}


def test_the_scan_finds_an_english_word() -> None:
    # the same scan over a message that slipped: it must be caught
    text = "合同已生成 (elapsed 1.2s)"
    words = [w for w in WORD.findall(CODE.sub(" ", text)) if w not in NAMES | KEYS]
    assert words == ["elapsed"]
