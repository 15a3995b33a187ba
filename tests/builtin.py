"""The built-in O&M kind's names as the tests read them: documents, keys, seal words, context."""

from __future__ import annotations

from typing import Any

from generator import Contract, default_kind
from generator.domain.filters import MARK
from generator.inputs import layout_of

__all__ = [
    "COLUMNS",
    "DERIVED_FROM_NO_DATA",
    "DOCUMENTS",
    "KIND",
    "KINDS",
    "MARK",
    "PUBLIC_PATHS",
    "SEAL_KEYWORDS",
    "TEMPLATE_DIR",
    "build_context",
    "context_sources",
    "data_paths",
    "withheld_context",
]

#: the built-in kind
KIND = default_kind()
#: its documents in set order, their keys, its seal keywords
DOCUMENTS = KIND.documents
KINDS = KIND.keys
SEAL_KEYWORDS = KIND.seal_keywords
#: the folder of its templates, declaration and samples
TEMPLATE_DIR = KIND.folder
#: the paths the 合同公告 must publish
PUBLIC_PATHS = KIND.public_paths
#: the main sheet's columns of its workbook: (header, data path, reader)
COLUMNS = tuple((c.header, c.path, c.reader) for c in layout_of(KIND).columns)


def build_context(contract: Contract) -> dict[str, Any]:
    """Return the template context of a contract of its kind."""
    return contract.kind.context(contract)


def data_paths() -> frozenset[str]:
    """Return every data path of the built-in kind."""
    return KIND.data_paths


def withheld_context(contract: Contract, paths: Any, mark: str | None = None) -> dict[str, Any]:
    """Return the context of a contract with the values of ``paths`` replaced by a mark."""
    if mark is None:
        return contract.kind.withheld_context(contract, tuple(paths))
    return contract.kind.withheld_context(contract, tuple(paths), mark)


#: context values that derive from no data value: none since loop counters and letters
#: are the template's own (``loop.index``, ``loop.index0 | letter``)
DERIVED_FROM_NO_DATA: frozenset[str] = frozenset()


def context_sources(contract: Contract) -> dict[str, tuple[str, ...]]:
    """Return each value of a contract's context and the data paths it derives from."""
    return contract.kind.context_sources(contract)
