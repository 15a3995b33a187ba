"""The contract ledger: what was issued, in which version, verifiable and hash-chained.

SQLite in the user's data folder by default; PostgreSQL (``postgresql+psycopg://…``)
when several replicas share one.
"""

from .chain import file_records, set_record
from .store import ENVIRONMENT, Ledger, Match, Recorded, default_url, masked, verdict

__all__ = [
    "ENVIRONMENT",
    "Ledger",
    "Match",
    "Recorded",
    "default_url",
    "file_records",
    "masked",
    "set_record",
    "verdict",
]
