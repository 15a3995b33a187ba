"""The house: stage packages whose imports point one way, small modules, public names declared.

::

    cli, service, batch        interfaces
    ledger                     what was issued: versions, hashes, the event chain
    pipeline                   one contract set: stages, the Generator, the output writer
    docx, office, pdf, inputs  the stages (inputs: files and workbooks in)
    kinds                      a kind's declaration read, and its model, rules, context derived
    domain                     what every kind shares: field types, amounts, filters, documents
    identity                   the program identity: release and build digest
    logs                       the logging of the service and the workers
    errors, _version           the exception tree
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ..conftest import ROOT

PACKAGE = ROOT / "generator"

#: each stage and the stages it may import (its own modules always)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_version": set(),
    # facts about the host kept between processes (the fonts' glyphs, the office's version)
    "_cache": set(),
    # the one logging configuration, and the fields a line carries: nothing of the package's
    "logs": set(),
    # time as the office reads it: stored in UTC, shown in Beijing time
    "clock": set(),
    # who acts: the users file, and the user of the request being answered
    "users": {"clock", "errors"},
    # failed attempts counted in a window (sign-ins, wrong API tokens): nothing of the package's
    "throttle": set(),
    # what made a file: the package's files, the built-in kinds, the fonts, the office
    "identity": {"_version", "domain", "errors", "kinds", "office"},
    "domain": {"_cache", "errors"},
    # below every stage: nothing under it knows which kind it works on
    "kinds": {"domain", "errors"},
    "inputs": {"domain", "errors", "kinds"},
    "docx": {"domain", "errors"},
    "office": {"_cache", "errors"},
    "pdf": {"errors"},
    "pipeline": {"_version", "docx", "domain", "errors", "identity", "kinds", "office", "pdf"},
    # the ledger verifies a publication's zip as a set's, skipping its publication.json
    "ledger": {"clock", "domain", "errors", "identity", "kinds", "pipeline", "publication"},
    # above the pipeline like the ledger: it renders the public copy and the notice with the
    # pipeline's Generator, and finishes the notice's PDF with the PDF stage
    "publication": {
        "_version",
        "clock",
        "docx",
        "domain",
        "errors",
        "identity",
        "kinds",
        "pdf",
        "pipeline",
    },
    "batch": {
        "_version",
        "docx",
        "domain",
        "errors",
        "identity",
        "inputs",
        "kinds",
        "ledger",
        "pipeline",
        "publication",
    },
    # the job queue: a batch's rows made by Celery workers, with the batch's own pieces
    "queue": {"batch", "domain", "errors", "kinds", "ledger", "logs", "pipeline"},
    # the workbench: what the service may import, the PDF stage for page pictures and the
    # batch's rows for a round (logs: a round sent to the workers names its request)
    "web": {
        "users",
        "logs",
        "throttle",
        "_version",
        "batch",
        "clock",
        "domain",
        "errors",
        "identity",
        "inputs",
        "kinds",
        "ledger",
        "pdf",
        "pipeline",
        "publication",
    },
    # the service: its jobs validate a round's rows as the batch does
    "service": {
        "users",
        "throttle",
        "_version",
        "batch",
        "domain",
        "errors",
        "identity",
        "inputs",
        "kinds",
        "ledger",
        "logs",
        "pipeline",
        "publication",
        "queue",
        "web",
    },
    "cli": {
        "users",
        "_version",
        "batch",
        "clock",
        "queue",
        "docx",
        "domain",
        "errors",
        "identity",
        "inputs",
        "kinds",
        "ledger",
        "logs",
        "office",
        "pipeline",
        "publication",
        "service",
    },
}
#: third-party packages only some stages may import
OWNERS = {
    "argparse": {"cli"},
    "docxtpl": {"docx"},
    "docx": {"docx"},
    # the kinds evaluate their computed values in Jinja's sandbox
    "jinja2": {"docx", "kinds", "web"},
    "openpyxl": {"inputs"},
    # the workbench saves the form as YAML; publication reads an office's holiday calendar
    "yaml": {"inputs", "kinds", "publication", "web"},
    "fastapi": {"service", "web"},
    "starlette": {"service", "web"},
    "uvicorn": {"service", "cli"},
    "pikepdf": {"pdf"},
    "pypdfium2": {"pdf"},
    "fontTools": {"domain"},
    "sqlalchemy": {"ledger"},
    "alembic": {"ledger"},
    "psycopg": {"ledger"},
    "chinese_calendar": {"publication"},
    # the job queue's engine and broker: the queue stage (and the service's jobs, through it)
    "celery": {"queue"},
    "kombu": {"queue"},
    "redis": {"queue"},
    # the service's /metrics
    "prometheus_client": {"service"},
    # signed copies: their signatures and changes read by the ledger (contractgen[signing])
    "pyhanko": {"ledger"},
    "pyhanko_certvalidator": {"ledger"},
    "asn1crypto": {"ledger"},
    # the old PDF stage's libraries: tests only (reading), never the package
    "pdfminer": set(),
    "pypdf": set(),
}
#: the longest module, and the most complex function (ruff's C901 checks the latter too)
MODULE_LINES_MAX = 500

#: every module of the package (Alembic's migration scripts are not modules but data)
MODULES = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if p.name != "__main__.py" and "migrations" not in p.relative_to(PACKAGE).parts
)


def _stage(path: Path) -> str:
    """Return the stage of a module: its subpackage, or its own name at the top."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """Return (stages, top-level third-party names) a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = list(path.relative_to(PACKAGE).parent.parts)
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                names = [*base, *(node.module.split(".") if node.module else [])]
                if names:
                    internal.add(names[0])
                else:  # from . import x at the top
                    internal.update(alias.name for alias in node.names)
            elif node.module:
                top = node.module.split(".")[0]
                if top == "generator":
                    internal.add(node.module.split(".")[1] if "." in node.module else "")
                else:
                    external.add(top)
        elif isinstance(node, ast.Import):
            external.update(alias.name.split(".")[0] for alias in node.names)
    return internal, external


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_stages_below(path: Path) -> None:
    internal, external = _imports(path)
    stage = _stage(path)
    if stage == "__init__.py" or path == PACKAGE / "__init__.py":
        return  # the public API gathers from every stage
    assert stage in ALLOWED, f"{stage}: a stage the layering does not know"
    assert internal - {stage} <= ALLOWED[stage], internal - {stage} - ALLOWED[stage]
    for package, owners in OWNERS.items():
        if package in external:
            assert stage in owners, f"{stage} imports {package}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_the_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_LINES_MAX, f"{lines} lines"


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if not p.name.startswith("_") or p.name == "__init__.py"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_every_module_declares_its_public_names(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    declared = None
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                assert node.value is not None
                declared = ast.literal_eval(node.value)
    assert declared is not None, "no __all__"
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    assigned = {
        t.id
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    missing = set(declared) - defined - assigned - imported
    assert not missing, f"__all__ names what the module lacks: {missing}"


def test_the_set_s_documents_are_declared_once() -> None:
    # A kind or a title as a string in code is a second list of the documents: only the
    # registry has them (prose in docstrings aside).
    from ..builtin import DOCUMENTS, KIND

    Contract = KIND.model

    words = {doc.kind for doc in DOCUMENTS} | {doc.title for doc in DOCUMENTS}
    words -= set(Contract.model_fields)  # acceptance_plan is also the data's key
    registry = PACKAGE / "domain" / "documents.py"
    for path in MODULES:
        if path == registry:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not found & words, f"{path.relative_to(PACKAGE)} lists {found & words}"


def test_only_the_office_stage_runs_libreoffice() -> None:
    for path in MODULES:
        if _stage(path) != "office":
            assert "soffice" not in path.read_text(encoding="utf-8"), path


def test_the_app_module_of_the_service_is_thin() -> None:
    app = PACKAGE / "service" / "app.py"
    lines = len(app.read_text(encoding="utf-8").splitlines())
    assert lines <= 250, f"service/app.py has {lines} lines"
