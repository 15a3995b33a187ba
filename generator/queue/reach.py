"""Redis out of reach, as the job store says it: :class:`QueueError` ``queue.unreachable``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import redis
from kombu.exceptions import OperationalError as KombuOperationalError

from ..errors import QueueError
from ..ledger import masked
from .app import SOCKET_SECONDS

__all__ = ["SOCKET_SECONDS", "reaching"]

P = ParamSpec("P")
R = TypeVar("R")


#: what Redis (or Celery, or kombu, on it) raises when it cannot be reached in time
_AWAY: tuple[type[BaseException], ...] = (redis.RedisError, KombuOperationalError, OSError)


def _unreachable(broker: str, exc: BaseException) -> QueueError:
    """Return the error of a broker that could not be reached (its URL masked)."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return QueueError(
        f"消息代理（Redis）暂时无法连接：{reason}", code="queue.unreachable", url=masked(broker)
    )


def reaching(method: Callable[P, R]) -> Callable[P, R]:
    """Have a :class:`JobStore` method raise :class:`QueueError` when Redis cannot be reached.

    ``queue.unreachable``, within about :data:`SOCKET_SECONDS`: the service answers 503.
    """

    @functools.wraps(method)
    def reached(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except QueueError:
            raise
        except _AWAY as exc:
            raise _unreachable(getattr(args[0], "broker", ""), exc) from exc
        except RuntimeError as exc:  # Celery's result consumer that could not reconnect
            if "Retry limit exceeded" not in str(exc):
                raise
            raise _unreachable(getattr(args[0], "broker", ""), exc) from exc

    return reached
