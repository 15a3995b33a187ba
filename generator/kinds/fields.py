"""A kind's fields as a tree, and the pydantic model each field type becomes.

The type vocabulary (``text``, ``integer``, ``amount`` … ``list``, ``object``)
maps onto the field types of :mod:`generator.domain.fields`, so every kind
refuses a bad postcode with the same code and message. A field declared once
here feeds validation, the JSON Schema, the workbook, the form and the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, create_model
from pydantic import ValidationError as PydanticValidationError

from ..domain import fields as types
from ..domain.text import checked_text
from .declaration import FieldSpec
from .model import Record

__all__ = ["TEXT_MAX", "FieldDef", "build_fields", "build_model", "camel", "default_problem"]

#: the longest text value when a declaration names no ``max``
TEXT_MAX = 500
#: the largest integer when a declaration names no ``max``
INTEGER_MAX = 1_000_000_000
#: the most items of a list when a declaration names no ``max``
LIST_MAX = 100


@dataclass(frozen=True)
class FieldDef:
    """One declared field, placed in the tree: its path and, for records, its own fields."""

    key: str
    #: dotted from the root, lists taken item by item: ``payment.instalments.percent``
    path: str
    spec: FieldSpec
    #: the titles from the root down: ``("乙方", "法定代表人", "姓名")``
    titles: tuple[str, ...]
    children: tuple[FieldDef, ...] = ()
    #: a list of single values: the field each value is
    item: FieldDef | None = None
    #: whether this field sits in a list's rows (its path is item by item)
    in_list: bool = False
    #: the declared type name (``text``, ``amount`` …), copied from the spec: read per value
    type: str = ""

    @property
    def title(self) -> str:
        """Return the field's own title."""
        return self.spec.title

    @property
    def label(self) -> str:
        """Return the titles from the root, as a workbook header or a summary says it."""
        return "".join(self.titles)

    @property
    def records(self) -> bool:
        """Return whether this is a list of records (each row its own fields)."""
        return self.type == "list" and bool(self.children)

    @property
    def optional(self) -> bool:
        """Return whether data may leave the field out."""
        return not self.spec.required or self.spec.default is not None or self.defaulted

    @property
    def defaulted(self) -> bool:
        """Return whether an object can be left out: every field inside it may be."""
        return self.type == "object" and all(child.optional for child in self.children)

    def walk(self) -> list[FieldDef]:
        """Return this field and every field below it, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def camel(path: str) -> str:
    """Return a data path as a model name: ``acceptance_plan.items`` → ``AcceptancePlanItems``."""
    return "".join(part.capitalize() for chunk in path.split(".") for part in chunk.split("_"))


def build_fields(
    specs: dict[str, FieldSpec],
    prefix: str = "",
    titles: tuple[str, ...] = (),
    in_list: bool = False,
) -> tuple[FieldDef, ...]:
    """Return the field tree of a declaration's ``fields``."""
    out = []
    for key, spec in specs.items():
        path = f"{prefix}{key}"
        own = (*titles, spec.title)
        rows = spec.type == "list"
        children = build_fields(spec.fields or {}, f"{path}.", own, in_list or rows)
        item = None
        if spec.item is not None:
            item = FieldDef(key, path, spec.item, own, in_list=True, type=str(spec.item.type))
        out.append(FieldDef(key, path, spec, own, children, item, in_list, str(spec.type)))
    return tuple(out)


def _text(spec: FieldSpec, optional: bool) -> Any:
    limit = Field(max_length=spec.max or TEXT_MAX)
    if optional:
        return Annotated[
            Annotated[str, limit] | None,
            BeforeValidator(types.blank_is_absent),
            AfterValidator(types.checked_or_absent),
        ]
    return Annotated[str, limit, AfterValidator(checked_text)]


def _optional_date() -> Any:
    return Annotated[
        date | None,
        BeforeValidator(lambda v: None if v in (None, "") else types.parse_date(v)),
        Field(
            json_schema_extra={
                "formatMinimum": str(types.DATE_MIN),
                "formatMaximum": str(types.DATE_MAX),
            }
        ),
    ]


#: the types whose value is one of the domain's annotated types, required and optional
_SIMPLE: dict[str, Any] = {
    "amount": types.Amount,
    "percent": types.Percent,
    "date": types.Day,
    "phone": types.Phone,
    "postcode": types.Postcode,
    "account": types.Account,
    "contract_no": types.ContractNo,
    "yesno": types.YesNo,
}


def _annotation(definition: FieldDef, optional: bool) -> Any:
    spec = definition.spec
    kind = spec.type
    if kind == "text":
        return _text(spec, optional)
    if kind == "fax":
        return types.Fax
    if kind == "credit_code":
        return types.CreditCode
    if kind == "date" and optional:
        return _optional_date()
    if kind == "integer":
        return Annotated[
            int,
            BeforeValidator(types.not_bool),
            Field(ge=spec.min if spec.min is not None else 0, le=spec.max or INTEGER_MAX),
        ]
    if kind == "choice":
        return Literal[tuple(spec.choices or ())]
    if kind in _SIMPLE:
        simple = _SIMPLE[kind]
        if optional and kind != "yesno":
            return Annotated[simple | None, BeforeValidator(types.blank_is_absent)]
        return simple
    if kind == "object":
        return build_model(definition.children, camel(definition.path), spec.help or spec.title)
    if kind == "list":
        if definition.item is not None:
            inner = _annotation(definition.item, False)
        else:
            inner = build_model(definition.children, camel(definition.path), spec.title)
        bounds = Field(min_length=spec.min or 0, max_length=spec.max or LIST_MAX)
        listed = Annotated[list[inner], bounds]  # type: ignore[valid-type]
        return listed | None if optional and spec.default is None else listed
    raise AssertionError(kind)


def _field(definition: FieldDef) -> tuple[Any, Any]:
    spec = definition.spec
    optional = not spec.required and spec.default is None
    annotation = _annotation(definition, optional)
    info: dict[str, Any] = {"title": spec.title}
    if spec.help:
        info["description"] = spec.help
    if spec.default is not None:
        if spec.type == "list" and spec.default == []:
            info["default_factory"] = list
        else:
            info["default"] = TypeAdapter(annotation).validate_python(spec.default)
    elif definition.defaulted:
        info["default_factory"] = annotation
    elif optional:
        info["default"] = None
    return annotation, Field(**info)


def default_problem(definition: FieldDef) -> str | None:
    """Return why a field's declared default is not a value of its type, or None."""
    if definition.spec.default is None or definition.spec.default == []:
        return None
    try:
        TypeAdapter(_annotation(definition, False)).validate_python(definition.spec.default)
    except PydanticValidationError as exc:
        return "默认值无效：" + "；".join(str(e["msg"]) for e in exc.errors(include_url=False))
    return None


def build_model(
    fields: tuple[FieldDef, ...], name: str, doc: str, base: type[Record] = Record
) -> type[Record]:
    """Return the pydantic model of a group of fields."""
    model: type[Record] = create_model(  # type: ignore[call-overload]
        name,
        __base__=base,
        __doc__=doc,
        **{definition.key: _field(definition) for definition in fields},
    )
    return model
