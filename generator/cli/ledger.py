"""The ledger on the command line: ``verify`` and ``ledger list|show|history|void|check|signed``."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

from ..clock import beijing
from ..errors import UsageError
from ..ledger.supplements import supplements
from ..pipeline import MANIFEST
from .extras import require, require_ledger

__all__ = [
    "VERIFY_EXIT",
    "add_ledger_commands",
    "add_ledger_options",
    "open_ledger",
    "use_ledger_key",
]

#: verify's exit statuses: every file issued and current; some known but no longer current;
#: some not issued here; the ledger's signed events do not vouch for it (usage errors are 2)
VERIFY_EXIT = {"current": 0, "outdated": 3, "unknown": 1, "untrusted": 4}
#: the worse of two verdicts wins
_WORSE = {"current": 0, "outdated": 1, "unknown": 2, "untrusted": 3}

_STATUS = {"issued": "有效", "superseded": "已被取代", "voided": "已作废"}
#: a version's signing (its signed copies), in Chinese
_SIGNING = {"partly_signed": "部分签署", "signed": "已签署"}


def add_ledger_options(parser: argparse.ArgumentParser, *, issue: bool = False) -> None:
    """Give a command ``--ledger URL`` and ``--no-ledger`` (and ``--issue`` when it makes sets)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--ledger",
        metavar="URL",
        default=None,
        help="合同台账地址（默认取环境变量 CONTRACTGEN_LEDGER，否则用户数据目录中的 SQLite 文件；"
        "多台服务共用时如 postgresql+psycopg://user@host/db）",
    )
    group.add_argument("--no-ledger", action="store_true", help="不登记到合同台账")
    if not issue:
        return
    parser.add_argument(
        "--issue",
        action="store_true",
        help="签发：登记到合同台账（不加则为草稿，不登记）",
    )


def use_ledger_key(path: Path | None) -> None:
    """Make ``--ledger-key FILE`` the key of everything the command runs, its processes too."""
    if path is None:
        return
    from ..ledger.keys import KEY_ENVIRONMENT

    os.environ[KEY_ENVIRONMENT] = str(path.expanduser().resolve())


def open_ledger(args: argparse.Namespace, existing: bool = False) -> Any:
    """Return the ledger a command records in (opened and migrated), or None for --no-ledger.

    ``existing``: a command that reads the ledger (or marks what it holds) never creates one.
    A command that issues has its signing key loaded here, before anything is made.
    """
    if getattr(args, "no_ledger", False):
        return None
    from ..ledger import ENVIRONMENT, Ledger

    require_ledger(args.ledger or os.environ.get(ENVIRONMENT))
    writer = not existing and getattr(args, "issue", True)
    pubkeys = getattr(args, "ledger_pubkey", None)
    return Ledger(args.ledger, existing=existing, pubkeys=pubkeys, writer=writer)


def _json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _hashes(path: Path) -> list[tuple[str, str]]:
    """Return (name, SHA-256) of a file, or of every file inside a set's zip."""
    if not path.is_file():
        raise UsageError(f"{path}: 文件不存在或不是普通文件")
    data = path.read_bytes()
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            # The manifest describes the other files, which are checked one by one.
            return [
                (f"{path}!{info.filename}", hashlib.sha256(archive.read(info)).hexdigest())
                for info in archive.infolist()
                if not info.is_dir() and Path(info.filename).name != MANIFEST
            ]
    return [(str(path), hashlib.sha256(data).hexdigest())]


def _describe(name: str, matches: list[Any], problems: list[str]) -> str:
    if problems:
        # what the tables say is not shown: nothing signed vouches for it
        return (
            f"{name}: 台账不可信，无法核验："
            + "；".join(problems)
            + "（请运行 contractgen ledger check）"
        )
    if not matches:
        return f"{name}: 未在本台账登记"
    parts = []
    for m in matches:
        state = _STATUS.get(m.status, m.status)
        if m.status == "superseded" and m.current_version:
            state += f"（现行为第 {m.current_version} 版）"
        if m.signed_copy:
            parts.append(
                f"签署件：合同 {m.contract_no} 第 {m.version} 版 {m.name} 的签署件：{state}"
            )
            continue
        parts.append(f"合同 {m.contract_no} 第 {m.version} 版 {m.name}：{state}")
    return f"{name}: " + "；".join(parts)


def _cmd_verify(args: argparse.Namespace) -> int:
    files = [(name, digest) for path in args.files for name, digest in _hashes(path)]
    results = []
    worst = "current"
    with open_ledger(args, existing=True) as ledger:
        for name, digest in files:
            found = ledger.attest(digest)
            if _WORSE[found.verdict] > _WORSE[worst]:
                worst = found.verdict
            results.append((name, digest, found))
    if args.json:
        _json(
            [
                {
                    "file": n,
                    "sha256": d,
                    "verdict": f.verdict,
                    "matches": [m.to_dict() for m in f.matches],
                    "problems": f.problems,
                }
                for n, d, f in results
            ]
        )
    else:
        for name, _, found in results:
            print(_describe(name, found.matches, found.problems))
    return VERIFY_EXIT[worst]


def _date(text: str) -> dt.date:
    from .publish import iso_day

    return iso_day(text)


def _cmd_list(args: argparse.Namespace) -> int:
    with open_ledger(args, existing=True) as ledger:
        rows = ledger.sets(
            contract_no=args.number,
            status=args.status,
            supplier=args.supplier,
            signed_from=args.signed_from,
            signed_to=args.signed_to,
        )
    if args.json:
        _json(rows)
        return 0
    for row in rows:
        print(
            f"{row['contract_no']}\t第{row['version']}版\t{_state(row)}\t"
            f"{row['signed_on']}\t{row['amount']}\t{row['supplier']}\t{row['project_name']}"
        )
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    with open_ledger(args, existing=True) as ledger:
        found = ledger.show(args.number, args.version)
        added = supplements(ledger, args.number)
    if args.json:
        _json({**found, "supplements": added})
        return 0
    print(
        f"合同 {found['contract_no']} 第 {found['version']} 版：{_state(found)}"
        + (f"（{found['status_reason']}）" if found["status_reason"] else "")
    )
    print(f"项目：{found['project_name']}；供应商：{found['supplier']}；金额：{found['amount']} 元")
    print(f"签订：{found['signed_on']}；登记：{beijing(found['issued_at'])}，{found['issued_by']}")
    for file in found["files"]:
        print(f"  {file['name']}\t{file['size']} 字节\tSHA-256 {file['sha256']}")
    _show_signing(found)
    _print_supplements(added)
    return 0


def _print_supplements(supplements: dict[str, Any] | None) -> None:
    """Print an original's supplements and the share of the limit they use."""
    if supplements is None:
        return
    print(supplements["summary"])
    for s in supplements["supplements"]:
        status = _STATUS[s["status"]]
        where = f"  {s['contract_no']}\t第 {s['version']} 版\t{status}"
        print(f"{where}\t{s['amount']} 元\t{s['signed_on']}")


def _cmd_history(args: argparse.Namespace) -> int:
    with open_ledger(args, existing=True) as ledger:
        events = ledger.history(args.number)
        added = supplements(ledger, args.number)
    if args.json:
        _json(events)
        return 0
    words = {
        "issue": "登记",
        "add_files": "补登文件",
        "publish": "公告",
        "void": "作废",
        "sign": "登记签署件",
    }
    for e in events:
        extra = f"（取代第 {e['supersedes']} 版）" if e.get("supersedes") else ""
        extra += f"：{e['reason']}" if e.get("reason") else ""
        extra += _signed_event(e) if e["action"] == "sign" else ""
        print(
            f"{e['seq']}\t{beijing(e['at'])}\t{e['actor']}\t{words[e['action']]}第{e['version']}版{extra}"
        )
    _print_supplements(added)
    return 0


def _cmd_void(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        raise UsageError("作废须说明理由（--reason）")
    with open_ledger(args, existing=True) as ledger:
        ledger.void(args.number, args.version, args.reason.strip())
        found = ledger.show(args.number, args.version)
    if args.json:
        _json(found)
    else:
        print(f"合同 {args.number} 第 {args.version} 版已作废：{args.reason.strip()}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    with open_ledger(args, existing=True) as ledger:
        done = ledger.audit()
    if args.json:
        _json(done.to_dict())
        return 1 if done.problems else 0
    for problem in done.problems:
        print(problem, file=sys.stderr)
    if not done.problems:
        print(f"台账完整：事件链与全部记录相符，{done.events} 个事件均有签名。链头哈希 {done.head}")
    # what an auditor pins: the keys the signatures were checked against, and what each signed
    for key_id in done.keys:
        print(f"签名公钥指纹：{key_id}（签名事件 {done.signed_by.get(key_id, 0)} 个）")
    return 1 if done.problems else 0


def _state(row: dict[str, Any]) -> str:
    """Return a version's status, and its signing when signed copies were recorded."""
    state = _STATUS.get(row["status"], row["status"])
    signing = _SIGNING.get(row.get("signing") or "")
    return f"{state}，{signing}" if signing else state


def _signer_text(signer: dict[str, Any]) -> str:
    from ..ledger.signed import PARTY_TITLES

    party = PARTY_TITLES.get(signer["party"], signer["party"])
    when = beijing(signer["signed_at"]) if signer.get("signed_at") else "签名未载明时间"
    return f"{party}（{signer['field']}）{signer['organization']} · {signer['common_name']}，{when}"


def _show_signing(found: dict[str, Any]) -> None:
    """Print a version's signed copies, and how its signing time differs from the data's."""
    from ..clock import beijing_day

    if found.get("signed_at"):
        state = _SIGNING.get(found.get("signing") or "", "")
        print(f"签署：{state}，最晚签署时间 {beijing(found['signed_at'])}")
        day = beijing_day(found["signed_at"])
        if found.get("signing") == "signed" and day.isoformat() != found["signed_on"]:
            print(
                f"  注意：签名所载签署日 {day} 与合同所填签订日期 {found['signed_on']} 不同"
                "（合同公告截止日按签名所载签署日计算）"
            )
    for copy in found.get("signed_copies", []):
        print(f"  签署件 {copy['name']}\t{copy['size']} 字节\tSHA-256 {copy['sha256']}")
        for signer in copy["signers"]:
            print(f"    {_signer_text(signer)}")


def _signed_event(event: dict[str, Any]) -> str:
    parties = "、".join(_signer_text(s).split("，")[0] for s in event.get("signers", []))
    return f"：{event.get('name')}（{parties}）"


def _cmd_signed(args: argparse.Namespace) -> int:
    require("signing")
    from ..errors import LedgerError
    from ..ledger.signed import load_trust, record_signed, trust_paths

    datas = []
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"{path}: 文件不存在或不是普通文件")
        datas.append((path, path.read_bytes()))
    try:
        roots = load_trust(trust_paths(args.trust))
    except LedgerError as exc:
        raise UsageError(exc.detail) from None
    results: list[dict[str, Any]] = []
    failed = False
    with open_ledger(args) as ledger:
        for path, data in datas:
            try:
                done = record_signed(ledger, data, roots)
            except LedgerError as exc:
                if not exc.code.startswith("signed."):
                    raise
                failed = True
                results.append(
                    {"file": str(path), "ok": False, "code": exc.code, "detail": exc.detail}
                )
                if not args.json:
                    print(f"{path}: 拒收：{exc.detail} [{exc.code}]", file=sys.stderr)
                continue
            results.append({"file": str(path), "ok": True, **done.to_dict()})
            if not args.json:
                print(f"{path}: {done.message()}")
                for signer in done.signers:
                    print(f"  {_signer_text(signer)}")
                    print(
                        f"    证书：颁发者 {signer['issuer']}；序列号 {signer['serial']}；"
                        f"有效期 {signer['not_before'][:10]} 至 {signer['not_after'][:10]}"
                    )
                print(f"  {done.trust['note']}")
    if args.json:
        _json(results)
    return 1 if failed else 0


def _with_common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--ledger", metavar="URL", default=None, help="合同台账地址")
    parser.add_argument(
        "--ledger-pubkey",
        action="append",
        type=Path,
        default=None,
        metavar="FILE",
        help="核对事件签名所用的台账公钥（PEM，可重复；默认取环境变量 CONTRACTGEN_LEDGER_PUBKEY，"
        "以 : 分隔，否则取台账签名密钥的公钥）",
    )
    parser.add_argument("--json", action="store_true", help="以 JSON 输出")
    return parser


def add_ledger_commands(commands: Any) -> Any:
    """Add ``verify`` and ``ledger …`` to the subcommands; return ``ledger``'s own subcommands."""
    verify = _with_common(
        commands.add_parser(
            "verify", help="核验文件是否为本台账登记的现行版本（PDF、DOCX 或全套 zip）"
        )
    )
    verify.add_argument("files", nargs="+", type=Path, metavar="FILE")
    verify.set_defaults(func=_cmd_verify)

    ledger = commands.add_parser("ledger", help="合同台账：查询、历史、作废、完整性检查")
    sub = ledger.add_subparsers(dest="ledger_command", required=True)
    listing = _with_common(sub.add_parser("list", help="列出已登记的合同版本"))
    listing.add_argument("--number", default=None, help="合同编号")
    listing.add_argument("--status", choices=tuple(_STATUS), default=None)
    listing.add_argument("--supplier", default=None, help="供应商名称（包含即可）")
    listing.add_argument("--from", dest="signed_from", type=_date, default=None, metavar="DATE")
    listing.add_argument("--to", dest="signed_to", type=_date, default=None, metavar="DATE")
    listing.set_defaults(func=_cmd_list)
    show = _with_common(sub.add_parser("show", help="显示一个版本：数据与文件哈希"))
    show.add_argument("number", metavar="CONTRACT_NO")
    show.add_argument("--version", type=int, default=None, help="版本（默认最新）")
    show.set_defaults(func=_cmd_show)
    history = _with_common(sub.add_parser("history", help="一份合同的全部登记事件"))
    history.add_argument("number", metavar="CONTRACT_NO")
    history.set_defaults(func=_cmd_history)
    void = _with_common(sub.add_parser("void", help="作废一个版本（须说明理由）"))
    void.add_argument("number", metavar="CONTRACT_NO")
    void.add_argument("--version", type=int, required=True)
    void.add_argument("--reason", required=True)
    void.set_defaults(func=_cmd_void)
    check = _with_common(
        sub.add_parser("check", help="重算事件链与全部哈希、核对每个事件的签名，发现改动即报错")
    )
    check.set_defaults(func=_cmd_check)
    signed = _with_common(
        sub.add_parser(
            "signed",
            help="登记签署件：电子签章平台返回的已盖章 PDF（须为本台账签发的 PDF 加签名）",
        )
    )
    signed.add_argument("files", nargs="+", type=Path, metavar="FILE")
    signed.add_argument(
        "--trust",
        action="append",
        type=Path,
        default=None,
        metavar="FILE.pem",
        help="信任根证书（PEM，可重复；默认取环境变量 CONTRACTGEN_TRUST，以 : 分隔）；"
        "不配置则不验证证书链，仅核验签名完整性",
    )
    signed.set_defaults(func=_cmd_signed)
    from .ledger_keys import add_key_commands

    add_key_commands(sub)
    return sub
