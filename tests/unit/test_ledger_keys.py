"""The ledger's signing key files: made 0600 and never over a file, refused when not fit."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from generator.errors import LedgerError
from generator.ledger.keys import (
    fingerprint,
    load_key,
    load_public,
    new_key,
    signature_holds,
    trusted_keys,
)


def _code(call: object) -> str:
    with pytest.raises(LedgerError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


def test_a_new_key_is_its_owner_s_its_id_the_ssh_style_fingerprint_and_it_signs(
    tmp_path: Path,
) -> None:
    key = new_key(tmp_path / "k.pem", tmp_path / "k.pub")
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    public = load_public(tmp_path / "k.pub")
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expected = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert key.key_id == fingerprint(public) == f"SHA256:{expected}"
    assert load_key(tmp_path / "k.pem").key_id == key.key_id
    signed = key.sign("ab" * 32)
    assert signature_holds(public, "ab" * 32, signed)
    assert not signature_holds(public, "ac" * 32, signed)
    assert not signature_holds(public, "ab" * 32, "not base64!")
    assert trusted_keys([tmp_path / "k.pub"]) == {key.key_id: public}


def test_unfit_key_files_are_refused_with_their_codes(tmp_path: Path) -> None:
    assert _code(lambda: load_key(tmp_path / "none.pem")) == "ledger.key_unreadable"
    assert _code(lambda: load_key(tmp_path)) == "ledger.key_unreadable"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    garbage.chmod(0o600)
    assert _code(lambda: load_key(garbage)) == "ledger.key_invalid"
    assert _code(lambda: load_public(garbage)) == "ledger.key_invalid"
    other = tmp_path / "ec.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    other.chmod(0o600)
    assert _code(lambda: load_key(other)) == "ledger.key_invalid"
    new_key(tmp_path / "k.pem")
    (tmp_path / "k.pem").chmod(0o604)
    assert _code(lambda: load_key(tmp_path / "k.pem")) == "ledger.key_permissions"
    # an existing file is never overwritten, nor is a half pair left behind
    assert _code(lambda: new_key(tmp_path / "k.pem")) == "ledger.key_exists"
    assert _code(lambda: new_key(tmp_path / "new.pem", tmp_path / "k.pem")) == "ledger.key_exists"
    assert not (tmp_path / "new.pem").exists()
