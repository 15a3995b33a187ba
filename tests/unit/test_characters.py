"""Characters: each one of the data prints, in the order typed, or is refused with its place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from generator import validate
from generator.domain.text import FONTS_CONF, declared_fonts, printable

from ..builtin import SEAL_KEYWORDS

FIELDS = ("supplier.name", "buyer.address", "other_terms", "acceptance_plan.items.0.standard")


def _set(data: dict[str, Any], field: str, value: Any) -> None:
    target: Any = data
    *parents, last = field.split(".")
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[last] = value


def _path(field: str) -> str:
    return re.sub(r"\.(\d+)", r"[\1]", field)


@pytest.mark.parametrize(
    ("char", "code"),
    [
        # bidi controls reorder what prints: 上海众恒\u202e司公限有 shows as 上海众恒有限公司
        *((chr(c), "text.bidi") for c in range(0x202A, 0x202F)),
        *((chr(c), "text.bidi") for c in range(0x2066, 0x206A)),
        ("\u200e", "text.bidi"),
        ("\u200f", "text.bidi"),
        ("\u061c", "text.bidi"),
        # invisible format characters make look-alike values
        ("\u200b", "text.invisible"),
        ("\u200c", "text.invisible"),
        ("\u200d", "text.invisible"),
        ("\u2060", "text.invisible"),
        ("\ufeff", "text.invisible"),
        ("\u00ad", "text.invisible"),
        # noncharacters: XML, and so DOCX, forbids U+FFFE and U+FFFF
        ("\ufffe", "text.noncharacter"),
        ("\uffff", "text.noncharacter"),
        ("\ufdd0", "text.noncharacter"),
        ("\U0001fffe", "text.noncharacter"),
        # lone surrogates are not characters (JSON "\ud800")
        ("\ud800", "text.surrogate"),
        ("\udfff", "text.surrogate"),
        # C0 (but tab and newline), DEL, C1, and the Unicode line and paragraph separators
        ("\x00", "text.control"),
        ("\x1b", "text.control"),
        ("\x7f", "text.control"),
        ("\x80", "text.control"),
        ("\x85", "text.control"),
        ("\x9f", "text.control"),
        ("\u2028", "text.control"),
        ("\u2029", "text.control"),
        # private use: no font agrees on them (and the machinery marks its own text with one)
        ("\ue000", "text.private_use"),
        ("\uf8ff", "text.private_use"),
        ("\U000f0000", "text.private_use"),
    ],
)
@pytest.mark.parametrize("field", FIELDS)
def test_a_character_that_does_not_print_is_refused_with_its_place(
    seed: dict[str, Any], field: str, char: str, code: str
) -> None:
    _set(seed, field, f"上海众恒{char}有限公司{char}")
    issues = validate(seed)
    assert [(i.path, i.code) for i in issues] == [(_path(field), code)]
    assert f"第5个字符（U+{ord(char):04X}" in issues[0].message
    assert "共2处" in issues[0].message


@pytest.mark.parametrize(
    "value",
    [
        "上海市浦东新区\n张江路 1 号",  # a line break
        "机房 A\t机房 B",  # a tab
        "机房\u3000A",  # an ideographic space
        "𪚥𫝀有限公司",  # CJK Extensions B and D: HanaMinB has them
        "☑ 已验收",  # DejaVu Sans has it, Noto CJK does not
        "A&B <科技> “有限”公司",
    ],
)
@pytest.mark.parametrize("field", FIELDS)
def test_printable_text_is_valid(seed: dict[str, Any], field: str, value: str) -> None:
    _set(seed, field, value)
    assert validate(seed) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("黄旻👍🏽", "第4个字符“🏽”（U+1F3FD"),  # a skin tone: no font has it
        ("高\U00030000瑞", "第2个字符“\U00030000”（U+30000"),  # CJK Extension G
        ("黄\u0378", "第2个字符（U+0378）"),  # unassigned
    ],
)
def test_a_character_without_a_glyph_is_refused(
    seed: dict[str, Any], value: str, shown: str
) -> None:
    seed["buyer"]["contact"] = value
    issues = validate(seed)
    assert [(i.path, i.code) for i in issues] == [("buyer.contact", "text.no_glyph")]
    assert issues[0].message.startswith(shown)


def test_glyphs_come_from_the_fonts_libreoffice_is_shown() -> None:
    files, families = declared_fonts(FONTS_CONF)
    assert files and all(Path(f).is_file() for f in files), "tools/setup.sh installs them"
    assert {"Noto Serif CJK SC", "HanaMinB", "DejaVu Sans"} <= families
    covered = printable()
    for char in "中文甲乙（盖章）：0123456789ABC☑☐𪚥𫝀👍":
        assert ord(char) in covered, char
    for char in "\U0001f3fd\U00030000\ue000":
        assert ord(char) not in covered, char


@pytest.mark.parametrize("keyword", SEAL_KEYWORDS)
@pytest.mark.parametrize(
    "field", ["other_terms", "confidential_extra", "supplier.name", "acceptance_plan.procedure"]
)
def test_seal_keywords_are_refused(seed: dict[str, Any], field: str, keyword: str) -> None:
    _set(seed, field, f"本合同经{keyword}后生效")
    issues = validate(seed)
    assert [(i.path, i.code) for i in issues] == [(field, "text.reserved")]
    assert keyword in issues[0].message


def test_a_full_width_colon_is_not_a_seal_keyword(seed: dict[str, Any]) -> None:
    seed["other_terms"] = "甲方：负责机房；乙方：负责运维"
    assert validate(seed) == []
