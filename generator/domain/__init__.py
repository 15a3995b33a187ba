"""The domain: what every kind shares — documents, field types, amounts, filters, issues.

Nothing here knows of files, templates, offices or PDFs, nor of any one
contract kind (those are declared in kind folders, read by
:mod:`generator.kinds`); every other stage builds on it.
"""

from .amount import rmb_upper
from .documents import DocumentKind, SealPlace

__all__ = ["DocumentKind", "SealPlace", "rmb_upper"]
