"""A lost worker's jobs run again soon: heartbeats on the jobs a worker holds, and a reaper.

Redis keeps a job a worker has taken but not acknowledged in kombu's ``unacked``
hash, and when it was taken in ``unacked_index`` (a sorted set); kombu gives it
back to the queue only after the visibility timeout (an hour: above any job). A
worker whose whole machine is lost (its process group killed, out of memory, the
power cut) acknowledges nothing and says nothing, so its jobs would wait that hour.

So every worker's main process runs a :class:`Keeper` thread which, every
:data:`HEARTBEAT_SECONDS`:

* renews the time of every job it holds (received or running) in
  ``unacked_index``: a held job's time is never older than a heartbeat;
* gives back to the queue every job whose time is older than
  :data:`LOST_SECONDS` (its worker has not beaten for that long: it is gone),
  under kombu's own restore (one transaction per job, so two reapers never give
  one job back twice), and counts that in ``contractgen:lost:<task id>``.

A job found done (its outcome stored: its acknowledgement was lost, as with a
Redis restarted under its worker) is not given back but acknowledged here. A job
given back was lost with its machine, not killed by what it runs:
:func:`generator.queue.worker.make_job` subtracts these from its delivery count,
so they never count toward the poison limit. A job whose worker was only
slow, not lost, is made twice: the same folder, the same ledger version.

The bound: a lost worker's jobs are back in the queue within ``LOST_SECONDS +
HEARTBEAT_SECONDS`` (18 s) of its last heartbeat, provided one worker is left
(or one is started again) to run a keeper.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis
from celery import Celery
from celery.states import READY_STATES
from celery.worker import state
from kombu.transport.redis import Mutex, MutexHeld

from .app import stored_states

__all__ = ["HEARTBEAT_SECONDS", "LOST_SECONDS", "Keeper", "count_lost", "lost_count"]

#: seconds between two heartbeats (and two looks for lost jobs)
HEARTBEAT_SECONDS = 3.0
#: seconds without a heartbeat after which a taken job is given back to the queue
LOST_SECONDS = 15.0
#: kombu's Redis transport: the hash of taken jobs and the sorted set of when
_UNACKED, _UNACKED_INDEX = "unacked", "unacked_index"
_log = logging.getLogger("contractgen.worker")


def _lost_key(task_id: str) -> str:
    return f"contractgen:lost:{task_id}"


def lost_count(client: redis.Redis, task_id: str) -> int:
    """Return how many times a job was given back (or sent again) after it was lost."""
    return int(client.get(_lost_key(task_id)) or 0)


def count_lost(client: redis.Redis, task_id: str) -> None:
    """Count one delivery of a job that is no doing of its own (its worker or Redis lost it)."""
    client.incr(_lost_key(task_id))
    client.expire(_lost_key(task_id), 7 * 24 * 3600)


def _held_tags() -> list[str]:
    """Return the delivery tags of the jobs this worker has received and not finished."""
    for _ in range(3):  # the sets change under the consumer's thread: read them again
        try:
            held = list(state.reserved_requests) + list(state.active_requests)
            break
        except RuntimeError:
            continue
    else:
        return []
    tags = set()
    for request in held:
        info: dict[str, Any] = getattr(request, "delivery_info", None) or {}
        message = getattr(request, "message", None)
        tag = info.get("delivery_tag") or getattr(message, "delivery_tag", None)
        if tag:
            tags.add(str(tag))
    return sorted(tags)


class Keeper(threading.Thread):
    """The heartbeat and the reaper of one worker (a daemon thread of its main process)."""

    def __init__(self, app: Celery, broker: str) -> None:
        super().__init__(name="contractgen-keeper", daemon=True)
        self.app = app
        self.redis = redis.Redis.from_url(broker, socket_timeout=5, socket_connect_timeout=5)
        self.stopping = threading.Event()

    def run(self) -> None:
        """Beat and reap until stopped; Redis away is waited out (the next beat tries again)."""
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            try:
                self.beat()
                self.reap()
            except redis.RedisError as exc:
                _log.warning("keeper: Redis not reached: %r", exc)
            except Exception:  # the keeper must outlive anything one round of it meets
                _log.exception("keeper: round failed")

    def stop(self) -> None:
        """Stop after the current round."""
        self.stopping.set()

    def beat(self) -> None:
        """Renew the time of every job this worker holds (only those still taken)."""
        tags = _held_tags()
        if tags:
            now = time.time()
            self.redis.zadd(_UNACKED_INDEX, dict.fromkeys(tags, now), xx=True)

    def reap(self) -> list[str]:
        """Give back every job whose worker has not beaten for LOST_SECONDS; return their ids."""
        ceiling = time.time() - LOST_SECONDS
        stale = [
            tag.decode() if isinstance(tag, bytes) else str(tag)
            for tag in self.redis.zrangebyscore(_UNACKED_INDEX, 0, ceiling)
        ]
        given: list[str] = []
        if not stale:
            return given
        try:
            with (
                Mutex(self.redis, "contractgen:reaper", 60),
                self.app.connection_for_write() as connection,
            ):
                self._give_back(connection.default_channel.qos, stale, given)
        except MutexHeld:
            pass  # another worker's keeper is at it
        return given

    def _give_back(self, qos: Any, stale: list[str], given: list[str]) -> None:
        for tag in stale:
            raw = self.redis.hget(_UNACKED, tag)
            if raw is None:
                continue  # acknowledged meanwhile
            task_id = str(json.loads(raw)[0].get("headers", {}).get("id", tag))
            meta = stored_states(self.app, [task_id]).get(task_id)
            if meta is not None and meta["status"] in READY_STATES:
                # done, its acknowledgement lost (a Redis restarted under it): acknowledged here
                with self.redis.pipeline() as pipe:
                    pipe.zrem(_UNACKED_INDEX, tag)
                    pipe.hdel(_UNACKED, tag)
                    pipe.execute()
                _log.info("job %s acknowledged for its worker: its outcome is stored", task_id)
                continue
            count_lost(self.redis, task_id)
            qos.restore_by_tag(tag, leftmost=True)
            given.append(task_id)
            _log.warning(
                "job %s given back to the queue: its worker not heard from for %g s",
                task_id,
                LOST_SECONDS,
            )
