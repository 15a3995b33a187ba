"""How the service runs: the one :class:`Settings` that ``serve`` and ``create_app`` take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """How the service runs: address, workers, token, limits, templates, logs."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: LibreOffice workers (None: one per core); ``2 * workers`` requests render at once
    workers: int | None = None
    #: the single bearer token (the user 服务令牌); None: none
    token: str | None = None
    #: the users file: named users, each with a token of their own (None: none)
    users: Path | None = None
    #: names a request's Host may give beyond the listening address and loopback's
    allowed_hosts: tuple[str, ...] = ()
    #: listen beyond loopback without a token or users (refused unless this is set)
    insecure_no_auth: bool = False
    #: seconds without a request after which a workbench session ends (sliding)
    session_idle: int = 30 * 60
    #: largest request body in bytes
    max_body: int = 1 << 20
    #: seconds a request may take, waiting included (also bounds one conversion)
    timeout: float = 120.0
    #: requests that may wait for a rendering slot (None: as many as there are slots)
    queue: int | None = None
    #: the level the service logs at (:data:`generator.logs.LEVELS`; access lines at "info")
    log_level: str = "info"
    #: how lines are written: "plain" (``key=value``) or "json" (one object a line)
    log_format: str = "plain"
    #: sets kept in memory by input hash (see :class:`~generator.pipeline.Generator`); 0: none
    cached_sets: int = 8
    #: seconds a client has to send a request's head, and then its body
    read_timeout: float = 15.0
    #: open connections at most (None: what the file-descriptor limit allows, up to 1000)
    max_connections: int | None = None
    #: a folder of the office's own templates (None: the built-in ones)
    templates: Path | None = None
    #: the URL of the ledger every set made is recorded in (None: none)
    ledger: str | None = None
    #: the Celery broker (Redis) of the asynchronous jobs, ``/v1/jobs`` (None: no jobs)
    broker: str | None = None
    #: the folder the workers write jobs' sets to, shared with them (None: the user's data)
    jobs_dir: Path | None = None
    #: the key callbacks are signed with (HMAC-SHA256); None: the token, if any
    callback_key: bytes | None = None
