"""Read contract files (YAML or JSON) into raw data for validation, within limits.

YAML is read with every plain scalar kept as text: a postcode typed as
020072 must not become the octal number 16442, nor an account number a float,
nor 2026-01-16 a date object that a typo would silently change. The model
parses amounts, dates and numbers from that text itself, exactly.

Nothing is read silently changed or without bound: a key given twice is an
error (neither YAML nor JSON parsers refuse it; both keep the last value), YAML
aliases are refused (contract data never needs them, and an alias tree of a few
hundred bytes expands to gigabytes), and the file size, nesting depth, number of
YAML nodes and digits of a JSON integer are capped before the data is built, so
a hostile file ends in an :class:`InputError`, never a MemoryError or
RecursionError.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError

#: the largest contract file read (the service's default --max-body too); a contract is ~5 KB
__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "MAX_NUMBER_CHARS",
    "load_data",
    "parse_json",
    "parse_yaml",
    "read_text",
]

MAX_FILE_BYTES = 1 << 20
#: the deepest nesting of lists and objects; contract data is 4 levels deep
MAX_DEPTH = 32
#: the most values (YAML nodes) in one document; a contract at every list limit has ~300
MAX_NODES = 20_000
#: the most digits of a JSON integer (a bank account sent as a number has up to 32)
MAX_INT_DIGITS = 32
#: the longest JSON number with a fraction or exponent, in characters
MAX_NUMBER_CHARS = 64


def _limit_error(code: str, message: str, source: str, path: str = "") -> InputError:
    return InputError(message, code=code, path=path, source=source)


def _key_path(parts: list[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + part
    return path


class _TextLoader(yaml.SafeLoader):
    """A YAML loader that resolves only null, refuses aliases and duplicate keys, and counts."""

    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self.source = source
        self.nodes = 0
        self.depth = 0
        #: the keys and indices from the document root to the node being composed
        self.where: list[str | int] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose one node, refusing aliases and counting nodes and depth."""
        named = isinstance(index, int | yaml.ScalarNode)
        if named:
            self.where.append(index if isinstance(index, int) else str(index.value))
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise _limit_error(
                "input.yaml_alias",
                f"第{event.start_mark.line + 1}行：不支持YAML别名（*{event.anchor}），请逐项写出",
                self.source,
                _key_path(self.where),
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _limit_error(
                "input.too_many_values", f"数据项过多（超过{MAX_NODES}个）", self.source
            )
        # Keys count too: a key may itself be a nested collection.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _limit_error("input.too_deep", f"嵌套层数过多（超过{MAX_DEPTH}层）", self.source)
        node = super().compose_node(parent, index)
        if named:
            self.where.pop()
        self.depth -= 1
        return node

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        """Compose a mapping, refusing a key given twice."""
        node: yaml.MappingNode = super().compose_mapping_node(anchor)
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in seen:
                raise _limit_error(
                    "input.duplicate_key",
                    f"键“{key.value}”重复（第{seen[key.value]}行与第{line}行），"
                    "不会以后者为准，请删去其一",
                    self.source,
                    _key_path([*self.where, str(key.value)]),
                )
            seen[key.value] = line
        return node


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, source: str = "<yaml>") -> Any:
    """Return the data of a YAML document, every plain scalar as text."""
    loader = _TextLoader(text, source)  # a SafeLoader subclass
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise InputError(f"YAML 格式错误：{exc}", code="input.yaml", source=source) from exc
    finally:
        loader.dispose()


class _Duplicated(dict[str, Any]):
    """A JSON object that had a key more than once (the first such key)."""

    key = ""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    duplicated = _Duplicated(result)
    duplicated.key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return duplicated


@dataclass(frozen=True)
class _Refused:
    """A JSON value refused while parsing, kept in its place so its path can be named."""

    code: str
    message: str


def _problem(data: Any, where: list[str | int]) -> tuple[str, str, str] | None:
    """Return (path, code, message) of the first refused value or repeated key, or None."""
    if isinstance(data, _Refused):
        return _key_path(where), data.code, data.message
    if isinstance(data, _Duplicated):
        message = f"键“{data.key}”重复，不会以后者为准，请删去其一"
        return _key_path([*where, data.key]), "input.duplicate_key", message
    if not isinstance(data, dict | list):
        return None
    items: Any = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        if isinstance(value, dict | list | _Refused):
            found = _problem(value, [*where, key])
            if found:
                return found
    return None


#: a JSON string, escapes included, or an unterminated one to the end: the brackets inside
#: one are not structure (possessive, so a match never backtracks: linear on any text)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _json_depth(text: str) -> int:
    brackets = _BRACKETS.findall(_JSON_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def parse_json(text: str, source: str = "<json>") -> Any:
    """Return the data of a JSON document, numbers with a fraction as Decimal."""
    if _json_depth(text) > MAX_DEPTH:
        raise _limit_error("input.too_deep", f"嵌套层数过多（超过{MAX_DEPTH}层）", source)

    def integer(digits: str) -> int | _Refused:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            return _Refused("input.number_too_long", f"整数位数过多（超过{MAX_INT_DIGITS}位）")
        return int(digits)

    def number(literal: str) -> Decimal | _Refused:
        if len(literal) > MAX_NUMBER_CHARS:
            return _Refused("input.number_too_long", f"数字过长（超过{MAX_NUMBER_CHARS}个字符）")
        return Decimal(literal)

    def constant(name: str) -> _Refused:
        return _Refused("input.json", f"JSON 不允许 {name}")

    try:
        data = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=integer,
            parse_float=number,
            parse_constant=constant,
        )
    except json.JSONDecodeError as exc:
        raise InputError(
            f"JSON 格式错误：第{exc.lineno}行第{exc.colno}列：{exc.msg}",
            code="input.json",
            source=source,
        ) from exc
    found = _problem(data, [])
    if found:
        path, code, message = found
        raise _limit_error(code, message, source, path)
    return data


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """Return the UTF-8 text of a regular file of at most ``limit`` bytes."""
    source = str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError("是文件夹，不是文件", code="input.not_file", source=source)
        if not stat.S_ISREG(info.st_mode):
            # A device (/dev/zero), FIFO or socket never ends, or blocks the reader.
            raise InputError("不是普通文件", code="input.not_file", source=source)
        if info.st_size > limit:
            raise InputError(
                f"文件过大（{info.st_size}字节，上限{limit}字节）",
                code="input.too_large",
                source=source,
            )
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError as exc:
        raise InputError("文件不存在", code="input.missing", source=source) from exc
    except OSError as exc:
        raise InputError(
            f"无法读取：{exc.strerror}", code="input.unreadable", source=source
        ) from exc
    if len(raw) > limit:  # the file grew after stat
        raise InputError(f"文件过大（上限{limit}字节）", code="input.too_large", source=source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"文件不是UTF-8编码（第{exc.start + 1}个字节）", code="input.encoding", source=source
        ) from exc


def load_data(path: Path) -> Mapping[str, Any]:
    """Return the raw contract data of a .yaml, .yml or .json file."""
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json"}:
        raise InputError(
            "不支持的文件类型（应为 .yaml、.yml 或 .json）", code="input.type", source=str(path)
        )
    text = read_text(path)
    data = parse_json(text, str(path)) if suffix == ".json" else parse_yaml(text, str(path))
    if not isinstance(data, Mapping):
        raise InputError("文件内容应为一个合同对象（键值表）", code="type.object", source=str(path))
    return data
