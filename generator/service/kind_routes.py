"""``GET /v1/kinds`` and ``GET /v1/kinds/{id}/schema``: the contract kinds the service makes.

Every kind renders through the same routes (``POST /v1/contracts`` with ``kind``
in the data); these say which kinds there are, their documents and seal places,
and each kind's JSON Schema.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Path
from fastapi.responses import Response

from ..errors import UnknownKindError
from ..kinds import DEFAULT_KIND, ContractKind, registry
from .problems import Problem

__all__ = ["kind_list", "kind_schema"]


def _describe(kind: ContractKind) -> dict[str, Any]:
    return {
        "id": kind.id,
        "title": kind.title,
        "version": kind.version,
        "built_in": kind.built_in,
        "default": kind.id == DEFAULT_KIND and kind.built_in,
        "schema": f"/v1/kinds/{kind.id}/schema",
        "documents": [
            {
                "key": doc.kind,
                "title": doc.title,
                "file": f"{doc.stem}.pdf",
                "attachment": doc.attachment,
                "cross_page_seal": doc.cross_page_seal,
                "seals": [{"party": s.party, "keyword": s.keyword} for s in doc.seals],
            }
            for doc in kind.documents
        ],
    }


# ``GET /v1/kinds``: every kind, built-in first.
async def kind_list() -> dict[str, Any]:
    return {"kinds": [_describe(kind) for kind in registry()]}


# ``GET /v1/kinds/{kind_id}/schema``: one kind's JSON Schema.
async def kind_schema(
    kind_id: Annotated[str, Path(description="a kind's id, as GET /v1/kinds lists it")],
) -> Response:
    try:
        kind = registry().get(kind_id)
    except UnknownKindError as exc:
        known = ", ".join(exc.known)
        raise Problem(
            404, "not-found", "Not found", f"no contract kind {kind_id!r}; the kinds are {known}"
        ) from None
    body = json.dumps(kind.json_schema(), ensure_ascii=False).encode()
    return Response(body, media_type="application/schema+json")
