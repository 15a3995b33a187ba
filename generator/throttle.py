"""Failed attempts counted in a sliding window: sign-ins to the workbench, wrong API tokens."""

from __future__ import annotations

import math
import time
from collections import deque

__all__ = ["WINDOW", "Limiter"]

#: the window failures are counted in, in seconds
WINDOW = 60.0


class Limiter:
    """Failed attempts by key (a client address, a login) in a sliding window, this process's."""

    def __init__(self, most: int, window: float = WINDOW) -> None:
        self.most = most
        self.window = window
        self._failed: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failed.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def wait(self, keys: list[str]) -> int:
        """Return the seconds until any of ``keys`` may try again (0: now)."""
        now = time.monotonic()
        waits = [
            self.window - (now - times[0])
            for times in (self._recent(k, now) for k in keys)
            if len(times) >= self.most
        ]
        if len(self._failed) > 10_000:  # bounded: the keys with nothing recent go
            for key in [k for k, t in self._failed.items() if not self._recent(k, now)]:
                del self._failed[key]
        return math.ceil(max(waits)) if waits else 0

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key, now).append(now)
