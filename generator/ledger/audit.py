"""``ledger check``: recompute the event chain, rebuild what the events say, compare the tables.

An event edited (its content no longer gives its hash), deleted (a gap in the
sequence, or the next event's previous hash no longer matching) or inserted
breaks the chain; one rewritten or added with the chain recomputed after it
carries no signature of a trusted key (see :mod:`.authentic`); a set, file or
signed copy's row edited, deleted or added (a version's signing included) no
longer equals what the events recorded. Deleting
the newest events leaves a shorter valid chain: the head hash printed by every
check is what an auditor keeps to tell.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from .authentic import Flaw, content_of, flaw_of, no_keys
from .chain import GENESIS, canonical, event_hash
from .publications import is_public
from .schema import EVENTS, FILES, SETS, SIGNED_COPIES
from .signed import copies_of, signing_state

__all__ = ["Audit", "State", "audit"]


#: the columns of a set row that the issuing event states
_SET_FIELDS = (
    "input_sha256",
    "templates_sha256",
    "generator_version",
    "project_name",
    "supplier",
    "amount",
)
#: the columns of a file row that the events state
_FILE_FIELDS = ("kind", "format", "sha256", "content_md5", "size", "pages")


class State:
    """What the events say: every version, its files and status, and the event that said it."""

    def __init__(self) -> None:
        self.sets: dict[tuple[str, int], dict[str, Any]] = {}

    def apply(self, row: Any, body: dict[str, Any]) -> None:
        key = (row.contract_no, row.version)
        if row.action == "issue":
            self.sets[key] = {
                "record": body["set"],
                "files": {(f["name"], f["format"]): f for f in body["files"]},
                "status": "issued",
                "reason": "",
                "at": row.at,
                "actor": row.actor,
                "seq": row.seq,
                "published_on": None,
                "signed": {},
                "signing": (None, None),
            }
            old = body.get("supersedes")
            if old is not None and (row.contract_no, old) in self.sets:
                self.sets[(row.contract_no, old)]["status"] = "superseded"
                self.sets[(row.contract_no, old)]["reason"] = f"被第 {row.version} 版取代"
        elif key in self.sets and row.action == "add_files":
            self.sets[key]["files"].update({(f["name"], f["format"]): f for f in body["files"]})
        elif key in self.sets and row.action == "publish":
            said = self.sets[key]
            # A publication replaces the files of the one before it.
            said["files"] = {k: f for k, f in said["files"].items() if not is_public(f["kind"])}
            said["files"].update({(f["name"], f["format"]): f for f in body["files"]})
            said["published_on"] = body["published_on"]
        elif key in self.sets and row.action == "sign":
            said = self.sets[key]
            signed = body["signed"]
            said["signed"][signed["sha256"]] = {**signed, "at": row.at, "actor": row.actor}
            said["signing"] = signing_state(said["files"].values(), said["signed"].values())
        elif key in self.sets and row.action == "void":
            self.sets[key]["status"] = "voided"
            self.sets[key]["reason"] = body.get("reason", "")


class _Flaws:
    """The events' signature flaws, consecutive events with the same flaw told as one range."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.keys = keys
        self.runs: list[tuple[int, int, Flaw]] = []
        self.signed_by: dict[str, int] = {}

    def add(self, row: Any) -> None:
        flaw = flaw_of(row, self.keys)
        if flaw is None:
            self.signed_by[row.key_id] = self.signed_by.get(row.key_id, 0) + 1
            return
        if flaw.code == "ledger.event_changed":
            return  # the chain's own problem says so
        if self.runs and self.runs[-1][2] == flaw and self.runs[-1][1] == row.seq - 1:
            self.runs[-1] = (self.runs[-1][0], row.seq, flaw)
        else:
            self.runs.append((row.seq, row.seq, flaw))

    def problems(self) -> list[tuple[int, str]]:
        """Return (first event, problem) of every run."""
        said = []
        for first, last, flaw in self.runs:
            which = f"事件 {first}" if first == last else f"事件 {first}–{last}"
            said.append((first, f"{which}：{flaw.words(self.keys)}"))
        return said


def _chain(conn: Connection, state: State, problems: list[str], flaws: _Flaws) -> tuple[str, int]:
    """Walk the events in order; return the head hash and the number of events."""
    prev = GENESIS
    expected = 1
    broken: list[tuple[int, str]] = []
    count = 0
    for row in conn.execute(select(EVENTS).order_by(EVENTS.c.seq)):
        count += 1
        content = content_of(row)
        if row.seq != expected:
            broken.append((expected, f"事件 {expected}–{row.seq - 1} 缺失（被删除）"))
        if row.prev_hash != prev:
            broken.append((row.seq, f"事件 {row.seq}：所记前一事件的哈希不符，链在此断开"))
        if event_hash(row.prev_hash, content) != row.hash:
            broken.append((row.seq, f"事件 {row.seq}：内容与其哈希不符（被改动）"))
        flaws.add(row)
        prev, expected = row.hash, row.seq + 1
        try:
            state.apply(row, json.loads(row.body))
        except (ValueError, KeyError, TypeError):
            broken.append((row.seq, f"事件 {row.seq}：内容无法读取"))
    # the first event that is wrong, in whichever way, is named first
    told = broken + ([] if not flaws.keys and count else flaws.problems())
    problems.extend(text for _, text in sorted(told, key=lambda told: told[0]))
    return prev, count


def _compare_set(row: Any, said: dict[str, Any], problems: list[str]) -> None:
    where = f"合同 {row.contract_no} 第 {row.version} 版（事件 {said['seq']}）"
    record = said["record"]
    differs = [name for name in _SET_FIELDS if getattr(row, name) != record[name]]
    if row.signed_on.isoformat() != record["signed_on"]:
        differs.append("signed_on")
    if row.data != canonical(record["data"]):
        differs.append("data")
    if row.templates != canonical(record["templates"]):
        differs.append("templates")
    if (row.issued_at, row.issued_by) != (said["at"], said["actor"]):
        differs.append("issued_at/issued_by")
    if (row.status, row.status_reason) != (said["status"], said["reason"]):
        differs.append("status")
    published = row.published_on.isoformat() if row.published_on else None
    if published != said["published_on"]:
        differs.append("published_on")
    if (row.signing, row.signed_at) != said["signing"]:
        differs.append("signing/signed_at")
    if differs:
        problems.append(f"{where}：记录与登记事件不符（{', '.join(differs)}）")


def _compare_files(conn: Connection, row: Any, said: dict[str, Any], problems: list[str]) -> None:
    where = f"合同 {row.contract_no} 第 {row.version} 版"
    stored = {
        (f.name, f.format): f for f in conn.execute(select(FILES).where(FILES.c.set_id == row.id))
    }
    for key in sorted(set(stored) | set(said["files"])):
        name = f"{key[0]}（{key[1]}）"
        if key not in stored:
            problems.append(f"{where}：文件 {name} 的记录被删除")
            continue
        if key not in said["files"]:
            problems.append(f"{where}：文件 {name} 不见于任何登记事件")
            continue
        file, recorded = stored[key], said["files"][key]
        if any(getattr(file, k) != recorded[k] for k in _FILE_FIELDS) or file.seals != canonical(
            recorded["seals"]
        ):
            problems.append(f"{where}：文件 {name} 的记录与登记事件不符")


#: the fields of a signed copy's row that its ``sign`` event states
_SIGNED_FIELDS = ("name", "format", "kind", "issued_sha256", "content_md5", "size", "signed_at")


def _compare_signed(conn: Connection, row: Any, said: dict[str, Any], problems: list[str]) -> None:
    where = f"合同 {row.contract_no} 第 {row.version} 版"
    stored = {c["sha256"]: c for c in copies_of(conn, row.id)}
    for sha in sorted(set(stored) | set(said["signed"])):
        if sha not in stored:
            problems.append(f"{where}：签署件 {sha[:12]} 的记录被删除")
            continue
        if sha not in said["signed"]:
            problems.append(f"{where}：签署件 {sha[:12]} 不见于任何登记事件")
            continue
        copy, recorded = stored[sha], said["signed"][sha]
        if (
            any(copy[k] != recorded[k] for k in _SIGNED_FIELDS)
            or copy["signers"] != recorded["signers"]
            or copy["trust"] != recorded["trust"]
            or (copy["recorded_at"], copy["recorded_by"]) != (recorded["at"], recorded["actor"])
        ):
            problems.append(f"{where}：签署件 {sha[:12]} 的记录与登记事件不符")


def _orphan_signed(conn: Connection, problems: list[str]) -> None:
    known = select(SETS.c.id)
    for copy in conn.execute(select(SIGNED_COPIES).where(SIGNED_COPIES.c.set_id.not_in(known))):
        problems.append(f"签署件 {copy.sha256[:12]}：不属于台账中的任何版本")


@dataclass
class Audit:
    """What ``ledger check`` found: every problem (the first broken event first), the head."""

    problems: list[str]
    head: str
    #: the ids of the keys events were checked against
    keys: list[str] = field(default_factory=list)
    #: how many events each trusted key signed
    signed_by: dict[str, int] = field(default_factory=dict)
    #: how many events there are
    events: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return it JSON-ready."""
        return {
            "ok": not self.problems,
            "problems": self.problems,
            "head": self.head,
            "keys": self.keys,
            "signed_by": self.signed_by,
            "events": self.events,
        }


def audit(conn: Connection, keys: Mapping[str, Ed25519PublicKey]) -> Audit:
    """Check the chain, every event's signature against ``keys`` and every stored row."""
    problems: list[str] = []
    state = State()
    flaws = _Flaws(keys)
    head, count = _chain(conn, state, problems, flaws)
    if count and not keys:
        problems.insert(0, no_keys())
    seen = set()
    for row in conn.execute(select(SETS).order_by(SETS.c.contract_no, SETS.c.version)):
        key = (row.contract_no, row.version)
        seen.add(key)
        said = state.sets.get(key)
        if said is None:
            problems.append(f"合同 {row.contract_no} 第 {row.version} 版：没有登记事件")
            continue
        _compare_set(row, said, problems)
        _compare_files(conn, row, said, problems)
        _compare_signed(conn, row, said, problems)
    for number, version in sorted(set(state.sets) - seen):
        problems.append(f"合同 {number} 第 {version} 版：记录被删除")
    _orphan_signed(conn, problems)
    return Audit(problems, head, sorted(keys), flaws.signed_by, count)
