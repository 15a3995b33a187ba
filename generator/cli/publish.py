"""Publication on the command line: ``publish`` and ``ledger due``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..domain.model import CHINA_TIME
from ..errors import InvalidContractError, UsageError
from ..inputs.load import load_data
from ..kinds import parse
from .ledger import add_ledger_options, open_ledger

__all__ = ["add_publish_commands", "iso_day", "publish_into"]


def iso_day(text: str) -> dt.date:
    """Return a date given on the command line, written as in a contract file (argparse's type)."""
    from ..domain.fields import parse_date

    try:
        day: dt.date = parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"“{text}”：{_reason(exc)}") from None
    return day


def _reason(exc: ValueError) -> str:
    """Return the Chinese reason of a field type's refusal (a PydanticCustomError's message)."""
    message = getattr(exc, "message", None)
    return str(message() if callable(message) else exc)


def publish_into(publication: Any, out_dir: Path, ledger: Any) -> tuple[Path, str]:
    """Write a publication's folder (recorded in the ledger when given); return it and a note."""
    from ..ledger import publishing
    from ..pipeline import staged_folder, write_folder
    from ..publication import MANIFEST, public_folder_name

    name = public_folder_name(publication.contract_no)
    files = publication.files()
    if ledger is None:
        return write_folder(out_dir, name, files, publication.contract_no, MANIFEST), ""
    # Recorded, then put in place: a folder the ledger does not know never appears.
    contract_no = publication.contract_no
    with (
        staged_folder(out_dir, name, files, contract_no, MANIFEST) as folder,
        publishing(ledger, publication) as published,
    ):
        pass
    return folder, published.message()


def _cmd_publish(args: argparse.Namespace) -> int:
    from ..pipeline import Generator
    from ..publication import publication_issues, publish

    if args.output.exists() and not args.output.is_dir():
        raise UsageError(f"{args.output}: 已存在且不是文件夹，不能作为输出文件夹")
    if args.templates is not None and not args.templates.is_dir():
        raise UsageError(f"{args.templates}: 模板文件夹不存在或不是文件夹")
    contract = parse(_with_choices(load_data(args.file), args), str(args.file))
    issues = publication_issues(contract)
    if issues:
        raise InvalidContractError(issues, str(args.file))
    ledger = open_ledger(args)
    if ledger is not None:
        _check_issued(ledger, contract)
    with Generator(workers=2, cached_sets=0, templates=args.templates) as generator:
        publication = publish(generator, contract, published_on=args.published_on, pdfa=args.pdfa)
    if ledger is None:
        folder, note = publish_into(publication, args.output, None)
    else:
        with ledger:
            folder, note = publish_into(publication, args.output, ledger)
    print(folder)
    late = "" if publication.on_time else "（已逾期）"
    print(
        f"合同公告日期 {publication.published_on}，应于 {publication.due_date} 前公告{late}；"
        f"隐去：{'、'.join(publication.withheld) or '无'}",
        file=sys.stderr,
    )
    if note:
        print(note, file=sys.stderr)
    _warn_of_next_year(publication.published_on)
    return 0


def _with_choices(data: Any, args: argparse.Namespace) -> Any:
    """Return the data with ``--withhold-text`` and ``--public-number`` added to its
    publication block (the block is no part of the issued input: the version stays the same)."""
    texts, numbers = args.withhold_text or [], args.public_number or []
    if (not texts and not numbers) or not isinstance(data, Mapping):
        return data
    block = data.get("publication")
    block = dict(block) if isinstance(block, Mapping) else {}
    for key, added in (("withhold_text", texts), ("public_numbers", numbers)):
        given = block.get(key)
        block[key] = [*(given if isinstance(given, list) else []), *added]
    return {**data, "publication": block}


def _warn_of_next_year(today: dt.date) -> None:
    from ..publication.calendar import next_year_warning

    warning = next_year_warning(today)
    if warning:
        print(warning, file=sys.stderr)


def _check_issued(ledger: Any, contract: Any) -> None:
    """Refuse, before anything is made, to publish what the ledger has not issued."""
    from ..errors import LedgerError
    from ..pipeline import input_digest

    digest = input_digest(contract)
    issued = ledger.sets(contract_no=contract.envelope.contract_no, status="issued")
    if not any(row["input_sha256"] == digest for row in issued):
        ledger.close()
        raise LedgerError(
            f"台账中没有合同 {contract.envelope.contract_no} 以这份数据生成的现行版本："
            "请先用 contractgen render 生成并登记，再发布",
            code="ledger.not_found",
        )


def _cmd_due(args: argparse.Namespace) -> int:
    from ..publication import unpublished

    today = args.on or dt.datetime.now(CHINA_TIME).date()
    with open_ledger(args) as ledger:
        due = unpublished(ledger.sets(status="issued"), today)
    if args.json:
        print(json.dumps(due, ensure_ascii=False, indent=2))
        return 0
    for row in due:
        when = row["due_date"] or "节假日日历未覆盖，无法计算"
        state = "已逾期" if row["overdue"] else "待公告"
        head = f"{row['contract_no']}\t第{row['version']}版\t签订 {row['signed_on']}"
        print(f"{head}\t应于 {when}\t{state}{_signed_note(row)}")
    if not due:
        print("没有待公告的合同", file=sys.stderr)
    _warn_of_next_year(today)
    return 0


def _signed_note(row: dict[str, Any]) -> str:
    """Return what a due line adds when the count starts from the signatures' day."""
    if row.get("counted_from_source") != "signatures":
        return ""
    if row.get("sign_date_differs"):
        return f"\t按签名所载签署日 {row['counted_from']} 计算（与合同所填签订日期不同）"
    return f"\t按签名所载签署日 {row['counted_from']} 计算"


def add_publish_commands(commands: Any, ledger_commands: Any) -> None:
    """Add ``publish`` to the commands and ``due`` to ``ledger``'s."""
    publish_cmd = commands.add_parser(
        "publish", help="生成合同公告与公开文本（隐去不予公开的内容），并给出公告截止日"
    )
    publish_cmd.add_argument("file", type=Path, metavar="FILE")
    publish_cmd.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    publish_cmd.add_argument(
        "--published-on",
        type=iso_day,
        default=None,
        metavar="DATE",
        help="合同公告日期（默认今天）",
    )
    publish_cmd.add_argument(
        "--withhold-text",
        action="append",
        metavar="TEXT",
        help="公开文本中另外隐去（印作＊＊＊）的文字或号码，如自由文本中的手机号；可重复",
    )
    publish_cmd.add_argument(
        "--public-number",
        action="append",
        metavar="NUMBER",
        help="自由文本中确可公开的号码，如单位总机 021-12345678；可重复",
    )
    publish_cmd.add_argument("--pdfa", action="store_true", help="PDF 采用 PDF/A-2b")
    publish_cmd.add_argument("--templates", type=Path, default=None, metavar="DIR")
    add_ledger_options(publish_cmd)
    publish_cmd.set_defaults(func=_cmd_publish)

    due = ledger_commands.add_parser("due", help="列出已签订而尚未公告的合同及其截止日")
    due.add_argument("--ledger", metavar="URL", default=None, help="合同台账地址")
    due.add_argument("--json", action="store_true", help="以 JSON 输出")
    due.add_argument("--on", type=iso_day, default=None, metavar="DATE", help="以该日计算是否逾期")
    due.set_defaults(func=_cmd_due)
