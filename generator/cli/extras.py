"""The package's optional parts: which extra a command needs, refused in Chinese without it.

``pip install contractgen`` is the library and the command line (its SQLite ledger
included); the HTTP service, the job queue, a PostgreSQL ledger and taking signed
copies back (``ledger signed``) come with the extras ``contractgen[service]``,
``contractgen[queue]``, ``contractgen[postgres]`` and ``contractgen[signing]``. A command
that needs one that is not installed stops before it starts anything, naming it.
"""

from __future__ import annotations

import importlib.util

from ..errors import UsageError

__all__ = ["EXTRAS", "missing_modules", "require", "require_ledger"]

#: each extra, what it is for, and the modules it installs (those the package imports)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "service": (
        "HTTP 服务与工作台",
        ("fastapi", "starlette", "anyio", "uvicorn", "h11", "prometheus_client"),
    ),
    "queue": ("Celery 工作进程与异步任务", ("celery", "kombu", "redis", "httpx")),
    "postgres": ("PostgreSQL 合同台账", ("psycopg",)),
    "signing": ("签署件登记（核验签名与改动）", ("pyhanko", "pyhanko_certvalidator")),
}


def missing_modules(extra: str) -> list[str]:
    """Return the modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRAS[extra][1] if importlib.util.find_spec(name) is None]


def require(extra: str) -> None:
    """Raise :class:`UsageError` naming ``extra`` when any of its modules is missing."""
    missing = missing_modules(extra)
    if missing:
        purpose = EXTRAS[extra][0]
        raise UsageError(
            f"{purpose}需要安装 contractgen[{extra}]（缺少 {'、'.join(missing)}）："
            f"pip install 'contractgen[{extra}]'"
        )


def require_ledger(url: str | None) -> None:
    """Require ``contractgen[postgres]`` for a PostgreSQL ledger URL; SQLite needs nothing."""
    scheme = (url or "").split(":", 1)[0].split("+", 1)[0].lower()
    if scheme in {"postgresql", "postgres"}:
        require("postgres")
