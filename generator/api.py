"""Make one contract set: validate, render the four documents, describe them in a manifest."""

from __future__ import annotations

import atexit
import base64
import dataclasses
import datetime as dt
import errno
import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import socket
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__
from .context import build_context
from .convert import ConverterPool
from .errors import ContractError, ConversionError
from .join import join
from .model import SEAL_KEYWORDS, Contract
from .pdf import Meta, Part, SealSpec, finish_set
from .render import KINDS, TemplateSet, default_templates, write_entry
from .validate import parse

_log = logging.getLogger(__name__)

#: output formats a set can be made in
FORMATS = ("docx", "pdf")

#: file name of each document inside a contract's folder, numbered in set order
FILE_STEMS: dict[str, str] = {
    kind: f"{n:02d}_{title}" for n, (kind, title) in enumerate(KINDS.items(), 1)
}
MANIFEST = "manifest.json"

#: where each party seals each document: the keyword printed there (the acceptance-plan
#: form is an attachment of the contract, not sealed on its own). The agreements' signature
#: page reads ``甲方:上海市大数据中心`` with an ASCII colon, while their first page has the
#: full-width ``甲方：``; free text could hold either, so only the last page is searched.
_SIGNATURES = (
    SealSpec("buyer", SEAL_KEYWORDS["buyer_signature"], last_page_only=True),
    SealSpec("supplier", SEAL_KEYWORDS["supplier_signature"], last_page_only=True),
)
SEALS: dict[str, tuple[SealSpec, ...]] = {
    "service_contract": (
        SealSpec("buyer", SEAL_KEYWORDS["buyer_seal"]),
        SealSpec("supplier", SEAL_KEYWORDS["supplier_seal"]),
    ),
    "confidentiality_agreement": _SIGNATURES,
    "integrity_agreement": _SIGNATURES,
    "acceptance_plan": (),
}


@dataclass
class Document:
    """One document of a set, in memory."""

    kind: str
    title: str
    docx: bytes
    pdf: bytes | None = None
    pages: int | None = None
    seals: list[dict[str, Any]] = field(default_factory=list)
    #: where a cross-page seal (骑缝章) goes: pages, edge and height (None for one page)
    cross_page_seal: dict[str, Any] | None = None

    @property
    def stem(self) -> str:
        """Return the file name without extension."""
        return FILE_STEMS[self.kind]


@dataclass
class ContractSet:
    """The documents of one contract and the manifest that describes them."""

    contract: Contract
    documents: list[Document]
    input_sha256: str
    template_version: str
    bundle: bytes | None = None
    bundle_pages: int | None = None
    formats: tuple[str, ...] = ("docx",)
    pdfa: bool = False

    @property
    def contract_no(self) -> str:
        """Return the contract number, which names the set's folder."""
        return self.contract.contract_no

    def files(self) -> dict[str, bytes]:
        """Return every output file of the set by name, the manifest last."""
        out: dict[str, bytes] = {}
        for doc in self.documents:
            if "docx" in self.formats:
                out[f"{doc.stem}.docx"] = doc.docx
            if doc.pdf is not None:
                out[f"{doc.stem}.pdf"] = doc.pdf
        if self.bundle is not None:
            out[self.bundle_name] = self.bundle
        out[MANIFEST] = self.manifest_bytes()
        return out

    @property
    def bundle_name(self) -> str:
        """Return the file name of the whole set as one PDF."""
        return f"{self.contract_no}_合同全套.pdf"

    def manifest(self) -> dict[str, Any]:
        """Return the manifest: versions, input hash, and each file with its hash."""
        documents = []
        for doc in self.documents:
            entry: dict[str, Any] = {"kind": doc.kind, "title": doc.title}
            if "docx" in self.formats:
                entry["docx"] = _describe(f"{doc.stem}.docx", doc.docx)
            if doc.pdf is not None:
                entry["pdf"] = {**_describe(f"{doc.stem}.pdf", doc.pdf), "pages": doc.pages}
                entry["seals"] = doc.seals
                entry["cross_page_seal"] = doc.cross_page_seal
            documents.append(entry)
        manifest: dict[str, Any] = {
            "contract_no": self.contract_no,
            "generator_version": __version__,
            "template_version": self.template_version,
            "input_sha256": self.input_sha256,
            "formats": list(self.formats),
            "pdfa": self.pdfa,
            "documents": documents,
        }
        if self.bundle is not None:
            manifest["bundle"] = {
                **_describe(self.bundle_name, self.bundle),
                "pages": self.bundle_pages,
            }
        return manifest

    def manifest_bytes(self) -> bytes:
        """Return the manifest as UTF-8 JSON."""
        return (json.dumps(self.manifest(), ensure_ascii=False, indent=2) + "\n").encode()


def _describe(name: str, data: bytes) -> dict[str, Any]:
    return {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        # Content-MD5 (RFC 1864), which some e-signing platforms require on upload
        "content_md5": base64.b64encode(hashlib.md5(data).digest()).decode(),
        "size": len(data),
    }


def input_digest(contract: Contract) -> str:
    """Return the SHA-256 of the contract's normalised data (canonical JSON)."""
    canonical = json.dumps(
        contract.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def render_docx(
    contract: Contract,
    templates: TemplateSet | None = None,
    kinds: Iterable[str] | None = None,
) -> ContractSet:
    """Return the contract set with its documents (all four, or the given kinds) as DOCX."""
    templates = templates or default_templates()
    context = build_context(contract)
    wanted = _kinds(kinds)
    documents = []
    for kind, title in KINDS.items():
        if kind not in wanted:
            continue
        properties = {
            "title": title,
            "subject": contract.contract_no,
            "creator": contract.buyer.name,
            "language": "zh-CN",
            "date": contract.signed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        documents.append(Document(kind, title, templates.render(kind, context, properties)))
    return ContractSet(contract, documents, input_digest(contract), templates.version)


def _kinds(kinds: Iterable[str] | None) -> set[str]:
    """Return the document kinds asked for (all when None); raise ValueError for unknown ones."""
    wanted = set(KINDS if kinds is None else kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown document kind(s): {', '.join(sorted(unknown))}")
    return wanted


_default_pool: ConverterPool | None = None
_default_lock = threading.Lock()


def default_converter() -> ConverterPool:
    """Return the process-wide LibreOffice pool, started on first use and closed at exit."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = ConverterPool()
            atexit.register(_default_pool.close)
        return _default_pool


def add_pdfs(
    contract_set: ContractSet,
    converter: ConverterPool,
    *,
    pdfa: bool = False,
    deadline: float | None = None,
) -> None:
    """Convert each document of a set to a sealable PDF and make the bundle.

    A whole set is joined into one DOCX and converted in one LibreOffice
    pass, then cut into its documents (see ``generator/join.py``); documents
    that cannot be joined, and sets of some documents only, convert one by one.
    Nothing is tried past ``deadline`` (a :func:`time.monotonic` time).
    """
    contract = contract_set.contract
    documents = contract_set.documents

    def part(doc: Document, pages: int | None = None) -> Part:
        meta = Meta(doc.title, contract.contract_no, contract.buyer.name, contract.signed_at)
        return Part(doc.kind, meta, pages, SEALS[doc.kind])

    whole = len(documents) == len(KINDS)
    bundle = Meta(
        f"{KINDS['service_contract']}（全套）",
        contract.contract_no,
        contract.buyer.name,
        contract.signed_at,
    )
    joined = join([doc.docx for doc in documents]) if whole else None
    made = None
    for attempt in (1, 2) if joined is not None else ():
        assert joined is not None
        try:
            raw, counts = converter.convert_sections(
                joined.docx,
                [asdict(section) for section in joined.sections],
                pdfa=pdfa,
                deadline=deadline,
            )
            parts = [part(doc, pages) for doc, pages in zip(documents, counts, strict=True)]
            made = finish_set([(raw, parts)], bundle)
            break
        except ConversionError as exc:
            # A layout the bridge could not measure (see _uno_worker.count_pages), once
            # more; then one by one, which gives the same pages in other bytes. Never
            # past the deadline: the caller has given up by then.
            if deadline is not None and time.monotonic() >= deadline:
                raise
            _log.warning(
                "%s: the joined set failed (%s), attempt %d", contract.contract_no, exc, attempt
            )
    if made is None:
        # The documents convert side by side: the pool bounds how many offices run at once.
        def convert(doc: Document) -> bytes:
            return converter.convert_bytes(doc.docx, pdfa=pdfa, deadline=deadline)

        with ThreadPoolExecutor(max_workers=len(documents)) as fan_out:
            raws = list(fan_out.map(convert, documents))
        made = finish_set(
            [(raw, [part(doc)]) for raw, doc in zip(raws, documents, strict=True)],
            bundle if whole else None,
        )
    finished, contract_set.bundle = made
    for doc, pdf in zip(documents, finished, strict=True):
        doc.pdf, doc.pages, doc.seals = pdf.pdf, pdf.pages, pdf.seals
        doc.cross_page_seal = pdf.cross_page_seal
    contract_set.pdfa = pdfa
    if contract_set.bundle is not None:
        contract_set.bundle_pages = sum(pdf.pages for pdf in finished)


def render_set(
    contract: Contract,
    *,
    formats: Iterable[str] = FORMATS,
    pdfa: bool = False,
    converter: ConverterPool | None = None,
    templates: TemplateSet | None = None,
    kinds: Iterable[str] | None = None,
    deadline: float | None = None,
) -> ContractSet:
    """Return the contract set in the given formats (DOCX is always rendered: PDFs come from it).

    ``kinds`` limits the set to some documents (then no bundle is made). Their
    PDFs are still made with the whole set, so that a document's PDF is the
    same bytes however it was asked for. No conversion runs past ``deadline``
    (a :func:`time.monotonic` time).
    """
    chosen = _formats(formats)
    wanted = _kinds(kinds)
    if "pdf" not in chosen:
        contract_set = render_docx(contract, templates, wanted)
        contract_set.formats = chosen
        return contract_set
    contract_set = render_docx(contract, templates)
    add_pdfs(contract_set, converter or default_converter(), pdfa=pdfa, deadline=deadline)
    return _selected(contract_set, chosen, wanted)


def _formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Return the known formats asked for, in their canonical order."""
    return tuple(f for f in FORMATS if f in set(formats))


def _selected(whole: ContractSet, formats: tuple[str, ...], kinds: set[str]) -> ContractSet:
    """Return a whole set made with PDFs as a set of some formats and documents.

    A new object sharing the documents' bytes: the whole set is left as it is.
    """
    documents = [doc for doc in whole.documents if doc.kind in kinds]
    everything = len(documents) == len(whole.documents)
    return dataclasses.replace(
        whole,
        documents=documents,
        formats=formats,
        bundle=whole.bundle if everything else None,
        bundle_pages=whole.bundle_pages if everything else None,
    )


def render_contract(
    data: Mapping[str, Any], formats: Iterable[str] = FORMATS, pdfa: bool = False
) -> ContractSet:
    """Validate raw data and return its set in memory; raise ContractInvalid for bad data.

    Uses a process-wide LibreOffice pool; long-running callers should own a
    :class:`Generator` instead.
    """
    return render_set(parse(data), formats=formats, pdfa=pdfa)


#: how the name of every folder :func:`write_set` stages starts; a contract number cannot
#: start with a dot, so no contract's folder can be taken for one
STAGING_PREFIX = ".contractgen-"
#: the suffix of the file beside each staging folder that names the process writing it
OWNER_SUFFIX = ".owner"
#: how many times a set is swapped in while other writers keep replacing the same folder
_PLACE_ATTEMPTS = 8


class OutputConflict(ContractError, FileExistsError):
    """A contract's folder is taken by something contractgen did not make."""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """Return when a process started (clock ticks since boot), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may hold spaces; field 22 counts from the state after it.
    return stat[stat.rindex(")") + 2 :].split()[19]


def _owner() -> dict[str, Any]:
    pid = os.getpid()
    return {
        "host": socket.gethostname(),
        "boot": _boot_id(),
        "pid": pid,
        "start": _start_time(pid),
    }


def _owner_alive(owner: Any) -> bool:
    """Return False only when the process that wrote an owner record is provably gone."""
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return True
    if owner.get("host") != socket.gethostname():
        return True  # another machine on a shared folder: nothing here can tell
    boot = _boot_id()
    if boot and owner.get("boot") != boot:
        return False
    if Path("/proc/self/stat").exists():
        # The start time tells a reused pid from the writer itself.
        start = _start_time(owner["pid"])
        return start is not None and start == owner.get("start")
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def make_staging(out_dir: Path) -> tuple[Path, Path]:
    """Create a staging folder in ``out_dir`` with its owner record; return both paths.

    The record (``.contractgen-XXXX.owner``, beside the folder) names this
    process, so that :func:`clear_dead_staging` removes only folders whose
    writer is gone. It is written before the folder exists and removed after
    it is gone: no staging folder is ever without its record.
    """
    while True:
        name = f"{STAGING_PREFIX}{secrets.token_hex(8)}"
        owner = out_dir / f"{name}{OWNER_SUFFIX}"
        try:
            fd = os.open(owner, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(_owner(), fh)
        folder = out_dir / name
        try:
            folder.mkdir(0o777)  # the umask applies, as to any folder the user makes
        except BaseException:
            owner.unlink(missing_ok=True)
            raise
        return folder, owner


def _drop_staging(folder: Path, owner: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    owner.unlink(missing_ok=True)


def clear_dead_staging(out_dir: Path) -> list[Path]:
    """Remove the staging folders in ``out_dir`` whose writing process is gone; return them.

    Only folders with an owner record that :func:`make_staging` wrote count,
    and only when that process provably no longer runs: a user's own hidden
    folders, and those of a run still writing, are left alone.
    """
    removed = []
    for owner in out_dir.glob(f"{STAGING_PREFIX}*{OWNER_SUFFIX}"):
        folder = owner.with_name(owner.name.removesuffix(OWNER_SUFFIX))
        try:
            record = json.loads(owner.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being written right now, or not ours: leave it
        if _owner_alive(record) or not owner.is_file() or folder.is_symlink():
            continue
        _drop_staging(folder, owner)
        removed.append(folder)
    return removed


def _made_here(folder: Path, contract_no: str) -> bool:
    """Return whether a folder is a contract set this package wrote for that contract."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("contract_no") == contract_no


def _put_in_place(staging: Path, target: Path, contract_no: str) -> None:
    """Rename a staged set to its folder, swapping out an older set of the same contract."""
    for _ in range(_PLACE_ATTEMPTS):
        try:
            os.rename(staging, target)
            return
        except OSError as exc:
            if exc.errno not in {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR}:
                raise
        if not _made_here(target, contract_no):
            raise OutputConflict(
                f"{target}: 已存在，且不是 contractgen 为合同 {contract_no} 生成的文件夹，不予覆盖"
            )
        old, owner = make_staging(target.parent)
        try:
            try:
                os.rename(target, old / "set")
            except FileNotFoundError:
                continue  # another writer of the same contract moved it first
            try:
                os.rename(staging, target)
                return
            except OSError as exc:
                # Another writer put its set in between: swap again.
                if exc.errno not in {errno.EEXIST, errno.ENOTEMPTY}:
                    raise
        finally:
            _drop_staging(old, owner)
    raise OutputConflict(f"{target}: 多个进程同时在写这份合同，{_PLACE_ATTEMPTS}次仍未写入")


def write_set(contract_set: ContractSet, out_dir: Path) -> Path:
    """Write a set to ``out_dir/<contract_no>/`` atomically and return that folder.

    The files are written into a hidden staging folder (see :func:`make_staging`)
    and renamed into place, so the folder appears complete or not at all; an
    older set of the same contract is replaced only once the new one is whole.
    Anything else in the folder's place is left as it is (:class:`OutputConflict`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / contract_set.contract_no
    staging, owner = make_staging(out_dir)
    try:
        for name, data in contract_set.files().items():
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        _put_in_place(staging, target, contract_set.contract_no)
    finally:
        _drop_staging(staging, owner)
    return target


class Generator:
    """A long-lived generator: owns its templates and LibreOffice workers.

    Safe to call from several threads at once; the pool bounds how many
    conversions run together. Use it as a context manager (or call
    :meth:`close`) so the offices stop with it.

    The last ``cached_sets`` sets made with PDFs are kept in memory by input
    hash: a platform that fetches a contract's documents one request at a
    time has the set made once, and the same contract asked for twice at once
    is made once. The bytes are those a fresh render gives (output is a
    function of the input), so the cache changes nothing but the time.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        timeout: float = 60.0,
        templates: TemplateSet | None = None,
        cached_sets: int = 8,
    ) -> None:
        self.templates = templates or default_templates()
        self.converter = ConverterPool(workers, timeout=timeout)
        self.cached_sets = cached_sets
        self._sets: OrderedDict[tuple[str, bool], ContractSet] = OrderedDict()
        self._making: dict[tuple[str, bool], Future[ContractSet]] = {}
        self._lock = threading.Lock()
        #: how many sets were made, and how many requests the cache answered
        self.counts = {"made": 0, "cached": 0}

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the LibreOffice workers."""
        self.converter.close()

    def render(
        self,
        data: Mapping[str, Any] | Contract,
        *,
        formats: Iterable[str] = FORMATS,
        pdfa: bool = False,
        kinds: Iterable[str] | None = None,
        deadline: float | None = None,
    ) -> ContractSet:
        """Return the contract set of raw data (or a parsed contract) in memory.

        ``kinds`` limits it to some documents, e.g. ``("service_contract",)``;
        no conversion runs past ``deadline`` (a :func:`time.monotonic` time).
        """
        contract = data if isinstance(data, Contract) else parse(data)
        chosen, wanted = _formats(formats), _kinds(kinds)
        if "pdf" not in chosen or self.cached_sets < 1:
            return render_set(
                contract,
                formats=formats,
                pdfa=pdfa,
                converter=self.converter,
                templates=self.templates,
                kinds=kinds,
                deadline=deadline,
            )
        return _selected(self._whole(contract, pdfa, deadline), chosen, wanted)

    def _whole(self, contract: Contract, pdfa: bool, deadline: float | None) -> ContractSet:
        """Return the contract's whole set with PDFs, from the cache or made once."""
        key = (input_digest(contract), pdfa)
        with self._lock:
            whole = self._sets.get(key)
            if whole is not None:
                self._sets.move_to_end(key)
                self.counts["cached"] += 1
                return whole
            making = self._making.get(key)
            mine = making is None
            if making is None:
                making = self._making[key] = Future()
        if not mine:
            return making.result()  # made by another thread right now
        try:
            whole = render_set(
                contract,
                pdfa=pdfa,
                converter=self.converter,
                templates=self.templates,
                deadline=deadline,
            )
        except BaseException as exc:
            with self._lock:
                del self._making[key]
            making.set_exception(exc)
            raise
        with self._lock:
            del self._making[key]
            self._sets[key] = whole
            while len(self._sets) > self.cached_sets:
                self._sets.popitem(last=False)
            self.counts["made"] += 1
        making.set_result(whole)
        return whole


def set_zip(contract_set: ContractSet) -> bytes:
    """Return every file of a set in one zip, deterministic for the same set."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contract_set.files().items():
            write_entry(archive, f"{contract_set.contract_no}/{name}", data)
    return buffer.getvalue()
