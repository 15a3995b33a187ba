"""Lines as LibreOffice sets them on the templates' page: where a paragraph's text breaks.

The measure is exact for CJK text, where every character is one em wide, and close for
Latin letters and digits (their advance widths in the face LibreOffice sets them in);
lines break as LibreOffice breaks them: anywhere between CJK characters, at spaces
between Latin words, never before a closing or after an opening bracket or stop.
:func:`generator.docx.layout.keep_tail` keeps a name's last character company with it;
validation measures what a seal block prints with it (:mod:`generator.kinds.seal_blocks`).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

__all__ = ["LINE_EMS", "MARGIN_CM", "PAGE_CM", "Piece", "line_starts", "pieces"]

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


def _width(char: str) -> float:
    """Return a character's advance in ems: CJK one em, ASCII as the face draws it."""
    if " " <= char <= "~":
        return _ASCII[ord(char) - 32] / 1000
    if unicodedata.east_asian_width(char) in "WFA":
        return 1.0
    return 0.6


@dataclass
class Piece:
    """What a line breaks around: a CJK character, a Latin word or number, or a space."""

    start: int
    end: int
    width: float
    space: bool
    #: it ends in a narrow character, which the next narrow one continues
    latin: bool


def pieces(text: str) -> list[Piece]:
    """Return a text's pieces: what may not start (end) a line joins the piece before (after)."""
    pieces: list[Piece] = []
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
            pieces.append(Piece(at, at + 1, width, space, narrow))
        glue = char in _NO_END
    return pieces


def line_starts(text: str, width: float = LINE_EMS) -> list[int] | None:
    """Return where each line of the text starts, ``width`` ems wide (the page's by default).

    None when a piece (a Latin word, a number) is wider than a line: where LibreOffice
    breaks it is not measured here. A set measures the same texts many times over (a
    party's name in each of its documents, the clauses the data fill alike in every
    contract): the last few thousand measures are kept.
    """
    starts = _line_starts(text, width)
    return None if starts is None else list(starts)


@functools.lru_cache(maxsize=4096)
def _line_starts(text: str, width: float) -> tuple[int, ...] | None:
    starts, x = [0], 0.0
    for piece in pieces(text):
        if piece.space:
            x += piece.width  # a space that overflows hangs at the line's end
            continue
        if piece.width > width:
            return None
        if x > 0 and x + piece.width > width + 1e-9:
            starts.append(piece.start)
            x = 0.0
        x += piece.width
    return tuple(starts)
