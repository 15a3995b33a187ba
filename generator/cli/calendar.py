"""The holiday calendar on the command line: ``calendar list``, ``check`` and ``new``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = ["add_calendar_commands"]

#: what ``calendar new`` writes: the form of a year's file, to fill from the notice
_SKELETON = """\
# {year}年法定节假日安排：照国务院办公厅《关于{year}年部分节假日安排的通知》填写。
# 写好后运行 contractgen calendar check {name} 检查，再放入日历文件夹：
#   {folder}
# （或由环境变量 CONTRACTGEN_CALENDAR 指定的文件夹）。
year: {year}
# 通知的文号，如印在通知上的“国办发明电〔{prev}〕×号”（必填）
notice: ""
# 通知的网址（可不填）
source: ""
# 放假的每一天，假期中的周六、周日也写上；连续几天可写成“起日 至 止日”
holidays:
  # - {year}-01-01
  # - {year}-02-01 至 {year}-02-08
# 调休上班的周六、周日
workdays:
  # - {year}-02-14
"""


def _cmd_list(args: argparse.Namespace) -> int:
    from ..publication.calendar import calendar

    held = calendar()
    for row in held.years():
        if row["source"] == "chinesecalendar":
            print(f"{row['years']}\t已安装的 chinesecalendar {row['version']}")
        elif row["source"] == "broken":
            print(f"{row['years']}\t日历文件有误，未采用：{row['problem']}")
        else:
            print(f"{row['years']}\t本单位日历文件 {row['file']}（{row['notice']}）")
    print(f"本单位日历文件夹：{held.folder}", file=sys.stderr)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from ..publication.calendar import load_schedule

    for path in args.files:
        schedule = load_schedule(path)
        off = sum(1 for d in schedule.holidays if d.weekday() < 5)
        print(
            f"{path}：{schedule.year}年（{schedule.notice}），放假 {len(schedule.holidays)} 天"
            f"（其中周一至周五 {off} 天），调休上班 {len(schedule.workdays)} 天：无误"
        )
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from ..publication.calendar import calendar_folder

    path: Path = args.path or Path(f"{args.year}.yaml")
    if path.exists():
        raise UsageError(f"{path}: 已存在，不覆盖")
    text = _SKELETON.format(year=args.year, prev=args.year - 1, name=path, folder=calendar_folder())
    path.write_text(text, encoding="utf-8")
    print(path)
    return 0


def _year(text: str) -> int:
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise argparse.ArgumentTypeError(f"年份应为 2000 至 2100 之间的四位数，不是 {text!r}")
    return int(text)


def add_calendar_commands(commands: Any) -> None:
    """Add ``calendar`` and its subcommands."""
    cal = commands.add_parser("calendar", help="法定节假日安排：已收录的年份、本单位补充的年份")
    sub = cal.add_subparsers(dest="calendar_command", required=True, metavar="COMMAND")
    listed = sub.add_parser("list", help="列出已收录的年份及其来源")
    listed.set_defaults(func=_cmd_list)
    check = sub.add_parser("check", help="检查本单位写的某年日历文件")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(func=_cmd_check)
    new = sub.add_parser("new", help="写出某年日历文件的空白格式以便照通知填写")
    new.add_argument("year", type=_year, metavar="YEAR")
    new.add_argument("path", nargs="?", type=Path, default=None, metavar="PATH")
    new.set_defaults(func=_cmd_new)
