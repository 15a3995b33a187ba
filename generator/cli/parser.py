"""The command line's parser: argparse with its help, usage and errors in Chinese."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

__all__ = ["Parser", "VersionAction", "number"]


class _Formatter(argparse.HelpFormatter):
    """argparse's help, with its own words in Chinese."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An argument parser whose help and usage errors are in Chinese (exit status 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        helps = kwargs.pop("add_help", True)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if helps:
            self.add_argument(
                "-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出"
            )

    #: argparse's messages (Python 3.11) and their Chinese
    _MESSAGES = (
        (r"the following arguments are required: (.*)", r"缺少参数：\1"),
        (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
        (
            r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)",
            r"参数 \1：无效的选项 \2（可选 \3）",
        ),
        (r"argument (\S+): expected one argument", r"参数 \1 需要一个值"),
        (r"argument (\S+): invalid (\w+) value: (.*)", r"参数 \1：\3 不是有效的值"),
        (r"argument (\S+): not allowed with argument (.*)", r"参数 \1 不能与 \2 同用"),
        (r"argument (\S+): ignored explicit argument (.*)", r"参数 \1 不接受值 \2"),
        (r"ambiguous option: (\S+) could match (.*)", r"选项 \1 有歧义，可能是 \2"),
        (r"argument (\S+): (.*)", r"参数 \1：\2"),
    )

    def error(self, message: str) -> NoReturn:
        """Print the usage and the message in Chinese; exit 2."""
        for pattern, chinese in self._MESSAGES:
            translated, count = re.subn(f"^{pattern}$", chinese, message, flags=re.S)
            if count:
                message = translated
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: 错误：{message}\n")


class VersionAction(argparse.Action):
    """``--version``: the release and the build identity (computed only when asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from ..identity import identity

        made_by = identity()
        print(f"contractgen {made_by.text()}")
        print(f"程序标识 {made_by}")
        parser.exit()


def number(
    kind: Callable[[str], float], low: float, high: float, unit: str = ""
) -> Callable[[str], Any]:
    """Return an argparse type: a number of ``kind`` from ``low`` to ``high``."""
    name = "整数" if kind is int else "数"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"应为{name}，不是 {text!r}") from None
        if not low <= value <= high:  # NaN too
            raise argparse.ArgumentTypeError(f"应在 {low:g} 到 {high:g} {unit}之间，不是 {text}")
        return value

    return parse
