"""The published JSON Schema is generated from the model and kept current."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from generator.kinds import json_schema, parse

from ..conftest import ROOT

SCHEMA = ROOT / "schemas" / "om_service.schema.json"


def test_published_schema_is_current() -> None:
    published = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert published == json_schema(), "run: contractgen schema > schemas/om_service.schema.json"


def _canonical(seed_data: dict[str, object]) -> dict[str, Any]:
    document: dict[str, Any] = parse(seed_data).model_dump(mode="json")
    return document


def test_schema_accepts_the_seed_in_canonical_json(seed_data: dict[str, object]) -> None:
    jsonschema.Draft202012Validator(json_schema()).validate(_canonical(seed_data))


def test_schema_rejects_a_bad_postcode(seed_data: dict[str, object]) -> None:
    document = _canonical(seed_data)
    document["buyer"]["postcode"] = "2000"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(document)
