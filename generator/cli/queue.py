"""Scale-out on the command line: ``contractgen worker`` and ``batch --broker``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .extras import require, require_ledger

__all__ = ["add_queue_commands", "remote_batch", "serve_queue_settings"]


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"应为 1 到 64 的整数（收到 {text}）")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError(f"应为 1 到 604800 秒（收到 {text}）")
    return value


def _cmd_worker(args: argparse.Namespace) -> int:
    require("queue")
    from ..queue import WorkerConfig, run_worker

    if args.no_ledger:
        ledger = None
    else:
        from ..ledger import default_url

        ledger = args.ledger or os.environ.get("CONTRACTGEN_LEDGER") or default_url()
        require_ledger(ledger)
    templates = args.templates
    if templates is not None and not templates.is_dir():
        raise UsageError(f"{templates}: 模板文件夹不存在")
    config = WorkerConfig(
        args.broker,
        templates=templates,
        ledger=ledger,
        timeout=args.timeout,
        log_level=args.log_level,
        log_format=args.log_format,
    )
    return run_worker(config, args.concurrency or os.cpu_count() or 1, args.name)


def remote_batch(args: argparse.Namespace, options: Any) -> Any:
    """Run ``batch --broker``: the rows checked here, the contracts made by the workers."""
    require("queue")
    from ..queue import run_remote_batch

    for given, flag in (
        (args.workers, "--workers"),
        (args.templates, "--templates"),
        (args.ledger, "--ledger"),
    ):
        if given is not None:
            raise UsageError(
                f"{flag} 不能与 --broker 同用：由工作进程生成、登记（在 contractgen worker 上指定）"
            )
    return run_remote_batch(
        args.input, args.output, options, args.broker, job_timeout=args.job_timeout
    )


def serve_queue_settings(args: argparse.Namespace, token: str | None = None) -> dict[str, Any]:
    """Return the service's settings of the jobs: broker, jobs folder, callback key.

    The callback key comes from ``--callback-key-file`` or ``CONTRACTGEN_CALLBACK_KEY``,
    never from the API token (one captured callback would give the token back to a word
    list); callbacks enabled (``CONTRACTGEN_CALLBACK_ALLOW``) without a key stop the start.
    """
    from ..queue.callbacks import KEY_VARIABLE, check_at_start

    key = None
    where = KEY_VARIABLE
    if args.callback_key_file is not None:
        where = str(args.callback_key_file)
        try:
            key = args.callback_key_file.read_bytes().strip()
        except OSError as exc:
            raise UsageError(f"{args.callback_key_file}: 无法读取回调密钥：{exc.strerror}") from exc
    elif os.environ.get(KEY_VARIABLE, "").strip():
        key = os.environ[KEY_VARIABLE].strip().encode()
    if key is not None and len(key) < 16:
        raise UsageError(f"{where}: 回调密钥过短（至少 16 字节）")
    refused = check_at_start(key, token)
    if refused is not None:
        raise UsageError(refused)
    return {"broker": args.broker, "jobs_dir": args.jobs_dir, "callback_key": key}


def add_queue_commands(
    commands: Any, batch_cmd: argparse.ArgumentParser, serve_cmd: argparse.ArgumentParser
) -> None:
    """Add ``worker``; ``--broker`` / ``--job-timeout`` to ``batch``; the jobs' to ``serve``."""
    serve_cmd.add_argument(
        "--broker",
        metavar="URL",
        default=None,
        help="启用异步任务 /v1/jobs，交给该消息代理的工作进程",
    )
    serve_cmd.add_argument(
        "--jobs-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="工作进程写入任务结果的共享文件夹（默认用户数据目录下 contractgen/jobs）",
    )
    serve_cmd.add_argument(
        "--callback-key-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="回调签名（HMAC-SHA256）密钥文件（默认用访问令牌）",
    )
    batch_cmd.add_argument(
        "--broker",
        metavar="URL",
        default=None,
        help="交给 Celery 工作进程生成（如 redis://host:6379/0）；输出文件夹须为各工作进程共享的同一路径",
    )
    batch_cmd.add_argument(
        "--job-timeout",
        type=_seconds,
        default=3600.0,
        metavar="S",
        help="与 --broker 同用：一份合同从发送到有结果的时限（秒，默认 3600）",
    )
    worker = commands.add_parser(
        "worker", help="运行 Celery 工作进程（配合 batch --broker 与服务的 /v1/jobs）"
    )
    worker.add_argument(
        "--broker", metavar="URL", required=True, help="消息代理，如 redis://host:6379/0"
    )
    worker.add_argument(
        "--concurrency",
        type=_count,
        default=None,
        metavar="N",
        help="工作进程数，每个一个 LibreOffice（默认每核一个）",
    )
    worker.add_argument(
        "--templates",
        type=Path,
        default=None,
        metavar="DIR",
        help="用该文件夹中的模板生成（默认：内置模板）",
    )
    worker.add_argument(
        "--timeout",
        type=_seconds,
        default=120.0,
        metavar="S",
        help="一份合同的转换时限（秒，默认 120）",
    )
    worker.add_argument("--name", default=None, help="工作进程名（默认 contractgen-PID@主机名）")
    group = worker.add_mutually_exclusive_group()
    group.add_argument("--ledger", metavar="URL", default=None, help="登记所生成合同的台账地址")
    group.add_argument("--no-ledger", action="store_true", help="不登记到合同台账")
    worker.set_defaults(func=_cmd_worker)
