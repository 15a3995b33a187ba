"""Turn raw contract data into a :class:`Contract`, collecting every issue.

Field-level problems come from the model (pydantic collects them across all
fields in one pass); the rules that relate several fields run here once the
fields themselves are sound. Nothing raises for bad data: the caller gets the
list of issues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ..errors import InvalidContractError, Issue
from .context import format_wan
from .model import DEFAULT_SCHEDULE_LIMIT, Contract
from .text import character_problem

#: Chinese messages and stable codes for pydantic's own error types
__all__ = ["RULES", "Rule", "check", "field_path", "parse", "validate"]

_BUILTIN: dict[str, tuple[str, str]] = {
    "missing": ("required", "必填项缺失"),
    "extra_forbidden": ("field.unknown", "未知字段（请检查拼写）"),
    "string_type": ("type.text", "应为文本"),
    "int_type": ("type.integer", "应为整数"),
    "int_parsing": ("type.integer", "应为整数"),
    "int_from_float": ("type.integer", "应为整数"),
    "int_parsing_size": ("type.integer", "整数位数过多"),
    "greater_than_equal": ("range", "数值过小"),
    "less_than_equal": ("range", "数值过大"),
    "list_type": ("type.list", "应为列表"),
    "model_type": ("type.object", "应为对象（键值表）"),
    "model_attributes_type": ("type.object", "应为对象（键值表）"),
    "dict_type": ("type.object", "应为对象（键值表）"),
    "too_short": ("list.empty", "至少应有一项"),
    "string_too_long": ("text.too_long", "不能超过{max_length}个字符（现有{actual_length}个）"),
    "too_long": ("list.too_long", "最多{max_length}项（现有{actual_length}项）"),
    "literal_error": ("choice.invalid", "取值无效，应为：{expected}"),
}


class _Blank(dict[str, Any]):
    """Format values that leave a missing key empty."""

    def __missing__(self, key: str) -> str:
        return ""


def field_path(loc: Sequence[int | str]) -> str:
    """Return a pydantic location as a dotted path with list indices: ``a.b[0].c``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + part
    return path


def _from_pydantic(error: Any) -> Issue:
    kind = error["type"]
    path = field_path(error["loc"])
    if error.get("input", "") is None and kind in _BUILTIN:
        # An empty YAML value (``method:``) is a missing value, whatever type was expected.
        kind = "missing"
    if kind in _BUILTIN:
        code, message = _BUILTIN[kind]
        context = dict(error.get("ctx", {}))
        if kind in {"string_too_long", "too_long"}:
            context["actual_length"] = len(error["input"])
        return Issue(path, code, message.format_map(_Blank(context)))
    if kind == "string_unicode" and isinstance(error.get("input"), str):
        # pydantic refuses a lone surrogate (JSON "\ud800") before any validator of ours.
        problem = character_problem(error["input"])
        if problem:
            return Issue(path, *problem)
    # Our own PydanticCustomError: its type is the stable code, its message is Chinese.
    if "." in kind or kind in {"required"}:
        return Issue(path, kind, error["msg"])
    return Issue(path, f"invalid.{kind}", f"取值无效：{error['msg']}")


Rule = Callable[[Contract], Iterator[Issue]]


def _dates(contract: Contract) -> Iterator[Issue]:
    service = contract.service
    if contract.sign_date > service.end_date:
        yield Issue("sign_date", "sign_date.after_end", "签订日期不能晚于服务期限止日")
    if service.start_date and service.start_date > service.end_date:
        yield Issue("service.start_date", "service.start_after_end", "服务期限起日不能晚于止日")


def _payment(contract: Contract) -> Iterator[Issue]:
    instalments = contract.payment.instalments
    if instalments is None:
        if not contract.default_schedule_applies:
            yield Issue(
                "payment.instalments",
                "payment.instalments.required",
                f"中标金额达到{format_wan(DEFAULT_SCHEDULE_LIMIT)}或跨年的项目，"
                "须列明分期付款（每期比例及条件）",
            )
        return
    if not instalments:
        yield Issue("payment.instalments", "list.empty", "至少应有一期付款")
        return
    total = sum((i.percent for i in instalments), Decimal(0))
    if total != 100:
        yield Issue(
            "payment.instalments",
            "payment.instalments.sum",
            f"各期付款比例之和应为100%，现为{total.normalize():f}%",
        )


def _acceptance(contract: Contract) -> Iterator[Issue]:
    plan = contract.acceptance_plan
    if plan.sampling and not plan.sampling_ratio:
        yield Issue(
            "acceptance_plan.sampling_ratio",
            "acceptance.sampling_ratio.required",
            "参加抽查检测时须填写抽查比例",
        )
    if plan.destructive and not plan.destroyed_handling:
        yield Issue(
            "acceptance_plan.destroyed_handling",
            "acceptance.destroyed_handling.required",
            "存在破坏性检测时须填写被破坏的检测产品处理方式",
        )


def _copies(contract: Contract) -> Iterator[Issue]:
    if contract.terms.copies % 2:
        yield Issue("terms.copies", "terms.copies.even", "纸质合同份数应为双数，甲乙双方各执一半")


#: cross-field rules, run in this order once every field is sound
RULES: tuple[Rule, ...] = (_dates, _payment, _acceptance, _copies)


def check(data: Mapping[str, Any]) -> tuple[Contract | None, list[Issue]]:
    """Return the contract built from raw data (None when invalid) and every issue found."""
    if not isinstance(data, Mapping):
        return None, [Issue("", "type.object", "合同数据应为对象（键值表）")]
    try:
        contract = Contract.model_validate(dict(data))
    except ValidationError as exc:
        return None, [_from_pydantic(e) for e in exc.errors(include_url=False)]
    issues = [issue for rule in RULES for issue in rule(contract)]
    return (None if issues else contract), issues


def validate(data: Mapping[str, Any]) -> list[Issue]:
    """Return every issue in raw contract data (an empty list when it is valid)."""
    return check(data)[1]


def parse(data: Mapping[str, Any], source: str | None = None) -> Contract:
    """Return the contract built from raw data, or raise InvalidContractError with every issue."""
    contract, issues = check(data)
    if contract is None:
        raise InvalidContractError(issues, source)
    return contract
