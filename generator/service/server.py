"""Running the service: uvicorn with the guarded connections, stopped cleanly by a signal.

Logging is :mod:`generator.logs`'s, configured before uvicorn starts: uvicorn is
given no configuration of its own (its lines go to the one handler) and no access
log (the application writes its own, with the request id and without query strings).
"""

from __future__ import annotations

import contextlib
import signal

from .. import logs
from .app import create_app
from .connections import connection_limits, guarded_protocol
from .settings import Settings

__all__ = ["serve"]


def serve(settings: Settings) -> int:
    """Run the service under uvicorn until SIGINT or SIGTERM; return 0 after a clean stop."""
    import uvicorn

    logs.configure(settings.log_level, settings.log_format)
    max_connections, backlog = connection_limits(settings)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.timeout) + 1,
        server_header=False,
        http=guarded_protocol(settings.read_timeout, max_connections),
        backlog=backlog,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has shut down; a stop
    # asked for is a clean exit here, so the re-raised signal is swallowed.
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except SystemExit as exc:  # uvicorn's way to give up, e.g. the port is taken (logged)
        return 1 if exc.code else 0
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, old)
    return 0 if server.started else 1


def _ignore(signum: int, frame: object) -> None:
    """Swallow a signal."""
