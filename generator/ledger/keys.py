"""The ledger's signing key: an Ed25519 key in a file of its own, never in the database.

Every event the ledger appends is signed over its chain hash (which covers
every event before it), so whoever can write the database but does not hold
the key can no longer rewrite or extend the chain unseen. The private key is a
PEM file (PKCS#8, unencrypted) readable by its owner alone: one that the group
or others may read is refused. It is named by ``--ledger-key FILE`` or
``CONTRACTGEN_LEDGER_KEY_FILE``; issuing requires it. Checking needs only
public keys: ``--ledger-pubkey FILE`` (repeatable) or ``CONTRACTGEN_LEDGER_PUBKEY``
(PEM files joined by ``:``), and the public half of the private key when one is
configured. An event names its key by the key id, ``SHA256:`` and the unpadded
base64 of the SHA-256 of the raw 32-byte public key (the form ``ssh-keygen -l``
prints), which is also the fingerprint an auditor pins.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import LedgerError

__all__ = [
    "KEY_ENVIRONMENT",
    "PUBKEY_ENVIRONMENT",
    "SigningKey",
    "configured_key_file",
    "fingerprint",
    "load_key",
    "load_public",
    "new_key",
    "public_pem",
    "signature_holds",
    "trusted_keys",
]

#: the environment variable naming the private key file
KEY_ENVIRONMENT = "CONTRACTGEN_LEDGER_KEY_FILE"
#: the environment variable naming public key files to check against, joined by ``:``
PUBKEY_ENVIRONMENT = "CONTRACTGEN_LEDGER_PUBKEY"
#: what is signed is this prefix and the event's chain hash: a signature made for
#: nothing else (another program's use of the same key) can never pass as an event's
_CONTEXT = b"contractgen-ledger-event-v1\n"
#: the largest key file read (a PEM Ed25519 key is about 120 bytes)
_KEY_MAX = 16 << 10
#: how to make a key, said in every refusal for want of one
MAKE_ONE = "用 contractgen ledger key new FILE 生成一个，并以 --ledger-key FILE 或环境变量 " + (
    f"{KEY_ENVIRONMENT} 指定"
)


def fingerprint(public: Ed25519PublicKey) -> str:
    """Return a public key's id: ``SHA256:`` and the unpadded base64 of its raw bytes' SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def public_pem(public: Ed25519PublicKey) -> bytes:
    """Return a public key as PEM (SubjectPublicKeyInfo), the file an auditor keeps."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class SigningKey:
    """The ledger's private key, loaded, with its id."""

    private: Ed25519PrivateKey
    key_id: str
    path: Path

    @classmethod
    def of(cls, private: Ed25519PrivateKey, path: Path) -> SigningKey:
        """Return the key with its id computed."""
        return cls(private, fingerprint(private.public_key()), path)

    def sign(self, chain_hash: str) -> str:
        """Return the base64 signature of an event's chain hash."""
        return base64.b64encode(self.private.sign(_CONTEXT + chain_hash.encode())).decode()


def signature_holds(public: Ed25519PublicKey, chain_hash: str, signature: str) -> bool:
    """Return whether ``signature`` (base64) is the key's signature of that chain hash."""
    try:
        public.verify(base64.b64decode(signature, validate=True), _CONTEXT + chain_hash.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


def _read(path: Path, what: str) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise LedgerError(f"{what} {path} 不是普通文件", code="ledger.key_unreadable")
        if info.st_size > _KEY_MAX:
            raise LedgerError(f"{what} {path} 过大，不是密钥文件", code="ledger.key_invalid")
        return path.read_bytes()
    except FileNotFoundError:
        raise LedgerError(
            f"{what} {path} 不存在（{MAKE_ONE}）", code="ledger.key_unreadable"
        ) from None
    except OSError as exc:
        raise LedgerError(
            f"无法读取{what} {path}：{exc.strerror or exc}", code="ledger.key_unreadable"
        ) from None


def load_key(path: Path) -> SigningKey:
    """Load the private key; refuse one the group or others may read, or that is not Ed25519."""
    data = _read(path, "台账签名密钥")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise LedgerError(
            f"台账签名密钥 {path} 的权限为 {mode:04o}，同组或其他用户可读；"
            f"请改为仅本人可读写：chmod 600 {path}",
            code="ledger.key_permissions",
        )
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise LedgerError(
            f"台账签名密钥 {path} 无法读取：不是未加密的 PEM 私钥（{exc}）",
            code="ledger.key_invalid",
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise LedgerError(
            f"台账签名密钥 {path} 不是 Ed25519 密钥（{MAKE_ONE}）", code="ledger.key_invalid"
        )
    return SigningKey.of(private, path)


def load_public(path: Path) -> Ed25519PublicKey:
    """Load a public key file (PEM) an auditor was given."""
    data = _read(path, "台账公钥文件")
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise LedgerError(
            f"台账公钥文件 {path} 无法读取：不是 PEM 公钥（{exc}）", code="ledger.key_invalid"
        ) from None
    if not isinstance(public, Ed25519PublicKey):
        raise LedgerError(f"台账公钥文件 {path} 不是 Ed25519 公钥", code="ledger.key_invalid")
    return public


def new_key(path: Path, public_path: Path | None = None) -> SigningKey:
    """Write a fresh private key to ``path`` (0600; never over an existing file); return it.

    ``public_path``: also write its public key there (PEM), for auditors; never over
    an existing file either. Nothing is written when either file exists already.
    """
    for target in (path, public_path):
        if target is not None and (target.exists() or target.is_symlink()):
            raise LedgerError(
                f"{target} 已存在，不会覆盖（请另选文件名）", code="ledger.key_exists"
            )
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(path, 0o600)  # whatever the umask
    if public_path is not None:
        public_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(public_pem(private.public_key()))
    return SigningKey.of(private, path)


def configured_key_file() -> Path | None:
    """Return the private key file the environment names, if any."""
    named = os.environ.get(KEY_ENVIRONMENT, "").strip()
    return Path(named).expanduser() if named else None


def trusted_keys(pubkey_files: Iterable[Path] | None = None) -> dict[str, Ed25519PublicKey]:
    """Return the public keys events are checked against, by key id.

    The public key files given, else those ``CONTRACTGEN_LEDGER_PUBKEY`` names (an
    auditor's pinned keys, old and new after a rotation); when there are none, the
    public half of the configured private key. Empty when nothing is configured.
    """
    if pubkey_files is None:
        named = os.environ.get(PUBKEY_ENVIRONMENT, "")
        pubkey_files = [Path(p).expanduser() for p in named.split(os.pathsep) if p.strip()]
    keys = {}
    for path in pubkey_files:
        public = load_public(path)
        keys[fingerprint(public)] = public
    if not keys and (configured := configured_key_file()) is not None:
        key = load_key(configured)
        keys[key.key_id] = key.private.public_key()
    return keys
