"""The workbench's form against the model: every field has a titled input, and data survives it.

A generic JSON-Schema form once turned ``否`` into ``true`` and flattened
multi-line text; the form built from the model gives back what it was given,
through the form's values and through the YAML it saves.
"""

from __future__ import annotations

import re

import pytest

from generator.inputs import parse_yaml
from generator.kinds import check
from generator.web.form import sections, to_data, to_values
from generator.web.pages import _yaml_text

from ..builtin import KIND, data_paths
from ..conftest import SAMPLES


@pytest.mark.parametrize("sample", ["seed.yaml", "cross_year.yaml"])
def test_a_sample_survives_the_form_and_its_yaml(sample: str) -> None:
    raw = parse_yaml((SAMPLES / sample).read_text(encoding="utf-8"))
    contract, issues = check(raw)
    assert contract is not None, issues
    data = to_data(to_values(raw))
    assert check(data)[0] == contract
    saved = _yaml_text(data)
    assert check(parse_yaml(saved))[0] == contract
    assert "true" not in saved and "false" not in saved  # 是/否 stay words
    if "\n" in raw["acceptance_plan"]["procedure"]:
        assert "procedure: |" in saved  # multi-line text stays a block


def test_every_field_of_the_data_is_in_the_form_with_a_title() -> None:
    values = to_values(parse_yaml((SAMPLES / "seed.yaml").read_text(encoding="utf-8")))
    top = {node.name for section in sections() for node in section.nodes}
    assert top == set(KIND.model.model_fields)
    plain = {re.sub(r"\[\d+\]", "", key) for key in values}
    leaves = {p for p in data_paths() if not any(q.startswith(p + ".") for q in data_paths())}
    # the seed has no instalments and no other documents: those rows are added by a button
    assert leaves - plain == {
        "payment.instalments.percent",
        "payment.instalments.condition",
        "other_documents",
    }


def test_an_empty_form_gives_the_issues_of_an_empty_file() -> None:
    issues = check(to_data(to_values(None)))[1]
    assert {"required"} == {issue.code for issue in issues}
    assert "buyer.postcode" in {issue.path for issue in issues}
