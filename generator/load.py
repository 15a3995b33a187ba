"""Read contract files (YAML or JSON) into raw data for validation.

YAML is read with every plain scalar kept as text: a postcode typed as
020072 must not become the octal number 16442, nor an account number a float,
nor 2026-01-16 a date object that a typo would silently change. The model
parses amounts, dates and numbers from that text itself, exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError


class _TextLoader(yaml.SafeLoader):
    """A YAML loader that resolves only null; every other plain scalar stays a string."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, source: str = "<yaml>") -> Any:
    """Return the data of a YAML document, every plain scalar as text."""
    try:
        return yaml.load(text, Loader=_TextLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: YAML 格式错误：{exc}") from exc


def parse_json(text: str, source: str = "<json>") -> Any:
    """Return the data of a JSON document, numbers with a fraction as Decimal."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: JSON 格式错误：第{exc.lineno}行第{exc.colno}列：{exc.msg}"
        ) from exc


def load_data(path: Path) -> Mapping[str, Any]:
    """Return the raw contract data of a .yaml, .yml or .json file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: 文件不存在") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: 文件不是UTF-8编码") from exc
    except OSError as exc:
        raise InputError(f"{path}: 无法读取：{exc.strerror}") from exc
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        data = parse_yaml(text, str(path))
    elif suffix == ".json":
        data = parse_json(text, str(path))
    else:
        raise InputError(f"{path}: 不支持的文件类型（应为 .yaml、.yml 或 .json）")
    if not isinstance(data, Mapping):
        raise InputError(f"{path}: 文件内容应为一个合同对象（键值表）")
    return data
