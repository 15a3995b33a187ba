"""Contract kinds as data: load a kind folder's declaration and derive everything from it.

A kind folder holds ``kind.yaml`` (the kind's documents, fields, rules,
envelope and publication defaults), its DOCX templates and a filled sample.
From the declaration alone come the model data is validated against, the
cross-field rules, the JSON Schema, the template context and what a public
copy may withhold; the stages below never know which kind they work on.
"""

from pathlib import Path

from .declaration import DECLARATION, KindSpec
from .fields import FieldDef
from .kind import ContractKind, load_kind
from .model import Contract, Envelope, value_at
from .registry import (
    BUILTIN_DIR,
    DEFAULT_KIND,
    ENVIRONMENT,
    Registry,
    check,
    default_kind,
    json_schema,
    kind_of,
    parse,
    registry,
    validate,
)
from .rules import RULES

#: the working skeleton ``kinds new`` copies: one document, a few fields, a sample
SKELETON = Path(__file__).resolve().parent / "skeleton"

__all__ = [
    "BUILTIN_DIR",
    "DECLARATION",
    "DEFAULT_KIND",
    "ENVIRONMENT",
    "RULES",
    "SKELETON",
    "Contract",
    "ContractKind",
    "Envelope",
    "FieldDef",
    "KindSpec",
    "Registry",
    "check",
    "default_kind",
    "json_schema",
    "kind_of",
    "load_kind",
    "parse",
    "registry",
    "validate",
    "value_at",
]
