"""The hand-written part of the PDF stage: the eexec cipher and the ICC profile's date."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct

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
