"""Translate pydantic's errors into issues: a dotted path, a stable code, a Chinese message.

Field-level problems come from a kind's model (pydantic collects them across
all fields in one pass); the rules that relate several fields are a kind's
(:mod:`generator.kinds.rules`). Every kind reports a field's problem the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import Issue
from .text import character_problem

__all__ = ["field_path", "from_pydantic"]

#: Chinese messages and stable codes for pydantic's own error types
_BUILTIN: dict[str, tuple[str, str]] = {
    "missing": ("required", "必填项缺失"),
    "extra_forbidden": ("field.unknown", "未知字段（请检查拼写）"),
    "string_type": ("type.text", "应为文本"),
    "int_type": ("type.integer", "应为整数"),
    "int_parsing": ("type.integer", "应为整数"),
    "int_from_float": ("type.integer", "应为整数"),
    "int_parsing_size": ("type.integer", "整数位数过多"),
    "greater_than_equal": ("range", "数值过小"),
    "less_than_equal": ("range", "数值过大"),
    "list_type": ("type.list", "应为列表"),
    "model_type": ("type.object", "应为对象（键值表）"),
    "model_attributes_type": ("type.object", "应为对象（键值表）"),
    "dict_type": ("type.object", "应为对象（键值表）"),
    "too_short": ("list.empty", "至少应有一项"),
    "string_too_long": ("text.too_long", "不能超过{max_length}个字符（现有{actual_length}个）"),
    "too_long": ("list.too_long", "最多{max_length}项（现有{actual_length}项）"),
    "literal_error": ("choice.invalid", "取值无效，应为以下之一：{expected}"),
}


class _Blank(dict[str, Any]):
    """Format values that leave a missing key empty."""

    def __missing__(self, key: str) -> str:
        return ""


def field_path(loc: Sequence[int | str]) -> str:
    """Return a pydantic location as a dotted path with list indices: ``a.b[0].c``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + part
    return path


def from_pydantic(error: Any) -> Issue:
    """Return the issue of one pydantic error."""
    kind = error["type"]
    path = field_path(error["loc"])
    if error.get("input", "") is None and kind in _BUILTIN:
        # An empty YAML value (``method:``) is a missing value, whatever type was expected.
        kind = "missing"
    if kind in _BUILTIN:
        code, message = _BUILTIN[kind]
        context = dict(error.get("ctx", {}))
        if kind in {"string_too_long", "too_long"}:
            context["actual_length"] = len(error["input"])
        if kind == "literal_error":
            # pydantic's "'男' or '女'": the values, listed as Chinese lists them
            values = re.findall(r"'((?:[^'\\]|\\.)*)'", str(context.get("expected", "")))
            context["expected"] = "、".join(values) or context.get("expected", "")
        return Issue(path, code, message.format_map(_Blank(context)))
    if kind == "string_unicode" and isinstance(error.get("input"), str):
        # pydantic refuses a lone surrogate (JSON "\ud800") before any validator of ours.
        problem = character_problem(error["input"])
        if problem:
            return Issue(path, *problem)
    # Our own PydanticCustomError: its type is the stable code, its message is Chinese.
    if "." in kind or kind in {"required"}:
        return Issue(path, kind, error["msg"])
    return Issue(path, f"invalid.{kind}", f"取值无效：{error['msg']}")
