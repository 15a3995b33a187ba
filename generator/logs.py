"""Logging, configured in one place: level, plain or JSON lines, UTC timestamps, no secrets.

:func:`configure` is called by ``contractgen serve`` and ``contractgen worker``
(the worker hooks Celery's ``setup_logging`` signal so that Celery leaves the
root logger alone): one handler on stderr, every line stamped with its UTC time
and level, and with what the line is about, taken from :func:`bound` fields
held in a context variable (so a request's fields follow it into the threads
anyio runs it in)::

    2027-01-05T08:30:01.123Z INFO contractgen.access: POST /v1/jobs 202 41.2ms request_id=3f…

Every line goes through :func:`redact` first: the query string of any URL (a
callback's may carry its own token), ``Authorization``, cookies and any
``token=``/``password=``/``secret=`` value, and the password of a URL's user
information, are replaced by ``***``. Contract data is never logged by this
package; the loggers of libraries that would (Celery's pool at debug level,
httpx's request lines with their URLs) are held at a level that does not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import IO, Any

__all__ = [
    "FIELDS",
    "FORMATS",
    "LEVELS",
    "add",
    "bind",
    "bound",
    "configure",
    "current",
    "redact",
    "reset",
]

#: the levels a process may log at, least to most severe
LEVELS = ("debug", "info", "warning", "error")
#: how lines are written: ``key=value`` text, or one JSON object a line
FORMATS = ("plain", "json")
#: the fields a line may carry about what it concerns, in the order they are written
FIELDS = ("request_id", "job_id", "task_id", "contract_no")

#: what the lines of this context are about (a dict shared by the context's threads)
_fields: ContextVar[dict[str, str] | None] = ContextVar("contractgen_log_fields", default=None)

#: loggers held at least at this level whatever the process's: they would log what must not
#: be logged (Celery's pool writes a job's arguments, the contract, at debug level; httpx a
#: callback's whole URL at info level; python-multipart a form's fields at debug level)
_HELD = {
    "celery.concurrency": logging.INFO,
    "celery.pool": logging.INFO,
    "kombu": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "multipart": logging.INFO,
    "python_multipart": logging.INFO,
    # the service writes its own access lines (contractgen.access), without query strings
    "uvicorn.access": logging.CRITICAL + 1,
}

_MASK = "***"
#: a URL's query string (and a path's: ``/v1/jobs?callback=…``)
_QUERY = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#\"'<>]*)?/[^\s?#\"'<>]*)\?[^\s#\"'<>]+")
#: the password of a URL's user information: ``redis://:secret@host``
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@\"'<>]*:)[^\s@/\"'<>]+@")
#: an HTTP header that carries credentials, as text or as a repr'd pair
_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|(?:set-)?cookie|x-api-key)(['\"]?\s*[:=,]\s*['\"]?)"
    r"[^'\"\r\n]+"
)
#: a credential by its scheme: ``Bearer abc``
_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}")
#: a named secret: ``token=abc``, ``"password": "abc"``, ``api_key: abc``
_NAMED = re.compile(
    r"(?i)\b([A-Za-z_-]*(?:token|secret|password|passwd|api[_-]?key|session)[A-Za-z_-]*)"
    r"(['\"]?\s*[:=]\s*['\"]?)[^\s'\",;&)}\]]+"
)


def redact(text: str) -> str:
    """Return ``text`` with query strings, credentials and named secrets replaced by ``***``."""
    text = _QUERY.sub(rf"\1?{_MASK}", text)
    text = _USERINFO.sub(rf"\1{_MASK}@", text)
    text = _HEADER.sub(rf"\1\2{_MASK}", text)
    text = _SCHEME.sub(rf"\1\2{_MASK}", text)
    return _NAMED.sub(rf"\1\2{_MASK}", text)


def current() -> dict[str, str]:
    """Return the fields of this context's lines."""
    return dict(_fields.get() or {})


def bind(**fields: str | None) -> Token[dict[str, str] | None]:
    """Start a context (a request, a job) whose lines carry ``fields``; :func:`reset` ends it."""
    given = {name: str(value) for name, value in fields.items() if value}
    return _fields.set({**(_fields.get() or {}), **given})


def reset(token: Token[dict[str, str] | None]) -> None:
    """End the context :func:`bind` started."""
    _fields.reset(token)


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Within the block, lines carry ``fields`` (added to the fields already bound)."""
    token = bind(**fields)
    try:
        yield
    finally:
        reset(token)


def add(**fields: str | None) -> None:
    """Add fields to the bound context, for the lines still to come in all of its threads.

    A request learns its job's id and contract number as it goes: added here, they
    are on its access line too. Outside a bound context, this starts one.
    """
    given = {name: str(value) for name, value in fields.items() if value}
    held = _fields.get()
    if held is None:
        _fields.set(given)
    else:
        held.update(given)


class _Fields(logging.Filter):
    """Give every record the context's fields (a field a record already has is kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        held = _fields.get() or {}
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, held.get(name))
        return True


def _time(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


def _value(text: str) -> str:
    """Return a field's value as written in a plain line: quoted when it has blanks."""
    return json.dumps(text, ensure_ascii=False) if not text or re.search(r"[\s=\"]", text) else text


class PlainFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger>: <message> key=value …``, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        fields = [(n, getattr(record, n, None)) for n in FIELDS]
        line += "".join(f" {n}={_value(str(v))}" for n, v in fields if v)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the fields, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value:
                entry[name] = redact(str(value))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _Ours(logging.StreamHandler[IO[str]]):
    """The handler :func:`configure` installs (found again, and replaced, by the next call)."""


def configure(level: str = "info", fmt: str = "plain", stream: IO[str] | None = None) -> None:
    """Log at ``level`` (:data:`LEVELS`) to stderr in ``fmt`` (:data:`FORMATS`); again: changed.

    The root logger gets the one handler (every library's lines propagate to it),
    with the context's fields and the redaction; a handler installed by an earlier
    call is replaced, any other is left.
    """
    if level.lower() not in LEVELS:
        raise ValueError(f"unknown log level {level!r}: one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}: one of {', '.join(FORMATS)}")
    number = logging.getLevelName(level.upper())
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Ours)]:
        root.removeHandler(handler)
    handler = _Ours(stream or sys.stderr)
    handler.addFilter(_Fields())
    handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    root.addHandler(handler)
    root.setLevel(number)
    for name, floor in _HELD.items():
        logging.getLogger(name).setLevel(max(number, floor))
    logging.captureWarnings(True)
