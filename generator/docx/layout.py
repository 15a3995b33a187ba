"""The templates' page, and lines set on it: no character left alone on a head field's last line.

LibreOffice and Word break CJK text between any two characters, so a party's
name that overflows its line by one character leaves that character alone on
the next (乙方（受托人）：…有限公 / 司). LibreOffice 7.4 breaks between two ideographs
joined by a word joiner (U+2060), a zero-width no-break space or a zero-width
joiner alike, so :func:`keep_tail` measures the line as it will be set and, when
its last line would hold one character (its punctuation aside), breaks it before
its last two. The templates' build wraps every head field and signature cell
holding a value in it (``{% filter keep_tail %}…{% endfilter %}``, a cell with
its width).

The measure, and the page it is taken on, are :mod:`generator.domain.lines`
(validation measures the seal blocks with it too).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from ..domain.lines import LINE_EMS, MARGIN_CM, PAGE_CM, line_starts, pieces

__all__ = [
    "FILTERS",
    "LINE_EMS",
    "MARGIN_CM",
    "PAGE_CM",
    "keep_tail",
    "line_starts",
]

#: the break docxtpl's listing would write for a newline, inside the value's run
_BREAK = Markup('</w:t><w:br/><w:t xml:space="preserve">')


def keep_tail(value: Any, width: float = LINE_EMS) -> Any:
    """Return a paragraph's text broken before its last two characters if one would stand alone.

    ``width`` is the line in ems of the paragraph's size (小四 on the templates' page by
    default). The break is a line break in the value's run: the text stays the same.
    """
    text = value.unescape() if isinstance(value, Markup) else str(value)
    starts = line_starts(text, width)
    if starts is None or len(starts) < 2 or sum(c.isalnum() for c in text[starts[-1] :]) != 1:
        return value  # alone: one letter, digit or ideograph, its punctuation aside (限）)
    # The piece that ends the line before goes down with the lone character.
    at = [piece for piece in pieces(text[: starts[-1]]) if not piece.space][-1].start
    if at <= starts[-2]:
        return value  # that piece is the whole line before
    return escape(text[:at]) + _BREAK + escape(text[at:])


#: the filters of the DOCX templates beside the domain's
FILTERS = {"keep_tail": keep_tail}
