"""``contractgen users add|list|remove``: the users file of the service (see generator.users)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..users import ENVIRONMENT, UsersFile, check_token

__all__ = ["add_user_commands", "loopback", "serve_token", "users_file"]


def serve_token(args: argparse.Namespace) -> str | None:
    """Return the bearer token: from --token-file, else $CONTRACTGEN_TOKEN, else none."""
    if args.token is not None:
        # A token in the arguments is readable by every user of the machine (ps).
        raise UsageError(
            "--token 会出现在进程列表（ps）中，已不再接受：请用环境变量 CONTRACTGEN_TOKEN "
            "或 --token-file 文件"
        )
    if args.token_file is None:
        if "CONTRACTGEN_TOKEN" not in os.environ:
            return None
        return check_token(os.environ["CONTRACTGEN_TOKEN"], "环境变量 CONTRACTGEN_TOKEN ")
    path: Path = args.token_file
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise UsageError(f"{path}: 令牌文件不存在") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: 无法读取令牌文件（{exc}）") from None
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise UsageError(f"{path}: 令牌文件应只含一行令牌，不含空白")
    return check_token(token, f"{path}: 令牌文件中的令牌")


def loopback(host: str) -> bool:
    """Tell whether a listening address reaches this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve beyond this machine


def users_file(args: argparse.Namespace) -> Path | None:
    """Return the users file of ``serve``, checked readable (None: none)."""
    if args.users is None:
        return None
    path: Path = args.users
    if not path.is_file():
        raise UsageError(f"{path}: 用户文件不存在（用 contractgen users add 建立）")
    UsersFile(path).read()  # a file that cannot be read stops the start here
    return path


def _file(args: argparse.Namespace) -> UsersFile:
    named = args.users or os.environ.get(ENVIRONMENT)
    if not named:
        raise UsageError(f"缺少参数：--users（或环境变量 {ENVIRONMENT}）")
    return UsersFile(Path(named))


def _cmd_add(args: argparse.Namespace) -> int:
    user, token = _file(args).add(args.login, args.name, args.role)
    print(token)
    print(
        f"已添加用户 {user.actor}（角色 {user.role}）。上一行是其访问令牌，只显示这一次："
        "请交给本人保管；文件中只存其哈希",
        file=sys.stderr,
    )
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for user in _file(args).read():
        print(f"{user.login}\t{user.name}\t{user.role}\t{user.added}")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    user = _file(args).remove(args.login)
    print(f"已删除用户 {user.actor}：其令牌与会话即刻失效", file=sys.stderr)
    return 0


def add_user_commands(commands: Any) -> None:
    """Add ``users add``, ``users list`` and ``users remove``."""
    users_cmd = commands.add_parser("users", help="服务的用户：每人一个访问令牌")
    actions = users_cmd.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    def with_file(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--users", default=None, metavar="FILE", help=f"用户文件（默认环境变量 {ENVIRONMENT}）"
        )

    add = actions.add_parser("add", help="添加用户（或为其换发令牌），令牌只显示一次")
    add.add_argument("login", metavar="LOGIN", help="登录名（小写字母、数字或 . _ -）")
    add.add_argument("--name", required=True, help="姓名，如 张三（台账中记为“姓名（登录名）”）")
    add.add_argument(
        "--role", default="clerk", choices=("clerk", "admin", "platform"), help="角色（默认 clerk）"
    )
    with_file(add)
    add.set_defaults(func=_cmd_add)

    listing = actions.add_parser("list", help="列出用户（不含令牌）")
    with_file(listing)
    listing.set_defaults(func=_cmd_list)

    remove = actions.add_parser("remove", help="删除用户：其令牌与会话即刻失效")
    remove.add_argument("login", metavar="LOGIN")
    with_file(remove)
    remove.set_defaults(func=_cmd_remove)
