"""Why Redis could not be reached is said in Chinese, from what its client really raises."""

from __future__ import annotations

import socket

import pytest
import redis

from generator.queue.reach import in_words


def _closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening: connecting is refused at once
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_said_in_chinese() -> None:
    client = redis.Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=2)
    with pytest.raises(redis.ConnectionError) as caught:
        client.ping()
    assert in_words(caught.value) == "连接被拒绝（Redis 未运行，或地址、端口有误）"


def test_an_unknown_reason_is_kept_as_the_client_said_it() -> None:
    assert in_words(redis.ResponseError("ERR 某个新的错误")) == "ERR 某个新的错误"
    assert in_words(OSError()) == "OSError"
