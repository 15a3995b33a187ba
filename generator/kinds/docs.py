"""What a kind's declaration tells people: the template variables (CONTEXT.md), a commented file.

Both are written from the declaration alone, so a renamed title or a new field
shows in them without an edit anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from .fields import FieldDef
from .kind import ContractKind

__all__ = ["commented_yaml", "context_markdown"]

#: how each type is printed in the context, for CONTEXT.md
_PRINTED = {
    "text": "文本",
    "integer": "整数",
    "amount": "金额数字，如 1578000 或 1409.50；旁有 `_upper`：大写",
    "percent": "百分数的数字，如 70",
    "date": "中文日期，如 2026年01月16日",
    "phone": "文本",
    "fax": "文本",
    "postcode": "文本",
    "account": "文本",
    "credit_code": "18位代码",
    "contract_no": "文本",
    "choice": "所选文本",
    "yesno": "“是”或“否”；`{{ x | tick('是') }}` 印 ☑/☐",
    "list": "列表，`{%p for … %}` / `{%tr for … %}` 逐项",
    "object": "",
}


def _cell(text: str) -> str:
    """Return text for a Markdown table cell: a | of a filter does not end the cell."""
    return text.replace("|", "\\|")


def _rows(fields: tuple[FieldDef, ...], prefix: str) -> list[str]:
    rows = []
    for definition in fields:
        name = f"{prefix}{definition.key}"
        spec = definition.spec
        if definition.type == "object":
            rows.extend(_rows(definition.children, f"{name}."))
            continue
        notes = [_PRINTED[definition.type]]
        if not spec.required and spec.default is None and not spec.default_from:
            notes.append("未填时为空")
        if spec.choices:
            notes.append("可选：" + "、".join(spec.choices))
        if spec.default_from:
            notes.append(f"未填时为 `{spec.default_from}` 的值")
        if spec.help:
            notes.append(spec.help)
        text = _cell("；".join(n for n in notes if n))
        rows.append(f"| `{name}` | {definition.label} | {text} |")
        if definition.type == "amount":
            rows.append(
                f"| `{name}_upper` | {definition.label}（大写） | 如 壹佰伍拾柒万捌仟元整 |"
            )
        if definition.records:
            rows.extend(_rows(definition.children, f"{name}[]."))
            if spec.shares:
                rows.append(
                    f"| `{name}[].amount` `{name}[].amount_upper` | 每行的金额 | "
                    f"`{spec.shares['of']}` 按各行 `{spec.shares['by']}` 分摊，精确到分 |"
                )
    return rows


def context_markdown(kind: ContractKind) -> str:
    """Return CONTEXT.md: every variable a template of the kind may read, from its declaration."""
    documents = "、".join(f"`{doc.template}`（{doc.title}）" for doc in kind.documents)
    lines = [
        f"# 模板变量：{kind.title}（{kind.id}，第 {kind.version} 版）",
        "",
        f"本文件由 `kind.yaml` 生成（contractgen templates export），请勿手改。模板：{documents}。",
        "模板以 docxtpl（Jinja2）书写，输出自动转义；未定义的变量即是错误。",
        "",
        "| 变量 | 字段 | 说明 |",
        "|---|---|---|",
        *_rows(kind.fields, ""),
    ]
    if kind.spec.constants:
        lines += ["", "## 常量（`constants.名称`）", "", "| 变量 | 值 |", "|---|---|"]
        lines += [f"| `constants.{k}` | {v} |" for k, v in kind.spec.constants.items()]
    if kind.spec.computed:
        lines += ["", "## 派生值（按顺序由表达式计算）", "", "| 变量 | 表达式 |", "|---|---|"]
        lines += [f"| `{k}` | `{_cell(v)}` |" for k, v in kind.spec.computed.items()]
    lines += [
        "",
        "## 过滤器",
        "",
        "`tick(值)`：等于该值时 ☑，否则 ☐；`count_upper` / `count_lower`：份数、期数的中文数字；",
        "`letter`：0、1、2 … 写作 a、b、c …；`wan`：以万元写出；`rmb_upper`：金额大写；",
        "`bond_clause`：履约保证金条款。公开文本中被隐去的值为 ＊＊＊，过滤器原样保留。",
        "",
    ]
    return "\n".join(lines)


#: a text YAML reads back as the same text without quotes (the loader reads plain scalars as text)
_PLAIN = re.compile(r"[^\s#:'\"\[\]{},&*!|>%@`?-][^#\n]*")


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    plain = isinstance(value, str) and _PLAIN.fullmatch(value) and ": " not in value
    if plain and value == value.strip() and not value.endswith(":"):
        return str(value)
    text: str = yaml.safe_dump(value, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _comment(definition: FieldDef) -> str:
    spec = definition.spec
    notes = [spec.title]
    if spec.help:
        notes.append(spec.help)
    if spec.choices:
        notes.append("可选：" + "、".join(spec.choices))
    if spec.type == "yesno":
        notes.append("填“是”或“否”")
    if spec.type == "date":
        notes.append("日期写作 2026-01-16")
    if not spec.required and spec.default is None and "可不填" not in spec.help:
        notes.append("可不填")
    elif spec.default not in (None, []):
        notes.append(f"可不填：默认 {spec.default}")
    return "；".join(dict.fromkeys(notes))


def _lines(fields: tuple[FieldDef, ...], data: Mapping[str, Any], indent: str) -> list[str]:
    out = []
    for definition in fields:
        value = data.get(definition.key)
        comment = f"  # {_comment(definition)}"
        if definition.type == "object":
            out.append(f"{indent}{definition.key}:{comment}")
            out.extend(_lines(definition.children, value or {}, indent + "  "))
        elif definition.type == "list" and isinstance(value, list) and value:
            out.append(f"{indent}{definition.key}:{comment}")
            for item in value:
                if definition.records and isinstance(item, Mapping):
                    inner = _lines(definition.children, item, indent + "    ")
                    out.append(f"{indent}  - {inner[0].lstrip()}")
                    out.extend(inner[1:])
                else:
                    out.append(f"{indent}  - {_scalar(item)}")
        elif definition.key not in data and definition.spec.default not in (None, []):
            # Left out, the default applies: shown, commented out, for the person to change.
            shown = _scalar(str(definition.spec.default))
            out.append(f"{indent}# {definition.key}: {shown}{comment}")
        else:
            shown = "[]" if value == [] else _scalar(value)
            out.append(f"{indent}{definition.key}: {shown}{comment}".replace(":   #", ":  #"))
    return out


def commented_yaml(kind: ContractKind, data: Mapping[str, Any]) -> str:
    """Return contract data as YAML, each field commented with its title and help from the kind."""
    head = [
        f"# {kind.title} — 合同数据（合同类型 {kind.id}，第 {kind.version} 版）",
        "# 逐项填写后运行 contractgen validate 本文件 检查，",
        "# 再运行 contractgen render 本文件 -o 文件夹 生成全套文件。",
        "# 所有值按文本读取：日期写作 2026-01-16，金额写作 1578000 或 1578000.50。",
        "",
    ]
    body = _lines(kind.fields, data, "")
    if not kind.built_in:
        body.insert(0, f"kind: {kind.id}  # 合同类型")
    publication = data.get("publication")
    if isinstance(publication, Mapping) and publication:
        model = kind.publication_model.model_fields
        body.append("publication:  # 合同公告（财办库〔2020〕50号）与公开文本；可不填")
        for key, value in publication.items():
            title = model[key].title if key in model else key
            if isinstance(value, list):
                body.append(f"  {key}:  # {title}")
                body.extend(f"    - {_scalar(item)}" for item in value)
            else:
                body.append(f"  {key}: {_scalar(value)}  # {title}")
    return "\n".join([*head, *body]) + "\n"
