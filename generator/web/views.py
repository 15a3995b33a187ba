"""The pages' templates (Jinja2, autoescaped, package data) and what they are given.

Every issue is shown beside the field its path names; an issue about a list or
an object (``payment.instalments``) beside that list, and all of them in the
summary. The ids of inputs and their message slots derive from the data path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .._version import __version__
from ..batch.report import STATUS_WORDS
from ..clock import beijing
from ..domain.amount import rmb_upper
from ..errors import AmountError, Issue
from ..kinds import registry
from .form import FieldSpec, GroupSpec, ListSpec, Node, label_of, list_rows, sections

__all__ = ["amount_upper", "environment", "issue_map", "page", "slot_paths"]


def _dom_id(path: str) -> str:
    """Return the id suffix of a data path: ``payment.instalments[0].percent`` → safe chars."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", path) or "root"


def _kind(node: Node) -> str:
    if isinstance(node, FieldSpec):
        return "field"
    return "group" if isinstance(node, GroupSpec) else "list"


@cache
def environment() -> Environment:
    """Return the template environment: the package's templates, HTML autoescaped."""
    env = Environment(
        loader=PackageLoader("generator.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dom_id"] = _dom_id
    env.filters["label"] = label_of
    env.filters["beijing"] = beijing  # every time on a page: stored UTC, shown 北京时间
    env.globals.update(
        kind=_kind,
        kinds=lambda: list(registry()),
        list_rows=list_rows,
        sections=sections,
        status_words=STATUS_WORDS,
        version=__version__,
    )
    return env


def page(name: str, **context: Any) -> str:
    """Return a template rendered with ``context``."""
    return environment().get_template(name).render(**context)


def amount_upper(text: str) -> str:
    """Return the 大写 of an amount as typed, or "" while it is not an amount yet."""
    text = text.strip()
    if not text:
        return ""
    try:
        return "人民币" + rmb_upper(text)
    except (AmountError, ArithmeticError, ValueError):
        return ""


def issue_map(issues: Iterable[Issue]) -> dict[str, list[Issue]]:
    """Return the issues by the path they name."""
    found: dict[str, list[Issue]] = {}
    for issue in issues:
        found.setdefault(issue.path, []).append(issue)
    return found


def _slots(node: Node, path: str, values: Mapping[str, str], out: list[str]) -> None:
    out.append(path)
    if isinstance(node, GroupSpec):
        for child in node.children:
            _slots(child, f"{path}.{child.name}" if path else child.name, values, out)
    elif isinstance(node, ListSpec):
        for index in range(list_rows(values, path)):
            item = node.item
            _slots(item, f"{path}[{index}]", values, out)


def slot_paths(values: Mapping[str, str]) -> list[str]:
    """Return the paths that have a message slot in the form as it stands."""
    out: list[str] = []
    for section in sections(values.get("kind")):
        for node in section.nodes:
            _slots(node, node.name, values, out)
    return out
