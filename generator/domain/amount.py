"""Write RMB amounts in uppercase Chinese numerals (大写), and parse them back.

The rules are those of the People's Bank of China, 《支付结算办法》附件一
《正确填写票据和结算凭证的基本规定》 ("the PBoC rules"). Where they allow two forms,
the form chosen is the one that also satisfies 《会计基础工作规范》第五十二条
("the accounting rules"), unless a PBoC worked example fixes the form; every
such choice is listed below. All six PBoC worked examples are reproduced exactly.

Characters. Digits are 零壹贰叁肆伍陆柒捌玖, place units 拾佰仟, section units 万
and 亿, money units 元角分, and 整 closes an amount with no 分. The simplified
一二三…十, 两, 另, 毛 and 念 are never used, nor 圆 or 正 (both merely accepted by
banks), nor 兆: amounts of 10^12 and more are written 万亿 (壹万亿元整).

整 (zheng). 整 follows 元 when there is no 角 or 分 (壹佰元整). The PBoC rules make
整 after 角 optional; the accounting rules require it, so 壹佰元伍角整 is written.
Nothing follows 分 (壹佰元伍角叁分).

壹拾 (yi shi). Every non-zero digit is written, including a leading 1 before 拾, in
every section: 壹拾元整, 壹拾陆元整, 壹拾万元整, 壹拾亿元整. Bare 拾 invites an
added digit in front and is not accepted on bank documents.

Sections. The integer is read in sections of four digits. 万 follows a non-zero
万 section (digits 10^4 to 10^7) and a non-zero 万亿 section (10^12 to 10^15);
亿 follows whenever the amount is at least 10^8, even if its own four digits
are zero (壹万亿元整). An all-zero section writes no unit: 100000001 is
壹亿零壹元整, with no 万.

零 in the middle (ling). PBoC rules 1 and 2 and the accounting rules: zeros between
two non-zero digits are written as one 零, however many there are and whether
or not they cross a 万 or 亿 boundary: 壹仟肆佰零玖元伍角整 (1409.50), 陆仟零柒元壹角肆分
(6007.14), 壹拾万零壹拾元整 (100010), 壹亿零壹元整 (100000001), 壹拾亿零伍仟万元整
(1050000000). Trailing zeros of the integer never write 零 (壹佰元整).

零 at the 万位 (wan wei). PBoC rule 3 lets a run of zeros ending at the 万位 (the
10^4 digit) go unwritten when the 千位 is not zero, and its example ¥107,000.53
→ 壹拾万柒仟元零伍角叁分 takes that option, so this module does too, whenever the
万 unit is written: 1001000 is 壹佰万壹仟元整, like 107000. The accounting rules
name only the 元位 for this option; the PBoC example was followed here. When the
whole 万 section is zero no 万 marks the gap, so 零 is written (100007000 is
壹亿零柒仟元整). Rule 3 names no other position: a zero at the 亿位 or the 万亿位
before a non-zero digit always writes 零, so 1050000000 is 壹拾亿零伍仟万元整. The
integer part of an amount is always written the same way whatever its decimals.

零 at the 元位 (yuan wei). PBoC rule 3 and the accounting rules make 零 after 元
optional when the 元位 is zero and the 角位 is not; the PBoC examples write it
(¥1,680.32 → 壹仟陆佰捌拾元零叁角贰分, ¥107,000.53 → 壹拾万柒仟元零伍角叁分), and so does
this module.

零 for 角 (jiao). PBoC rule 4: when the 角位 is zero and the 分位 is not, 零 is
written after 元 (¥16,409.02 → 壹万陆仟肆佰零玖元零贰分, ¥325.04 → 叁佰贰拾伍元零肆分).
Only one 零 is written even when the 元位 is zero as well (壹拾元零伍分).

Under one yuan. Leading zeros are not zeros "in the middle", so an amount under
one yuan starts at its first non-zero unit, without 零元 or 零角: 0.01 is 壹分,
0.10 is 壹角整, 0.15 is 壹角伍分. Zero itself is 零元整 (a contract amount must be
positive, but that rule belongs to validation, not to this module).

Figures (parse_amount). An amount is a Decimal, an int or a plain decimal string
of ASCII digits with at most one point ("1578000", "1578000.5", "1578000.50").
Rejected, with AmountError (a ValueError): floats (even 1.0), booleans, None,
negatives including -0, NaN, sNaN, infinities, amounts of 10^16 or more, values
not exact to the 分 (never rounded or truncated: "1.005" fails), and strings
that are empty, carry a sign, an exponent ("1e5"), thousands separators ("1,000"
or "1_000"), non-ASCII digits, leading zeros ("01") or any whitespace, even
around the number: the caller strips text it reads, so that a stray character
cannot hide in a contract figure. More than two decimal places are accepted when
the extra ones are zeros (Decimal("1.500") and "1.500" are 1.50): the value,
not its spelling, must be exact to the 分.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal

from ..errors import AmountError

__all__ = [
    "count_lower",
    "count_upper",
    "format_amount",
    "parse_amount",
    "rmb_upper",
    "upper_to_amount",
]

#: uppercase digits, indexed by value (零 is 0)
UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
#: place units within a four-digit section, indexed by position (ones have none)
PLACE_UNITS = ("", "拾", "佰", "仟")
#: lowercase digits for counts, indexed by value (两 is used for 2 on its own only)
LOWER_DIGITS = "〇一二三四五六七八九"
#: the smallest amount that can no longer be written (10^16 yuan, a 万万亿)
AMOUNT_LIMIT = Decimal(10) ** 16
#: the counts that count_upper and count_lower write (1 to 99)
COUNT_RANGE = range(1, 100)

#: one 分, the precision every amount must be exact to
_CENT = Decimal("0.01")
#: a context wide enough that no operation here can round (10^16 has 17 digits, 18 with 分)
_EXACT = Context(prec=40)
#: a strict decimal string: ASCII digits, no leading zeros, at most one point with digits after it
_PLAIN_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
#: the decimal part of an uppercase amount: optional 零, optional 角, optional 分, optional 整
_UPPER_DECIMALS = re.compile(
    r"(零)?(?:([壹贰叁肆伍陆柒捌玖])角)?(?:([壹贰叁肆伍陆柒捌玖])分)?(整)?"
)


def _reject(value: object, english: str, chinese: str) -> AmountError:
    """Build the AmountError for a rejected amount."""
    error = AmountError(f"{english}: {value!r} ({chinese})")
    error.reason = chinese
    return error


def _from_decimal(value: Decimal, shown: object) -> Decimal:
    """Check a Decimal is a writable amount and return it in canonical form."""
    if value.is_nan():
        raise _reject(shown, "amount is not a number", "金额不是数字")
    if value.is_infinite():
        raise _reject(shown, "amount is infinite", "金额不能为无穷大")
    if value.is_signed():
        raise _reject(shown, "amount is negative", "金额不能为负数")
    if value >= AMOUNT_LIMIT:
        raise _reject(shown, "amount is 10^16 yuan or more", "金额应小于10的16次方元")
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    extra = -exponent - 2  # digits written below the 分
    if extra > 0 and any(digits[-extra:]):
        raise _reject(
            shown, "amount has more than two decimal places", "金额最多两位小数，不作四舍五入"
        )
    if value == value.to_integral_value(context=_EXACT):
        return value.quantize(Decimal(1), context=_EXACT)
    return value.quantize(_CENT, context=_EXACT)


def parse_amount(value: Decimal | int | str) -> Decimal:
    """Return the amount as an exact Decimal, raising AmountError if it is not one."""
    if isinstance(value, bool):
        raise _reject(value, "a boolean is not an amount", "布尔值不是金额")
    if isinstance(value, Decimal):
        return _from_decimal(value, value)
    if isinstance(value, int):
        return _from_decimal(Decimal(value), value)
    if isinstance(value, float):
        raise _reject(value, "a float is not an exact amount", "浮点数不是精确金额")
    if not isinstance(value, str):
        raise _reject(value, f"a {type(value).__name__} is not an amount", "不是金额")
    if not value.strip():
        raise _reject(value, "amount is empty", "金额为空")
    if value.startswith("-") and _PLAIN_DECIMAL.fullmatch(value[1:]):
        raise _reject(value, "amount is negative", "金额不能为负数")
    if not _PLAIN_DECIMAL.fullmatch(value):
        raise _reject(
            value,
            "amount is not a plain decimal number (digits and one point only;"
            " no sign, exponent, separator, leading zero or whitespace)",
            "金额应为阿拉伯数字，可带一个小数点，不含符号、指数、分隔符、前导零或空白",
        )
    return _from_decimal(Decimal(value), value)


def _integer_upper(number: int) -> str:
    """Write a positive integer below 10^16 in uppercase numerals, without 元."""
    digits = [int(c) for c in reversed(str(number))]  # digits[p] is the 10^p digit
    digits += [0] * (16 - len(digits))
    parts: list[str] = []
    gap = False  # zeros seen since the last non-zero digit written
    for power in range(len(str(number)) - 1, -1, -1):
        digit = digits[power]
        if digit:
            if gap:
                parts.append("零")
            parts.append(UPPER_DIGITS[digit] + PLACE_UNITS[power % 4])
            gap = False
        else:
            gap = True
        if power in (4, 12) and any(digits[power : power + 4]):
            parts.append("万")
            if power == 4 and digit == 0 and digits[3]:
                gap = False  # PBoC rule 3: the 万位 zero before a non-zero 千位 goes unwritten
        elif power == 8:
            parts.append("亿")
    return "".join(parts)


def rmb_upper(amount: Decimal | int | str) -> str:
    """Write an RMB amount in uppercase Chinese numerals, without the 人民币 prefix."""
    value = parse_amount(amount)
    cents = int(value.scaleb(2, context=_EXACT))
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if yuan == 0:
        if jiao == 0:
            return UPPER_DIGITS[fen] + "分" if fen else "零元整"
        return UPPER_DIGITS[jiao] + "角" + (UPPER_DIGITS[fen] + "分" if fen else "整")
    text = _integer_upper(yuan) + "元"
    if jiao == 0:
        return text + ("零" + UPPER_DIGITS[fen] + "分" if fen else "整")
    if yuan % 10 == 0:
        text += "零"  # the 元位 is zero: written, as in the PBoC examples
    return text + UPPER_DIGITS[jiao] + "角" + (UPPER_DIGITS[fen] + "分" if fen else "整")


def _parse_integer(text: str, whole: str) -> int:
    """Read the integer part of an uppercase amount (the text before 元)."""
    total = 0  # the part before 亿, times 10^8, once 亿 is read
    below_yi = 0  # the value read since 亿 (or the start), in whole 万
    section = 0  # the value read since the last section unit, below 10^4
    digit: int | None = None  # a digit waiting for its place unit
    last_place = 4  # the place unit last read in this section, to keep places descending
    seen_yi = False
    seen_wan = False  # a 万 already read since 亿 (or the start)
    after_zero = False
    for char in text:
        if char in UPPER_DIGITS[1:]:
            if digit is not None:
                raise _unreadable(whole, f"two digits in a row at {char!r}")
            digit = UPPER_DIGITS.index(char)
            after_zero = False
        elif char == "零":
            if digit is not None or after_zero:
                raise _unreadable(whole, "零 out of place")
            after_zero = True
        elif char in "拾佰仟":
            place = "拾佰仟".index(char) + 1
            if digit is None or place >= last_place:
                raise _unreadable(whole, f"{char} without a digit or out of order")
            section += digit * 10**place
            digit, last_place = None, place
        elif char in "万亿":
            if after_zero:
                raise _unreadable(whole, f"零 before {char}")
            section += digit or 0
            digit, last_place = None, 4
            if char == "万":
                if seen_wan or section == 0:
                    raise _unreadable(whole, "万 out of place")
                below_yi, section, seen_wan = section, 0, True
            else:
                if seen_yi or below_yi * 10**4 + section == 0:
                    raise _unreadable(whole, "亿 out of place")
                total = (below_yi * 10**4 + section) * 10**8
                below_yi, section, seen_yi, seen_wan = 0, 0, True, False
        else:
            raise _unreadable(whole, f"unexpected character {char!r}")
    if after_zero:
        raise _unreadable(whole, "trailing 零")
    section += digit or 0
    return total + below_yi * 10**4 + section


def _unreadable(text: str, why: str) -> AmountError:
    """Build the AmountError for uppercase text that cannot be read."""
    return AmountError(f"not an uppercase amount ({why}): {text!r} (无法识别的大写金额)")


def upper_to_amount(text: str) -> Decimal:
    """Read an uppercase amount written by rmb_upper back into a Decimal."""
    if text == "零元整":
        return Decimal(0)
    if "元" in text:
        integer_text, _, decimal_text = text.partition("元")
        if not integer_text:
            raise _unreadable(text, "nothing before 元")
        yuan = _parse_integer(integer_text, text)
    else:
        yuan, decimal_text = 0, text
    match = _UPPER_DECIMALS.fullmatch(decimal_text)
    if match is None:
        raise _unreadable(text, "bad 角 or 分")
    zero, jiao, fen, zheng = match.groups()
    if (fen is None) == (zheng is None):
        raise _unreadable(text, "整 must close an amount without 分, and only such an amount")
    if yuan == 0 and (zero or (jiao is None and fen is None)):
        raise _unreadable(text, "零 or 整 with nothing to write")
    jiao_value = UPPER_DIGITS.index(jiao) if jiao else 0
    fen_value = UPPER_DIGITS.index(fen) if fen else 0
    cents = yuan * 100 + jiao_value * 10 + fen_value
    if cents % 100 == 0:
        return Decimal(cents // 100)
    return Decimal(cents).scaleb(-2)


def format_amount(value: Decimal) -> str:
    """Write an amount in figures: no decimals if whole, else exactly two; no separators."""
    return format(parse_amount(value), "f")


def _check_count(n: int) -> None:
    """Raise AmountError unless n is an int from 1 to 99."""
    if isinstance(n, bool) or not isinstance(n, int) or n not in COUNT_RANGE:
        raise AmountError(f"count must be an integer from 1 to 99: {n!r} (数量应为1至99的整数)")


def count_upper(n: int) -> str:
    """Write a count from 1 to 99 in uppercase numerals, as in 壹式贰份 (拾贰 for 12)."""
    _check_count(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("拾" if tens == 1 else UPPER_DIGITS[tens] + "拾")
    return head + (UPPER_DIGITS[ones] if ones else "")


def count_lower(n: int) -> str:
    """Write a count from 1 to 99 in lowercase numerals, as in 两期 (十二 for 12)."""
    _check_count(n)
    if n == 2:
        return "两"
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else LOWER_DIGITS[tens] + "十")
    return head + (LOWER_DIGITS[ones] if ones else "")
