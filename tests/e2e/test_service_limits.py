"""The service under hostile connections: half-sent requests, many sockets, huge answers.

The server runs in its own process with its open-file limit lowered to 256 (as on a
small host), and real sockets to 127.0.0.1 play the clumsy or hostile client.
"""

from __future__ import annotations

import json
import resource
import selectors
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .test_service import Server, start_server, stop_server

#: the server's open-file limit, soft and hard: fewer than the sockets opened below
SERVER_FILES = 256
#: half-sent requests opened at once
SOCKETS = 300
#: seconds the server gives a client to send its request head, then its body
READ_TIMEOUT = 2
JSON_TYPE = {"Content-Type": "application/json"}

#: runs ``python -m generator serve ARGS`` with the open-file limit lowered first
LAUNCHER = (
    "import os, resource, sys; "
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({SERVER_FILES}, {SERVER_FILES})); "
    "os.execv(sys.executable, [sys.executable, '-m', 'generator', 'serve', *sys.argv[1:]])"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a one-worker service with few files and a short read timeout."""
    started = start_server(
        tmp_path_factory.mktemp("limits"),
        "--workers",
        "1",
        "--read-timeout",
        str(READ_TIMEOUT),
        "--max-body",
        str(1 << 20),
        launcher=[sys.executable, "-c", LAUNCHER],
    )
    try:
        yield started
    finally:
        stop_server(started)


def _enough_files(count: int) -> None:
    """Raise this process's open-file limit to hold ``count`` more sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))


def _half_sent(port: int, index: int) -> socket.socket:
    """Return a connection that sent part of a request: most a head, some a body."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if index % 5:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    else:
        sock.sendall(
            b"POST /v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"contract_no": '
        )
    sock.setblocking(False)
    return sock


def _closed_by_server(socks: list[socket.socket], deadline: float) -> list[socket.socket]:
    """Return the sockets the server has not closed by ``deadline`` (reading what it sends)."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    open_ = set(socks)
    while open_ and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError) as exc:
                if isinstance(exc, BlockingIOError):
                    continue
                data = b""
            if not data:
                selector.unregister(sock)
                open_.discard(sock)
    selector.close()
    return list(open_)


@pytest.mark.slow
def test_half_sent_requests_are_closed_and_healthz_answers(server: Server) -> None:
    _enough_files(SOCKETS)
    port = int(server.url.rsplit(":", 1)[1])
    socks = [_half_sent(port, index) for index in range(SOCKETS)]
    try:
        # More half-sent requests than the server has files: it still answers at once.
        response = httpx.get(f"{server.url}/healthz", timeout=5)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        left = _closed_by_server(socks, time.monotonic() + READ_TIMEOUT + 15)
        assert left == [], f"{len(left)} of {SOCKETS} half-sent requests still open"
    finally:
        for sock in socks:
            sock.close()
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_slow_body_gets_408_and_the_connection_closes(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT + 15) as sock:
        sock.sendall(
            b"POST /v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert b"connection: close" in head.lower()
    assert json.loads(body)["type"].endswith("/request-timeout")


def test_validate_answer_is_bounded(server: Server) -> None:
    # ~1 MB of data with 30,000 unknown fields, one with a 100 kB name, and a huge value.
    data: dict[str, Any] = {f"unknown_{n}": "x" for n in range(30_000)}
    data["k" * 100_000] = 1
    data["project_name"] = "项" * 60_000
    body = json.dumps(data, ensure_ascii=False).encode()
    assert len(body) < 1 << 20
    response = httpx.post(f"{server.url}/v1/validate", content=body, headers=JSON_TYPE, timeout=60)
    assert response.status_code == 200
    assert len(response.content) < 100_000
    answer = response.json()
    assert answer["valid"] is False
    assert len(answer["issues"]) == 100
    assert answer["omitted_issues"] >= 30_000 - 100
    for issue in answer["issues"]:
        assert len(issue["path"]) <= 200 and len(issue["message"]) <= 200
    # The body limit still applies.
    too_big = httpx.post(
        f"{server.url}/v1/validate", content=b" " * ((1 << 20) + 1), headers=JSON_TYPE
    )
    assert too_big.status_code == 413
