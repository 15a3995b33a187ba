"""Read a kind's declaration (``kind.yaml``): its documents, fields, rules and envelope.

The declaration is checked against the models below in one pass; every problem
names the file, the key path and the line (``kind.yaml:12: fields.amount.type:
…``), the way a template error names its template and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import KindError

__all__ = [
    "DECLARATION",
    "DocumentSpec",
    "FieldSpec",
    "KindSpec",
    "PublicationSpec",
    "RuleSpec",
    "SealSpec",
    "SupplementsSpec",
    "read_declaration",
]

#: the file of a kind folder that declares the kind
DECLARATION = "kind.yaml"
#: a key of data, a document or a kind: ASCII letters, digits and underscores
KEY = r"^[a-z][a-z0-9_]*$"
#: the field types a declaration may name (see :mod:`generator.kinds.types`)
TYPE_NAMES = (
    "text",
    "integer",
    "amount",
    "percent",
    "date",
    "phone",
    "fax",
    "postcode",
    "account",
    "credit_code",
    "contract_no",
    "choice",
    "yesno",
    "list",
    "object",
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Spec):
    """One field of contract data: its type, title, help text, limits and default."""

    type: Literal[TYPE_NAMES]  # type: ignore[valid-type]
    title: Annotated[str, Field(min_length=1, max_length=60)]
    help: str = ""
    required: bool = True
    default: Any = None
    #: text: the longest value; integer: the largest; list: the most items
    max: int | None = None
    #: integer: the smallest value; list: the fewest items
    min: int | None = None
    #: choice: the values to pick from
    choices: list[str] | None = None
    #: object, or a list of records: the fields of each
    fields: dict[Annotated[str, Field(pattern=KEY)], FieldSpec] | None = None
    #: a list of single values: the type of each (``text``), with its own limit
    item: FieldSpec | None = None
    #: a list of records with a percentage field: each row's share of an amount field
    shares: dict[str, str] | None = None
    #: when left out, the context prints this other field's value instead (and a public copy
    #: withholds it with that field): ``user_unit`` falls back to ``owner_unit``
    default_from: str | None = None
    #: the field reaches no template on purpose (``kinds check`` then does not ask for it)
    unused: bool = False
    #: workbook headers this field was read under before, still accepted
    aliases: list[str] = []
    #: a top-level field: the section of the web form it is shown in (default: an object's
    #: own title, 合同 for a single value)
    group: str | None = None


class SealSpec(_Spec):
    """Where one party seals a document: the words printed there."""

    party: Annotated[str, Field(pattern=KEY)]
    keyword: Annotated[str, Field(min_length=1, max_length=40)]
    last_page_only: bool = False


class DocumentSpec(_Spec):
    """One document of the set."""

    key: Annotated[str, Field(pattern=KEY)]
    title: Annotated[str, Field(min_length=1, max_length=40)]
    #: the template's file name in the kind folder (default: ``<key>.docx``)
    template: str | None = None
    seals: list[SealSpec] = []
    #: an unsealed attachment of the document before it (the acceptance-plan form): it may
    #: declare no seals
    attachment: bool = False
    #: whether a document of more than one page gets a cross-page seal (骑缝章) place
    cross_page_seal: bool = True


class RuleSpec(_Spec):
    """One cross-field rule: a name from the system's vocabulary and its arguments."""

    model_config = ConfigDict(extra="allow", frozen=True)

    rule: str
    code: str | None = None
    message: str | None = None


class PublicationSpec(_Spec):
    """What publishing a contract of this kind withholds, and the notice's defaults."""

    #: paths every public copy withholds
    withhold: list[str] = []
    #: paths withheld when they hold a mobile number (a person's, not the organisation's)
    withhold_mobile: list[str] = []
    #: the notice's 主要标的数量 when the data does not say
    quantity: str = "1项"
    #: the notice's 采购方式 when the data does not say
    procurement_method: str = "公开招标"
    #: the notice's 规格型号（或服务要求） when the data does not say: a template over the context
    requirements: str = "详见合同文件"
    #: the notice's 履约期限、地点等简要信息: a template over the context
    performance: str = ""


class Envelope(_Spec):
    """The data paths of what the ledger, publication and the 合同公告 need of every contract."""

    contract_no: str = "contract_no"
    project_name: str = "project_name"
    buyer: str = "buyer.name"
    supplier: str = "supplier.name"
    amount: str = "amount"
    sign_date: str = "sign_date"
    #: the notice's addresses and contacts of the parties (optional)
    buyer_address: str | None = None
    buyer_contact: str | None = None
    buyer_phone: str | None = None
    buyer_fax: str | None = None
    supplier_address: str | None = None
    supplier_contact: str | None = None
    supplier_phone: str | None = None
    supplier_fax: str | None = None


class SupplementsSpec(_Spec):
    """A supplementary contract (补充合同) of another: the limit on what all of them may add.

    Checked against the ledger when a contract of the kind is issued (never on drafts):
    the original issued and current, the ``same`` values as the original's, and the
    amounts of all its current supplements at most ``limit_percent`` of its amount.
    """

    #: the path of the original contract's number in this kind's data
    original: str
    #: the path of the amount this supplement adds (counted against the limit)
    amount: str = "amount"
    #: the share of the original's amount all its supplements together may add: a number,
    #: or a constant's name (so the clause printing it and the check never disagree)
    limit_percent: int | str = 10
    #: the law the limit comes from, named in every refusal
    article: Annotated[str, Field(min_length=1, max_length=80)]
    #: how a supplement's number is made from its original's: ``{original}`` and
    #: ``{n:02}`` (the supplement's place in order of issue, 2 digits) or ``{n}``
    number: str = "{original}-BC{n:02}"
    #: paths whose value must be the same in the original's recorded data
    same: list[str] = []
    #: what this kind's data says of the original (``amount``, ``sign_date``,
    #: ``project_name``, ``supplier``), by path: must be what its current version says
    cites: dict[Literal["amount", "sign_date", "project_name", "supplier"], str] = {}


class KindSpec(_Spec):
    """A whole declaration."""

    id: Annotated[str, Field(pattern=KEY, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=40)]
    version: Annotated[str, Field(min_length=1, max_length=40)]
    description: str = ""
    #: the title of the whole set bound as one PDF (default: the first document's （全套）)
    set_title: str | None = None
    documents: Annotated[list[DocumentSpec], Field(min_length=1, max_length=20)]
    envelope: Envelope = Envelope()
    fields: dict[Annotated[str, Field(pattern=KEY)], FieldSpec]
    rules: list[RuleSpec] = []
    #: named numbers of the legal text (a threshold): rules name them, templates read
    #: ``constants.NAME``, so a clause and the rule applying it never disagree
    constants: dict[Annotated[str, Field(pattern=KEY)], int | float | str] = {}
    #: values of the template context computed from others: a Jinja expression each
    computed: dict[str, str] = {}
    publication: PublicationSpec = PublicationSpec()
    #: a supplementary contract of another: what the ledger checks when one is issued
    supplements: SupplementsSpec | None = None
    #: the filled sample's file name in the folder
    sample: str = "sample.yaml"


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe YAML loader whose nodes carry their lines: libyaml's when PyYAML has it.

    With libyaml the two built-in kinds load in 0.025 s instead of 0.048 (every process
    reads them); the nodes, their lines and the scalars are the same.
    """


def _compose(text: str, source: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Return the data of a YAML text and the line of every path in it."""
    lines: dict[tuple[str | int, ...], int] = {}
    scalars = _LineLoader("")
    try:
        root = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise KindError([(source, "", line, f"YAML 格式错误：{exc}", "kind.yaml")]) from exc

    def build(node: yaml.Node | None, path: tuple[str | int, ...]) -> Any:
        if node is None:
            return None
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else str(key)
                if name in out:
                    raise KindError(
                        [
                            (
                                source,
                                _dotted((*path, name)),
                                key.start_mark.line + 1,
                                f"键“{name}”重复",
                                "kind.duplicate_key",
                            )
                        ]
                    )
                lines[(*path, name)] = key.start_mark.line + 1
                out[name] = build(value, (*path, name))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, n)) for n, item in enumerate(node.value)]
        return scalars.construct_object(node)

    return build(root, ()), lines


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def line_of(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int:
    """Return the line of a path, or of its nearest ancestor that has one."""
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


_MESSAGES = {
    "missing": "必填项缺失",
    "extra_forbidden": "未知的键（请检查拼写）",
    "string_pattern_mismatch": "应只含小写英文字母、数字和下划线，且以字母开头",
    "literal_error": "取值无效，应为：{expected}",
    "string_too_short": "不能为空",
    "string_too_long": "过长（最多{max_length}个字符）",
    "too_short": "至少应有{min_length}项",
    "too_long": "最多{max_length}项",
    "string_type": "应为文本",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "dict_type": "应为键值表",
    "model_type": "应为键值表",
    "list_type": "应为列表",
}


def _codes(error: Any) -> tuple[str, str]:
    kind = error["type"]
    if kind == "literal_error" and error["loc"] and error["loc"][-1] == "type":
        return "kind.type.unknown", (
            f"未知的字段类型“{error.get('input')}”（可用：{'、'.join(TYPE_NAMES)}）"
        )
    template = _MESSAGES.get(kind, "取值无效：{msg}")
    context = {**error.get("ctx", {}), "msg": error["msg"]}
    return f"kind.{kind}", re.sub(r"\{(\w+)\}", lambda m: str(context.get(m[1], "")), template)


def read_declaration(path: Path) -> tuple[KindSpec, dict[tuple[str | int, ...], int]]:
    """Return a kind folder's declaration checked, and the line of every path in it."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KindError(
            [(source, "", 0, f"无法读取合同类型声明：{exc}", "kind.unreadable")]
        ) from exc
    data, lines = _compose(text, source)
    if not isinstance(data, dict):
        raise KindError([(source, "", 1, "声明应为键值表", "kind.type.object")])
    try:
        return KindSpec.model_validate(data), lines
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            code, message = _codes(error)
            problems.append((source, _dotted(loc), line_of(lines, loc), message, code))
        raise KindError(problems) from exc
