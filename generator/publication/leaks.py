"""Before anything is published: the public files searched for what they must not hold.

Withholding replaces fields; a withheld value typed again into free text (the supplier's
account in 其它条款, the contact's mobile in 保密协议的其他事项) is in no withheld field, so
it would be printed. So what the public actually gets is read back before it is given out:
each PDF's page text as PDFium extracts it, every XML part of each DOCX (paragraph by
paragraph and node by node), ``notice.json``, the PDFs' information dictionaries and XMP,
and ``publication.json``. Two things are looked for:

* every withheld value (``publication.withhold`` and the kind's defaults, and the data's
  ``withhold_text``), however it is spaced: a number by its digits with spaces or dashes
  between them, and an account's or mobile's last digits (four or more) standing alone —
  code ``publish.withheld_in_text``;
* numbers that look personal or financial in any text: a mobile number, a landline with
  its area code, a bank-account-like run of 12 to 30 digits (or groups of four), an ID
  card number — code ``publish.number_in_text``. A number is public, and passes, when the
  data says so by a field of its own (a phone, a fax, a credit code, a date or an amount
  the kind prints and does not withhold), when it is the contract's or the project's
  number, a constant of the kind, or listed in ``publication.public_numbers``.

Each finding is named by the field it is printed from (its title and path: the free-text
field holding it), or by the file when no field of the data holds it. The clerk then
rewrites the field, lists the value in ``withhold_text`` (marked ＊＊＊ wherever it is
printed), or declares a number public: never is it published silently.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..domain.documents import NOTICE
from ..errors import Issue
from ..kinds import Contract, value_at
from ..pdf import pdf_metadata_text, pdf_text
from .withholding import is_number, mask_text, text_pattern

if TYPE_CHECKING:
    from .publish import Publication

__all__ = ["NUMBER_IN_TEXT", "WITHHELD_IN_TEXT", "leaks"]

#: the code of a withheld value found in a public file
WITHHELD_IN_TEXT = "publish.withheld_in_text"
#: the code of a phone-, account- or ID-like number found in a public file, not declared public
NUMBER_IN_TEXT = "publish.number_in_text"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: no digit or letter right before (after) a number: it stands alone
_ALONE_BEFORE = r"(?<![0-9A-Za-z])"
_ALONE_AFTER = r"(?![0-9A-Za-z])"
#: the kinds of numbers looked for, most specific first (an overlap goes to the first)
_NUMBERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "身份证号码",
        re.compile(
            _ALONE_BEFORE
            + r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
            + _ALONE_AFTER
        ),
    ),
    (
        "手机号码",
        re.compile(_ALONE_BEFORE + r"(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}" + _ALONE_AFTER),
    ),
    (
        "固定电话号码",
        re.compile(
            _ALONE_BEFORE
            + r"(?:0\d{2,3}[ -]?|[（(]0\d{2,3}[)）] ?)\d{7,8}(?:(?:-|转)\d{1,5})?"
            + _ALONE_AFTER
        ),
    ),
    (
        "银行账号",
        re.compile(
            _ALONE_BEFORE + r"(?:\d{12,30}|\d{4}(?:[ -]\d{4}){2,6}(?:[ -]\d{1,4})?)" + _ALONE_AFTER
        ),
    ),
)
#: a run of digits standing alone, not the end of a longer number (``021-12345678``'s
#: ``12345678``): an account's last digits, printed on their own
_RUN = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][\s\-–—)）])(?<![0-9][)）]\s)\d{4,}(?![0-9A-Za-z])(?![\s\-–—][0-9])"
)
_YEAR = re.compile(r"(?:19|20)\d{2}")
#: a figure as a value prints: digits, a point, a comma, a percent sign
_SHORT_FIGURE = re.compile(r"[\d\s.,%\-]+")
#: field types whose values are printed as one of a few words (not secrets to look for)
_WORDS = frozenset({"choice", "yesno", "boolean"})
#: what a refusal says to do
_WITHHOLD_HINT = (
    "请删去，或将其列入“公开文本隐去的文字”（publication.withhold_text，命令行 --withhold-text）"
    "以印作＊＊＊"
)
_NUMBER_HINT = (
    "请删去；或将其列入“公开文本隐去的文字”（publication.withhold_text，命令行 --withhold-text）"
    "以印作＊＊＊；确可公开的（如单位总机），列入“可公开的号码”（publication.public_numbers，"
    "命令行 --public-number）"
)
#: the publication block's texts a clerk writes freely (the notice prints them)
_NOTICE_TEXTS = ("subject_name", "requirements", "quantity", "other")


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _worth_looking_for(value: str) -> bool:
    """Return whether a withheld value can be looked for: a figure of fewer than four digits
    (a percentage, a count of days) and a single character are in any text anyway."""
    if _SHORT_FIGURE.fullmatch(value) and len(_digits(value)) < 4:
        return False
    return len(_bare(value)) >= 2


@dataclass(frozen=True)
class _Needle:
    """A withheld value looked for: the field it is withheld from and its text."""

    path: str
    value: str

    @property
    def number(self) -> bool:
        return is_number(self.value)

    def find(self, text: str) -> str | None:
        """Return how the value is spelled in a text, or None when it is not there."""
        if self.number:
            digits = _digits(self.value)
            found = text_pattern(self.value).search(text)
            if found:
                return found.group()
            if len(digits) >= 8:  # inside a longer run of digits, however spaced
                joined = re.sub(r"[\s\-–—]", "", text)
                if digits in joined:
                    return digits
            if len(digits) >= 11:  # an account's or a mobile's last digits, on their own
                for run in _RUN.finditer(text):
                    tail = run.group()
                    if (
                        len(tail) < len(digits)
                        and digits.endswith(tail)
                        and not _YEAR.fullmatch(tail)
                    ):
                        return tail
            return None
        bare = _bare(self.value)
        return bare if bare in _bare(text) else None


@dataclass(frozen=True)
class _View:
    """A text of a published file: its file's name, what part, and whether numbers are read."""

    file: str
    text: str
    #: False for metadata and publication.json: dates and hashes there are digits too
    numbers: bool = True


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, value) of every value of data, a list's rows by index (``items[0].stage``)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _leaves(item, f"{path}[{n}]")
    elif value is not None:
        yield path, value


def _plain(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path)


def _covered(paths: tuple[str, ...], path: str) -> bool:
    return any(path == p or path.startswith(f"{p}.") for p in paths)


# ---------------------------------------------------------------- reading the files


def _pdf_views(name: str, pdf: bytes) -> Iterator[_View]:
    yield _View(name, pdf_text(pdf))
    yield _View(name, pdf_metadata_text(pdf), numbers=False)


def _docx_views(name: str, docx: bytes) -> Iterator[_View]:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        for part in package.namelist():
            if not part.endswith((".xml", ".rels")):
                continue
            data = package.read(part)
            try:
                root = etree.fromstring(data)
            except etree.XMLSyntaxError:
                yield _View(f"{name}/{part}", data.decode("utf-8", "replace"))
                continue
            paragraphs = [
                "".join(t.text or "" for t in p.iter(f"{_W}t", f"{_W}delText", f"{_W}instrText"))
                for p in root.iter(f"{_W}p")
            ]
            nodes = [node.text for node in root.iter() if isinstance(node.text, str)]
            targets = [str(n.get("Target")) for n in root.iter() if n.get("Target")]
            text = "\n".join([*paragraphs, *nodes, *targets])
            yield _View(f"{name}/{part}", text)
            # a value split over runs of no paragraph (a property, a text box's pieces)
            yield _View(f"{name}/{part}", re.sub(r"<[^>]+>", "", data.decode("utf-8")), False)


def _json_strings(value: Any) -> Iterator[str]:
    for _, item in _leaves(value):
        if isinstance(item, str):
            yield item


def _views(publication: Publication) -> Iterator[_View]:
    """Yield every text of every file of the publication, as the public gets them."""
    files = publication.files()
    for doc in publication.public_copy:
        stem = next(
            k.public_stem for k in publication.contract.kind.documents if k.kind == doc.kind
        )
        if doc.pdf is not None:
            yield from _pdf_views(f"{stem}.pdf", doc.pdf)
        yield from _docx_views(f"{stem}.docx", doc.docx)
    from .publish import MANIFEST, NOTICE_JSON

    yield from _pdf_views(f"{NOTICE.stem}.pdf", publication.notice_pdf)
    yield from _docx_views(f"{NOTICE.stem}.docx", publication.notice_docx)
    yield _View(NOTICE_JSON, "\n".join(_json_strings(publication.notice)))
    yield _View(MANIFEST, files[MANIFEST].decode("utf-8"), numbers=False)


# ---------------------------------------------------------------- what the data says


@dataclass
class _Data:
    """What the contract's data says: where text is printed, what is withheld, what is public."""

    #: (path, value as printed) of every value the public copy prints: withheld ones left out
    printed: list[tuple[str, str]]
    needles: list[_Needle]
    #: the digits of every number that may be printed (see the module's docstring)
    public_digits: set[str]


def _read_data(contract: Contract, withheld: tuple[str, ...]) -> _Data:
    kind = contract.kind
    settings = contract.publication_settings
    patterns = [text_pattern(t) for t in sorted(settings.withhold_text, key=len, reverse=True)]
    data = contract.model_dump(mode="json", exclude={"publication"})
    public_values = [str(value_at(contract, path) or "") for path in kind.public_paths]
    public_values.append(settings.project_no or "")
    printed: list[tuple[str, str]] = []
    needles: list[_Needle] = []
    public_digits = {_digits(v) for v in public_values} | {
        _digits(n) for n in settings.public_numbers
    }
    for path, value in _leaves(data):
        if isinstance(value, bool):
            continue
        text, plain = str(value), _plain(path)
        definition = kind.by_path.get(plain)
        if definition is not None and definition.item is not None:
            definition = definition.item  # a list of single values: each is its item's
        kind_of = definition.type if definition is not None else ""
        if _covered(withheld, plain):
            if kind_of not in _WORDS and _worth_looking_for(text):
                needles.append(_Needle(path, text))
            continue
        printed.append((path, mask_text(text, patterns)))
        if kind_of != "text":  # a phone, a date, an amount: printed by the kind, not free text
            public_digits.add(_digits(text))
    for key in _NOTICE_TEXTS:
        value = getattr(settings, key, None)
        if isinstance(value, str):
            printed.append((f"publication.{key}", mask_text(value, patterns)))
    needles.extend(_Needle("publication.withhold_text", text) for text in settings.withhold_text)
    needles = [n for n in needles if _worth_looking_for(n.value)]
    for _, value in _leaves(dict(kind.spec.constants)):
        public_digits.add(_digits(str(value)))
    # what the notice must publish cannot be withheld: a value inside one is public anyway
    shown = [_bare(v) for v in public_values if v]
    needles = [n for n in needles if not any(_bare(n.value) in value for value in shown)]
    return _Data(printed, needles, {d for d in public_digits if d})


# ---------------------------------------------------------------- the search


def _where(data: _Data, needle: _Needle) -> list[str]:
    """Return the paths of the printed values holding a withheld value."""
    return [path for path, text in data.printed if needle.find(text) is not None]


def _printed_from(data: _Data, digits: str) -> list[str]:
    """Return the paths of the printed values holding a number (by its digits)."""
    return [path for path, text in data.printed if digits in re.sub(r"[\s\-–—()（）+]", "", text)]


def _numbers(text: str) -> Iterator[tuple[str, str]]:
    """Yield (what it is, as spelled) of every personal- or account-like number in a text."""
    taken: list[tuple[int, int]] = []
    for label, pattern in _NUMBERS:
        for found in pattern.finditer(text):
            span = found.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            yield label, found.group()


def _is_public(digits: str, public: set[str]) -> bool:
    bare = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    return any(bare in number for number in public)


def leaks(publication: Publication, template_words: str) -> list[Issue]:
    """Return every withheld value and undeclared number a publication's files would publish.

    ``template_words`` is the templates' own text (whitespace removed): a withheld word
    found only where the template prints it (an option's label, a clause's wording) is
    the template's, not the data's, and is not a leak.
    """
    contract = publication.contract
    kind = contract.kind
    data = _read_data(contract, publication.withheld)
    issues: dict[tuple[str, str, str], Issue] = {}

    def add(
        fields: list[str], file: str, code: str, value: str, said: str, hint: str, own: str = ""
    ) -> None:
        """Add the issue of each field printing a value; when none does, of the value's own
        field (a withheld one) or the file, saying which file prints it."""
        for field in fields or [""]:
            path = field or own or file
            key = (path, code, value)
            if key not in issues:
                message = f"{said}，不能公开：{hint}" if field else f"{file} 中{said}：{hint}"
                issues[key] = Issue(path, code, message)

    withheld_digits: set[str] = set()
    for view in _views(publication):
        file = view.file.split("/")[0]
        for needle in data.needles:
            spelled = needle.find(view.text)
            if spelled is None:
                continue
            if needle.number:
                withheld_digits.add(_digits(spelled))
            fields = _where(data, needle)
            if not fields and not needle.number and _bare(needle.value) in template_words:
                continue  # the template's own wording, not the data's
            if needle.path == "publication.withhold_text":
                whose = "列为隐去的文字"
            else:
                whose = f"公开文本隐去的{kind.label_of(_plain(needle.path))}（{needle.path}）的值"
            said = f"含有{whose}“{spelled.strip()}”"
            add(fields, file, WITHHELD_IN_TEXT, needle.value, said, _WITHHOLD_HINT, needle.path)
        if not view.numbers:
            continue
        for label, spelled in _numbers(view.text):
            digits = _digits(spelled)
            if digits in withheld_digits or _is_public(digits, data.public_digits):
                continue
            if any(n.number and _digits(n.value) in digits for n in data.needles):
                continue  # a withheld value: reported as one, above
            said = f"含有{label}“{spelled.strip()}”，合同数据未声明其可公开"
            add(_printed_from(data, digits), file, NUMBER_IN_TEXT, digits, said, _NUMBER_HINT)
    return kind.titled(list(issues.values()))
