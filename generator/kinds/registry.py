"""Where kinds come from: the built-in folder, and an office's own folders of kind folders.

The built-in kinds are the top-level ``templates/`` of a checkout (copied into
the wheel as ``generator/kinds/builtin``). An office adds its own with
``--kinds DIR``, the environment variable ``CONTRACTGEN_KINDS`` (folders joined
by ``:``) or :func:`registry` — each a folder of kind folders. Data names its
kind with ``kind:``; data without it is of the built-in O&M kind.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidContractError, Issue, KindError, UnknownKindError
from .declaration import DECLARATION
from .kind import ContractKind, load_kind
from .model import Contract

__all__ = [
    "BUILTIN_DIR",
    "DEFAULT_KIND",
    "ENVIRONMENT",
    "Registry",
    "check",
    "default_kind",
    "json_schema",
    "kind_of",
    "parse",
    "registry",
    "validate",
]

_HERE = Path(__file__).resolve().parent
#: the built-in kinds: the checkout's templates/, or their copy inside an installed wheel
BUILTIN_DIR = (
    _HERE / "builtin" if (_HERE / "builtin").is_dir() else _HERE.parent.parent / "templates"
)
#: the kind of data that names none: the O&M service set the program began with
DEFAULT_KIND = "om_service"
#: the environment variable naming an office's folders of kinds
ENVIRONMENT = "CONTRACTGEN_KINDS"


def _folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise KindError([(str(root), "", 0, "不是文件夹", "kind.folder")])
    if (root / DECLARATION).is_file():
        return [root]
    return sorted(p for p in root.iterdir() if (p / DECLARATION).is_file())


class Registry:
    """The kinds a program knows: built-in first, then an office's, each id once."""

    def __init__(self, folders: Sequence[Path] = ()) -> None:
        self.folders = tuple(Path(f) for f in folders)
        kinds: dict[str, ContractKind] = {}
        for folder in _folders(BUILTIN_DIR):
            kind = load_kind(folder, built_in=True)
            kinds[kind.id] = kind
        for root in self.folders:
            for folder in _folders(root):
                kind = load_kind(folder)
                if kind.id in kinds:
                    line = kind.lines.get(("id",), 1)
                    raise KindError(
                        [
                            (
                                str(folder / DECLARATION),
                                "id",
                                line,
                                f"合同类型“{kind.id}”已由 {kinds[kind.id].folder} 声明",
                                "kind.id.taken",
                            )
                        ]
                    )
                kinds[kind.id] = kind
        self.kinds = kinds

    def __iter__(self) -> Any:
        return iter(self.kinds.values())

    def get(self, kind_id: str | None = None) -> ContractKind:
        """Return a kind by id (the default kind for None); raise UnknownKindError."""
        try:
            return self.kinds[kind_id or DEFAULT_KIND]
        except KeyError:
            raise UnknownKindError(str(kind_id), list(self.kinds)) from None

    @property
    def default(self) -> ContractKind:
        """Return the kind of data that names none."""
        return self.get(DEFAULT_KIND)

    def of(self, data: Any) -> ContractKind:
        """Return the kind raw data names with ``kind:`` (the default when it names none)."""
        name = data.get("kind") if isinstance(data, Mapping) else None
        if name in (None, ""):
            return self.default
        if not isinstance(name, str) or name not in self.kinds:
            raise UnknownKindError(str(name), list(self.kinds))
        return self.kinds[name]

    def check(self, data: Any) -> tuple[Contract | None, list[Issue]]:
        """Return the contract of raw data of any known kind, and every issue found."""
        try:
            kind = self.of(data)
        except UnknownKindError as exc:
            return None, [Issue("kind", "kind.unknown", str(exc))]
        return kind.check(data)

    def parse(self, data: Any, source: str | None = None) -> Contract:
        """Return the contract of raw data of any known kind, or raise InvalidContractError."""
        contract, issues = self.check(data)
        if contract is None:
            raise InvalidContractError(issues, source)
        return contract


_registries: dict[tuple[Path, ...], Registry] = {}
_lock = threading.Lock()


def _environment_folders() -> list[Path]:
    value = os.environ.get(ENVIRONMENT, "")
    return [Path(part) for part in value.split(os.pathsep) if part]


def registry(folders: Iterable[Path] | None = None) -> Registry:
    """Return the kinds of the built-in folder and ``folders`` (or $CONTRACTGEN_KINDS), cached."""
    key = tuple(p.resolve() for p in (_environment_folders() if folders is None else list(folders)))
    with _lock:
        if key not in _registries:
            _registries[key] = Registry(key)
        return _registries[key]


def default_kind() -> ContractKind:
    """Return the built-in O&M kind."""
    return registry(()).default


def kind_of(data: Any) -> ContractKind:
    """Return the kind raw data names, among the built-in and the environment's kinds."""
    return registry().of(data)


def parse(data: Any, source: str | None = None) -> Contract:
    """Return the contract of raw data of any kind; raise InvalidContractError with every issue."""
    return registry().parse(data, source)


def validate(data: Any) -> list[Issue]:
    """Return every issue in raw data of any kind (an empty list when it is valid)."""
    return registry().check(data)[1]


def check(data: Any) -> tuple[Contract | None, list[Issue]]:
    """Return the contract of raw data of any kind (None when invalid) and every issue."""
    return registry().check(data)


def json_schema(kind: str | None = None) -> dict[str, Any]:
    """Return the JSON Schema of a kind's data (the default kind's when None)."""
    return registry().get(kind).json_schema()
