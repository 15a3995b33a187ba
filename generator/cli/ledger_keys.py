"""The ledger's signing key on the command line: ``ledger key new|fingerprint|sign-old``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import LedgerError, UsageError

__all__ = ["add_key_commands"]


def _cmd_new(args: argparse.Namespace) -> int:
    from ..ledger.keys import KEY_ENVIRONMENT, new_key

    try:
        key = new_key(args.file, args.public)
    except LedgerError as exc:
        raise UsageError(exc.detail) from None
    print(f"已生成台账签名密钥 {args.file}（仅本人可读写，勿放入台账数据库所在之处）")
    if args.public is not None:
        print(f"公钥已写入 {args.public}（交审计人员核对签名之用）")
    print(f"签名公钥指纹：{key.key_id}")
    print(f"签发时请指定：--ledger-key {args.file} 或 export {KEY_ENVIRONMENT}={args.file}")
    return 0


def _cmd_fingerprint(args: argparse.Namespace) -> int:
    from ..ledger.keys import fingerprint, load_key, load_public

    text = args.file.read_bytes() if args.file.is_file() else b""
    try:
        if b"PRIVATE KEY" in text:
            key_id = load_key(args.file).key_id
        else:
            key_id = fingerprint(load_public(args.file))
    except LedgerError as exc:
        raise UsageError(exc.detail) from None
    print(f"签名公钥指纹：{key_id}")
    return 0


def _cmd_sign_old(args: argparse.Namespace) -> int:
    from ..ledger.signforward import sign_old
    from .ledger import open_ledger

    with open_ledger(args, existing=True) as ledger:
        done: dict[str, Any] = sign_old(ledger)
    if args.json:
        print(json.dumps(done, ensure_ascii=False, indent=2))
    elif done["signed"]:
        print(
            f"已补签事件 {done['first']}–{done['last']}（共 {done['signed']} 个），"
            f"签名公钥指纹：{done['key_id']}"
        )
    else:
        print("没有未签名的事件，未做改动")
    return 0


def add_key_commands(ledger_commands: Any) -> None:
    """Add ``ledger key …`` to the ledger's subcommands."""
    key = ledger_commands.add_parser("key", help="台账签名密钥：生成、查看指纹、为旧事件补签")
    sub = key.add_subparsers(dest="key_command", required=True)
    new = sub.add_parser(
        "new", help="生成新的台账签名密钥（Ed25519，文件权限 0600，不覆盖已有文件）"
    )
    new.add_argument("file", type=Path, metavar="FILE", help="私钥文件（PEM）")
    new.add_argument(
        "--public",
        type=Path,
        default=None,
        metavar="FILE",
        help="另写出公钥文件（PEM），交审计人员",
    )
    new.set_defaults(func=_cmd_new)
    shown = sub.add_parser("fingerprint", help="显示密钥或公钥文件的签名公钥指纹")
    shown.add_argument("file", type=Path, metavar="FILE")
    shown.set_defaults(func=_cmd_fingerprint)
    old = sub.add_parser(
        "sign-old",
        help="为签名之前（0.2.0）所记的事件补签：须事件链与全部记录完好，且未签名的只是最早的那些事件",
    )
    old.add_argument("--ledger", metavar="URL", default=None, help="合同台账地址")
    old.add_argument("--json", action="store_true", help="以 JSON 输出")
    old.set_defaults(func=_cmd_sign_old)
