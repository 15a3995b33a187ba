"""The ``contractgen`` command line: a thin layer over the library.

Errors become stderr text and an exit status here, in :func:`main`, and
nowhere else: 0 success, 1 invalid data or a failed step, 2 a usage error
(a bad option or argument, an output path that cannot be a folder, a missing
folder), always as a Chinese message without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..domain.amount import rmb_upper
from ..errors import ContractError, InputError, InvalidContractError, UsageError
from ..inputs.load import load_data
from ..kinds import json_schema, parse, registry, validate
from ..office import die_with_parent
from .calendar import add_calendar_commands
from .completion import add_completion_command
from .environment import add_operations, from_environment
from .extras import require, require_ledger
from .jobs import add_jobs_commands
from .kinds import KIND_HELP, add_kind_commands, template_folder, use_kinds
from .ledger import add_ledger_commands, add_ledger_options, open_ledger, use_ledger_key
from .parser import Parser, VersionAction, number
from .publish import add_publish_commands, iso_day
from .queue import add_queue_commands, remote_batch, serve_queue_settings
from .users import add_user_commands, loopback, serve_token, users_file

__all__ = [
    "build_parser",
    "main",
]


def _cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            issues = validate(load_data(path))
        except InputError as exc:  # the other files are still checked
            print(f"错误：{exc}", file=sys.stderr)
            failed += 1
            continue
        for issue in issues:
            print(f"{path}: {issue}", file=sys.stderr)
        if issues:
            failed += 1
        elif not args.quiet:
            print(f"{path}: 有效")
    return 1 if failed else 0


def _cmd_amount(args: argparse.Namespace) -> int:
    print(rmb_upper(args.amount))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(args.kind), ensure_ascii=False, indent=2))
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    target: Path = args.path or Path("contracts.xlsx" if args.xlsx else "contract.yaml")
    if target.is_dir():
        raise UsageError(f"{target}: 是文件夹，请给出文件名")
    if not target.absolute().parent.is_dir():
        raise UsageError(f"{target}: 文件夹 {target.parent} 不存在")
    if target.exists() and not args.force:
        raise InputError(f"{target}: 文件已存在（用 --force 覆盖）")
    if args.xlsx:
        from ..inputs import write_workbook

        kind = registry().get(args.kind)
        write_workbook(target, [], kind)
        named = "" if kind is registry().default else f" --kind {kind.id}"
        print(f"已写入 {target}：每行一份合同，填写后运行 contractgen batch {target} -o DIR{named}")
        return 0
    from ..kinds.docs import commented_yaml

    kind = registry().get(args.kind)
    target.write_text(commented_yaml(kind, load_data(kind.sample)), encoding="utf-8")
    print(f"已写入 {target}：填写后运行 contractgen validate {target}")
    return 0


def _issue_or_not(args: argparse.Namespace) -> None:
    if args.issue and args.no_ledger:
        raise UsageError("--issue（签发并登记）与 --no-ledger（不登记）不能同用")
    if getattr(args, "publish", False) and not (args.issue or args.no_ledger):
        raise UsageError("--publish（同时发布）须与 --issue（签发并登记）同用：草稿不能发布")


def _cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import Options, run_batch

    _issue_or_not(args)

    options = Options(
        formats=_formats(args.format),
        pdfa=args.pdfa,
        workers=args.workers,
        force=args.force,
        templates=template_folder(args.templates),
        kind=args.kind,
        # with --broker the ledger is the workers' (contractgen worker --ledger)
        ledger=None if not args.issue or args.broker else _ledger_url(args),
        issue=args.issue,
        publish=args.publish,
        published_on=args.published_on,
    )
    if args.broker:
        summary = remote_batch(args, replace(options, ledger=None, workers=None))
    else:
        summary = run_batch(args.input, args.output, options)
    counts = summary.counts
    print(
        f"完成：生成 {counts['made']}，跳过（已是最新） {counts['skipped']}，"
        f"失败 {counts['failed']}，用时 {summary.seconds:.1f} 秒"
        + ("（已中断）" if summary.interrupted else ""),
        file=sys.stderr,
    )
    for line in summary.lines:
        for error in line.errors:
            number = f"（{line.contract_no}）" if line.contract_no else ""
            print(
                f"{error['place']}{number}: {error['message']} [{error['code']}]", file=sys.stderr
            )
    if not args.issue and not args.no_ledger and counts["made"]:
        print(DRAFT_NOTE, file=sys.stderr)
    print(args.output / "batch-report.csv")
    return 130 if summary.interrupted else summary.exit_code


def _formats(choice: str) -> tuple[str, ...]:
    return ("docx", "pdf") if choice == "all" else (choice,)


def _output_folder(path: Path) -> None:
    """Refuse an output path that is not, and cannot become, a folder."""
    if path.is_symlink() and not path.exists():
        raise UsageError(f"{path}: 是指向不存在位置的符号链接，不能作为输出文件夹")
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: 已存在且不是文件夹，不能作为输出文件夹")
    for parent in path.absolute().parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{path}: {parent} 不是文件夹，不能在其中建立输出文件夹")


def _ledger_url(args: argparse.Namespace) -> str:
    from ..ledger import ENVIRONMENT, default_url

    url = str(args.ledger or os.environ.get(ENVIRONMENT) or default_url())
    require_ledger(url)
    return url


#: what a draft's command says after its folder (on stderr)
DRAFT_NOTE = (
    "草稿：未登记到合同台账，不能核验、不计入待公告。核对无误后签发：同一命令加 --issue"
    "（生成的文件与草稿逐字节相同）"
)


def _cmd_render(args: argparse.Namespace) -> int:
    from ..pipeline import render_set, set_templates, staged_set, write_set

    _issue_or_not(args)
    _output_folder(args.output)
    folder = template_folder(args.templates)
    contract = parse(load_data(args.file), str(args.file))
    templates = set_templates(contract.kind, folder)
    # The ledger first: one that cannot be reached fails the run before anything is written.
    ledger = open_ledger(args) if args.issue else None
    made = render_set(contract, formats=_formats(args.format), pdfa=args.pdfa, templates=templates)
    if ledger is None:
        print(write_set(made, args.output))
        if not args.no_ledger:
            print(DRAFT_NOTE, file=sys.stderr)
        return 0
    # Written whole, recorded, then put in place: not written, not recorded; not
    # recorded (a full disk under the ledger, a ledger gone), no folder either.
    with ledger, staged_set(made, args.output) as written, ledger.recording(made) as recorded:
        pass
    print(written)
    print(recorded.message(), file=sys.stderr)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    require("service")
    if args.broker:
        require("queue")
    from ..service import Settings, serve

    token, users = serve_token(args), users_file(args)
    secret = os.environ.get("CONTRACTGEN_SESSION_SECRET")
    if secret is not None and len(secret) < 32:
        raise UsageError("环境变量 CONTRACTGEN_SESSION_SECRET 应至少 32 个字符（请用随机生成的值）")
    if not (token or users) and not loopback(args.host):
        if not args.insecure_no_auth:
            raise UsageError(
                f"拒绝在 {args.host} 上无认证监听：请设置 CONTRACTGEN_TOKEN、--token-file 或 "
                "--users（或明确给出 --insecure-no-auth）"
            )
        print(
            f"警告：服务在 {args.host} 上无认证监听，任何能连到此地址的人都能使用工作台与台账",
            file=sys.stderr,
        )
    settings = Settings(
        host=args.host,
        port=args.port,
        workers=args.workers,
        token=token,
        users=users,
        allowed_hosts=tuple(args.allowed_host.split(",")) if args.allowed_host else (),
        insecure_no_auth=args.insecure_no_auth,
        max_body=args.max_body,
        timeout=args.timeout,
        queue=args.queue,
        cached_sets=args.cached_sets,
        session_idle=args.session_idle * 60,
        read_timeout=args.read_timeout,
        log_level=args.log_level,
        log_format=args.log_format,
        max_connections=args.max_connections,
        templates=template_folder(args.templates),
        ledger=None if args.no_ledger else _ledger_url(args),
        **serve_queue_settings(args, token),
    )
    return serve(settings)


#: LibreOffice workers: each office takes about 300 MB
_WORKERS = number(int, 1, 64)


#: the help of --kind and of --kinds
_KINDS_HELP = "本单位的合同类型文件夹（可多次给出；亦可用环境变量 CONTRACTGEN_KINDS）"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="contractgen",
        description="由合同数据生成合同全套文件（DOCX/PDF）；内置运维服务合同全套，"
        "也可用本单位的合同类型文件夹（--kinds）。",
    )
    parser.add_argument("--version", action=VersionAction, help="显示程序版本与构建标识后退出")
    parser.add_argument(
        "--kinds",
        type=Path,
        action="append",
        metavar="DIR",
        help="本单位的合同类型文件夹（可多次给出）",
    )
    parser.add_argument(
        "--ledger-key",
        type=Path,
        default=None,
        metavar="FILE",
        help="台账签名密钥（PEM，仅本人可读；签发须有；亦可用环境变量 CONTRACTGEN_LEDGER_KEY_FILE；"
        "用 contractgen ledger key new FILE 生成）",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate_cmd = commands.add_parser("validate", help="检查合同数据文件（YAML/JSON）")
    validate_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate_cmd.add_argument("-q", "--quiet", action="store_true", help="只报告问题")
    validate_cmd.set_defaults(func=_cmd_validate)

    amount_cmd = commands.add_parser("amount", help="把金额写成中文大写（人民银行规则）")
    amount_cmd.add_argument("amount", help="金额，如 1578000 或 1409.50")
    amount_cmd.set_defaults(func=_cmd_amount)

    schema_cmd = commands.add_parser("schema", help="输出合同数据的 JSON Schema")
    schema_cmd.add_argument("--kind", default=None, metavar="ID", help=KIND_HELP)
    schema_cmd.set_defaults(func=_cmd_schema)

    init_cmd = commands.add_parser("init", help="写出一份带注释的合同数据样例以便填写")
    init_cmd.add_argument("path", nargs="?", type=Path, help="默认 contract.yaml 或 contracts.xlsx")
    init_cmd.add_argument("--xlsx", action="store_true", help="写出批量填写用的 Excel 工作簿")
    init_cmd.add_argument("--force", action="store_true", help="覆盖已有文件")
    init_cmd.add_argument("--kind", default=None, metavar="ID", help=KIND_HELP)
    init_cmd.set_defaults(func=_cmd_init)

    render_cmd = commands.add_parser("render", help="生成一份合同的全套文件")
    render_cmd.add_argument("file", type=Path, metavar="FILE")
    render_cmd.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    render_cmd.add_argument(
        "--format", choices=("all", "docx", "pdf"), default="all", help="输出格式（默认 all）"
    )
    render_cmd.add_argument("--pdfa", action="store_true", help="PDF 采用 PDF/A-2b（长期归档）")
    render_cmd.add_argument(
        "--templates",
        type=Path,
        default=None,
        metavar="DIR",
        help="用该文件夹中的模板生成（默认：内置模板；见 templates export）",
    )
    add_ledger_options(render_cmd, issue=True)
    render_cmd.set_defaults(func=_cmd_render)

    batch_cmd = commands.add_parser("batch", help="批量生成：工作簿、CSV、JSONL 或文件夹")
    batch_cmd.add_argument("input", type=Path, metavar="INPUT")
    batch_cmd.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    batch_cmd.add_argument("--format", choices=("all", "docx", "pdf"), default="all")
    batch_cmd.add_argument("--pdfa", action="store_true", help="PDF 采用 PDF/A-2b")
    batch_cmd.add_argument("--workers", type=int, default=None, help="并行数（默认每核一个）")
    batch_cmd.add_argument("--force", action="store_true", help="重新生成已是最新的合同")
    batch_cmd.add_argument(
        "--kind", default=None, metavar="ID", help="工作簿或 CSV 的合同类型（默认：运维服务合同）"
    )
    batch_cmd.add_argument(
        "--templates",
        type=Path,
        default=None,
        metavar="DIR",
        help="用该文件夹中的模板生成（默认：内置模板；见 templates export）",
    )
    batch_cmd.add_argument(
        "--publish", action="store_true", help="同时生成每份合同的合同公告与公开文本"
    )
    batch_cmd.add_argument(
        "--published-on",
        type=iso_day,
        default=None,
        metavar="DATE",
        help="合同公告日期（默认生成当天）",
    )
    add_ledger_options(batch_cmd, issue=True)
    batch_cmd.set_defaults(func=_cmd_batch)

    serve_cmd = commands.add_parser("serve", help="运行 HTTP 服务（供电子签章平台调用）")
    serve_cmd.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    serve_cmd.add_argument(
        "--port", type=number(int, 1, 65535), default=8000, help="端口（默认 8000）"
    )
    serve_cmd.add_argument(
        "--workers", type=_WORKERS, default=None, help="LibreOffice 进程数（1–64，默认每核一个）"
    )
    # Refused with an explanation: a token among the arguments shows in ps.
    serve_cmd.add_argument("--token", default=None, help=argparse.SUPPRESS)
    serve_cmd.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="从文件读取访问令牌：调用接口须带此令牌（请求头 Authorization）；"
        "默认取环境变量 CONTRACTGEN_TOKEN",
    )
    serve_cmd.add_argument(
        "--max-body",
        type=number(int, 1, 16 << 20),
        default=1 << 20,
        metavar="BYTES",
        help="请求体上限（默认 1 MiB，最多 16 MiB）",
    )
    serve_cmd.add_argument(
        "--timeout",
        type=number(float, 1, 3600, "秒"),
        default=120.0,
        metavar="S",
        help="单个请求时限（秒，默认 120）",
    )
    serve_cmd.add_argument(
        "--read-timeout",
        type=number(float, 0.5, 600, "秒"),
        default=15.0,
        metavar="S",
        help="客户端发送请求头、再发送请求体各自的时限（秒，默认 15），超时即关闭连接",
    )
    serve_cmd.add_argument(
        "--max-connections",
        type=number(int, 8, 100000),
        default=None,
        metavar="N",
        help="同时打开的连接数上限（默认按打开文件数上限，最多 1000）",
    )
    serve_cmd.add_argument(
        "--queue",
        type=number(int, 0, 10000),
        default=None,
        metavar="N",
        help="等待渲染的请求数上限（默认 workers*2）",
    )
    serve_cmd.add_argument(
        "--cached-sets",
        type=number(int, 0, 1000),
        default=8,
        metavar="N",
        help="按输入哈希在内存中保留最近生成的全套文件数（默认 8，0 为不保留）",
    )
    serve_cmd.add_argument(
        "--session-idle",
        type=number(int, 1, 720),
        default=30,
        metavar="MIN",
        help="工作台登录后无操作多少分钟即退出（默认 30；自登录起最长 12 小时）",
    )
    serve_cmd.add_argument(
        "--templates",
        type=Path,
        default=None,
        metavar="DIR",
        help="用该文件夹中的模板生成（默认：内置模板；见 templates export）",
    )
    serve_cmd.add_argument(
        "--users",
        type=Path,
        default=None,
        metavar="FILE",
        help="用户文件：每人一个令牌（见 contractgen users add）",
    )
    serve_cmd.add_argument(
        "--allowed-host",
        default=None,
        metavar="NAMES",
        help="请求可用的主机名，逗号分隔（监听地址与本机回环地址之外；如代理转来的对外域名）",
    )
    serve_cmd.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="允许在回环地址以外无令牌、无用户文件地监听（不安全）",
    )
    add_ledger_options(serve_cmd)
    serve_cmd.set_defaults(func=_cmd_serve)
    add_queue_commands(commands, batch_cmd, serve_cmd)
    add_jobs_commands(commands)

    add_publish_commands(commands, add_ledger_commands(commands))
    add_calendar_commands(commands)

    add_kind_commands(commands)
    add_user_commands(commands)
    add_completion_command(commands)
    add_operations(parser)  # serve's and worker's logs, and their options from CONTRACTGEN_*
    return parser


#: the pid of this process when it last forked (see :func:`_follow_parent`)
_forking_pid = 0
_fork_hooks = False


def _note_forking_pid() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _follow_parent() -> None:
    """Make a forked child (a batch worker) die with the command, even killed by SIGKILL."""
    die_with_parent(_forking_pid)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    global _fork_hooks
    if not _fork_hooks:
        # A child forked by the command dies with it: a batch's worker processes, and
        # with them their offices (generator/office/), do not work on for nobody.
        os.register_at_fork(before=_note_forking_pid, after_in_child=_follow_parent)
        _fork_hooks = True
    parser = build_parser()
    args = from_environment(parser, parser.parse_args(argv))
    try:
        use_kinds(args.kinds)
        use_ledger_key(args.ledger_key)
        status: int = args.func(args)
    except InvalidContractError as exc:
        for issue in exc.issues:
            print(f"{exc.source}: {issue}" if exc.source else str(issue), file=sys.stderr)
        return InvalidContractError.exit_code
    except ContractError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # e.g. a full disk or a folder that cannot be written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"错误：{where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    return status
