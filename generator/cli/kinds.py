"""``contractgen kinds``: list the kinds, start a new one, check a kind folder end to end."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ..docx.render import tag_problems
from ..errors import ContractError, KindError, UsageError
from ..inputs import load_data
from ..kinds import ENVIRONMENT, SKELETON, load_kind, registry
from ..kinds.docs import context_markdown
from ..kinds.problems import declaration_path, declaration_problems, used_paths

__all__ = ["KIND_HELP", "add_kind_commands", "template_folder", "use_kinds"]


def use_kinds(folders: list[Path] | None) -> None:
    """Make ``--kinds`` folders known to everything the command runs, its worker processes too."""
    if not folders:
        return
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"{folder}: 合同类型文件夹不存在或不是文件夹")
    known = [p for p in os.environ.get(ENVIRONMENT, "").split(os.pathsep) if p]
    os.environ[ENVIRONMENT] = os.pathsep.join([*known, *(str(f.resolve()) for f in folders)])


def _cmd_list(args: argparse.Namespace) -> int:
    for kind in registry():
        where = "内置" if kind.built_in else str(kind.folder)
        documents = "、".join(doc.title for doc in kind.documents)
        print(f"{kind.id}\t{kind.title}\t第 {kind.version} 版\t{where}\t{documents}")
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    target: Path = args.folder
    if target.exists():
        raise UsageError(f"{target}: 已存在，不予覆盖（请给出新的文件夹名）")
    if any(p.exists() and not p.is_dir() for p in target.absolute().parents):
        raise UsageError(f"{target}: 上级路径中有不是文件夹的文件")
    shutil.copytree(SKELETON, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    print(target)
    print(
        f"已写出合同类型骨架：修改 {target / 'kind.yaml'} 中的 id、标题与字段、"
        f"模板与样例后，运行 contractgen kinds check {target}",
        file=sys.stderr,
    )
    return 0


#: the code of a template variable no field, computed value or constant provides
_UNDECLARED = "kind.template.undeclared"


def check_folder(folder: Path, convert: bool = True) -> list[str]:
    """Check a kind folder end to end; return what was checked, or raise KindError."""
    from ..docx.render import context_paths
    from ..pipeline import kind_templates, render_set

    kind = load_kind(folder)
    problems = list(declaration_problems(kind))
    if problems:
        raise KindError(problems)
    split = [
        (str(folder / doc.template), "", 0, line, "kind.template.tags")
        for doc in kind.documents
        for line in tag_problems((folder / doc.template).read_bytes())
    ]
    if split:
        raise KindError(split)
    templates = kind_templates(kind)
    contracts = [kind.parse(load_data(path), str(path)) for path in kind.samples]
    contract = contracts[0]
    # what the samples' contexts hold, and what the declaration says a context may hold
    # (the rows of a list no sample fills)
    provided = context_paths([kind.context(c) for c in contracts]) | set(kind.sources)
    undeclared = [
        (
            str(folder / kind.document(key).template),
            "",
            0,
            f"{part}，{where}：未声明的变量 {path}",
            _UNDECLARED,
        )
        for key, template in templates.templates.items()
        for path, part, where in template.variables()
        if path not in provided
    ]
    if undeclared:
        raise KindError(undeclared)
    used = used_paths(kind, templates.variables())
    unused = [
        d
        for d in kind.by_path.values()
        if d.type not in ("object",)
        and not d.spec.unused
        and d.path not in used
        and not any(u.startswith(f"{d.path}.") for u in used)
    ]
    if unused:
        raise KindError(
            [
                (
                    str(folder / "kind.yaml"),
                    d.path,
                    kind.lines.get(declaration_path(d.path), 0),
                    "模板中没有用到这个字段（不需要时写 unused: true）",
                    "kind.field.unused",
                )
                for d in unused
            ]
        )
    made = render_set(
        contract, formats=("docx", "pdf") if convert else ("docx",), templates=templates
    )
    report = [
        f"{kind.id}（{kind.title}，第 {kind.version} 版）：声明有效，{len(kind.by_path)} 个字段，"
        f"{len(kind.rules)} 条规则",
        f"样例 {'、'.join(p.name for p in kind.samples)} 有效，模板变量均已声明，字段均已用到",
    ]
    for doc in made.documents:
        seals = "；".join(f"「{s['keyword']}」第 {s['page']} 页" for s in doc.seals)
        pages = f"{doc.pages} 页" if doc.pages else "DOCX"
        report.append(f"{doc.title}：{pages}" + (f"，盖章处 {seals}" if seals else ""))
    return report


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        report = check_folder(args.folder, convert=not args.no_pdf)
    except KindError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return 1
    except ContractError as exc:
        print(f"{args.folder}: {exc}", file=sys.stderr)
        return 1
    for line in report:
        print(line)
    return 0


def _cmd_templates_export(args: argparse.Namespace) -> int:
    from ..docx.render import export_templates

    if args.folder.exists() and not args.folder.is_dir():
        raise UsageError(f"{args.folder}: 已存在且不是文件夹")
    kind = registry().get(args.kind)
    names = [doc.template for doc in kind.documents]
    written = export_templates(args.folder, kind.folder, names)
    context = args.folder / "CONTEXT.md"
    with open(context, "x", encoding="utf-8") as fh:
        fh.write(context_markdown(kind))
    for path in [*written, context]:
        print(path)
    print(
        f"已导出内置模板：在 Word 或 WPS 中编辑后，用 contractgen templates check --templates "
        f"{args.folder} 检查，再以 --templates {args.folder} 生成",
        file=sys.stderr,
    )
    return 0


def _cmd_templates_check(args: argparse.Namespace) -> int:
    from ..pipeline import set_templates

    kind = registry().get(args.kind)
    samples = sorted(args.samples.glob("*.yaml")) if args.samples else kind.samples
    contexts = [kind.context(kind.parse(load_data(p), str(p))) for p in samples]
    problems = set_templates(kind, template_folder(args.templates)).check(contexts)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"模板检查通过（依据 {len(samples)} 个样例的数据）")
    return 1 if problems else 0


def template_folder(path: Path | None) -> Path | None:
    """Return a ``--templates`` folder after checking it is one (None: the kind's own)."""
    if path is not None and not path.is_dir():
        raise UsageError(f"{path}: 模板文件夹不存在或不是文件夹")
    return path


#: the help of --kind
KIND_HELP = "合同类型（默认：运维服务合同 om_service；contractgen kinds list 列出全部）"


def add_kind_commands(commands: Any) -> None:
    """Add ``templates check|export`` and ``kinds list|new|check``."""
    templates_cmd = commands.add_parser("templates", help="模板维护")
    templates_sub = templates_cmd.add_subparsers(dest="templates_command", required=True)
    check_cmd = templates_sub.add_parser("check", help="检查模板所用变量均由数据提供")
    check_cmd.add_argument(
        "--templates", type=Path, default=None, metavar="DIR", help="模板文件夹（默认：内置模板）"
    )
    check_cmd.add_argument(
        "--samples", type=Path, default=None, help="样例数据文件夹（默认：内置样例）"
    )
    check_cmd.add_argument("--kind", default=None, metavar="ID", help=KIND_HELP)
    check_cmd.set_defaults(func=_cmd_templates_check)
    export_cmd = templates_sub.add_parser(
        "export", help="把内置模板写到文件夹中，供在 Word/WPS 中编辑（不覆盖已有文件）"
    )
    export_cmd.add_argument("folder", type=Path, metavar="DIR")
    export_cmd.add_argument("--kind", default=None, metavar="ID", help=KIND_HELP)
    export_cmd.set_defaults(func=_cmd_templates_export)

    kinds_cmd = commands.add_parser("kinds", help="合同类型：列出、新建骨架、检查")
    sub = kinds_cmd.add_subparsers(dest="kinds_command", required=True, metavar="COMMAND")
    list_cmd = sub.add_parser("list", help="列出已知的合同类型（内置的与 --kinds 给出的）")
    list_cmd.set_defaults(func=_cmd_list)
    new_cmd = sub.add_parser("new", help="写出一个可用的合同类型骨架（一份文件）")
    new_cmd.add_argument("folder", type=Path, metavar="DIR")
    new_cmd.set_defaults(func=_cmd_new)
    check_cmd = sub.add_parser(
        "check", help="检查合同类型文件夹：声明、模板变量、样例的校验与生成、盖章处"
    )
    check_cmd.add_argument("folder", type=Path, metavar="DIR")
    check_cmd.add_argument("--no-pdf", action="store_true", help="不转换 PDF（不检查盖章关键字）")
    check_cmd.set_defaults(func=_cmd_check)
