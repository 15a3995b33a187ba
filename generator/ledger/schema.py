"""The ledger's tables (SQLAlchemy Core): sets, their files, and the hash-chained events.

The events are the record: each holds everything it says in its body (a set's
data and every file's hashes) and is chained to the one before. ``sets`` and
``files`` are what the events say, laid out to be searched (the file hashes
are indexed, so a file is verified from its SHA-256 at once);
``contractgen ledger check`` rebuilds them from the events and compares.
``signed_copies`` are the sealed PDFs the e-signing platform returned, each
extending one issued file (indexed by its own SHA-256, so ``verify`` knows it).
``ended_sessions`` are the workbench sessions ended by 退出, kept until they would
have expired anyway, so that every replica sharing the ledger refuses them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["ENDED_SESSIONS", "EVENTS", "FILES", "METADATA", "SETS", "SIGNED_COPIES"]

METADATA = MetaData()

#: one version of one contract's set
SETS = Table(
    "sets",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("contract_no", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", Text, nullable=False, default=""),
    Column("input_sha256", String(64), nullable=False),
    Column("templates_sha256", String(64), nullable=False),
    Column("generator_version", String(32), nullable=False),
    Column("project_name", Text, nullable=False),
    Column("supplier", Text, nullable=False),
    Column("amount", String(32), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("issued_by", String(200), nullable=False),
    #: the day its 合同公告 and public copy were published (None: not yet)
    Column("published_on", Date),
    #: the normalised input data (canonical JSON): a version can be shown and made again
    Column("data", Text, nullable=False),
    #: which templates made it: built in or an office's folder, and their SHA-256
    Column("templates", Text, nullable=False),
    #: the signing of its signed copies: None (none recorded), partly_signed or signed
    Column("signing", String(16)),
    #: the latest signing time its signatures carry (UTC, as the events store times)
    Column("signed_at", String(32)),
    UniqueConstraint("contract_no", "version", name="uq_sets_contract_version"),
    Index("ix_sets_status", "status"),
    Index("ix_sets_signed_on", "signed_on"),
)

#: every file of a version: documents, bundle, manifest
FILES = Table(
    "files",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("set_id", Integer, ForeignKey("sets.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("format", String(8), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_md5", String(24), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("pages", Integer),
    #: seal fields and cross-page seal of a PDF (JSON), as in the manifest
    Column("seals", Text, nullable=False, default="[]"),
    UniqueConstraint("set_id", "name", "format", name="uq_files_set_name_format"),
    Index("ix_files_sha256", "sha256"),
)

#: the append-only record, each event's hash covering the previous one's, and signed
EVENTS = Table(
    "events",
    METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(16), nullable=False),
    Column("contract_no", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    #: what the event says (canonical JSON): a set and its files, or a status and why
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    #: the id of the key that signed it (see :mod:`.keys`); None before 0.3.0 signed events
    Column("key_id", String(64)),
    #: the Ed25519 signature of its hash, base64: only the key's holder can make it
    Column("signature", String(128)),
    Index("ix_events_contract", "contract_no", "version"),
)

#: a signed copy: an issued PDF with its seal fields signed, returned by the e-signing platform
SIGNED_COPIES = Table(
    "signed_copies",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("set_id", Integer, ForeignKey("sets.id"), nullable=False),
    #: the issued file it extends: its name, format and SHA-256, and its document's kind
    Column("name", Text, nullable=False),
    Column("format", String(8), nullable=False),
    Column("issued_sha256", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_md5", String(24), nullable=False),
    Column("size", BigInteger, nullable=False),
    #: each signature: party, field, certificate details, signing time (JSON)
    Column("signers", Text, nullable=False),
    #: the latest signing time of its signatures (UTC)
    Column("signed_at", String(32)),
    #: which certificate chain was validated, if any (JSON)
    Column("trust", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    UniqueConstraint("set_id", "sha256", name="uq_signed_copies_set_sha256"),
    Index("ix_signed_copies_sha256", "sha256"),
)

#: a workbench session ended by 退出: its id, whose it was, and when it would have expired
ENDED_SESSIONS = Table(
    "ended_sessions",
    METADATA,
    Column("session_id", String(64), primary_key=True),
    Column("login", String(200), nullable=False),
    Column("ended_at", String(32), nullable=False),
    #: the end of its absolute lifetime (UTC): after it the row may go
    Column("expires_at", String(32), nullable=False),
    Index("ix_ended_sessions_expires_at", "expires_at"),
)
