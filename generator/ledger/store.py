"""The contract ledger: every issued set recorded, verifiable, versioned, hash-chained.

An embedded SQLite file in the user's data folder by default, so that
``contractgen render`` records with no set-up; any SQLAlchemy URL otherwise
(``postgresql+psycopg://…`` for replicas sharing one ledger). Migrations run
on first use; a schema newer than this program is refused.

Recording is serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: one
transaction-scoped advisory lock), so two processes issuing the same number
at once end as version 1 and version 2, and the event chain stays a chain.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError

from ..errors import LedgerError
from ..identity import identity
from ..pipeline import ContractSet
from . import migrate
from .chain import GENESIS, canonical, event_hash, file_records, set_record
from .connect import (
    damage_in_words,
    damaged,
    default_url,
    file_identity,
    in_words,
    masked,
    sqlite_begin,
    sqlite_connect,
    sqlite_file,
    still_there,
)
from .keys import MAKE_ONE, SigningKey, configured_key_file, load_key, trusted_keys
from .matches import Match, matching, verdict
from .rows import Recorded, event_detail, signed_copies, summary
from .schema import EVENTS, FILES, SETS
from .supplements import check_supplement

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from .attest import Attested
    from .audit import Audit

__all__ = [
    "ENVIRONMENT",
    "Ledger",
    "Match",
    "Recorded",
    "default_actor",
    "default_url",
    "masked",
    "verdict",
]

#: the environment variable naming the ledger's URL
ENVIRONMENT = "CONTRACTGEN_LEDGER"
#: the advisory lock every PostgreSQL writer takes (an arbitrary constant of this program)
_PG_LOCK = 7_240_115
_NOT_COLUMNS = frozenset({"data", "templates", "signed_on", "supplement"})  # of a set's record


def default_actor() -> str:
    """Return who records from this process: ``$CONTRACTGEN_USER``, else the OS user@host."""
    named = os.environ.get("CONTRACTGEN_USER", "").strip()
    if named:
        return named[:200]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Ledger:
    """One ledger database, opened (and migrated) once; safe to share between threads.

    Writing signs every event with the ledger's key (``key_file``, else the file
    ``CONTRACTGEN_LEDGER_KEY_FILE`` names; see :mod:`.keys`), loaded on the first
    write: without one nothing is written. Checking and verifying read the public
    keys ``pubkeys`` (else ``CONTRACTGEN_LEDGER_PUBKEY``'s, else the key's own).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        existing: bool = False,
        key_file: Path | None = None,
        pubkeys: Sequence[Path] | None = None,
        writer: bool = False,
    ) -> None:
        """Open a ledger; ``existing``: only one that is there (a query never creates one).

        ``writer``: the signing key is loaded first, so that a writer without one is
        refused before a ledger is even created.
        """
        self.url = url or os.environ.get(ENVIRONMENT) or default_url()
        self._key_file = key_file or configured_key_file()
        self._key: SigningKey | None = None
        self._pubkeys = list(pubkeys) if pubkeys else None
        self._trusted: dict[str, Ed25519PublicKey] | None = None
        if writer:
            self.signing_key()
        self._file: tuple[Path, tuple[int, int]] | None = None
        self.engine = self._engine(existing)
        self._sqlite = self.engine.dialect.name == "sqlite"
        try:
            migrate.upgrade(self.engine, self.writing, self.masked_url)
        except OperationalError as exc:
            self.engine.dispose()
            raise self.unreachable(exc) from exc
        except DatabaseError as exc:  # not a database, or a damaged one
            self.engine.dispose()
            raise damaged(self.masked_url, exc) from exc
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def masked_url(self) -> str:
        """Return the URL with its password hidden."""
        return masked(self.url)

    def unreachable(self, exc: BaseException) -> LedgerError:
        """Return the error of a ledger that could not be reached (its URL masked)."""
        reason = in_words(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
        return LedgerError(
            f"无法使用合同台账 {self.masked_url}：{reason}",
            code="ledger.unreachable",
            url=self.masked_url,
        )

    def _engine(self, existing: bool = False) -> Engine:
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise LedgerError(
                f"合同台账地址无法解析：{self.masked_url}", code="ledger.url", url=self.masked_url
            ) from exc
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            path = Path(str(parsed.database)).expanduser()
            parsed = sqlite_file(parsed, existing, self.masked_url)
            with contextlib.suppress(OSError):
                self._file = (path, file_identity(path))
        try:
            engine = create_engine(parsed, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise LedgerError(
                f"不支持的合同台账地址 {self.masked_url}：{exc}",
                code="ledger.url",
                url=self.masked_url,
            ) from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", sqlite_connect)
            event.listen(engine, "begin", sqlite_begin)
            event.listen(engine, "handle_error", damage_in_words(self.masked_url))
        return engine

    def signing_key(self) -> SigningKey:
        """Return the key events are signed with (loaded once); refuse when there is none.

        Writers call it before they start (a batch, a worker, the service), so that a
        missing key fails them before anything is made.
        """
        if self._key is None:
            if self._key_file is None:
                raise LedgerError(
                    f"签发（写入合同台账）须有台账签名密钥，但未配置：{MAKE_ONE}",
                    code="ledger.key_missing",
                    url=self.masked_url,
                )
            self._key = load_key(self._key_file)
        return self._key

    def trusted_keys(self) -> dict[str, Ed25519PublicKey]:
        """Return the public keys events are checked against, by key id (loaded once)."""
        if self._trusted is None:
            self._trusted = trusted_keys(self._pubkeys)
        return self._trusted

    def close(self) -> None:
        """Close every connection."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """Yield a connection in a transaction no other writer runs beside.

        SQLite: ``BEGIN IMMEDIATE`` takes the write lock at the start; PostgreSQL: one
        transaction-scoped advisory lock. Readers are never blocked.
        """
        try:
            with self.engine.connect() as conn:
                conn.execution_options(ledger_write=True)
                with conn.begin():
                    if not self._sqlite:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
                    still_there(self._file, self.masked_url)
                    yield conn
                    still_there(self._file, self.masked_url)  # gone meanwhile: roll back
        except OperationalError as exc:
            raise self.unreachable(exc) from exc

    # --- recording ----------------------------------------------------------------------------

    @contextmanager
    def recording(self, contract_set: ContractSet, actor: str | None = None) -> Iterator[Recorded]:
        """Record a set in a transaction that commits only if the block succeeds.

        Enter it inside the pipeline's ``staged_set``: the files are whole before the
        record is written, and put in place only once it is committed.
        """
        record = set_record(contract_set)
        files = file_records(contract_set)
        with self.writing() as conn:
            check_supplement(conn, contract_set.contract, record)  # a 补充合同's limit, in here
            yield self._record(conn, record, files, actor or default_actor())

    def record(self, contract_set: ContractSet, actor: str | None = None) -> Recorded:
        """Record a set; return what that did."""
        with self.recording(contract_set, actor) as recorded:
            return recorded

    def _record(
        self, conn: Connection, record: dict[str, Any], files: list[dict[str, Any]], actor: str
    ) -> Recorded:
        number = record["contract_no"]
        current = conn.execute(
            select(SETS)
            .where(SETS.c.contract_no == number)
            .order_by(SETS.c.version.desc())
            .limit(1)
        ).first()
        if current is not None and current.status == "issued" and _same(current, record):
            known = {
                (row.name, row.format): row.sha256
                for row in conn.execute(select(FILES).where(FILES.c.set_id == current.id))
            }
            new = [f for f in files if known.get((f["name"], f["format"])) != f["sha256"]]
            if not new:
                return Recorded(number, current.version, "same")
            if all((f["name"], f["format"]) not in known for f in new):
                self._add_files(conn, current.id, new)
                self.append(conn, "add_files", number, current.version, {"files": new}, actor)
                return Recorded(number, current.version, "files_added")
        version = 1 if current is None else current.version + 1
        superseded = current.version if current is not None and current.status == "issued" else None
        at = _now()
        row = {
            **{k: v for k, v in record.items() if k not in _NOT_COLUMNS},
            "version": version,
            "status": "issued",
            "status_reason": "",
            "signed_on": dt.date.fromisoformat(record["signed_on"]),
            "issued_at": at,
            "issued_by": actor,
            "data": canonical(record["data"]),
            "templates": canonical(record["templates"]),
        }
        inserted = conn.execute(insert(SETS), row).inserted_primary_key
        assert inserted is not None
        set_id = inserted[0]
        self._add_files(conn, set_id, files)
        if superseded is not None:
            conn.execute(
                update(SETS)
                .where(SETS.c.contract_no == number, SETS.c.version == superseded)
                .values(status="superseded", status_reason=f"被第 {version} 版取代")
            )
        body = {"set": record, "files": files, "supersedes": superseded}
        self.append(conn, "issue", number, version, body, actor, at)
        return Recorded(number, version, "new", superseded)

    @staticmethod
    def _add_files(conn: Connection, set_id: int, files: list[dict[str, Any]]) -> None:
        if files:
            conn.execute(
                insert(FILES),
                [{**f, "set_id": set_id, "seals": canonical(f["seals"])} for f in files],
            )

    def append(
        self,
        conn: Connection,
        action: str,
        number: str,
        version: int,
        body: dict[str, Any],
        actor: str,
        at: str | None = None,
    ) -> None:
        """Append an event to the chain, signed (inside :meth:`writing`'s transaction)."""
        key = self.signing_key()
        head = conn.execute(
            select(EVENTS.c.seq, EVENTS.c.hash).order_by(EVENTS.c.seq.desc()).limit(1)
        ).first()
        last, seq = (None, 1) if head is None else (head.hash, head.seq + 1)
        content = {
            "seq": seq,
            "at": at or _now(),
            "actor": actor,
            "action": action,
            "contract_no": number,
            "version": version,
            # every event names the program that wrote it
            "body": canonical({**body, "generator": str(identity())}),
        }
        prev = last or GENESIS
        chained = event_hash(prev, content)
        row = {
            **content,
            "prev_hash": prev,
            "hash": chained,
            "key_id": key.key_id,
            "signature": key.sign(chained),
        }
        conn.execute(insert(EVENTS), row)

    def void(self, contract_no: str, version: int, reason: str, actor: str | None = None) -> None:
        """Mark a version voided, with why; raise LedgerError if there is no such issued one."""
        with self.writing() as conn:
            row = conn.execute(
                select(SETS).where(SETS.c.contract_no == contract_no, SETS.c.version == version)
            ).first()
            if row is None:
                raise LedgerError(
                    f"台账中没有合同 {contract_no} 第 {version} 版", code="ledger.not_found"
                )
            if row.status == "voided":
                raise LedgerError(f"合同 {contract_no} 第 {version} 版已作废", code="ledger.state")
            conn.execute(
                update(SETS)
                .where(SETS.c.id == row.id)
                .values(status="voided", status_reason=reason)
            )
            self.append(
                conn, "void", contract_no, version, {"reason": reason}, actor or default_actor()
            )

    # --- reading ------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """Yield a connection for reading (it blocks no writer)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise self.unreachable(exc) from exc

    def find(self, sha256: str) -> list[Match]:
        """Return every recorded file with that SHA-256 (an index answers)."""
        with self.reading() as conn:
            matches = matching(conn, FILES, sha256.lower())
            from .signed import signed_matches

            matches.extend(signed_matches(conn, sha256.lower()))
        return matches

    def sets(
        self,
        *,
        contract_no: str | None = None,
        status: str | None = None,
        supplier: str | None = None,
        signed_from: dt.date | None = None,
        signed_to: dt.date | None = None,
    ) -> list[dict[str, Any]]:
        """Return the recorded versions matching every filter given, newest first."""
        query = select(SETS).order_by(SETS.c.signed_on.desc(), SETS.c.contract_no, SETS.c.version)
        if contract_no is not None:
            query = query.where(SETS.c.contract_no == contract_no)
        if status is not None:
            query = query.where(SETS.c.status == status)
        if supplier is not None:
            query = query.where(SETS.c.supplier.contains(supplier, autoescape=True))
        if signed_from is not None:
            query = query.where(SETS.c.signed_on >= signed_from)
        if signed_to is not None:
            query = query.where(SETS.c.signed_on <= signed_to)
        with self.reading() as conn:
            return [summary(row) for row in conn.execute(query)]

    def show(self, contract_no: str, version: int | None = None) -> dict[str, Any]:
        """Return one version (the newest if not given) with its data and files."""
        with self.reading() as conn:
            query = select(SETS).where(SETS.c.contract_no == contract_no)
            if version is not None:
                query = query.where(SETS.c.version == version)
            row = conn.execute(query.order_by(SETS.c.version.desc()).limit(1)).first()
            if row is None:
                which = f"第 {version} 版" if version is not None else ""
                raise LedgerError(
                    f"台账中没有合同 {contract_no}{' ' if which else ''}{which}",
                    code="ledger.not_found",
                )
            files = conn.execute(
                select(FILES).where(FILES.c.set_id == row.id).order_by(FILES.c.name)
            ).all()
            signed = signed_copies(conn, row.id)
        return {
            **summary(row),
            "data": json.loads(row.data),
            "templates": json.loads(row.templates),
            "signed_copies": signed,
            "files": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "format": f.format,
                    "sha256": f.sha256,
                    "content_md5": f.content_md5,
                    "size": f.size,
                    "pages": f.pages,
                    "seals": json.loads(f.seals),
                }
                for f in files
            ],
        }

    def history(self, contract_no: str) -> list[dict[str, Any]]:
        """Return every event about one contract number, oldest first."""
        with self.reading() as conn:
            rows = conn.execute(
                select(EVENTS).where(EVENTS.c.contract_no == contract_no).order_by(EVENTS.c.seq)
            ).all()
        if not rows:
            raise LedgerError(f"台账中没有合同 {contract_no}", code="ledger.not_found")
        return [
            {
                "seq": r.seq,
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "version": r.version,
                "hash": r.hash,
                # the key that signed it (None before 0.3.0 signed events)
                "key_id": r.key_id,
                **event_detail(r.action, body := json.loads(r.body)),
                # the program that wrote the event (absent from events older than 0.2.0)
                "generator": body.get("generator"),
            }
            for r in rows
        ]

    def check(self) -> tuple[list[str], str]:
        """Recompute the chain and every stored row; return (problems, the head hash)."""
        done = self.audit()
        return done.problems, done.head

    def audit(self) -> Audit:
        """Check the chain, every event's signature and every stored row (``ledger check``)."""
        from .audit import audit

        keys = self.trusted_keys()
        with self.reading() as conn:
            return audit(conn, keys)

    def attest(self, sha256: str) -> Attested:
        """Return the records of a file, and whether the signed events that make them hold."""
        from .attest import attest

        keys = self.trusted_keys()
        with self.reading() as conn:
            return attest(conn, sha256.lower(), keys)


def _same(current: Any, record: dict[str, Any]) -> bool:
    """Return whether a recorded version was made from the same data, templates and program."""
    return bool(
        current.input_sha256 == record["input_sha256"]
        and current.templates_sha256 == record["templates_sha256"]
        and current.generator_version == record["generator_version"]
    )
