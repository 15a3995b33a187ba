"""What a document of a set is: its key, title, place and seals; and the publication's own.

Each contract kind lists its documents in its declaration
(:class:`generator.kinds.ContractKind` ``.documents``): the template names,
the file names in a contract's folder, the documents the library and the
service accept, where each party seals, and the words data may therefore not
contain all derive from that list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "NOTICE",
    "PUBLICATION_DOCUMENTS",
    "PUBLIC_COPY",
    "SIGNING_DATE",
    "DocumentKind",
    "SealPlace",
]

#: a signing date as a seal block prints it (2026年01月16日): the line a seal presses
SIGNING_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")

#: a sealing party: ``buyer`` and ``supplier`` in every kind so far
Party = str


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
    #: the template's file name in its kind folder (default ``<kind>.docx``)
    template_name: str = ""
    #: an unsealed attachment of the document before it
    attachment: bool = False
    #: whether a document of more than one page gets a cross-page seal (骑缝章) place
    cross_page_seal: bool = True

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
        return self.template_name or f"{self.kind}.docx"


#: what a published copy of a document is called: the contract as published, its withheld
#: values marked (《政府采购法实施条例》第五十条)
PUBLIC_COPY = "公开文本"

#: the 合同公告 (财办库〔2020〕50号), which names the public copy as its attachment; numbered 0
#: so that it comes before the documents it announces
NOTICE = DocumentKind("contract_notice", "合同公告", 0)

#: the documents publishing a contract makes besides the public copies of the set's: not
#: the set's documents, so not in :data:`DOCUMENTS`
PUBLICATION_DOCUMENTS: tuple[DocumentKind, ...] = (NOTICE,)
