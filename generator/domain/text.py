"""The characters contract text may hold: each one prints, and no seal keyword is among them.

Bidi controls, invisible format characters, control characters, noncharacters,
lone surrogates and private-use characters are refused with their position, and
so is a character for which no font LibreOffice may use has a glyph (the fonts
``generator/fonts/fonts.conf`` accepts, read once with fontTools): it would
print as an empty box. The words the PDF stage finds the seal places by (the
kind's seal keywords, set for the time of one validation by :func:`reserved`)
may not occur in the data.
"""

from __future__ import annotations

import functools
import glob
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont
from pydantic_core import PydanticCustomError

from .._cache import cached_bytes, file_key

__all__ = [
    "FONTS_CONF",
    "character_problem",
    "checked_text",
    "declared_fonts",
    "printable",
    "refusal",
    "reserved",
]

#: the words text may not hold while one kind's data is validated: its seal keywords
_RESERVED: ContextVar[tuple[str, ...]] = ContextVar("reserved_words", default=())


@contextmanager
def reserved(words: Sequence[str]) -> Iterator[None]:
    """Refuse ``words`` in every text value validated inside the block (a kind's seal words)."""
    token = _RESERVED.set(tuple(words))
    try:
        yield
    finally:
        _RESERVED.reset(token)


#: the font configuration LibreOffice reads: the only fonts it may draw with are listed there
FONTS_CONF = Path(__file__).resolve().parent.parent / "fonts" / "fonts.conf"


def refusal(code: str, message: str) -> PydanticCustomError:
    """Return the error a field validator raises: a stable code and a Chinese message."""
    return PydanticCustomError(code, message)


#: bidirectional controls: they reorder what prints (上海众恒\u202e司公限有 shows 上海众恒有限公司)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: tab and line breaks are text (a multi-line address); \r becomes \n
_BREAKS = frozenset("\t\n\r")


def _refused(char: str) -> tuple[str, str] | None:
    """Return (code, reason) when a character may not be in contract text, else None."""
    if char in _BREAKS:
        return None
    point = ord(char)
    category = unicodedata.category(char)
    if char in _BIDI:
        return "text.bidi", "双向文本控制符，会改变文字的显示顺序"
    if category == "Cc":
        return "text.control", "控制字符，无法打印"
    if category == "Cs":
        return "text.surrogate", "不成对的代理码位，不是有效字符"
    if 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE:
        # XML (so DOCX) forbids U+FFFE and U+FFFF; no noncharacter is text.
        return "text.noncharacter", "Unicode非字符，不能写入文档"
    if category == "Cf":
        return "text.invisible", "不可见的格式字符（如零宽空格），会造成看似相同的不同文字"
    if category == "Co":
        return "text.private_use", "私用区字符，没有通用的字形"
    if category in {"Zl", "Zp"}:
        return "text.control", "行或段落分隔符，请使用普通换行"
    return None


def _position(value: str, char: str) -> str:
    index = value.index(char) + 1
    shown = "" if unicodedata.category(char)[0] in "CZ" else f"“{char}”"
    # the code point only: Unicode's names are English, and the reason says what it is
    return f"第{index}个字符{shown}（U+{ord(char):04X}）"


def _first(value: str, chars: list[str]) -> tuple[str, str]:
    """Return the first of ``chars`` in a value, and how many times they all occur."""
    first = min(chars, key=value.index)
    count = sum(value.count(c) for c in chars)
    return first, f"（共{count}处）" if count > 1 else ""


#: characters found allowed so far (most texts are made of the same few thousand)
_ALLOWED: set[str] = set()
#: characters found printable so far
_PRINTABLE: set[str] = set()


def character_problem(value: str) -> tuple[str, str] | None:
    """Return (code, message) for the first character of a text that may not be in contract data."""
    unseen = set(value) - _ALLOWED
    refused = [c for c in unseen if _refused(c)]
    if not refused:
        _ALLOWED.update(unseen)
        return None
    first, more = _first(value, refused)
    code, reason = _refused(first) or ("", "")
    return code, f"{_position(value, first)}不允许：{reason}{more}"


def _check_characters(value: str) -> None:
    problem = character_problem(value)
    if problem:
        raise refusal(*problem)


def declared_fonts(conf: Path) -> tuple[list[str], set[str]]:
    """Return the font file globs and the families a fontconfig file accepts."""
    root = ET.parse(conf).getroot()
    files = [e.text or "" for e in root.iterfind("selectfont/acceptfont/glob")]
    families = {
        e.text or ""
        for e in root.iterfind("selectfont/acceptfont/pattern/patelt[@name='family']/string")
    }
    return files, families


def _covered(path: Path, families: set[str]) -> set[int]:
    """Return the code points with a glyph in a font file's faces of the given families."""
    collection = path.suffix.lower() in {".ttc", ".otc"}
    fonts = TTCollection(path, lazy=True) if collection else TTFont(path, lazy=True)
    covered: set[int] = set()
    try:
        for face in fonts.fonts if collection else [fonts]:
            names = face["name"]
            if (names.getDebugName(16) or names.getDebugName(1)) not in families:
                continue  # a .ttc's JP/KR/TC faces: fontconfig hides them too
            # Numbered glyph names: the cmap needs a glyph order, and the real one
            # means parsing the CFF charset, four times slower.
            face.setGlyphOrder([f"g{i}" for i in range(face["maxp"].numGlyphs)])
            covered.update(c for c, glyph in face.getBestCmap().items() if glyph != "g0")
    finally:
        fonts.close()
    return covered


@functools.cache
def printable() -> frozenset[int]:
    """Return the code points some font LibreOffice may use has a glyph for (empty: no font).

    Read from the font files once per host and kept between processes (:mod:`.._cache`),
    as a bitmap of every code point, under a key of the fonts configuration and the files.
    """
    files, families = declared_fonts(FONTS_CONF)
    names = sorted(name for pattern in files for name in glob.glob(pattern))

    def learn() -> bytes:
        bitmap = bytearray(0x110000 // 8)
        for name in names:
            for point in _covered(Path(name), families):
                bitmap[point >> 3] |= 1 << (point & 7)
        return bytes(bitmap)

    bitmap = cached_bytes("glyphs", file_key("glyphs", [FONTS_CONF, *names]), learn) or b""
    return frozenset(
        (n << 3) + bit
        for n, byte in enumerate(bitmap)
        if byte
        for bit in range(8)
        if byte >> bit & 1
    )


def _check_glyphs(value: str) -> None:
    covered = printable()
    if not covered:
        return  # no declared font installed: no PDF can be made, nothing to check against
    unseen = set(value) - _PRINTABLE - _BREAKS
    missing = [c for c in unseen if ord(c) not in covered]
    if not missing:
        _PRINTABLE.update(unseen)
    else:
        first, more = _first(value, missing)
        raise refusal(
            "text.no_glyph",
            f"{_position(value, first)}在合同所用的字体中没有字形，"
            f"在PDF中会是空白方框，请改用其他写法{more}",
        )


def checked_text(value: str) -> str:
    """Return a text value with its line breaks normalised; refuse what cannot print."""
    _check_characters(value)
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        raise refusal("required", "不能为空")
    for keyword in _RESERVED.get():
        if keyword in value:
            hint = "，请改用全角冒号“：”" if keyword.endswith(":") else ""
            raise refusal("text.reserved", f"不能包含“{keyword}”：这是定位盖章处的标记{hint}")
    _check_glyphs(value)
    return value
