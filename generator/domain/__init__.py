"""The domain: the set's documents, the contract data model and its rules, amounts, context.

Nothing here knows of files, templates, offices or PDFs; every other stage
builds on it.
"""

from .amount import rmb_upper
from .documents import DOCUMENTS, KINDS, SEAL_KEYWORDS, SET_TITLE, DocumentKind, SealPlace, document
from .model import Contract, json_schema
from .validate import check, parse, validate

__all__ = [
    "DOCUMENTS",
    "KINDS",
    "SEAL_KEYWORDS",
    "SET_TITLE",
    "Contract",
    "DocumentKind",
    "SealPlace",
    "check",
    "document",
    "json_schema",
    "parse",
    "rmb_upper",
    "validate",
]
