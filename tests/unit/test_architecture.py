"""The imports keep the layering: interfaces → orchestration → workers → model → amount → errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ..conftest import ROOT

PACKAGE = ROOT / "generator"

#: each module and the package modules it may import
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_version": set(),
    "amount": {"errors"},
    "model": {"amount", "errors"},
    "load": {"errors"},
    "validate": {"model", "errors"},
    "context": {"amount", "model"},
    "render": {"errors"},
    "convert": {"errors"},
    "join": set(),
    #: the PDF stage (generator/pdf/): its own modules and the exception tree, nothing else
    "pdf": {"_eexec", "document", "errors", "seal", "type1"},
    "sheets": {"errors", "load"},
    "api": {
        "_version",
        "context",
        "convert",
        "errors",
        "join",
        "model",
        "pdf",
        "render",
        "validate",
    },
    "batch": {"_version", "api", "convert", "errors", "model", "render", "sheets", "validate"},
}
#: third-party packages only one module may import
OWNERS = {
    "argparse": {"cli"},
    "docxtpl": {"render"},
    "jinja2": {"render"},
    "fastapi": {"service"},
    "uvicorn": {"service", "cli"},
    "pikepdf": {"pdf"},
    "pypdfium2": {"pdf"},
    # the old PDF stage's libraries: tests only (signing, reading), never the package
    "pyhanko": set(),
    "pdfminer": set(),
    "pypdf": set(),
}


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """Return (package modules, top-level third-party names) a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.module:
                    internal.add(node.module.split(".")[0])
                else:
                    internal.update(alias.name for alias in node.names)
            elif node.module:
                external.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            external.update(alias.name.split(".")[0] for alias in node.names)
    return internal, external


MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__"})
#: the stage packages: every module of one is checked as the stage
STAGES = sorted((PACKAGE / "pdf").glob("*.py"))


def _stage(path: Path) -> str:
    return path.parent.name if path.parent != PACKAGE else path.stem


@pytest.mark.parametrize("path", MODULES + STAGES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_layers_below(path: Path) -> None:
    internal, external = _imports(path)
    stage = _stage(path)
    if stage in ALLOWED:
        assert internal <= ALLOWED[stage], internal - ALLOWED[stage]
    for package, owners in OWNERS.items():
        if package in external:
            assert stage in owners, f"{stage} imports {package}"


def test_render_and_convert_never_import_each_other() -> None:
    assert "convert" not in _imports(PACKAGE / "render.py")[0]
    assert "render" not in _imports(PACKAGE / "convert.py")[0]


def test_only_convert_runs_libreoffice() -> None:
    for path in MODULES + STAGES:
        if path.stem not in {"convert", "_uno_worker"}:
            assert "soffice" not in path.read_text(encoding="utf-8"), path.stem
