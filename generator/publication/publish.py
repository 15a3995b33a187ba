"""Publish one contract: its public copy, its 合同公告, and the day both are due.

Above the pipeline, as the ledger is: publishing asks the pipeline's :class:`Generator`
for its templates and offices and has the public copy's PDFs made by the same
:func:`generator.pipeline.add_pdfs` as the contract set, so the public copy is the
contract's own layout, page for page, with the withheld values marked.

Nothing withheld can reach a file: the mark replaces the values in the template context
(:func:`generator.domain.context.withheld_context`) before any document is rendered, so
neither the DOCX nor LibreOffice ever holds them (no text, no font glyph, no
``/ToUnicode`` entry); the files' metadata (title, subject, author, dates) carries only
values the notice must publish, which cannot be withheld
(:data:`generator.domain.model.PUBLIC_PATHS`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from ..docx.public import mark_public
from ..docx.render import publication_template
from ..domain.documents import NOTICE, PUBLIC_COPY
from ..domain.filters import MARK
from ..domain.model import CHINA_TIME
from ..errors import InvalidContractError, Issue, UsageError
from ..identity import identity
from ..kinds import Contract, value_at
from ..pdf import Meta, Part, finish_set
from ..pipeline import ContractSet, Document, Generator, add_pdfs, input_digest
from .calendar import calendar
from .due import WORKING_DAYS, due_date
from .leaks import leaks
from .notice import notice_context, notice_json, notice_title, notice_values
from .withholding import mask_text, public_context, text_pattern

__all__ = [
    "FOOTER_LINE",
    "MANIFEST",
    "NOTICE_JSON",
    "PUBLIC_FOLDER",
    "Publication",
    "public_folder_name",
    "public_notice",
    "publication_issues",
    "publish",
]

#: the file describing a publication, beside its files
MANIFEST = "publication.json"
#: the notice's fields as JSON, for publication systems that take a form
NOTICE_JSON = "notice.json"
#: how a contract's publication folder is named beside its set's folder
PUBLIC_FOLDER = "{contract_no}（公开）"


def public_folder_name(contract_no: str) -> str:
    """Return the name of a contract's publication folder: ``<contract_no>（公开）``."""
    return PUBLIC_FOLDER.format(contract_no=contract_no)


#: the first line of every footer of a public copy
FOOTER_LINE = f"本文本为合同{PUBLIC_COPY}，已隐去依法不予公开的内容，以“{MARK}”标示"
#: what starts every header of a public copy
HEADER_WORD = f"{PUBLIC_COPY}　"


@dataclass
class Publication:
    """One contract's publication in memory: the public copy, the notice and the due date."""

    contract: Contract
    #: the data paths withheld, the defaults first
    withheld: tuple[str, ...]
    #: the last day to publish: the signing date plus two working days
    due_date: date
    published_on: date
    #: the four documents as published, DOCX and PDF (their ``title`` is the public title)
    public_copy: list[Document]
    notice_docx: bytes
    notice_pdf: bytes
    notice_pages: int
    #: the notice's fields, as ``notice.json`` holds them
    notice: dict[str, Any]
    template_version: str
    templates: dict[str, Any] = field(default_factory=dict)
    #: the calendar of each year the due date was counted through (see :mod:`.calendar`)
    calendar: list[dict[str, Any]] = field(default_factory=list)

    @property
    def contract_no(self) -> str:
        """Return the contract number."""
        return self.contract.envelope.contract_no

    @property
    def input_sha256(self) -> str:
        """Return the digest of the issued input: the ledger's link, never in a published file.

        A withheld value is few digits (a percentage, a count of days, a mobile number):
        a plain hash of the input published beside the public copy would give it back to
        anyone trying the values in turn. The public files are linked to the version they
        publish by their own SHA-256, which the ledger records with it.
        """
        return input_digest(self.contract)

    @property
    def on_time(self) -> bool:
        """Return whether the publication date is on or before the due date."""
        return self.published_on <= self.due_date

    def _entries(self) -> list[tuple[str, str, str, bytes, int | None]]:
        """Return (file, kind, title, bytes, pages) of every file but the manifest."""
        title = self.notice["title"]
        entries: list[tuple[str, str, str, bytes, int | None]] = [
            (f"{NOTICE.stem}.docx", NOTICE.kind, title, self.notice_docx, None),
            (f"{NOTICE.stem}.pdf", NOTICE.kind, title, self.notice_pdf, self.notice_pages),
            (NOTICE_JSON, NOTICE.kind, title, _json(self.notice), None),
        ]
        for doc, kind in zip(self.public_copy, self.contract.kind.documents, strict=True):
            entries.append((f"{kind.public_stem}.docx", doc.kind, doc.title, doc.docx, None))
            if doc.pdf is not None:
                entries.append((f"{kind.public_stem}.pdf", doc.kind, doc.title, doc.pdf, doc.pages))
        return entries

    def files(self) -> dict[str, bytes]:
        """Return every file of the publication by name, ``publication.json`` last."""
        out = {name: data for name, _, _, data, _ in self._entries()}
        out[MANIFEST] = _json(self.manifest())
        return out

    def manifest(self) -> dict[str, Any]:
        """Return what ``publication.json`` holds: dates, what is withheld, every file's hash."""
        return {
            "contract_no": self.contract_no,
            "contract_kind": self.contract.kind.describe(),
            "sign_date": self.contract.envelope.sign_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "published_on": self.published_on.isoformat(),
            "on_time": self.on_time,
            "working_days": WORKING_DAYS,
            # which calendar counted each year of the count: chinesecalendar or an office file
            "calendar": self.calendar,
            "withheld": list(self.withheld),
            # the numbers the data declares public (free text may print them)
            "public_numbers": list(self.contract.publication_settings.public_numbers),
            "mark": MARK,
            "generator_version": str(identity()),
            "template_version": self.template_version,
            "templates": self.templates,
            "files": [
                {
                    "file": name,
                    "kind": kind,
                    "title": title,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "pages": pages,
                }
                for name, kind, title, data, pages in self._entries()
            ],
        }


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode()


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def publication_issues(contract: Contract) -> list[Issue]:
    """Return every reason the contract cannot be published: no 项目编号, an uncovered year."""
    issues = []
    settings = contract.publication_settings
    if not settings.project_no:
        issues.append(Issue("publication.project_no", "required", "发布合同公告须填写项目编号"))
    kind = contract.kind
    for n, text in enumerate(settings.withhold_text):
        for path in kind.public_paths:
            if _bare(text) in _bare(str(value_at(contract, path) or "")):
                message = (
                    f"“{text}”在{kind.label_of(path)}（{path}）中，"
                    "合同公告须公开该项（财办库〔2020〕50号），不能隐去"
                )
                issues.append(
                    Issue(
                        f"publication.withhold_text[{n}]",
                        "publication.withhold_text.public",
                        message,
                    )
                )
                break
    try:
        due_date(contract.envelope.sign_date)
    except InvalidContractError as exc:
        issues.extend(exc.issues)
    return kind.titled(issues)


def _public_copy(
    generator: Generator, contract: Contract, context: Mapping[str, Any]
) -> list[Document]:
    documents = []
    envelope = contract.envelope
    templates = generator.templates_for(contract.kind)
    for doc in contract.kind.documents:
        properties = {
            "title": doc.public_title,
            "subject": envelope.contract_no,
            "creator": envelope.buyer,
            "language": "zh-CN",
            "date": _utc_stamp(contract.signed_at),
        }
        rendered = templates.render(doc.kind, context, properties)
        marked = mark_public(
            rendered,
            word=HEADER_WORD,
            line=FOOTER_LINE,
            name=f"{envelope.contract_no}/{doc.kind}/{PUBLIC_COPY}",
        )
        documents.append(Document(doc.kind, doc.public_title, marked, stem=doc.public_stem))
    return documents


def publish(
    generator: Generator,
    data: Mapping[str, Any] | Contract,
    *,
    published_on: date | None = None,
    pdfa: bool = False,
    deadline: float | None = None,
) -> Publication:
    """Return the publication of raw contract data (or a parsed contract), in memory.

    ``published_on`` is the notice's 合同公告日期 (today in China when None); it may not be
    before the signing date (:class:`UsageError`). Data that cannot be published — no
    项目编号, a signing date the holiday calendar does not cover — raises
    :class:`InvalidContractError` with every issue before anything is rendered. No
    conversion runs past ``deadline`` (a :func:`time.monotonic` time).
    """
    contract = data if isinstance(data, Contract) else generator.parse(data)
    kind, envelope = contract.kind, contract.envelope
    issues = publication_issues(contract)
    if issues:
        raise InvalidContractError(issues)
    day = published_on or datetime.now(CHINA_TIME).date()
    if day < envelope.sign_date:
        raise UsageError(f"合同公告日期 {day} 不能早于合同签订日期 {envelope.sign_date}")
    withheld, context = public_context(contract)
    values = public_notice(contract, context, day)
    documents = _public_copy(generator, contract, context)
    attachments = [
        {"title": doc.public_title, "file": f"{doc.public_stem}.pdf"} for doc in kind.documents
    ]
    templates = generator.templates_for(kind)
    title = notice_title(values)
    moment = datetime.combine(day, time(), CHINA_TIME)
    notice_template = publication_template(NOTICE.kind)
    notice_docx = notice_template.render(
        notice_context(values, [a["title"] for a in attachments], MARK),
        {
            "title": title,
            "subject": envelope.contract_no,
            "creator": envelope.buyer,
            "language": "zh-CN",
            "date": _utc_stamp(moment),
        },
    )
    with ThreadPoolExecutor(max_workers=1) as aside:
        # The notice converts in another office while the public copy does.
        raw = aside.submit(
            generator.converter.convert_bytes, notice_docx, pdfa=pdfa, deadline=deadline
        )
        public = ContractSet(
            contract,
            documents,
            input_digest(contract),
            templates.version,
            formats=("docx", "pdf"),
            templates=templates.describe(),
        )
        add_pdfs(public, generator.converter, pdfa=pdfa, deadline=deadline)
        meta = Meta(title, envelope.contract_no, envelope.buyer, moment)
        (notice_pdf,), _ = finish_set([(raw.result(), [Part(NOTICE.kind, meta)])])
    held = calendar()
    due = due_date(envelope.sign_date, held=held)
    made = Publication(
        contract,
        withheld,
        due,
        day,
        public.documents,
        notice_docx,
        notice_pdf.pdf,
        notice_pdf.pages,
        notice_json(values, attachments),
        templates.version,
        templates.describe(),
        held.sources(range(envelope.sign_date.year, due.year + 1)),
    )
    # What the public would get is read back: a withheld value or a personal number typed
    # into free text is refused, naming its field, before anything is written or recorded.
    words = templates.words() + notice_template.words() + _bare(HEADER_WORD + FOOTER_LINE)
    found = leaks(made, words)
    if found:
        raise InvalidContractError(found)
    return made


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def public_notice(contract: Contract, context: Mapping[str, Any], day: date) -> dict[str, str]:
    """Return the notice's fields of a contract published on ``day``, from the public copy's
    context, the data's ``withhold_text`` marked in the texts its publication block gives."""
    values = notice_values(contract, context, day)
    texts = contract.publication_settings.withhold_text
    if texts:
        patterns = [text_pattern(t) for t in sorted(texts, key=len, reverse=True)]
        for key in ("subject_name", "requirements", "quantity", "other"):
            values[key] = mask_text(values[key], patterns)
    return values
