"""What ``kinds check`` finds in a kind folder that the declaration's own schema cannot.

Every path the envelope, the rules, ``shares`` and the withholding defaults
name must be a declared field; every default must be a value of its field's
type; every computed value must parse. Each problem names the file, the key
path and the line.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import KindProblem
from .declaration import DECLARATION
from .fields import FieldDef, default_problem
from .kind import ContractKind

__all__ = ["declaration_path", "declaration_problems", "used_paths"]


def _problem(
    kind: ContractKind, path: tuple[str | int, ...], message: str, code: str
) -> KindProblem:
    line = kind.lines.get(path) or kind.lines.get(path[:-1], 1)
    dotted = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path)
    return (str(kind.folder / DECLARATION), dotted.replace(".[", "["), line, message, code)


_UNKNOWN = "kind.path.unknown"


def declaration_problems(kind: ContractKind) -> Iterator[KindProblem]:
    """Yield every problem of a declaration that names what it does not declare."""
    known = kind.data_paths
    for role, path in kind.spec.envelope.model_dump().items():
        if path is not None and path not in known:
            yield _problem(kind, ("envelope", role), f"未声明的字段“{path}”", _UNKNOWN)
    for n, rule in enumerate(kind.rules):
        for path in rule.paths:
            if path not in known:
                message = f"规则 {rule.name} 引用了未声明的字段“{path}”"
                yield _problem(kind, ("rules", n), message, _UNKNOWN)
    for key in ("withhold", "withhold_mobile"):
        for n, path in enumerate(getattr(kind.spec.publication, key)):
            if path not in known:
                yield _problem(kind, ("publication", key, n), f"未声明的字段“{path}”", _UNKNOWN)
    for n, doc in enumerate(kind.spec.documents):
        if doc.attachment and doc.seals:
            message = "附件不单独盖章：声明了 attachment: true 就不能再有 seals"
            yield _problem(kind, ("documents", n, "seals"), message, "kind.attachment.sealed")
    for definition in kind.by_path.values():
        yield from _field_problems(kind, definition)


def _field_problems(kind: ContractKind, definition: FieldDef) -> Iterator[KindProblem]:
    where = declaration_path(definition.path)
    problem = default_problem(definition)
    if problem:
        yield _problem(kind, (*where, "default"), problem, "kind.default.invalid")
    spec = definition.spec
    if spec.type == "choice" and not spec.choices:
        yield _problem(kind, where, "choice 类型须给出 choices", "kind.choices.missing")
    if spec.type in ("object", "list") and not (spec.fields or spec.item):
        yield _problem(kind, where, f"{spec.type} 类型须给出 fields", "kind.fields.missing")
    for role, target in (spec.shares or {}).items():
        full = target if role == "of" else f"{definition.path}.{target}"
        if full not in kind.data_paths:
            yield _problem(kind, (*where, "shares", role), f"未声明的字段“{target}”", _UNKNOWN)


def declaration_path(path: str) -> tuple[str, ...]:
    """Return where a field's data path is declared: ``a.b`` is ``fields.a.fields.b``."""
    out: list[str] = []
    for part in path.split("."):
        out += ["fields", part]
    return tuple(out)


def used_paths(kind: ContractKind, variables: set[str]) -> set[str]:
    """Return the data paths the templates, computed values and notice texts read."""
    used: set[str] = set()
    for variable in variables:
        for source in kind.sources.get(variable, (variable.replace("[]", ""),)):
            used.add(source)
    for reads in kind.computed.reads.values():
        used.update(read.replace("[]", "") for read in reads)
    return used
