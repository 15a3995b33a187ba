"""A kind's template context: every field ready to print, derived from its type.

=============  ===============================================================
type           in the context
=============  ===============================================================
text, choice   the text ("" when left out)
integer        the number
amount         ``1578000`` or ``1409.50``, and beside it ``<key>_upper``: 壹佰伍拾柒万捌仟元整
percent        ``70`` (no trailing zeros)
date           ``2026年01月16日`` ("" when left out)
yesno          ``是`` or ``否`` (``{{ x | tick }}`` prints ☑/☐)
list           its items; rows of records with ``shares`` also get ``amount``,
               ``amount_upper``: the row's share of the amount, exact to the 分
object         its fields
=============  ===============================================================

Then each ``computed`` value of the declaration, a Jinja expression over the
context (sandboxed, with the filters of :mod:`generator.domain.filters`). Every
value knows the data paths it derives from, so that withholding a path
withholds its 大写, its ticks and whatever is computed from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from ..domain.amount import format_amount, rmb_upper
from ..domain.filters import FILTERS, MARK, format_date
from ..domain.model import split_amount
from .fields import FieldDef
from .model import value_at

__all__ = [
    "Computed",
    "context_of",
    "contract_sources",
    "environment",
    "expression_paths",
    "fallbacks_of",
    "masked",
    "sources_of",
]


class _Environment(SandboxedEnvironment):
    """Sandboxed Jinja in which a context key wins over a dict method: ``plan.items`` is data."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def environment() -> jinja2.Environment:
    """Return the environment computed values are evaluated in."""
    env = _Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(FILTERS)
    return env


def _scalar(definition: FieldDef, value: Any) -> Any:
    kind = definition.type
    if value is None:
        return ""
    if kind == "amount":
        return format_amount(value)
    if kind == "percent":
        return f"{value.normalize():f}"
    if kind == "date":
        return format_date(value)
    if kind == "yesno":
        return "是" if value else "否"
    return value


def _record(fields: tuple[FieldDef, ...], data: Any, root: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for definition in fields:
        value = getattr(data, definition.key, None)
        out[definition.key] = _value(definition, value, root)
        if definition.type == "amount":
            out[f"{definition.key}_upper"] = rmb_upper(value) if value is not None else ""
    return out


def _value(definition: FieldDef, value: Any, root: Any) -> Any:
    if definition.type == "object":
        return _record(definition.children, value, root)
    if definition.type != "list":
        return _scalar(definition, value)
    items = list(value or [])
    if definition.item is not None:
        return [_scalar(definition.item, item) for item in items]
    rows = [_record(definition.children, item, root) for item in items]
    share = definition.spec.shares
    if share and items:
        amounts = split_amount(
            value_at(root, share["of"]), [getattr(item, share["by"]) for item in items]
        )
        for row, amount in zip(rows, amounts, strict=True):
            row["amount"] = format_amount(amount)
            row["amount_upper"] = rmb_upper(amount)
    return rows


class Computed:
    """The declaration's computed values, compiled once: path → expression."""

    def __init__(self, computed: Mapping[str, str]) -> None:
        env = environment()
        self.sources = dict(computed)
        # Each expression as a template setting ``result``: evaluated on the context itself
        # (make_module(shared=True)), not on a copy of it as compile_expression would.
        self.reads = {path: tuple(expression_paths(env, text)) for path, text in computed.items()}
        # None reading another: all in one template, evaluated once; else one after another.
        chained = any(
            read == other or read.startswith(f"{other}.")
            for reads in self.reads.values()
            for read in reads
            for other in computed
        )
        groups = [[p] for p in computed] if chained else [list(computed)] if computed else []
        self.templates = [
            (
                group,
                env.from_string(
                    "".join(f"{{% set r{n} = ({computed[p]}) %}}" for n, p in enumerate(group))
                ),
            )
            for group in groups
        ]

    def apply(self, context: dict[str, Any]) -> None:
        """Add every computed value to a context, in declaration order."""
        for group, template in self.templates:
            module = template.make_module(context, shared=True)
            for n, path in enumerate(group):
                value = getattr(module, f"r{n}", "")
                _put(context, path, "" if isinstance(value, jinja2.Undefined) else value)


def _put(context: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = context
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value


def context_of(
    fields: tuple[FieldDef, ...],
    computed: Computed,
    contract: Any,
    constants: Mapping[str, Any] | None = None,
    fallbacks: tuple[tuple[FieldDef, str], ...] | None = None,
) -> dict[str, Any]:
    """Return the template context of a contract (its kind's constants under ``constants``)."""
    context = _record(fields, contract, contract)
    if constants:
        context["constants"] = dict(constants)
    for definition, other in _fallbacks(fields) if fallbacks is None else fallbacks:
        if value_at(contract, definition.path) is None:
            _put(context, definition.path, value_at(context, other) or "")
    computed.apply(context)
    return context


def fallbacks_of(fields: tuple[FieldDef, ...]) -> tuple[tuple[FieldDef, str], ...]:
    """Return each field that prints another's value when left out, and that other's path."""
    return tuple(_fallbacks(fields))


def _fallbacks(fields: tuple[FieldDef, ...]) -> Iterator[tuple[FieldDef, str]]:
    for top in fields:
        for definition in top.walk():
            if definition.spec.default_from and not definition.in_list:
                yield definition, definition.spec.default_from


def contract_sources(
    fields: tuple[FieldDef, ...],
    sources: Mapping[str, tuple[str, ...]],
    computed: Computed,
    contract: Any,
) -> dict[str, tuple[str, ...]]:
    """Return the sources of a contract's context: a field left out prints its fallback's."""
    out = dict(sources)
    fell_back = {
        definition.path: other
        for definition, other in _fallbacks(fields)
        if value_at(contract, definition.path) is None
    }
    if not fell_back:
        return out
    for path, other in fell_back.items():
        out[path] = out.get(other, (other,))
    for path, reads in computed.reads.items():
        found: list[str] = []
        for read in reads:
            found.extend(out.get(read, (read.replace("[]", ""),)))
        out[path] = tuple(dict.fromkeys(found))
    return out


def expression_paths(env: jinja2.Environment, text: str) -> Iterator[str]:
    """Yield the dotted context paths a Jinja expression reads."""
    tree = env.parse(f"{{{{ {text} }}}}")
    yield from _lookups(tree)


def _lookups(tree: nodes.Node) -> Iterator[str]:
    def chain(node: nodes.Node) -> str | None:
        if isinstance(node, nodes.Name):
            return node.name
        if isinstance(node, nodes.Getattr):
            base = chain(node.node)
            return None if base is None else f"{base}.{node.attr}"
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            base = chain(node.node)
            return None if base is None else f"{base}.{node.arg.value}"
        return None

    def walk(node: nodes.Node) -> Iterator[str]:
        if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            path = chain(node)
            if path is not None:
                yield path
                return
        for child in node.iter_child_nodes():
            yield from walk(child)

    yield from walk(tree)


def sources_of(
    fields: tuple[FieldDef, ...], computed: Computed, constants: Iterable[str] = ()
) -> dict[str, tuple[str, ...]]:
    """Return each context path and the data paths its value derives from.

    Context paths take list items as ``name[]``; data paths take them item by
    item (``payment.instalments.percent``).
    """
    out: dict[str, tuple[str, ...]] = {}

    def visit(definition: FieldDef, where: str) -> None:
        path = f"{where}{definition.key}"
        out[path] = (definition.path,)
        if definition.type == "amount":
            out[f"{path}_upper"] = (definition.path,)
        if definition.type == "list":
            out[f"{path}[]"] = (definition.path,)
            for child in definition.children:
                visit(child, f"{path}[].")
            if definition.spec.shares:
                share = definition.spec.shares
                derived = (share["of"], f"{definition.path}.{share['by']}")
                out[f"{path}[].amount"] = derived
                out[f"{path}[].amount_upper"] = derived
        for child in definition.children if definition.type == "object" else ():
            visit(child, f"{path}.")

    for definition in fields:
        visit(definition, "")
    for name in constants or ():
        out[f"constants.{name}"] = ()
    for path, reads in computed.reads.items():
        reads = tuple(read for read in reads if not read.startswith("constants."))
        found: list[str] = []
        for read in reads:
            found.extend(out.get(read, (read.replace("[]", ""),)))
        out[path] = tuple(dict.fromkeys(found))
    return out


def _covers(withheld: Iterable[str], source: str) -> bool:
    return any(source == path or source.startswith(f"{path}.") for path in withheld)


def masked(
    context: Mapping[str, Any],
    sources: Mapping[str, tuple[str, ...]],
    paths: Iterable[str],
    mark: str = MARK,
) -> dict[str, Any]:
    """Return a context with every value derived from a withheld path replaced by a mark.

    An empty value stays empty: nothing is there to withhold, and a mark would
    print a line the contract leaves out. A true/false stays: it decides which
    clause is printed, not what the clause says.
    """
    withheld = tuple(paths)
    hidden = {key for key, found in sources.items() if any(_covers(withheld, s) for s in found)}

    def visit(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return {
                key: visit(item, f"{path}.{key}" if path else key) for key, item in value.items()
            }
        if isinstance(value, list):
            return [visit(item, f"{path}[]") for item in value]
        if path in hidden and value not in ("", None) and not isinstance(value, bool):
            return mark
        return value

    result: dict[str, Any] = visit(context, "")
    return result
