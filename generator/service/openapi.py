"""The OpenAPI description: each route's responses, the problem schemas, the contract schema.

FastAPI describes the routes; :func:`openapi_builder` adds the JSON Schema of
contract data (its ``$defs`` become components), the sample contract as the
example of the request bodies, and, with a token, the bearer security scheme
on every ``/v1`` operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..inputs.load import parse_yaml
from ..kinds import default_kind, json_schema, parse
from ..ledger.verification import ZIP_ENTRIES_MAX, ZIP_EXPANDED_MAX
from .ledger_schemas import LEDGER_SCHEMAS
from .negotiation import FILE_TYPES
from .problems import MAX_ISSUE_TEXT, MAX_ISSUES
from .settings import Settings

__all__ = [
    "ANY_BODY",
    "CONTRACTS_RESPONSES",
    "CONTRACT_BODY",
    "DOCUMENT_RESPONSES",
    "FILE_BODY",
    "HEALTH_RESPONSES",
    "KINDS_RESPONSES",
    "KIND_SCHEMA_RESPONSES",
    "LEDGER_CHECK_RESPONSES",
    "LEDGER_HISTORY_RESPONSES",
    "LEDGER_SETS_RESPONSES",
    "LEDGER_SET_RESPONSES",
    "LEDGER_VERSION_RESPONSES",
    "PUBLICATION_RESPONSES",
    "SCHEMA_RESPONSES",
    "VALIDATE_RESPONSES",
    "VERIFY_RESPONSES",
    "openapi_builder",
    "problem_responses",
]

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem; 422 adds `issues` with each field's path.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "issues": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}},
        "omitted_issues": {"type": "integer", "description": "issues past the first 100"},
        "code": {
            "type": "string",
            "description": "the ledger's errors: ledger.disabled, ledger.not_found, "
            "ledger.state, ledger.unreachable …",
        },
    },
}
_ISSUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["path", "code", "message"],
    "properties": {
        "path": {
            "type": "string",
            "maxLength": MAX_ISSUE_TEXT,
            "description": "field path, e.g. supplier.bank.account",
        },
        "code": {"type": "string", "description": "stable code, e.g. postcode.format"},
        "message": {
            "type": "string",
            "maxLength": MAX_ISSUE_TEXT,
            "description": "the problem, in Chinese",
        },
        "title": {
            "type": "string",
            "maxLength": MAX_ISSUE_TEXT,
            "description": "the field as a person reads it, e.g. 乙方 · 邮政编码 (absent where "
            "the path is not a declared field)",
        },
    },
}
_SET_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["manifest", "files"],
    "properties": {
        "manifest": {"type": "object", "description": "manifest.json of the set"},
        "files": {
            "type": "object",
            "description": "every file of the set by name, base64",
            "additionalProperties": {"type": "string", "contentEncoding": "base64"},
        },
        "ledger": {
            "anyOf": [{"$ref": "#/components/schemas/LedgerRecorded"}, {"type": "null"}],
            "description": "what the ledger recorded; null when the service runs without one",
        },
    },
}
_PUBLICATION_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["manifest", "files", "ledger"],
    "properties": {
        "manifest": {
            "type": "object",
            "description": "publication.json: dates, what is withheld, every file's hash",
        },
        "files": {
            "type": "object",
            "description": "every file of the publication by name, base64",
            "additionalProperties": {"type": "string", "contentEncoding": "base64"},
        },
        "ledger": {
            "anyOf": [{"$ref": "#/components/schemas/LedgerPublished"}, {"type": "null"}],
            "description": "what the ledger recorded; null when the service runs without one",
        },
    },
}
_VALIDATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["valid", "issues", "omitted_issues"],
    "properties": {
        "valid": {"type": "boolean"},
        "issues": {
            "type": "array",
            "maxItems": MAX_ISSUES,
            "items": {"$ref": "#/components/schemas/Issue"},
        },
        "omitted_issues": {"type": "integer", "description": "issues past the first 100"},
    },
}
#: contract data of any kind: the built-in kind's, or another's that names its kind
ANY_CONTRACT: dict[str, Any] = {
    "anyOf": [
        {"$ref": "#/components/schemas/Contract"},
        {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string", "description": "the kind's id"}},
            "description": "data of another contract kind: its schema at /v1/kinds/{id}/schema",
        },
    ]
}
#: the request body of the routes that render: contract data
CONTRACT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Contract data of the built-in kind (the JSON Schema at /v1/schema), or "
        "of another kind naming it with `kind` (its schema at /v1/kinds/{id}/schema); amounts "
        "read exactly.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyContract"}}},
    }
}
#: the request body of ``/v1/validate``: any JSON
ANY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Any JSON value: it is checked against the Contract schema and every "
        "issue is reported, so data that breaks the schema is a normal request here.",
        "content": {"application/json": {"schema": {}}},
    }
}
#: the request body of ``/v1/verify``: one file's bytes
FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One file's bytes: a PDF or DOCX the service made, or a set's or a "
        "publication's zip (each entry is checked but manifest.json and publication.json). "
        "Sent as application/octet-stream, a zip that is not a DOCX counts as a set's zip. "
        "At most the service's body limit (default 1 MiB, --max-body): a whole set's zip "
        "needs more.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}} for media in FILE_TYPES
        },
    }
}
_REASONS = {
    400: "Malformed JSON (with line, column and position) or a bad query parameter",
    401: "Missing or wrong bearer token",
    404: "Unknown document kind or path",
    408: "The body did not arrive in time",
    409: "Conflict with the ledger",
    410: "Gone: what was asked for was lost and will not come back",
    413: "Request body over the limit",
    415: "Body not sent as application/json",
    422: "Invalid contract data: `issues` lists each problem with its field path",
    503: "Saturated (Retry-After says when to retry), the PDF conversion failed, or the "
    "ledger is unavailable",
    504: "The request took longer than the service's timeout",
}
#: the 404 of every ledger route of a service without a ledger
_NO_LEDGER = "The service runs without a ledger (code ledger.disabled: 本服务未启用合同台账)"
_LEDGER_503 = "The ledger is unavailable (code ledger.unreachable); Retry-After says when to retry"
_SET_HEADERS: dict[str, Any] = {
    "X-Contract-No": {
        "description": "contract number, percent-encoded UTF-8",
        "schema": {"type": "string"},
    },
    "X-Input-Sha256": {
        "description": "SHA-256 of the normalised contract data",
        "schema": {"type": "string"},
    },
    "Content-Disposition": {"schema": {"type": "string"}},
    "X-Ledger": {
        "description": "what the ledger recorded, compact JSON (LedgerRecorded): "
        "contract_no, version, outcome (new, same, files_added), superseded; absent when "
        "the service runs without a ledger",
        "schema": {"type": "string"},
    },
}


def problem_responses(*codes: int, **reasons: str) -> dict[int | str, dict[str, Any]]:
    """Return OpenAPI responses for the given problem statuses; ``reasons``: ``s404="…"``."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "description": reasons.get(f"s{code}", _REASONS[code]),
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        if code == 503:
            entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[code] = entry
    return responses


CONTRACTS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The set: a zip of the 4 DOCX, 4 PDF, the bundle and manifest.json",
        "headers": _SET_HEADERS,
        "content": {
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/ContractSetJson"}},
        },
    },
    **problem_responses(400, 408, 413, 415, 422, 503, 504),
}
DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The PDF; X-Seal-Fields gives its empty signature fields",
        "headers": {
            **_SET_HEADERS,
            "X-Seal-Fields": {
                "description": "JSON list of {party, field, keyword, page, "
                "keyword_rect, rect}; rectangles in PDF points",
                "schema": {"type": "string"},
            },
            "X-Cross-Page-Seal": {
                "description": "JSON {first_page, last_page, edge, y, size} for a "
                "cross-page seal (骑缝章); absent for a one-page document",
                "schema": {"type": "string"},
            },
            "X-Document-Pages": {"schema": {"type": "integer"}},
            "X-Document-Sha256": {"schema": {"type": "string"}},
        },
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
    **problem_responses(400, 404, 408, 413, 415, 422, 503, 504),
}
_PUBLICATION_HEADERS: dict[str, Any] = {
    "X-Contract-No": _SET_HEADERS["X-Contract-No"],
    "X-Input-Sha256": _SET_HEADERS["X-Input-Sha256"],
    "X-Due-Date": {
        "description": "the last day to publish: the signing date plus two working days",
        "schema": {"type": "string", "format": "date"},
    },
    "X-Published-On": {
        "description": "合同公告日期, as asked (default today in China)",
        "schema": {"type": "string", "format": "date"},
    },
    "X-On-Time": {
        "description": "whether X-Published-On is on or before X-Due-Date",
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
    "Content-Disposition": {"schema": {"type": "string"}},
    "X-Ledger": {
        "description": "what the ledger recorded, compact JSON (LedgerPublished): "
        "contract_no, version, outcome (new, same), published_on, due_date; absent when "
        "the service runs without a ledger",
        "schema": {"type": "string"},
    },
}
PUBLICATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The publication: a zip of the folder <contract_no>（公开）/ with the "
        "notice (DOCX, PDF, notice.json), the public copy of the 4 documents (DOCX, PDF) "
        "and publication.json; with a ledger, recorded with the version it publishes",
        "headers": _PUBLICATION_HEADERS,
        "content": {
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/PublicationJson"}},
        },
    },
    **problem_responses(
        400,
        408,
        409,
        413,
        415,
        422,
        503,
        504,
        s400="Malformed JSON, a bad query parameter, or published_on before the signing "
        "date (`issues` names query.published_on)",
        s409="The ledger holds no issued version made from this data (code ledger.not_found): "
        "请先签发合同（POST /v1/contracts?issue=true）再发布",
        s422="Invalid contract data, or data that cannot be published (no "
        "publication.project_no, a signing year the holiday calendar does not cover, a "
        "withheld value or an undeclared phone, account or ID number the public copy would "
        "print: publish.withheld_in_text, publish.number_in_text): "
        "`issues` lists each problem with its field path",
    ),
}
VALIDATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Whether the data is valid, and every issue (200 even when not)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Validation"}}},
    },
    **problem_responses(400, 408, 413, 415),
}
SCHEMA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON Schema (draft 2020-12)",
        "content": {"application/schema+json": {"schema": {"type": "object"}}},
    }
}
HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The service is up: status ok, or degraded when the ledger or the "
        "broker does not answer (dependencies says which; /readyz is then 503)"
    },
}
VERIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The verdict on the file, or on each file of the zip (200 whatever it is)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Verification"}}},
    },
    **problem_responses(
        404,
        408,
        413,
        415,
        422,
        503,
        s404=_NO_LEDGER,
        s415="Body sent as none of the file types",
        s422=f"A zip that cannot be read, or with more than {ZIP_ENTRIES_MAX} files or "
        f"{ZIP_EXPANDED_MAX >> 20} MiB expanded",
        s503=_LEDGER_503,
    ),
}


def _ledger_read(schema: str, what: str, *problems: int) -> dict[int | str, dict[str, Any]]:
    """Return the responses of a ledger route answering ``schema`` (404: ``what`` is missing)."""
    return {
        200: {
            "description": "Found",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        },
        **problem_responses(
            *sorted({404, 503, *problems}),
            s400="A query or path parameter is not valid (`issues` names it)",
            s404=_NO_LEDGER + (f", or {what}" if what else ""),
            s503=_LEDGER_503,
        ),
    }


LEDGER_SETS_RESPONSES = _ledger_read("SetList", "", 400)
#: ``GET /v1/kinds``: every kind with its documents and seal places
KINDS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the contract kinds, built-in first",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["kinds"],
                    "properties": {"kinds": {"type": "array", "items": {"type": "object"}}},
                }
            }
        },
    }
}
#: ``GET /v1/kinds/{id}/schema``: one kind's JSON Schema, 404 for a kind no folder declares
KIND_SCHEMA_RESPONSES: dict[int | str, dict[str, Any]] = {
    **SCHEMA_RESPONSES,
    **problem_responses(404, s404="no such contract kind"),
}
LEDGER_SET_RESPONSES = _ledger_read("SetDetail", "no such contract (ledger.not_found)", 400)
LEDGER_VERSION_RESPONSES = _ledger_read("SetDetail", "no such version (ledger.not_found)", 400)
LEDGER_HISTORY_RESPONSES = _ledger_read("History", "no such contract (ledger.not_found)", 400)
LEDGER_CHECK_RESPONSES = _ledger_read("LedgerCheck", "")


def _rehome(node: Any) -> Any:
    """Return a JSON Schema fragment with ``#/$defs/X`` refs pointing into the components."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref" and isinstance(value, str)
                else _rehome(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rehome(item) for item in node]
    return node


def _example() -> dict[str, Any]:
    """Return the bundled sample contract as JSON data, for the OpenAPI examples."""
    text = default_kind().sample.read_text("utf-8")
    data: dict[str, Any] = parse(parse_yaml(text)).model_dump(mode="json")
    return data


def _add_schemas(document: dict[str, Any]) -> None:
    """Add the contract schema, its example and the service's own schemas to ``document``."""
    contract = json_schema()
    definitions = contract.pop("$defs", {})
    for key in ("$schema", "$id"):
        contract.pop(key, None)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in definitions.items():
        schemas[name] = _rehome(definition)
    schemas["Contract"] = _rehome(contract)
    schemas["AnyContract"] = ANY_CONTRACT
    example = {"seed": {"summary": "the bundled sample contract", "value": _example()}}
    for path in ("/v1/contracts", "/v1/contracts/{kind}.pdf", "/v1/publications"):
        body = document["paths"][path]["post"]["requestBody"]
        body["content"]["application/json"]["examples"] = example
    schemas["Problem"] = _PROBLEM_SCHEMA
    schemas["Issue"] = _ISSUE_SCHEMA
    schemas["ContractSetJson"] = _SET_JSON_SCHEMA
    schemas["PublicationJson"] = _PUBLICATION_JSON_SCHEMA
    schemas["Validation"] = _VALIDATION_SCHEMA
    schemas.update(LEDGER_SCHEMAS)


def _add_security(document: dict[str, Any]) -> None:
    """Require the bearer token of every ``/v1`` operation in ``document``."""
    document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for path, operations in document["paths"].items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["security"] = [{"bearer": []}]
                operation["responses"].update(problem_responses(401))


def openapi_builder(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """Return the OpenAPI builder: FastAPI's routes plus the published contract schema."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        _add_schemas(document)
        if settings.token or settings.users:
            _add_security(document)
        app.openapi_schema = document
        return document

    return build
