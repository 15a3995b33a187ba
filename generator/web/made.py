"""Files made in the workbench, kept for their downloads, page pictures and 签发."""

from __future__ import annotations

from typing import Any

from ..pipeline import ContractSet, folder_zip

__all__ = ["Made"]


class Made:
    """Files made in the workbench (a set, or a publication): kept for downloads and pictures."""

    def __init__(
        self,
        folder: str,
        manifest: dict[str, Any],
        files: dict[str, bytes],
        pdfs: list[bytes | None],
        ledger: str | None,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.files = files
        self.zip = folder_zip(folder, files)
        self.pdfs = pdfs
        self.ledger = ledger
        self.pictures: dict[tuple[int, int, int], bytes] = {}
        #: the draft set itself, kept until it is issued (None: not a draft of a set)
        self.draft: ContractSet | None = None
        #: a draft read back from the shared folder that is not this release's set
        self.foreign = False

    @classmethod
    def of_set(cls, contract_set: ContractSet, ledger: str | None) -> Made:
        """Return a set made, with what the ledger said of it (None: a draft, kept to issue)."""
        pdfs = [doc.pdf for doc in contract_set.documents]
        files = contract_set.files()
        made = cls(contract_set.contract_no, contract_set.manifest(), files, pdfs, ledger)
        if ledger is None:
            made.draft = contract_set
        return made
