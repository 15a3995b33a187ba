"""Play the e-signing platform in tests: a throw-away PKI, signing into empty fields, checking."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

#: the organisations whose test seals the parties use
PARTIES = {"buyer": "上海市大数据中心", "supplier": "上海众恒智能系统技术有限公司"}


def _name(organization: str, common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_pki() -> tuple[asn1_x509.Certificate, dict[str, signers.SimpleSigner]]:
    """Return a throw-away test root and a signer per party with a certificate it issued."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("测试根证书机构", "仅供测试的根证书")

    def certificate(subject: x509.Name, key: Any, *, ca: bool) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(root_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True
            )
            .add_extension(_usage(ca=ca), critical=True)
            .sign(root_key, hashes.SHA256())
        )

    def der(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    root = der(certificate(root_name, root_key, ca=True))
    found: dict[str, signers.SimpleSigner] = {}
    for party, organization in PARTIES.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = der(certificate(_name(organization, f"{party} 测试印章"), key, ca=False))
        private = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        found[party] = signers.SimpleSigner(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(private),
            cert_registry=SimpleCertificateStore.from_certs([cert, root]),
        )
    return root, found


def sign_field(pdf: bytes, field: str, signer: signers.SimpleSigner) -> bytes:
    """Return ``pdf`` with the existing empty field ``field`` signed (incrementally, offline)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name=field)
    out = signers.sign_pdf(writer, meta, signer=signer, existing_fields_only=True)
    return bytes(out.getvalue())


def signature_statuses(pdf: bytes, root: asn1_x509.Certificate) -> list[tuple[str, Any]]:
    """Return (field name, pyHanko validation status) of every signature, trusting ``root``."""
    context = ValidationContext(trust_roots=[root])
    return [
        (sig.field_name, validate_pdf_signature(sig, context))
        for sig in PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    ]
