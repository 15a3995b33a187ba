"""The contract form, built from the model: its groups, fields and repeatable rows, both ways.

A form's values are a flat mapping of data paths to text (``buyer.postcode``,
``payment.instalments[0].percent``, ``other_documents[1]``): the very paths
:func:`generator.domain.validate.check` names its issues by, so an issue finds
its field. :func:`to_data` turns the values into the raw data ``contractgen
validate`` would read from a YAML file (text values, blanks absent);
:func:`to_values` does the reverse for a loaded file.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import MaxLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..errors import Issue
from ..kinds import DEFAULT_KIND, ContractKind, registry

__all__ = [
    "YES_NO",
    "FieldSpec",
    "GroupSpec",
    "ListSpec",
    "Section",
    "blank_row",
    "groups",
    "index_issues",
    "kind_of",
    "label_of",
    "list_rows",
    "sections",
    "to_data",
    "to_values",
    "within_limits",
]

#: how a yes-or-no field is written in contract data
YES_NO = ("是", "否")
#: text fields at least this long are edited in a text area
_TEXTAREA_FROM = 2000
#: a row index longer than this is beyond every list's limit (and never read as a number)
_INDEX_DIGITS = 12


def groups(kind: ContractKind) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Return the form's sections in the declaration's order and the top-level fields of each."""
    found: dict[str, list[str]] = {}
    for definition in kind.fields:
        default = definition.title if definition.type == "object" else "合同"
        found.setdefault(definition.spec.group or default, []).append(definition.key)
    found["合同公告"] = ["publication"]
    return tuple((title, tuple(keys)) for title, keys in found.items())


def kind_of(kind_id: str | None) -> ContractKind:
    """Return the kind a form is of (the default kind for None or an unknown id)."""
    kinds = registry()
    return kinds.kinds.get(kind_id or DEFAULT_KIND) or kinds.default


@dataclass(frozen=True)
class FieldSpec:
    """One input: its key, label, hint, widget and what it accepts."""

    name: str
    label: str
    hint: str | None
    widget: Literal["text", "textarea", "select"]
    choices: tuple[str, ...] = ()
    required: bool = False
    inputmode: str | None = None
    maxlength: int | None = None
    placeholder: str | None = None
    default: str = ""
    #: what a person reads for each of ``choices`` (the choice itself when empty)
    choice_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupSpec:
    """A nested object: a fieldset of its own fields."""

    name: str
    label: str
    hint: str | None
    children: tuple[Node, ...]
    #: an optional object (None by default) is left out when nothing in it was changed
    optional: bool = False


@dataclass(frozen=True)
class ListSpec:
    """Repeatable rows: of one field each, or of a fieldset."""

    name: str
    label: str
    hint: str | None
    item: FieldSpec | GroupSpec
    max_items: int | None = None
    #: absent, not an empty list, when there are no rows (5.2's default schedule)
    absent_when_empty: bool = False


Node = FieldSpec | GroupSpec | ListSpec


@dataclass(frozen=True)
class Section:
    """A titled part of the form: the fields of one part of the contract."""

    title: str
    nodes: tuple[Node, ...]


def _core(annotation: Any) -> tuple[Any, bool]:
    """Return a type without ``Annotated`` and ``None``, and whether None was allowed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def _max_length(info: FieldInfo) -> int | None:
    return next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)


def _scalar(name: str, info: FieldInfo, kind: Any, label: str | None = None) -> FieldSpec:
    """Return the input of one scalar field."""
    title, hint = label or info.title or name, info.description
    default = "" if info.is_required() else _text(info.get_default(call_default_factory=True))
    base = FieldSpec(name, title, hint, "text", required=info.is_required(), default=default)
    if get_origin(kind) is Literal:
        return replace(base, widget="select", choices=get_args(kind))
    if kind is bool:
        return replace(base, widget="select", choices=YES_NO)
    if kind is date:
        return replace(base, placeholder="2026-01-16")
    if kind in (int, Decimal):
        return replace(base, inputmode="numeric" if kind is int else "decimal")
    limit = _max_length(info)
    if limit and limit >= _TEXTAREA_FROM:
        return replace(base, widget="textarea", maxlength=limit)
    return replace(base, maxlength=limit)


def _node(name: str, info: FieldInfo) -> Node:
    """Return the form node of one model field."""
    kind, optional = _core(info.annotation)
    label, hint = info.title or name, info.description
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return GroupSpec(name, label, hint, _children(kind), optional=optional)
    if get_origin(kind) is list:
        item_kind, _ = _core(get_args(kind)[0])
        max_items = next(
            (
                m.max_length
                for m in (*info.metadata, *_list_metadata(info.annotation))
                if isinstance(m, MaxLen)
            ),
            None,
        )
        item: FieldSpec | GroupSpec
        if isinstance(item_kind, type) and issubclass(item_kind, BaseModel):
            item = GroupSpec("", label, None, _children(item_kind))
        else:
            item = _scalar("", FieldInfo(annotation=str), item_kind, label)
        return ListSpec(name, label, hint, item, max_items, absent_when_empty=optional)
    return _scalar(name, info, kind)


def _list_metadata(annotation: Any) -> Iterator[Any]:
    """Yield the metadata of every ``Annotated`` layer of a type (a list's length limits)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        for meta in annotation.__metadata__:
            yield from meta.metadata if isinstance(meta, FieldInfo) else (meta,)
        yield from _list_metadata(get_args(annotation)[0])
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _list_metadata(arg)


def _children(model: type[BaseModel]) -> tuple[Node, ...]:
    return tuple(_node(name, info) for name, info in model.model_fields.items())


def sections(kind_id: str | None = None) -> tuple[Section, ...]:
    """Return the form's sections of a kind, built from its model once."""
    return _sections(kind_of(kind_id))


@cache
def _sections(kind: ContractKind) -> tuple[Section, ...]:
    nodes = {node.name: _withhold_by_title(node, kind) for node in _children(kind.model)}
    return tuple(
        Section(title, tuple(nodes[name] for name in names)) for title, names in groups(kind)
    )


def _withhold_by_title(node: Node, kind: ContractKind) -> Node:
    """Return the publication's fieldset with the fields to withhold chosen by their titles."""
    if not isinstance(node, GroupSpec) or node.name != "publication":
        return node
    children = []
    for child in node.children:
        if isinstance(child, ListSpec) and child.name == "withhold":
            assert isinstance(child.item, FieldSpec)
            chosen = replace(
                child.item,
                widget="select",
                choices=tuple(kind.withholdable),
                choice_labels=tuple(kind.withholdable.values()),
            )
            child = replace(child, item=chosen, hint="选择公开文本中以＊＊＊代替的字段")
        children.append(child)
    return replace(node, children=tuple(children))


def _own(kind: ContractKind) -> dict[str, str]:
    """Return the form value naming a kind other than the default (the form's hidden field)."""
    return {} if kind is registry().default else {"kind": kind.id}


def _text(value: Any) -> str:
    """Return a data value as the text a form field holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES_NO[0] if value else YES_NO[1]
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def list_rows(values: Mapping[str, str], path: str) -> int:
    """Return how many rows of the list at ``path`` the values hold."""
    pattern = re.compile(re.escape(path) + rf"\[(\d{{1,{_INDEX_DIGITS}}})\]")
    indices = [int(m.group(1)) for key in values if (m := pattern.match(key))]
    return max(indices) + 1 if indices else 0


def _values_of(node: Node, data: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(node, FieldSpec):
        out[path] = node.default if data is None else _text(data)
    elif isinstance(node, GroupSpec):
        inner = data if isinstance(data, Mapping) else {}
        for child in node.children:
            _values_of(child, inner.get(child.name), _join(path, child.name), out)
    else:
        rows = data if isinstance(data, list) else []
        # beyond the list's limit the check reports it; the form never builds the rows
        for index, row in enumerate(rows[: node.max_items]):
            _values_of(node.item, row, f"{path}[{index}]", out)


def to_values(data: Mapping[str, Any] | None, kind_id: str | None = None) -> dict[str, str]:
    """Return the form's values for raw data (None: an empty form of ``kind_id``, defaults in)."""
    source = data or {}
    named = source.get("kind")
    kind = kind_of(named if isinstance(named, str) else kind_id)
    out: dict[str, str] = _own(kind)
    for section in _sections(kind):
        for node in section.nodes:
            _values_of(node, source.get(node.name), node.name, out)
    if data is None:  # an empty form starts with one row of every list that needs one
        for definition in kind.by_path.values():
            if definition.records and (definition.spec.min or 0) >= 1:
                path = definition.path
                _values_of(_node_at(path, kind.id), [{}], path, out)
    return out


def _node_at(path: str, kind_id: str | None = None) -> Node:
    nodes = tuple(n for s in sections(kind_id) for n in s.nodes)
    found: Node = GroupSpec("", "", None, nodes)
    for part in path.split("."):
        if not isinstance(found, GroupSpec):
            raise LookupError(path)
        child = next((child for child in found.children if child.name == part), None)
        if child is None:
            raise LookupError(path)
        found = child
    return found


def label_of(path: str, kind_id: str | None = None) -> str:
    """Return a data path in words, each group's label then the field's; the path if unknown."""
    parts = path.split(".")
    try:
        return " · ".join(
            _node_at(".".join(parts[:n]), kind_id).label for n in range(1, len(parts) + 1)
        )
    except LookupError:
        return path


def blank_row(path: str, index: int, kind_id: str | None = None) -> dict[str, str] | None:
    """Return the values of a new row ``index`` of the list at ``path`` (None: no such list,
    or a row beyond its limit)."""
    try:
        node = _node_at(path, kind_id)
    except LookupError:
        return None
    if not isinstance(node, ListSpec) or (node.max_items is not None and index >= node.max_items):
        return None
    out: dict[str, str] = {}
    _values_of(node.item, None, f"{path}[{index}]", out)
    return out


#: one step of a form value's name: a field, and a row index when it is a list's
_STEP = re.compile(r"([^.\[\]]*)(?:\[(\d+)\])?")


def _beyond(key: str, kind_id: str | None) -> tuple[str, int, ListSpec] | None:
    """Return the list, row and spec of a value's name whose row is beyond its list's limit."""
    nodes = tuple(n for s in sections(kind_id) for n in s.nodes)
    found: Node = GroupSpec("", "", None, nodes)
    path = ""
    for part in key.split("."):
        step = _STEP.fullmatch(part)
        if step is None or not isinstance(found, GroupSpec):
            return None
        name, index = step.group(1), step.group(2)
        child = next((c for c in found.children if c.name == name), None)
        if child is None:
            return None
        path = _join(path, name)
        if index is None:
            found = child
            continue
        if not isinstance(child, ListSpec):
            return None
        limit = child.max_items
        if len(index) > _INDEX_DIGITS:
            return path, 10**_INDEX_DIGITS, child
        if limit is not None and int(index) >= limit:
            return path, int(index), child
        path = f"{path}[{index}]"
        found = child.item
    return None


def index_issues(values: Mapping[str, str]) -> list[Issue]:
    """Return an issue for every list a form's values hold rows of beyond its declared limit.

    Checked on the names alone, before any row is built: ``items[300000].stage`` costs
    one look at its name, not 300,000 empty rows.
    """
    kind_id = values.get("kind")
    worst: dict[str, tuple[int, ListSpec]] = {}
    for key in values:
        if "[" not in key:
            continue
        beyond = _beyond(key, kind_id)
        if beyond is not None:
            path, index, spec = beyond
            if path not in worst or worst[path][0] < index:
                worst[path] = (index, spec)
    issues = []
    for path, (index, spec) in worst.items():
        message = f"最多{spec.max_items}项"
        if index < 10**_INDEX_DIGITS:
            message += f"（表单中有第{index + 1}项）"
        issues.append(Issue(path, "list.too_long", message, title=label_of(path, kind_id)))
    return issues


def within_limits(values: Mapping[str, str]) -> dict[str, str]:
    """Return the values without those of rows beyond their lists' limits."""
    kind_id = values.get("kind")
    return {
        key: value
        for key, value in values.items()
        if "[" not in key or _beyond(key, kind_id) is None
    }


def _data_of(node: Node, values: Mapping[str, str], path: str) -> Any:
    """Return the raw data of one node, or None when it is to be left out."""
    if isinstance(node, FieldSpec):
        text = values.get(path, "")
        return text if text.strip() else None
    if isinstance(node, GroupSpec):
        out: dict[str, Any] = {}
        for child in node.children:
            value = _data_of(child, values, _join(path, child.name))
            if value is not None:
                out[child.name] = value
        if node.optional and _untouched(node, values, path):
            return None
        return out
    count = list_rows(values, path)
    if node.max_items is not None:
        count = min(count, node.max_items)  # index_issues names what lies beyond
    rows = [_data_of(node.item, values, f"{path}[{i}]") for i in range(count)]
    if isinstance(node.item, FieldSpec):
        rows = [row for row in rows if row is not None]
    if not rows and node.absent_when_empty:
        return None
    return rows


def _untouched(node: GroupSpec, values: Mapping[str, str], path: str) -> bool:
    """Return whether every field of an optional object is blank or its default."""
    for child in node.children:
        key = _join(path, child.name)
        if isinstance(child, FieldSpec):
            if values.get(key, "").strip() not in ("", child.default):
                return False
        elif isinstance(child, ListSpec):
            if list_rows(values, key):
                return False
        elif not _untouched(child, values, key):
            return False
    return True


def to_data(values: Mapping[str, str]) -> dict[str, Any]:
    """Return the raw contract data of a form's values: text, with blank fields absent."""
    kind = kind_of(values.get("kind"))
    out: dict[str, Any] = dict(_own(kind))
    for section in _sections(kind):
        for node in section.nodes:
            value = _data_of(node, values, node.name)
            if value is not None:
                out[node.name] = value
    return out
