"""What a public copy withholds: data paths, the context values derived from them, the checks.

The mapping from data paths to context values (``generator/domain/context.py``) is checked
both ways: every value of the context is declared (sourced, or derived from no data), and
changing any one data value changes only context values declared to derive from it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from generator.errors import InvalidContractError
from generator.inputs import write_workbook
from generator.inputs.load import load_data
from generator.inputs.sheets import read_workbook
from generator.kinds import check, parse
from generator.publication import publication_issues, withheld_paths

from ..builtin import (
    DERIVED_FROM_NO_DATA,
    MARK,
    PUBLIC_PATHS,
    build_context,
    context_sources,
    data_paths,
    withheld_context,
)
from ..conftest import SAMPLES

Data = dict[str, Any]


def _sample(name: str) -> Data:
    return copy.deepcopy(dict(load_data(SAMPLES / name)))


def _unpublished(name: str) -> Data:
    """Return a sample without its publication block: the defaults alone apply."""
    data = _sample(name)
    data.pop("publication", None)
    return data


def _leaves(value: Any, path: str = "") -> dict[str, list[Any]]:
    """Return each leaf path of a context (lists as ``name[]``) with its values in order."""
    found: dict[str, list[Any]] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            for leaf, values in _leaves(item, f"{path}.{key}" if path else key).items():
                found.setdefault(leaf, []).extend(values)
    elif isinstance(value, list):
        for item in value:
            for leaf, values in _leaves(item, f"{path}[]").items():
                found.setdefault(leaf, []).extend(values)
    else:
        found[path] = [value]
    return found


def _set(data: Data, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def _item(path: str, key: str, value: str) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        *parents, last = path.split(".")
        holder = data
        for part in parents:
            holder = holder[part]
        holder[last][0][key] = value

    return change


def _to(path: str, value: Any) -> Callable[[Data], None]:
    return lambda data: _set(data, path, value)


#: one valid change of each data value of samples/cross_year.yaml
CHANGES: dict[str, Callable[[Data], None]] = {
    "contract_no": _to("contract_no", "11NMB2F051882026399"),
    "project_name": _to("project_name", "区政务云基础设施运维服务（二期）"),
    "buyer.name": _to("buyer.name", "上海市大数据中心（二）"),
    "buyer.address": _to("buyer.address", "上海市寿阳路 100 号"),
    "buyer.postcode": _to("buyer.postcode", "200073"),
    "buyer.phone": _to("buyer.phone", "021-52009999"),
    "buyer.fax": _to("buyer.fax", "021-52009998"),
    "buyer.contact": _to("buyer.contact", "李四"),
    "supplier.name": _to("supplier.name", "上海云岫数据服务有限公司"),
    "supplier.legal_representative.name": _to("supplier.legal_representative.name", "张三"),
    "supplier.legal_representative.gender": _to("supplier.legal_representative.gender", "男"),
    "supplier.address": _to("supplier.address", "上海市徐汇区漕溪北路 1 号"),
    "supplier.postcode": _to("supplier.postcode", "200031"),
    "supplier.phone": _to("supplier.phone", "13916600000"),
    "supplier.fax": _to("supplier.fax", "021-64001234"),
    "supplier.contact": _to("supplier.contact", "赵六"),
    "supplier.bank.name": _to("supplier.bank.name", "中国银行上海分行"),
    "supplier.bank.account": _to("supplier.bank.account", "99998888777766665555"),
    "supplier.credit_code": _to("supplier.credit_code", None),
    "amount": _to("amount", "6007100.14"),
    "service.start_date": _to("service.start_date", "2026-07-02"),
    "service.end_date": _to("service.end_date", "2027-06-29"),
    "service.site": _to("service.site", "上海市徐汇区宜山路 701 号"),
    "performance_bond": _to("performance_bond", "不收取"),
    "other_terms": _to("other_terms", "无"),
    "other_documents": _to("other_documents", ["《另一份文件》"]),
    "payment.first_percent": _to("payment.first_percent", "60"),
    "payment.days": _to("payment.days", 12),
    "payment.instalments.percent": lambda data: (
        [
            item.update(percent=p)
            for item, p in zip(data["payment"]["instalments"], (50, 20, 30), strict=True)
        ]
        and None
    ),
    "payment.instalments.condition": _item("payment.instalments", "condition", "合同生效后"),
    "owner_unit": _to("owner_unit", "上海市徐汇区政务服务办公室"),
    "user_unit": _to("user_unit", "上海市徐汇区档案馆"),
    "confidential_extra": _to("confidential_extra", "机房门禁记录"),
    "sign_date": _to("sign_date", "2026-06-21"),
    "sign_place": _to("sign_place", "网上签约"),
    "terms.reply_days": _to("terms.reply_days", 11),
    "terms.handover_days": _to("terms.handover_days", 16),
    "terms.penalty_percent": _to("terms.penalty_percent", 21),
    "terms.force_majeure_days": _to("terms.force_majeure_days", 11),
    "terms.notice_oral_hours": _to("terms.notice_oral_hours", 3),
    "terms.notice_written_hours": _to("terms.notice_written_hours", 9),
    "terms.copies": _to("terms.copies", 6),
    "acceptance_plan.organization": _to("acceptance_plan.organization", "自行组织"),
    "acceptance_plan.subject": _to("acceptance_plan.subject", "上海市大数据中心"),
    **{
        f"acceptance_plan.{row}": _to(f"acceptance_plan.{row}", "否")
        for row in ("other_suppliers", "experts", "third_party", "sampling", "destructive")
    },
    "acceptance_plan.service_recipients": _to("acceptance_plan.service_recipients", "是"),
    "acceptance_plan.sampling_ratio": _to("acceptance_plan.sampling_ratio", "抽查 20%"),
    "acceptance_plan.destroyed_handling": _to("acceptance_plan.destroyed_handling", "退回"),
    "acceptance_plan.method": _to("acceptance_plan.method", "分期验收"),
    "acceptance_plan.time": _to("acceptance_plan.time", "服务期满后 30 个工作日内"),
    "acceptance_plan.procedure": _to("acceptance_plan.procedure", "甲方组织验收。"),
    **{
        f"acceptance_plan.items.{key}": _item("acceptance_plan.items", key, "改过的内容")
        for key in ("stage", "content", "standard")
    },
}


def _declared(contracts: list[Any], leaf: str, path: str) -> bool:
    sources = [s for c in contracts for s in context_sources(c).get(leaf, ())]
    return any(s == path or s.startswith(f"{path}.") for s in sources)


def test_every_data_value_has_a_change() -> None:
    leaves = {p for p in data_paths() if not any(q.startswith(f"{p}.") for q in data_paths())}
    assert set(CHANGES) == leaves


@pytest.mark.parametrize("sample", ["seed.yaml", "cross_year.yaml"])
def test_every_context_value_is_declared(sample: str) -> None:
    contract = parse(_sample(sample))
    declared = set(context_sources(contract)) | DERIVED_FROM_NO_DATA
    assert set(_leaves(build_context(contract))) <= declared


@pytest.mark.parametrize("path", sorted(CHANGES))
def test_a_changed_value_changes_only_what_derives_from_it(path: str) -> None:
    data = _sample("cross_year.yaml")
    before = parse(data)
    CHANGES[path](data)
    after = parse(data)
    old, new = _leaves(build_context(before)), _leaves(build_context(after))
    changed = {leaf for leaf in old.keys() | new.keys() if old.get(leaf) != new.get(leaf)}
    assert changed, "the change shows nowhere"
    assert all(_declared([before, after], leaf, path) for leaf in changed), changed


def test_user_unit_falls_back_to_owner_unit_and_is_withheld_with_it() -> None:
    seed = parse(_sample("seed.yaml"))  # no user_unit
    context = withheld_context(seed, ["owner_unit"])
    assert context["owner_unit"] == context["user_unit"] == MARK
    cross = parse(_sample("cross_year.yaml"))  # a user_unit of its own
    context = withheld_context(cross, ["owner_unit"])
    assert context["owner_unit"] == MARK
    assert context["user_unit"] == "上海市徐汇区行政服务中心"


def test_the_defaults_withhold_the_bank_and_mobile_numbers() -> None:
    seed = parse(_unpublished("seed.yaml"))  # buyer.phone is a mobile, the supplier's landlines
    assert withheld_paths(seed) == ("supplier.bank.name", "supplier.bank.account", "buyer.phone")
    cross = parse(_unpublished("cross_year.yaml"))  # the supplier's phone is a mobile
    assert withheld_paths(cross) == (
        "supplier.bank.name",
        "supplier.bank.account",
        "supplier.phone",
    )
    context, plain = withheld_context(seed, withheld_paths(seed)), build_context(seed)
    assert context["supplier"]["bank"] == {"name": MARK, "account": MARK}
    assert context["buyer"]["phone"] == MARK
    assert context["buyer"]["fax"] == ""  # nothing to withhold: the blank stays blank
    for key in ("phone", "fax", "name", "address"):
        assert context["supplier"][key] == plain["supplier"][key]


def test_the_data_adds_paths_and_a_path_withholds_what_is_below_it() -> None:
    data = _sample("cross_year.yaml")
    data["publication"] = {
        "withhold": ["payment.instalments.percent", "acceptance_plan.items", "buyer.phone"]
    }
    contract = parse(data)
    assert withheld_paths(contract)[-3:] == (
        "payment.instalments.percent",
        "acceptance_plan.items",
        "buyer.phone",
    )
    context = withheld_context(contract, withheld_paths(contract))
    for row in context["payment"]["instalments"]:
        assert row["percent"] == row["amount"] == row["amount_upper"] == MARK
        assert row["condition"] != MARK
    for item in context["acceptance_plan"]["items"]:
        assert item == {"stage": MARK, "content": MARK, "standard": MARK}
    assert context["amount"] == "6007000.14"  # public by law


@pytest.mark.parametrize(
    ("publication", "path", "code"),
    [
        (
            {"withhold": ["supplier.bank.acount"]},
            "publication.withhold[0]",
            "publication.withhold.unknown",
        ),
        (
            {"withhold": ["buyer.phone", "publication"]},
            "publication.withhold[1]",
            "publication.withhold.unknown",
        ),
        ({"withhold": ["amount"]}, "publication.withhold[0]", "publication.withhold.public"),
        ({"withhold": ["supplier"]}, "publication.withhold[0]", "publication.withhold.public"),
        ({"withhold": "supplier.bank"}, "publication.withhold", "type.list"),
        ({"project_no": "P" * 65}, "publication.project_no", "text.too_long"),
        ({"subject_name": "名" * 201}, "publication.subject_name", "text.too_long"),
        ({"requirements": "要" * 501}, "publication.requirements", "text.too_long"),
        ({"quantity": "1" * 51}, "publication.quantity", "text.too_long"),
        ({"other": "无" * 2001}, "publication.other", "text.too_long"),
        ({"procurement_method": "比选"}, "publication.procurement_method", "choice.invalid"),
        ({"unit_price": "-1"}, "publication.unit_price", "amount.format"),
        ({"bogus": 1}, "publication.bogus", "field.unknown"),
    ],
)
def test_a_bad_publication_block_names_its_field(publication: Data, path: str, code: str) -> None:
    data = _sample("seed.yaml")
    data["publication"] = publication
    contract, issues = check(data)
    assert contract is None
    assert [(i.path, i.code) for i in issues] == [(path, code)]


def test_without_a_block_the_normalised_data_is_unchanged() -> None:
    contract = parse(_unpublished("seed.yaml"))
    assert "publication" not in contract.model_dump(mode="json")
    assert contract.publication is None


def test_what_stops_publishing_is_reported_together() -> None:
    data = _unpublished("seed.yaml")
    data["sign_date"] = "2026-12-30"
    issues = publication_issues(parse(data))
    assert [(i.path, i.code) for i in issues] == [
        ("publication.project_no", "required"),
        ("sign_date", "publication.calendar"),
    ]
    data["publication"] = {"project_no": "P-1"}
    data["sign_date"] = "2026-01-16"
    assert publication_issues(parse(data)) == []


def test_the_workbook_carries_the_publication_block(tmp_path: Path) -> None:
    data = _sample("seed.yaml")
    data["publication"] = {
        "project_no": "310000000250715104478-00212345",
        "procurement_method": "竞争性磋商",
        "quantity": "1项",
        "unit_price": "1578000",
        "other": "无",
        "withhold": ["owner_unit", "acceptance_plan.items.standard"],
    }
    book = tmp_path / "round.xlsx"
    write_workbook(book, [data])
    (record,) = read_workbook(book)
    assert not record.issues
    assert parse(record.data).publication == parse(data).publication


def test_a_contract_that_cannot_be_published_raises_before_rendering() -> None:
    from generator.publication import publish

    class NoGenerator:
        """Anything publish touches on it but reading the data would fail the test."""

        parse = staticmethod(parse)

    with pytest.raises(InvalidContractError) as caught:
        publish(NoGenerator(), _unpublished("seed.yaml"), published_on=date(2026, 1, 19))  # type: ignore[arg-type]
    assert [i.path for i in caught.value.issues] == ["publication.project_no"]


def test_public_paths_are_data_paths() -> None:
    assert set(PUBLIC_PATHS) <= data_paths()
