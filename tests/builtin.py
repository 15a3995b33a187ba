"""The built-in O&M kind's names as the tests read them: documents, keys, seal words, context."""

from __future__ import annotations

from typing import Any

from generator import Contract, default_kind
from generator.inputs import layout_of

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
