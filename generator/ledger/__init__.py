"""The contract ledger: what was issued, in which version, verifiable and hash-chained.

SQLite in the user's data folder by default; PostgreSQL (``postgresql+psycopg://…``)
when several replicas share one.
"""

from .chain import file_records, set_record
from .publications import Published, is_public, publishing, record_publication
from .store import (
    ENVIRONMENT,
    Ledger,
    Match,
    Recorded,
    default_actor,
    default_url,
    masked,
    verdict,
)
from .verification import ZIP_ENTRIES_MAX, ZIP_EXPANDED_MAX, verify_body

__all__ = [
    "ENVIRONMENT",
    "ZIP_ENTRIES_MAX",
    "ZIP_EXPANDED_MAX",
    "Ledger",
    "Match",
    "Published",
    "Recorded",
    "default_actor",
    "default_url",
    "file_records",
    "is_public",
    "masked",
    "publishing",
    "record_publication",
    "set_record",
    "verdict",
    "verify_body",
]
