"""The built-in 补充合同 and its 10% rule (《政府采购法》第四十九条), on SQLite and PostgreSQL.

Sets are rendered as DOCX only (the rule reads the ledger, not the PDF), each data
variant once per module; ``kinds check`` makes the sample's PDF and finds its seals.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from generator import LedgerError, load_data, parse, validate
from generator.ledger import Ledger
from generator.ledger.supplements import supplements_of
from generator.pipeline import ContractSet, render_set

from ..conftest import ROOT, run_cli
from ..databases import postgres_bin, postgres_server
from ..docx_text import docx_text

FOLDER = ROOT / "templates" / "supplement"
ORIGINAL = "11NMB2F042362026201"
ARTICLE = "《中华人民共和国政府采购法》第四十九条"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if postgres_bin() is None:
        pytest.fail("PostgreSQL is not installed: bash tools/setup.sh installs it")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    server: str = request.getfixturevalue("postgres")
    name = f"supplement_{abs(hash(str(tmp_path))) % 10**8}"
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


_made: dict[str, ContractSet] = {}


def _data(path: Path) -> dict[str, Any]:
    return dict(load_data(path))


def _render(data: dict[str, Any]) -> ContractSet:
    """Return the DOCX set of data, rendered once per module."""
    key = repr(sorted(data.items()))
    if key not in _made:
        _made[key] = render_set(parse(data), formats=("docx",))
    return _made[key]


def original(**changes: Any) -> ContractSet:
    data = _data(ROOT / "templates" / "om_service" / "sample.yaml")
    data.update(changes)
    return _render(data)


def supplement(n: int = 1, amount: str = "120000", **changes: Any) -> ContractSet:
    data = copy.deepcopy(_data(FOLDER / "sample.yaml"))
    data["contract_no"] = f"{ORIGINAL}-BC{n:02}"
    data["items"] = [
        {
            "description": "追加运维",
            "quantity": 1,
            "unit": "项",
            "unit_price": amount,
            "amount": amount,
        }
    ]
    data["amount"] = amount
    for key, value in changes.items():
        data[key] = value
    return _render(data)


def refused(ledger: Ledger, contract_set: ContractSet, code: str) -> str:
    with pytest.raises(LedgerError) as caught:
        ledger.record(contract_set)
    assert caught.value.code == code, caught.value
    return str(caught.value)


def test_ten_percent_passes_one_yuan_more_is_refused(url: str) -> None:
    with Ledger(url) as ledger:
        ledger.record(original())
        message = refused(ledger, supplement(amount="157800.01"), "supplement.limit")
        assert "¥157,800.01" in message and "¥157,800.00" in message
        assert "¥1,578,000.00" in message and ARTICLE in message
        assert ledger.record(supplement(amount="157800")).outcome == "new"
        message = refused(ledger, supplement(2, amount="1"), "supplement.limit")
        assert "¥157,801.00" in message and "此前已签发 ¥157,800.00" in message
        # a new version of BC01 replaces its amount in the total
        assert ledger.record(supplement(amount="100000")).superseded == 1
        assert ledger.record(supplement(2, amount="57800")).outcome == "new"
        refused(ledger, supplement(3, amount="0.01"), "supplement.limit")
        with ledger.reading() as conn:
            summary = supplements_of(conn, ORIGINAL)
        assert summary is not None
        assert summary["summary"] == "补充合同 2 份，合计 ¥157,800.00，占原合同金额 10%（上限 10%）"
        assert [s["contract_no"] for s in summary["supplements"]] == [
            f"{ORIGINAL}-BC01",
            f"{ORIGINAL}-BC02",
        ]
        # voiding one frees its share
        ledger.void(f"{ORIGINAL}-BC02", 1, "作废测试")
        assert ledger.record(supplement(3, amount="50000")).outcome == "new"
        assert ledger.check()[0] == []


def test_the_original_must_be_issued_current_and_of_the_same_supplier(tmp_path: Path) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite3'}") as ledger:
        message = refused(ledger, supplement(), "supplement.original_unknown")
        assert ORIGINAL in message
        ledger.record(original())
        ledger.void(ORIGINAL, 1, "测试作废")
        assert "已作废" in refused(ledger, supplement(), "supplement.original_state")
        # issued again with another amount: the supplement cites the superseded one
        ledger.record(original(project_name="改名后的项目"))
        ledger.record(original(amount="1600000"))
        message = refused(ledger, supplement(), "supplement.original_state")
        assert "已被取代的第 2 版" in message and "现行版本为第 3 版" in message
        ledger.record(original())
        other = dict(_data(FOLDER / "sample.yaml")["supplier"], name="上海另一家公司")
        message = refused(ledger, supplement(supplier=other), "supplement.supplier")
        assert "上海另一家公司" in message and "上海众恒智能系统技术有限公司" in message
        assert "次序" not in message
        refused(ledger, supplement(2), "supplement.number_order")


def test_a_number_not_of_its_original_is_refused_without_a_ledger() -> None:
    data = _data(FOLDER / "sample.yaml")
    issues = validate({**data, "contract_no": "SOMETHING-ELSE"})
    assert [i.code for i in issues] == ["supplement.number"]
    assert f"{ORIGINAL}-BC01" in issues[0].message and issues[0].title == "补充合同编号"
    assert validate(data) == []


def test_the_sample_text_follows_the_data() -> None:
    text = docx_text(supplement(amount="120000").documents[0].docx)
    data = _data(FOLDER / "sample.yaml")
    wanted = [
        "补充合同",
        f"补充合同编号：{ORIGINAL}-BC01",
        f"原合同编号：{ORIGINAL}",
        f"乙方（受托人）：{data['supplier']['name']}",
        "2026年01月16日",
        "原合同金额为人民币 1578000 元（大写：壹佰伍拾柒万捌仟元整）",
        "追加运维",
        "本补充合同金额为人民币 120000 元（大写：壹拾贰万元整）",
        "不超过原合同金额的 10%",
        "补充与修正文件",
        "原合同的其他条款及其附件继续有效",
        "甲方（盖章）",
        "2026年06月18日",
    ]
    at = 0
    for words in wanted:
        found = text.find(words, at)
        assert found >= 0, f"{words!r} not after position {at}"
        at = found + len(words)


def test_kinds_check_makes_the_sample_with_its_seals() -> None:
    checked = run_cli("kinds", "check", FOLDER)
    assert checked.returncode == 0, checked.stderr
    assert "「甲方（盖章）」第" in checked.stdout and "「乙方（盖章）」第" in checked.stdout


def test_history_lists_the_supplements_and_the_share(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    with Ledger(url) as ledger:
        ledger.record(original())
        ledger.record(supplement(amount="120000"))
    shown = run_cli("ledger", "history", ORIGINAL, "--ledger", url)
    assert shown.returncode == 0, shown.stderr
    assert "补充合同 1 份，合计 ¥120,000.00，占原合同金额 7.6%（上限 10%）" in shown.stdout
    assert f"{ORIGINAL}-BC01" in shown.stdout
