"""Media types: what a body must be (JSON, or a file to verify), and what ``Accept`` prefers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.message import Message
from email.utils import collapse_rfc2231_value

from . import problems

__all__ = ["FILE_TYPES", "preferred", "require_file", "require_json"]

#: what a file to verify may be sent as: a PDF, a DOCX, a set's zip, or any bytes
FILE_TYPES = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/zip",
    "application/octet-stream",
)


def _content_type(value: str) -> tuple[str, str]:
    """Return the media type of a ``Content-Type`` value (lower case) and its charset ("": none).

    A value without a valid type/subtype is ``text/plain``, as RFC 2045 has it.
    """
    header = Message()
    header["Content-Type"] = value
    charset = header.get_param("charset", "")
    return header.get_content_type(), collapse_rfc2231_value(charset).strip().lower()


def require_json(headers: Mapping[str, str]) -> None:
    """Refuse with 415 a body that is not UTF-8 JSON, uncompressed."""
    value = headers.get("content-type", "")
    media, charset = _content_type(value)
    encoding = headers.get("content-encoding", "identity").strip().lower()
    json_type = media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )
    if not json_type or charset not in ("", "utf-8", "utf8") or encoding != "identity":
        raise problems.unsupported_media_type(value, encoding)


def require_file(headers: Mapping[str, str]) -> str:
    """Return the media type of a file to verify (one of :data:`FILE_TYPES`); else 415."""
    value = headers.get("content-type", "")
    media, _ = _content_type(value)
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if media not in FILE_TYPES or encoding != "identity":
        raise problems.unsupported_file_type(value, encoding, FILE_TYPES)
    return media


def _quality(text: str) -> float:
    """Return a ``q`` parameter's weight; one outside 0 to 1, or not a number, is 0."""
    try:
        weight = float(text)
    except ValueError:
        return 0.0
    return weight if 0.0 <= weight <= 1.0 else 0.0  # NaN too


def _ranges(accept: str) -> dict[str, float]:
    """Return the weight of each media range of an ``Accept`` header (its highest if repeated)."""
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = item.split(";")
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                weight = _quality(value.strip())
        media = media.strip().lower()
        weights[media] = max(weights.get(media, 0.0), weight)
    return weights


def preferred(accept: str, offered: Sequence[str]) -> str:
    """Return the type of ``offered`` an ``Accept`` header ranks highest; the first on a tie.

    A type's weight is that of the most specific range that matches it
    (``type/subtype``, then ``type/*``, then ``*/*``); a type no range matches
    has weight 0. An empty header accepts anything, so it gives the first type.
    """
    weights = _ranges(accept)

    def weight(media: str) -> float:
        kind = media.partition("/")[0]
        for key in (media, f"{kind}/*", "*/*"):
            if key in weights:
                return weights[key]
        return 0.0

    return max(offered, key=weight)  # max keeps the first of equals
