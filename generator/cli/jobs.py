"""``contractgen jobs list | show ID | requeue ID``: the service's jobs, for an operator.

They read (and for ``requeue`` send) through the broker the service and the workers
share, so they answer for every replica's jobs; ``--json`` gives what
``GET /v1/jobs/{id}`` gives.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..clock import beijing
from ..errors import QueueError, UsageError
from .extras import require

__all__ = ["add_jobs_commands"]

#: a row's or a job's status, as a clerk reads it
_STATUS = {
    "queued": "排队中",
    "running": "生成中",
    "done": "已完成",
    "made": "已生成",
    "failed": "失败",
}


def _store(args: argparse.Namespace) -> Any:
    require("queue")
    from ..queue import JobStore, check_broker, default_jobs_dir

    broker = args.broker or os.environ.get("CONTRACTGEN_BROKER")
    if not broker:
        raise UsageError("须指定消息代理：--broker URL（或环境变量 CONTRACTGEN_BROKER）")
    store = JobStore(broker, args.jobs_dir or default_jobs_dir())
    check_broker(store.app, broker)
    return store


def _when(text: str | None) -> str:
    return beijing(text) if text else ""


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _cmd_list(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        jobs = store.listed()
    finally:
        store.close()
    if args.json:
        _print_json(jobs)
        return 0
    if not jobs:
        print("没有任务")
        return 0
    for job in jobs:
        progress = job["progress"]
        counts = "，".join(f"{_STATUS.get(k, k)} {n}" for k, n in sorted(job["counts"].items()))
        print(
            f"{job['id']}  {_when(job['created'])}  {_STATUS.get(job['status'], job['status'])}"
            f"  {progress['done']}/{progress['total']}（{counts}）"
        )
    return 0


def _job(store: Any, job_id: str) -> dict[str, Any]:
    status = store.status(job_id)
    if status is None:
        from ..queue.lost import LOST_CODE, lost_message

        lost = store.lost(job_id)
        if lost is not None:  # Redis restarted without persistence: say what is left
            raise QueueError(lost_message(lost), code=LOST_CODE)
        raise UsageError(f"没有任务 {job_id}（或已过期）")
    return dict(status)


def _cmd_show(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        job = _job(store, args.id)
    finally:
        store.close()
    if args.json:
        _print_json(job)
        return 0
    progress = job["progress"]
    print(f"任务 {job['id']}：{_STATUS.get(job['status'], job['status'])}")
    print(f"创建于 {_when(job['created'])}，已完成 {progress['done']}/{progress['total']}")
    for row in job["rows"]:
        line = (
            f"  {row['where']}  {row['contract_no']}  {_STATUS.get(row['status'], row['status'])}"
        )
        if row["status"] == "running":
            line += f"（{_when(row.get('started'))} 起，{row.get('worker', '')}）"
        elif row["status"] == "made":
            line += f"  {row.get('ledger', '')}".rstrip()
        elif row["status"] == "failed":
            line += "  " + "；".join(f"{e['message']} [{e['code']}]" for e in row["errors"])
        print(line)
    return 0


def _cmd_requeue(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        again = store.requeue(args.id)
    finally:
        store.close()
    if again is None:
        raise UsageError(f"没有任务 {args.id}（或已过期）")
    if args.json:
        _print_json({"id": args.id, "requeued": again})
    elif again:
        print(f"已重新提交 {len(again)} 份：{'、'.join(again)}")
    else:
        print("没有需要重新提交的合同（均已生成、正在生成或仍在排队）")
    return 0


def add_jobs_commands(commands: Any) -> None:
    """Add ``jobs list``, ``jobs show ID`` and ``jobs requeue ID``."""
    jobs = commands.add_parser("jobs", help="查看、重新提交服务的异步任务（运维用）")
    actions = jobs.add_subparsers(dest="jobs_command", metavar="操作", required=True)

    def action(name: str, help_text: str, func: Any, with_id: bool) -> None:
        cmd = actions.add_parser(name, help=help_text)
        cmd.add_argument(
            "--broker", metavar="URL", default=None, help="消息代理（默认 CONTRACTGEN_BROKER）"
        )
        cmd.add_argument("--jobs-dir", type=Path, default=None, metavar="DIR", help="任务文件夹")
        cmd.add_argument("--json", action="store_true", help="以 JSON 输出")
        if with_id:
            cmd.add_argument("id", help="任务编号（32 位）")
        cmd.set_defaults(func=func)

    action("list", "列出消息代理中的全部任务（最新的在前）", _cmd_list, False)
    action("show", "显示一个任务及其每一行的状态", _cmd_show, True)
    action("requeue", "重新提交一个任务中失败或丢失的合同", _cmd_requeue, True)
