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

The measure is exact for CJK text, where every character is one em wide, and
close for Latin letters and digits (their advance widths in the face LibreOffice
sets them in); lines break as LibreOffice breaks them: anywhere between CJK
characters, at spaces between Latin words, never before a closing or after an
opening bracket or stop.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

__all__ = [
    "FILTERS",
    "LINE_EMS",
    "MARGIN_CM",
    "PAGE_CM",
    "keep_tail",
]

#: the templates' page: A4 portrait (width, height) with Word's Chinese default margins
PAGE_CM = (21.0, 29.7)
#: the margins (top/bottom, left/right) in cm
MARGIN_CM = (2.54, 3.17)
#: the text width in ems of 小四 (12 pt, 240 twips): the page less its side margins in twips,
#: as python-docx writes them (a centimetre is 360000 EMU, a twip 635)
LINE_EMS = (round(PAGE_CM[0] * 360000 / 635) - 2 * round(MARGIN_CM[1] * 360000 / 635)) / 240

#: advance widths in 1/1000 em of printable ASCII (space to ~) in Noto Serif CJK SC, the face
#: generator/fonts/fonts.conf gives LibreOffice for Times New Roman and 宋体
_ASCII = (
    256, 308, 376, 574, 550, 923, 779, 196, 364, 364, 478, 580, 327, 346, 327, 352,
    557, 471, 558, 557, 555, 558, 558, 549, 558, 562, 327, 327, 580, 580, 580, 432,
    912, 718, 670, 691, 770, 652, 629, 741, 853, 405, 402, 731, 625, 975, 796, 767,
    641, 767, 715, 567, 659, 797, 714, 1053, 700, 687, 605, 344, 352, 344, 580, 563,
    435, 557, 638, 538, 629, 546, 388, 566, 663, 332, 311, 607, 334, 974, 661, 596,
    638, 607, 462, 473, 367, 653, 548, 838, 564, 552, 498, 374, 316, 374, 580,
)  # fmt: skip
#: what may not start a line (LibreOffice's forbidden line-begin characters for zh-CN)
_NO_START = frozenset("!),.:;?]}、。〉》」』】〕〗〞！＂％＇），．：；？］｝～”’…")
#: what may not end one (its forbidden line-end characters)
_NO_END = frozenset("([{£¥〈《「『【〔〖〝＄（［｛￡￥“‘")
#: the break docxtpl's listing would write for a newline, inside the value's run
_BREAK = Markup('</w:t><w:br/><w:t xml:space="preserve">')


def _width(char: str) -> float:
    """Return a character's advance in ems: CJK one em, ASCII as the face draws it."""
    if " " <= char <= "~":
        return _ASCII[ord(char) - 32] / 1000
    if unicodedata.east_asian_width(char) in "WFA":
        return 1.0
    return 0.6


@dataclass
class _Piece:
    """What a line breaks around: a CJK character, a Latin word or number, or a space."""

    start: int
    end: int
    width: float
    space: bool
    #: it ends in a narrow character, which the next narrow one continues
    latin: bool


def _pieces(text: str) -> list[_Piece]:
    """Return a text's pieces: what may not start (end) a line joins the piece before (after)."""
    pieces: list[_Piece] = []
    glue = False  # the character before may not end a line
    for at, char in enumerate(text):
        width, space = _width(char), char == " "
        narrow = width < 1 and not space
        last = pieces[-1] if pieces else None
        if (
            last is not None
            and not space
            and not last.space
            and (glue or char in _NO_START or (narrow and last.latin))
        ):
            last.end, last.width, last.latin = at + 1, last.width + width, narrow
        else:
            pieces.append(_Piece(at, at + 1, width, space, narrow))
        glue = char in _NO_END
    return pieces


def _line_starts(text: str, width: float) -> list[int] | None:
    """Return where each line of the text starts, or None when a piece is wider than a line."""
    starts, x = [0], 0.0
    for piece in _pieces(text):
        if piece.space:
            x += piece.width  # a space that overflows hangs at the line's end
            continue
        if piece.width > width:
            return None
        if x > 0 and x + piece.width > width + 1e-9:
            starts.append(piece.start)
            x = 0.0
        x += piece.width
    return starts


def keep_tail(value: Any, width: float = LINE_EMS) -> Any:
    """Return a paragraph's text broken before its last two characters if one would stand alone.

    ``width`` is the line in ems of the paragraph's size (小四 on the templates' page by
    default). The break is a line break in the value's run: the text stays the same.
    """
    text = value.unescape() if isinstance(value, Markup) else str(value)
    starts = _line_starts(text, width)
    if starts is None or len(starts) < 2 or sum(c.isalnum() for c in text[starts[-1] :]) != 1:
        return value  # alone: one letter, digit or ideograph, its punctuation aside (限）)
    # The piece that ends the line before goes down with the lone character.
    at = [piece for piece in _pieces(text[: starts[-1]]) if not piece.space][-1].start
    if at <= starts[-2]:
        return value  # that piece is the whole line before
    return escape(text[:at]) + _BREAK + escape(text[at:])


#: the filters of the DOCX templates beside the domain's
FILTERS = {"keep_tail": keep_tail}
