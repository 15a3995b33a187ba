"""The hand-written part of the PDF stage: the eexec cipher and the ICC profile's date."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import struct
from collections.abc import Callable
from typing import Any

import pikepdf
import pytest

from generator.pdf import document, type1

#: the Type 1 spec's own example (Adobe Type 1 Font Format, 7.2): plaintext and eexec
SPEC_PLAIN = bytes(4) + b"/Private 8 dict dup begin"


def python_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type1, "_eexec_c", None)


@pytest.mark.parametrize(
    "plain",
    [
        b"",
        SPEC_PLAIN,
        bytes(range(256)) * 40,
        b"/UniqueID 4100001 def\n" + bytes(1000),
    ],
)
def test_encrypting_then_decrypting_gives_the_plaintext(plain: bytes) -> None:
    assert type1.decrypt(type1.encrypt(plain)) == plain


def test_the_c_loop_gives_the_python_loop_s_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    if type1._eexec_c is None:
        pytest.skip("the C loop was not built (no compiler at set-up)")
    data = hashlib.sha256(b"seed").digest() * 500
    fast = (type1.encrypt(data), type1.decrypt(data))
    python_loop(monkeypatch)
    assert (type1.encrypt(data), type1.decrypt(data)) == fast


def test_the_cipher_chains_through_every_byte() -> None:
    cipher = type1.encrypt(bytes(64))
    changed = type1.encrypt(bytes(10) + b"\x01" + bytes(53))
    assert cipher[:10] == changed[:10] and cipher[10:] != changed[10:]
    # encryption with key 55665, c1 52845, c2 22719: the first byte is 0 ^ (55665 >> 8)
    assert cipher[0] == 55665 >> 8


def profile(version: int) -> bytes:
    header = bytearray(128)
    header[8] = version
    header[24:36] = struct.pack(">6H", 2026, 12, 1, 8, 6, 8)  # LibreOffice's wall clock
    header[36:40] = b"acsp"
    if version == 4:
        header[84:100] = b"\x01" * 16
    return bytes(header) + b"tags"


@pytest.mark.parametrize("version", [2, 4])
def test_the_output_profile_is_dated_with_the_signing_date(version: int) -> None:
    dated = document.icc_dated(profile(version), dt.date(2026, 1, 16))
    assert struct.unpack(">6H", dated[24:36]) == (2026, 1, 16, 0, 0, 0)
    if version == 4:  # the profile ID is the MD5 of the profile with flags, intent and ID zeroed
        unsigned = bytearray(dated)
        unsigned[44:48] = bytes(4)
        unsigned[64:68] = bytes(4)
        unsigned[84:100] = bytes(16)
        assert dated[84:100] == hashlib.md5(bytes(unsigned)).digest()
    else:
        assert dated[84:100] == bytes(16)


def test_what_is_not_an_icc_profile_is_left_as_it_is() -> None:
    assert document.icc_dated(b"not a profile", dt.date(2026, 1, 16)) == b"not a profile"


def test_pdf_stage_errors_cross_process_boundaries_whole() -> None:
    # A batch worker's error reaches the report through pickle.
    import pickle

    from generator.errors import ConversionError, SealPlacementError

    seal = SealPlacementError(
        kind="service_contract", party="buyer", keyword="甲方（盖章）", count=2, pages=[4, 13],
        where="the document",
    )  # fmt: skip
    again = pickle.loads(pickle.dumps(seal))
    assert (str(again), again.pages, again.count) == (str(seal), [4, 13], 2)
    conversion = ConversionError("timed out", command=["soffice"], returncode=3, stderr="tail")
    back = pickle.loads(pickle.dumps(conversion))
    assert (str(back), back.returncode, back.stderr_tail) == (str(conversion), 3, "tail")


#: content streams that test the lexer: escapes, nesting, hex, arrays, dicts, inline images
CONTENTS = [
    b"BT /F1 12 Tf (abc) Tj ET",
    b"BT /F1 12 Tf <0102 0a0B 7> Tj [<03> -4 (d\\(e\\)) 5 [<ff>] <04>] TJ ET",
    b"BT /F1 9 Tf (a(b)c\\n\\101\\7\\\\) Tj (x\\\r\ny\r\nz\rw) ' 1 2 (q) \" ET",
    b"q /F1 9 Tf (a) Tj q /F2 9 Tf (b) Tj Q (c) Tj Q (d) Tj /F9 9 Tf (e) Tj",
    b"/P <</MCID 0 /F2 1>> BDC /F1 9 Tf % a comment (zz) Tj\n(y) Tj EMC /Fm0 Do /Fm1 Do",
    b"/F1 9 Tf BI /W 2 /H 1 /BPC 8 /CS /G ID \x00(Tj) Tj\n EI (k) Tj /F2 9 Tf ( ) Tj",
    b"/F#31 9 Tf [(m) (n)] TJ /F2 9 Tf 5 Tj [1 2] Tj (o) TJ Q Q (p) Tj",
]


@pytest.mark.parametrize("content", CONTENTS)
def test_the_c_lexer_gives_pikepdf_s_codes(content: bytes) -> None:
    if type1._content_c is None:
        pytest.skip("the C lexer was not built (no compiler at set-up)")
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].obj.Contents = pdf.make_stream(content)
    by_name, drawn = type1._content_c.shown(type1._content(pdf.pages[0].obj))
    expected = type1._parsed_codes(pdf.pages[0].obj)
    assert ({name: set(codes) for name, codes in by_name.items()}, drawn) == expected


def test_the_c_lexer_reads_what_the_page_shows() -> None:
    if type1._content_c is None:
        pytest.skip("the C lexer was not built (no compiler at set-up)")
    by_name, drawn = type1._content_c.shown(CONTENTS[3] + b" " + CONTENTS[4])
    # (d) is drawn after the outer Q: with no font, as before the first q
    assert by_name == {"/F1": b"acy", "/F2": b"b", "/F9": b"e"}
    assert drawn == ["/Fm0", "/Fm1"]


def _font_with_map(pdf: pikepdf.Pdf, cmap: bytes | None) -> pikepdf.Object:
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font))
    if cmap is not None:
        font.ToUnicode = pdf.make_stream(cmap)
    return font


CMAP = (
    b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
    b"1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
    b"2 beginbfchar\n<01> <7532>\n<02> <FB01>\nendbfchar\nendcmap\nend end\n"
)


def test_a_page_s_characters_come_from_its_fonts_maps_or_are_not_known() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    mapped, unmapped = _font_with_map(pdf, CMAP), _font_with_map(pdf, None)
    assert type1.to_unicode(mapped) == {1: "甲", 2: "ﬁ"}
    assert type1.to_unicode(unmapped) is None
    ranged = CMAP.replace(b"endcmap", b"1 beginbfrange\n<03> <04> <0041>\nendbfrange\nendcmap")
    assert type1.to_unicode(_font_with_map(pdf, ranged)) is None
    page = pdf.pages[0].obj
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=mapped, F2=unmapped))
    page.Contents = pdf.make_stream(b"BT /F1 9 Tf <0102> Tj ET")
    buffer = io.BytesIO()
    pdf.save(buffer)
    source = document.Source(buffer.getvalue())
    assert source.chars(0) == {"甲", "ﬁ", "f", "i"}  # a ligature also as its letters
    page.Contents = pdf.make_stream(b"BT /F1 9 Tf <0103> Tj ET")  # a code the map lacks
    buffer = io.BytesIO()
    pdf.save(buffer)
    assert document.Source(buffer.getvalue()).chars(0) is None


def _charstrings_part(count: int, seed: int) -> bytes:
    """Return a Private part's charstrings as LibreOffice writes them, binary glyph data."""
    rng = random.Random(seed)
    entries = []
    for n in range(count):
        # the data may hold anything, the markers and spaces among it
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60)))
        data += rng.choice([b"", b" ND\n", b"/x 3 RD ", b"end end"])
        entries.append(b"/g%d %d RD %s ND\n" % (n, len(data), data))
    return b"dup /CharStrings %d dict dup begin\n" % count + b"".join(entries) + b"end end\n"


def _cut(plain: bytes, at: int, how: Callable[[bytes, int], Any]) -> Any:
    try:
        glyphs, end = how(plain, at)
    except ValueError as exc:
        return str(exc)
    return [tuple(glyph) for glyph in glyphs], end


def test_the_c_loop_cuts_charstrings_as_the_python_loop_does() -> None:
    """The same glyphs and end, or the same refusal, for programs whole and damaged."""
    if type1._eexec_c is None or not hasattr(type1._eexec_c, "charstrings"):
        pytest.skip("the C loop was not built (no compiler at set-up)")
    rng = random.Random(25)
    refused = 0
    for seed in range(20):
        plain = _charstrings_part(rng.randrange(1, 40), seed)
        begin = plain.index(b"begin\n") + len(b"begin\n")
        whole = _cut(plain, begin, type1._eexec_c.charstrings)
        assert whole == _cut(plain, begin, type1._charstrings)
        assert not isinstance(whole, str) and plain.startswith(b"end end", whole[1])
        for _ in range(100):
            damaged = bytearray(plain)
            at = rng.randrange(begin, len(damaged))
            change = rng.randrange(4)
            if change == 0:
                damaged[at] = rng.randrange(256)
            elif change == 1:
                del damaged[at:]
            elif change == 2:
                damaged[at:at] = rng.choice([b" ", b"/", b"9", b" RD ", b" ND\n", b"end end"])
            else:
                del damaged[at : at + rng.randrange(1, 8)]
            fast = _cut(bytes(damaged), begin, type1._eexec_c.charstrings)
            assert fast == _cut(bytes(damaged), begin, type1._charstrings)
            refused += isinstance(fast, str)
    assert refused > 100  # damage is refused, and said alike
