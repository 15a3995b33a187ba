"""The JSON Schemas of what the ledger's routes answer, as OpenAPI components.

:mod:`generator.service.openapi` adds them to the document; each names the
others by ``#/components/schemas/…``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LEDGER_SCHEMAS"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], *optional: str) -> dict[str, Any]:
    """Return an object schema with ``properties``, every one required but ``optional``."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }


_TEXT: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_SHA256: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_STATUS: dict[str, Any] = {
    "type": "string",
    "enum": ["issued", "superseded", "voided"],
    "description": "issued: the contract's version in force; superseded by a newer "
    "version; voided by hand, with a reason",
}
_VERDICT: dict[str, Any] = {
    "type": "string",
    "enum": ["current", "outdated", "unknown", "untrusted"],
    "description": "current: issued here and in force; outdated: issued here, since "
    "superseded or voided; unknown: not issued here; untrusted: the ledger's signed "
    "events do not vouch for its records (rewritten or extended without its key)",
}

_RECORDED = _object(
    {
        "contract_no": _TEXT,
        "version": _INT,
        "outcome": {
            "type": "string",
            "enum": ["new", "same", "files_added"],
            "description": "new: a version recorded; same: that version again, nothing "
            "recorded; files_added: that version, with files it lacked",
        },
        "superseded": {**_nullable(_INT), "description": "the version this one replaced"},
    }
)
_PUBLISHED = _object(
    {
        "contract_no": _TEXT,
        "version": {**_INT, "description": "the version published"},
        "outcome": {
            "type": "string",
            "enum": ["new", "same"],
            "description": "new: the publication recorded; same: the files already recorded "
            "for that version, nothing recorded",
        },
        "published_on": {"type": "string", "format": "date"},
        "due_date": {"type": "string", "format": "date"},
    }
)
_MATCH = _object(
    {
        "sha256": _SHA256,
        "contract_no": _TEXT,
        "version": _INT,
        "name": {**_TEXT, "description": "the file's name in the set"},
        "kind": _TEXT,
        "status": _STATUS,
        "current_version": {**_nullable(_INT), "description": "the version in force, if any"},
        "signed_copy": {
            "type": "boolean",
            "description": "the file is a signed copy of the file named (its seal fields "
            "signed), recorded with POST /v1/ledger/signed",
        },
    }
)
_SIGNING: dict[str, Any] = {
    **_nullable({"type": "string", "enum": ["partly_signed", "signed"]}),
    "description": "what the version's signed copies say: null, none recorded; "
    "partly_signed; signed (已签署): every seal field of every sealed document, both parties'",
}
_SIGNED_AT: dict[str, Any] = {
    **_nullable(_TEXT),
    "description": "the latest signing time its signatures carry (UTC, ISO 8601)",
}
_SIGNER = _object(
    {
        "party": {"type": "string", "description": "buyer (甲方) or supplier (乙方)"},
        "field": {**_TEXT, "description": "the seal field signed"},
        "organization": {**_TEXT, "description": "the certificate subject's O"},
        "common_name": {**_TEXT, "description": "the certificate subject's CN"},
        "issuer": _TEXT,
        "serial": {**_TEXT, "description": "hexadecimal"},
        "not_before": _TEXT,
        "not_after": _TEXT,
        "signed_at": _SIGNED_AT,
        "time_source": {
            **_nullable({"type": "string", "enum": ["timestamp", "signer"]}),
            "description": "a timestamp token's time, else the time the signer reported",
        },
        "trusted": {
            "type": "boolean",
            "description": "its chain validated against the office's trust roots "
            "(CONTRACTGEN_TRUST); false when none are configured",
        },
        "chain": {"type": "array", "items": _TEXT},
    }
)
_TRUST = _object(
    {
        "validated": {
            "type": "boolean",
            "description": "false: no trust roots configured, the chain was not validated "
            "(the signatures' integrity only)",
        },
        "roots": {"type": "array", "items": {"type": "object"}},
        "note": _TEXT,
    }
)
_FILE_VERDICT = _object(
    {
        "name": {
            **_nullable(_TEXT),
            "description": "the entry's path in the zip; null for the body itself",
        },
        "sha256": _SHA256,
        "verdict": _VERDICT,
        "matches": {"type": "array", "items": _ref("LedgerMatch")},
        "problems": {
            "type": "array",
            "items": _TEXT,
            "description": "why the ledger cannot be trusted on this file (untrusted); "
            "empty otherwise",
        },
    }
)
_VERIFICATION = _object(
    {
        "verdict": {
            **_VERDICT,
            "description": "the worst of the files' verdicts (untrusted, unknown, then "
            "outdated); "
            "unknown for a zip without files",
        },
        "files": {"type": "array", "items": _ref("FileVerdict")},
    }
)
_SUMMARY_PROPERTIES: dict[str, Any] = {
    "contract_no": _TEXT,
    "version": _INT,
    "status": _STATUS,
    "status_reason": _TEXT,
    "project_name": _TEXT,
    "supplier": _TEXT,
    "amount": {**_TEXT, "description": "yuan, exact decimal"},
    "signed_on": {"type": "string", "format": "date"},
    "published_on": {
        **_nullable({"type": "string", "format": "date"}),
        "description": "合同公告日期 of the version's publication; null: not published",
    },
    "issued_at": {**_TEXT, "description": "UTC, ISO 8601"},
    "issued_by": {**_TEXT, "description": "api, or api:<first 12 hex of the token's SHA-256>"},
    "input_sha256": _SHA256,
    "templates_sha256": _TEXT,
    "generator_version": _TEXT,
    "signing": _SIGNING,
    "signed_at": _SIGNED_AT,
}
_SET_FILE = _object(
    {
        "name": _TEXT,
        "kind": _TEXT,
        "format": _TEXT,
        "sha256": _SHA256,
        "content_md5": {**_TEXT, "description": "base64 MD5, as Content-MD5"},
        "size": _INT,
        "pages": _nullable(_INT),
        "seals": {"type": "object"},
    }
)
_EVENT = _object(
    {
        "seq": _INT,
        "at": _TEXT,
        "actor": _TEXT,
        "action": {"type": "string", "enum": ["issue", "add_files", "void", "publish", "sign"]},
        "version": _INT,
        "hash": _SHA256,
        "key_id": {
            **_nullable(_TEXT),
            "description": "the id (SHA256:… fingerprint) of the key that signed it; "
            "null for an event recorded before signing",
        },
        "supersedes": _nullable(_INT),
        "files": _INT,
        "reason": _TEXT,
        "published_on": {**_TEXT, "description": "of a publish event: 合同公告日期"},
        "name": {**_TEXT, "description": "of a sign event: the issued file signed"},
        "sha256": {**_SHA256, "description": "of a sign event: the signed copy's"},
        "signed_at": {**_SIGNED_AT, "description": "of a sign event"},
        "signers": {"type": "array", "items": {"type": "object"}},
    },
    "supersedes",
    "files",
    "reason",
    "published_on",
    "name",
    "sha256",
    "signed_at",
    "signers",
    "key_id",
)
_SIGNED_COPY_ROW = _object(
    {
        "name": {**_TEXT, "description": "the issued file it extends"},
        "format": _TEXT,
        "kind": _TEXT,
        "issued_sha256": _SHA256,
        "sha256": _SHA256,
        "content_md5": _TEXT,
        "size": _INT,
        "signers": {"type": "array", "items": _ref("Signer")},
        "signed_at": _SIGNED_AT,
        "trust": _ref("SignedTrust"),
        "recorded_at": _TEXT,
        "recorded_by": _TEXT,
    }
)
_SIGNED_COPY = _object(
    {
        "contract_no": _TEXT,
        "version": _INT,
        "name": {**_TEXT, "description": "the issued file signed"},
        "outcome": {
            "type": "string",
            "enum": ["new", "same"],
            "description": "new: recorded (a sign event); same: that file already recorded",
        },
        "signing": _SIGNING,
        "signed_at": _SIGNED_AT,
        "signers": {"type": "array", "items": _ref("Signer")},
        "trust": _ref("SignedTrust"),
        "message": _TEXT,
        "verdict": _VERDICT,
        "status": _STATUS,
    }
)

#: every schema the ledger's routes use, by component name
LEDGER_SCHEMAS: dict[str, dict[str, Any]] = {
    "LedgerRecorded": {**_RECORDED, "description": "What recording a set did (X-Ledger)"},
    "LedgerPublished": {
        **_PUBLISHED,
        "description": "What recording a publication did (X-Ledger)",
    },
    "LedgerMatch": _MATCH,
    "FileVerdict": _FILE_VERDICT,
    "Verification": _VERIFICATION,
    "SetSummary": _object(_SUMMARY_PROPERTIES),
    "SetList": _object({"sets": {"type": "array", "items": _ref("SetSummary")}}),
    "SetFile": _SET_FILE,
    "SetDetail": _object(
        {
            **_SUMMARY_PROPERTIES,
            "data": {**_ref("AnyContract"), "description": "the contract data, as recorded"},
            "templates": {"type": "object"},
            "files": {"type": "array", "items": _ref("SetFile")},
            "signed_copies": {"type": "array", "items": _ref("SignedCopyRecord")},
        }
    ),
    "Signer": _SIGNER,
    "SignedTrust": _TRUST,
    "SignedCopyRecord": _SIGNED_COPY_ROW,
    "SignedCopy": {**_SIGNED_COPY, "description": "What taking a signed copy back did"},
    "LedgerEvent": _EVENT,
    "History": _object(
        {
            "contract_no": _TEXT,
            "events": {"type": "array", "items": _ref("LedgerEvent")},
            "supplements": _nullable(
                {
                    "type": "object",
                    "description": "an original's 补充合同 (each number's newest version), "
                    "their total and the share of the limit used (summary: in Chinese)",
                }
            ),
        },
        "supplements",
    ),
    "LedgerCheck": _object(
        {
            "ok": {"type": "boolean"},
            "problems": {"type": "array", "items": _TEXT},
            "head": {**_TEXT, "description": "the hash of the last event"},
            "keys": {
                "type": "array",
                "items": _TEXT,
                "description": "the ids (SHA256:… fingerprints) of the public keys the "
                "events' signatures were checked against",
            },
            "signed_by": {
                "type": "object",
                "additionalProperties": _INT,
                "description": "how many events each of those keys signed",
            },
            "events": {**_INT, "description": "how many events the ledger holds"},
        }
    ),
}
