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

__all__ = ["SOCKET_SECONDS", "in_words", "reaching"]

P = ParamSpec("P")
R = TypeVar("R")


#: what Redis (or Celery, or kombu, on it) raises when it cannot be reached in time
_AWAY: tuple[type[BaseException], ...] = (redis.RedisError, KombuOperationalError, OSError)


#: what Redis's client says, as a clerk reads it (lower case, as found in its message)
_REASONS = {
    "connection refused": "连接被拒绝（Redis 未运行，或地址、端口有误）",
    "timed out": "连接超时",
    "timeout": "连接超时",
    "name or service not known": "主机名无法解析",
    "temporary failure in name resolution": "主机名无法解析",
    "connection reset": "连接被对方断开",
    "connection closed": "连接被对方断开",
    "wrongpass": "用户名或密码不对",
    "invalid password": "用户名或密码不对",
    "authentication required": "需要密码，但未提供",
    "retry limit exceeded": "多次重新连接仍未成功",
    "loading": "Redis 正在载入数据，尚不能使用",
}


def in_words(exc: BaseException) -> str:
    """Return why Redis could not be reached, in Chinese where the client's reason is known."""
    said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = said.lower()
    for known, words in _REASONS.items():
        if known in lowered:
            return words
    return said


def _unreachable(broker: str, exc: BaseException) -> QueueError:
    """Return the error of a broker that could not be reached (its URL masked)."""
    reason = in_words(exc)
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
