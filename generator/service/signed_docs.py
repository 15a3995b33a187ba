"""The OpenAPI description of ``POST /v1/ledger/signed``: its body and its answers."""

from __future__ import annotations

from typing import Any

from .openapi import _LEDGER_503, _NO_LEDGER, problem_responses

__all__ = ["SIGNED_BODY", "SIGNED_RESPONSES"]

#: the request body of ``/v1/ledger/signed``: the signed PDF's bytes
SIGNED_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The signed copy: a PDF the service issued, with its seal fields signed "
        "by incremental updates (as an e-signing platform returns it). At most the service's "
        "body limit (default 1 MiB, --max-body), as for /v1/verify.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("application/pdf", "application/octet-stream")
        },
    }
}
SIGNED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The signed copy recorded (outcome new), or already recorded (same): "
        "its version, signing and signers",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignedCopy"}}},
    },
    **problem_responses(
        404,
        408,
        413,
        415,
        422,
        503,
        s404=_NO_LEDGER,
        s415="Body sent as neither application/pdf nor application/octet-stream",
        s422="The file is refused (code signed.not_pdf, signed.not_issued, signed.unsigned, "
        "signed.modified, signed.foreign_field, signed.invalid, signed.untrusted): not an "
        "issued PDF followed only by signatures in its own seal fields, or a signature "
        "that does not verify",
        s503=_LEDGER_503 + "; or the service cannot check signatures (code "
        "signing.unavailable: contractgen[signing] missing; signed.trust: the trust roots "
        "in CONTRACTGEN_TRUST cannot be read)",
    ),
}
