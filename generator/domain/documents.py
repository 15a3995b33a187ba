"""The one registry of the contract set's documents.

Everything that lists the set's documents derives from :data:`DOCUMENTS`:
the template names, the file names in a contract's folder, the document kinds
the library and the service accept, where each party seals, and the words the
contract data may therefore not contain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import UnknownDocumentError

__all__ = [
    "DOCUMENTS",
    "KINDS",
    "NOTICE",
    "PUBLICATION_DOCUMENTS",
    "PUBLIC_COPY",
    "SEAL_KEYWORDS",
    "SET_TITLE",
    "DocumentKind",
    "SealPlace",
    "document",
]

Party = Literal["buyer", "supplier"]


@dataclass(frozen=True)
class SealPlace:
    """Where one party seals a document: the words printed there.

    ``last_page_only`` searches only the document's last page, for words that
    also occur earlier in the text (the agreements' first page names 甲方 too).
    """

    party: Party
    keyword: str
    last_page_only: bool = False


@dataclass(frozen=True)
class DocumentKind:
    """One document of the set: its key, its title, its place in the set and its seals."""

    kind: str
    title: str
    number: int
    seals: tuple[SealPlace, ...] = ()

    @property
    def stem(self) -> str:
        """Return the file name without extension, numbered in set order: ``01_运维服务合同``."""
        return f"{self.number:02d}_{self.title}"

    @property
    def public_title(self) -> str:
        """Return the title of its public copy: ``运维服务合同（公开文本）``."""
        return f"{self.title}（{PUBLIC_COPY}）"

    @property
    def public_stem(self) -> str:
        """Return its public copy's file name without extension: ``01_运维服务合同（公开文本）``."""
        return f"{self.stem}（{PUBLIC_COPY}）"

    @property
    def template(self) -> str:
        """Return the file name of its template: ``service_contract.docx``."""
        return f"{self.kind}.docx"


#: The agreements' signature page reads ``甲方:上海市大数据中心`` with an ASCII colon while
#: their first page has the full-width ``甲方：``; free text could hold either, so only the
#: last page is searched.
_SIGNATURES = (
    SealPlace("buyer", "甲方:", last_page_only=True),
    SealPlace("supplier", "乙方:", last_page_only=True),
)

#: the set's documents in the order they are bound; the acceptance-plan form is an
#: attachment of the contract, not sealed on its own
DOCUMENTS: tuple[DocumentKind, ...] = (
    DocumentKind(
        "service_contract",
        "运维服务合同",
        1,
        (SealPlace("buyer", "甲方（盖章）"), SealPlace("supplier", "乙方（盖章）")),
    ),
    DocumentKind("confidentiality_agreement", "保密协议", 2, _SIGNATURES),
    DocumentKind("integrity_agreement", "廉洁协议", 3, _SIGNATURES),
    DocumentKind("acceptance_plan", "履约验收方案", 4),
)

#: the document kinds in set order
KINDS: tuple[str, ...] = tuple(doc.kind for doc in DOCUMENTS)

#: the title of the whole set bound as one PDF
SET_TITLE = f"{DOCUMENTS[0].title}（全套）"

#: every word a seal is placed by: contract data may not contain one, or a seal would
#: land on the data's copy of it, or on none
SEAL_KEYWORDS: tuple[str, ...] = tuple(
    dict.fromkeys(place.keyword for doc in DOCUMENTS for place in doc.seals)
)

#: what a published copy of a document is called: the contract as published, its withheld
#: values marked (《政府采购法实施条例》第五十条)
PUBLIC_COPY = "公开文本"

#: the 合同公告 (财办库〔2020〕50号), which names the public copy as its attachment; numbered 0
#: so that it comes before the documents it announces
NOTICE = DocumentKind("contract_notice", "合同公告", 0)

#: the documents publishing a contract makes besides the public copies of the set's: not
#: the set's documents, so not in :data:`DOCUMENTS`
PUBLICATION_DOCUMENTS: tuple[DocumentKind, ...] = (NOTICE,)

_BY_KIND = {doc.kind: doc for doc in DOCUMENTS}


def document(kind: str) -> DocumentKind:
    """Return the document of that kind; raise :class:`UnknownDocumentError` for another word."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise UnknownDocumentError(kind, KINDS) from None
