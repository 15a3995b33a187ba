"""The exception tree and the `Issue` record.

::

    ContractError                          base of everything this package raises
    ├── InputError(ValueError)             a file that cannot be read or parsed (.issue, .source)
    │   └── InputTooLargeError             … or that is over a limit
    ├── AmountError(ValueError)            an amount that cannot be written in 大写
    ├── InvalidContractError(ValueError)   contract data with issues (.issues, .source)
    ├── UnknownDocumentError(ValueError)   a document kind the set does not have (.kind)
    ├── UnknownKindError(LookupError)      a contract kind no kind folder declares (.kind)
    ├── KindError(ValueError)              a kind folder that is not a working kind (.problems:
    │                                      file, key path, line, message, code)
    ├── UsageError(ValueError)             a command used wrongly (exit status 2)
    ├── TemplateError(LookupError)         a broken template, or one that asks for missing
    │                                      data (.template, .part, .paragraph, .problem)
    ├── ConversionError(RuntimeError)      LibreOffice failed to make a PDF
    ├── SealPlacementError(LookupError)    a seal keyword missing or ambiguous in a PDF
    ├── OutputConflictError(FileExistsError)  a contract's folder taken by something else
    └── LedgerError(RuntimeError)          the ledger unreachable, newer than this program,
                                           or asked for what it does not hold (.code, .url)

Each subclass also inherits the stdlib category it belongs to, so callers
that know nothing of this package can still catch ``ValueError``. Every class
keeps its fields through pickle (an error crosses from a batch worker process).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AmountError",
    "ContractError",
    "ConversionError",
    "InputError",
    "InputTooLargeError",
    "InvalidContractError",
    "Issue",
    "KindError",
    "LedgerError",
    "OutputConflictError",
    "QueueError",
    "SealPlacementError",
    "TemplateError",
    "UnknownDocumentError",
    "UnknownKindError",
    "UsageError",
    "unrenderable",
]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in contract data: where, what (stable code), and why (Chinese).

    ``title`` names the field as a person reads it (``乙方 · 法定代表人 · 性别``; a list's
    rows by number), set by the kind that checked the data; the path stays beside it for
    programs. Two issues are the same issue whatever their titles.
    """

    path: str
    code: str
    message: str
    title: str = field(default="", compare=False)

    def __str__(self) -> str:
        if self.title:
            place = f"{self.title}（{self.path}）" if self.path else self.title
            return f"{place}：{self.message} [{self.code}]"
        place = self.path or "(根)"
        return f"{place}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, str]:
        """Return the issue as a JSON-ready mapping (its title when it has one)."""
        out = {"path": self.path, "code": self.code, "message": self.message}
        if self.title:
            out["title"] = self.title
        return out


class ContractError(Exception):
    """Base of every error this package raises."""

    #: exit status the CLI uses for this error
    exit_code = 1


class AmountError(ContractError, ValueError):
    """An amount that is not a valid contract amount."""

    #: why, in Chinese, for the person who typed the amount
    reason = "金额无效"


class InputError(ContractError, ValueError):
    """A contract file that cannot be read or parsed, or that is over a limit.

    ``issue`` says where (a key path inside the file, or "" for the whole file), a stable
    code (``input.duplicate_key``, ``input.too_large`` …) and why, in Chinese; ``source``
    names the file. Raised with a message alone, the code is ``input.unreadable``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        path: str = "",
        source: str | None = None,
    ) -> None:
        self.issue = Issue(path, code or "input.unreadable", message)
        self.source = source
        text = (f"{source}: " if source else "") + (f"{path}: " if path else "") + message
        super().__init__(text + (f" [{code}]" if code else ""))
        self._fields = {"code": code, "path": path, "source": source}
        self._message = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        return (_rebuild, (type(self), (self._message,), self._fields))


class InputTooLargeError(InputError):
    """An input file over one of the explicit limits (size, rows, cells, files)."""


class InvalidContractError(ContractError, ValueError):
    """Contract data that breaks one or more rules."""

    def __init__(self, issues: Sequence[Issue], source: str | None = None) -> None:
        self.issues = list(issues)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(i) for i in self.issues))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        return (_rebuild, (type(self), (self.issues, self.source), {}))


class UnknownDocumentError(ContractError, ValueError):
    """A document kind that is not one of the set's."""

    def __init__(self, kind: str, known: Sequence[str]) -> None:
        self.kind = kind
        self.known = list(known)
        super().__init__(f"合同文件中没有 {kind!r}；可选：{'、'.join(self.known)}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        return (_rebuild, (type(self), (self.kind, self.known), {}))


class UnknownKindError(ContractError, LookupError):
    """A contract kind that no kind folder declares."""

    def __init__(self, kind: str, known: Sequence[str]) -> None:
        self.kind = kind
        self.known = list(known)
        super().__init__(f"没有合同类型“{kind}”；可选：{'、'.join(self.known)}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        return (_rebuild, (type(self), (self.kind, self.known), {}))


#: one problem of a kind folder: (file, key path, line, Chinese message, stable code)
KindProblem = tuple[str, str, int, str, str]


class KindError(ContractError, ValueError):
    """A kind folder that is not a working kind: each problem with its file, path and line."""

    def __init__(self, problems: Sequence[KindProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Return one line per problem: ``file:line: path: message [code]``."""
        out = []
        for file, path, line, message, code in self.problems:
            place = f"{file}:{line}" if line else file
            out.append(f"{place}: {path + ': ' if path else ''}{message} [{code}]")
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        return (_rebuild, (type(self), (self.problems,), {}))


class UsageError(ContractError, ValueError):
    """A command or call used wrongly: an option out of range, a path that cannot be used."""

    exit_code = 2


class TemplateError(ContractError, LookupError):
    """A template that cannot be read, does not compile, or uses data the context lacks.

    ``template`` is the file, ``part`` the XML part inside it (``word/document.xml``),
    ``paragraph`` the paragraph's number in that part and ``excerpt`` its text where
    known, and ``problem`` what is wrong.
    """

    def __init__(
        self,
        problem: str,
        *,
        template: str = "",
        part: str | None = None,
        paragraph: int | None = None,
        excerpt: str = "",
    ) -> None:
        self.problem = problem
        self.template = template
        self.part = part
        self.paragraph = paragraph
        self.excerpt = excerpt
        place = template + (f" ({part})" if part else "")
        if paragraph is not None:
            place += f"，第 {paragraph} 段：«{excerpt}»"
        super().__init__(f"{place}: {problem}" if place else problem)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        fields = {
            "template": self.template,
            "part": self.part,
            "paragraph": self.paragraph,
            "excerpt": self.excerpt,
        }
        return (_rebuild, (type(self), (self.problem,), fields))


class ConversionError(ContractError, RuntimeError):
    """LibreOffice could not turn a document into a PDF."""

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr_tail = stderr[-2000:]
        detail = [message]
        if self.command:
            detail.append("命令：" + " ".join(self.command))
        if returncode is not None:
            detail.append(f"退出状态：{returncode}")
        if self.stderr_tail:
            detail.append("错误输出：" + self.stderr_tail)
        super().__init__("\n".join(detail))
        self._message = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields (an error crosses from a batch worker process)."""
        fields = {
            "command": self.command,
            "returncode": self.returncode,
            "stderr": self.stderr_tail,
        }
        return (_rebuild, (type(self), (self._message,), fields))


class SealPlacementError(ContractError, LookupError):
    """A seal keyword missing or found more than once in a PDF, or a seal that would cover text."""

    def __init__(
        self,
        *,
        kind: str,
        party: str,
        keyword: str,
        count: int,
        pages: Sequence[int] = (),
        where: str = "",
        covered: str | None = None,
        title: str = "",
    ) -> None:
        self.kind = kind
        self.party = party
        self.keyword = keyword
        self.count = count
        self.pages = list(pages)
        self.covered = covered
        self.where = where
        self.title = title
        #: stable: ``seal.covers_text`` or ``seal.keyword_count``
        self.code = "seal.covers_text" if covered is not None else "seal.keyword_count"
        document = title or kind
        if covered is not None:
            message = f"{document}：“{keyword}”处的盖章会盖住其他文字：“{covered}”"
        else:
            places = "、".join(str(page) for page in self.pages)
            scope = {"the last page": "最后一页", "the document": "全文"}.get(where, where)
            message = f"{document}：盖章标记“{keyword}”在{scope}出现 {count} 次，应恰好一次" + (
                f"（第 {places} 页）" if places else ""
            )
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields (an error crosses from a batch worker process)."""
        fields = {
            "kind": self.kind,
            "party": self.party,
            "keyword": self.keyword,
            "count": self.count,
            "pages": self.pages,
            "where": self.where,
            "covered": self.covered,
            "title": self.title,
        }
        return (_rebuild, (type(self), (), fields))


class OutputConflictError(ContractError, FileExistsError):
    """A contract's folder is taken by something contractgen did not make, or kept changing."""

    def __init__(self, message: str, *, folder: str = "", contract_no: str = "") -> None:
        self.folder = folder
        self.contract_no = contract_no
        super().__init__(message)
        self._message = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        fields = {"folder": self.folder, "contract_no": self.contract_no}
        return (_rebuild, (type(self), (self._message,), fields))


class LedgerError(ContractError, RuntimeError):
    """The ledger cannot be used: unreachable, of a newer schema, or without what was asked.

    ``code`` is stable (``ledger.unreachable``, ``ledger.schema_newer``,
    ``ledger.not_found``, ``ledger.state``); ``url`` names the database with its
    password hidden.
    """

    def __init__(self, message: str, *, code: str, url: str = "") -> None:
        self.code = code
        self.url = url
        #: what went wrong, without the code
        self.detail = message
        super().__init__(f"{message} [{code}]")
        self._message = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        return (_rebuild, (type(self), (self._message,), {"code": self.code, "url": self.url}))


class QueueError(ContractError, RuntimeError):
    """The job queue cannot be used: the broker unreachable, or a job lost with it.

    ``code`` is stable (``queue.unreachable``, ``queue.lost``); ``url`` names the
    broker with its password hidden.
    """

    def __init__(self, message: str, *, code: str, url: str = "") -> None:
        self.code = code
        self.url = url
        #: what went wrong, without the code
        self.detail = message
        super().__init__(f"{message} [{code}]")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the fields."""
        return (_rebuild, (type(self), (self.detail,), {"code": self.code, "url": self.url}))


def unrenderable(exc: BaseException) -> Issue | None:
    """Return why a set cannot be made when trying again cannot help; None when it might.

    A seal place that cannot be found or would cover text, a template that is broken or
    asks for what the data lacks, an amount that cannot be written in 大写: the same data
    fails the same way every time, so the person who asked is told why (in Chinese, with a
    stable code), never to try again. A conversion, the ledger or the queue may recover.
    """
    if isinstance(exc, SealPlacementError):
        return Issue("", exc.code, str(exc))
    if isinstance(exc, TemplateError):
        return Issue("", "template.unusable", f"合同模板有误，请联系管理员：{exc}")
    if isinstance(exc, AmountError):
        return Issue("", "amount.invalid", f"{exc.reason}：{exc}")
    return None


def _rebuild(cls: type[Exception], args: tuple[Any, ...], fields: dict[str, Any]) -> Exception:
    """Return an error made again from its arguments and keyword fields (for pickle)."""
    return cls(*args, **fields)
