"""Named users for real: a users file, a real ``contractgen serve``, real HTTP and a real ledger.

One server (one office) serves the module; each user's calls are recorded under
their name, the workbench's session names its user, 退出 ends the session, and
the service refuses what it must before it binds any address.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..conftest import ROOT
from .test_service import Server, start_server, stop_server

SECRET = "people-session-secret-0123456789abcdef"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CONTRACTGEN_TOKEN"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    """Return the service with a users file of two users, and their tokens by login."""
    folder = tmp_path_factory.mktemp("people")
    users = folder / "users.json"
    tokens = {}
    for login, name in (("zhangsan", "张三"), ("lisi", "李四")):
        done = _cli("users", "add", login, "--name", name, "--users", str(users))
        assert done.returncode == 0, done.stderr
        tokens[login] = done.stdout.strip()
        assert tokens[login] not in users.read_text(encoding="utf-8")  # only its hash
    assert users.stat().st_mode & 0o777 == 0o600
    listed = _cli("users", "list", "--users", str(users))
    assert "zhangsan\t张三" in listed.stdout and tokens["lisi"] not in listed.stdout
    ledger = f"sqlite:///{folder / 'ledger.db'}"
    os.environ["CONTRACTGEN_SESSION_SECRET"] = SECRET  # the server's environment is ours
    try:
        started = start_server(folder, "--workers", "1", "--ledger", ledger, "--users", str(users))
    finally:
        del os.environ["CONTRACTGEN_SESSION_SECRET"]
    try:
        yield started, tokens
    finally:
        stop_server(started)


def _numbered(seed_data: dict[str, Any], number: str) -> bytes:
    data = copy.deepcopy(seed_data)
    data["contract_no"] = number
    return json.dumps(data, ensure_ascii=False).encode()


def test_each_users_calls_are_recorded_under_their_name(
    people: tuple[Server, dict[str, str]], seed_data: dict[str, Any]
) -> None:
    server, tokens = people
    for login, name, number in (("zhangsan", "张三", "PEOPLE-1"), ("lisi", "李四", "PEOPLE-2")):
        bearer = {"Authorization": f"Bearer {tokens[login]}", "Content-Type": "application/json"}
        made = httpx.post(
            f"{server.url}/v1/contracts/service_contract.pdf?issue=true",
            content=_numbered(seed_data, number),
            headers=bearer,
            timeout=300,
        )
        assert made.status_code == 200, made.text
        history = httpx.get(
            f"{server.url}/v1/ledger/sets/{number}/history", headers=bearer, timeout=60
        )
        assert history.status_code == 200, history.text
        actors = {event["actor"] for event in history.json()["events"]}
        assert actors == {f"{name}（{login}）"}
    wrong = httpx.get(f"{server.url}/v1/schema", headers={"Authorization": "Bearer " + "x" * 43})
    assert wrong.status_code == 401


def test_six_wrong_sign_ins_are_refused_with_429(people: tuple[Server, dict[str, str]]) -> None:
    server, tokens = people

    def client(address: str) -> httpx.Client:
        # from an address of its own (127.0.0.0/8 is all loopback): 127.0.0.1 stays free
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=server.url, transport=transport, timeout=60)

    with client("127.0.0.2") as guesser:
        csrf = guesser.get("/login").cookies["contractgen_csrf"]
        said = [
            guesser.post("/login", data={"login": "zhangsan", "token": f"guess-{n}", "csrf": csrf})
            for n in range(6)
        ]
    assert [answer.status_code for answer in said] == [401] * 5 + [429]
    assert int(said[-1].headers["retry-after"]) > 0 and "登录失败次数过多" in said[-1].text
    with client("127.0.0.3") as elsewhere:  # the login is held too, from any address
        csrf = elsewhere.get("/login").cookies["contractgen_csrf"]
        right = {"login": "zhangsan", "token": tokens["zhangsan"], "csrf": csrf}
        assert elsewhere.post("/login", data=right).status_code == 429


def test_thirty_wrong_bearer_tokens_hold_the_address_with_429(
    people: tuple[Server, dict[str, str]],
) -> None:
    server, tokens = people
    transport = httpx.HTTPTransport(local_address="127.0.0.4")  # 127.0.0.1 stays free
    with httpx.Client(base_url=server.url, transport=transport, timeout=60) as guesser:
        said = [
            guesser.get("/v1/schema", headers={"Authorization": f"Bearer guess-{n:040d}"})
            for n in range(31)
        ]
        # held: the right token too, or the refusal would tell a right guess from a wrong one
        right = guesser.get("/v1/schema", headers={"Authorization": f"Bearer {tokens['lisi']}"})
    assert [answer.status_code for answer in said] == [401] * 30 + [429]
    for held in (said[-1], right):
        assert held.status_code == 429
        assert int(held.headers["retry-after"]) > 0
        assert held.json()["code"] == "auth.too_many_failures"
        assert "错误令牌过多" in held.json()["detail"]
    bearer = {"Authorization": f"Bearer {tokens['lisi']}"}
    assert httpx.get(f"{server.url}/v1/schema", headers=bearer).status_code == 200  # elsewhere


def test_the_workbench_session_names_its_user_and_ends_on_logout(
    people: tuple[Server, dict[str, str]],
) -> None:
    server, tokens = people
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
        csrf = client.get("/login").cookies["contractgen_csrf"]
        wrong = client.post(
            "/login", data={"login": "lisi", "token": tokens["zhangsan"], "csrf": csrf}
        )
        assert wrong.status_code == 401  # another user's token under this login
        good = client.post("/login", data={"login": "lisi", "token": tokens["lisi"], "csrf": csrf})
        assert good.status_code == 303, good.text
        session = client.cookies["contractgen_session"]
        assert client.get("/ledger").status_code == 200
        # the sign-in page's token is done with: the session has its own, bound to it
        assert client.post("/logout", data={"csrf": csrf}).status_code == 403
        bound = client.cookies["contractgen_csrf"]
        assert bound != csrf
        # a tossed cookie (another site's) with a token of its choosing does not pass
        tossed = {"contractgen_session": session, "contractgen_csrf": "A" * 43}
        with httpx.Client(base_url=server.url, cookies=tossed, timeout=60) as attacker:
            assert attacker.post("/logout", data={"csrf": "A" * 43}).status_code == 403
        assert client.post("/logout", data={"csrf": bound}).status_code == 303
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as replay:
        replay.cookies.set("contractgen_session", session)
        again = replay.get("/ledger")
        assert again.status_code == 303 and again.headers["location"] == "/login"


def test_a_host_not_the_services_is_refused(people: tuple[Server, dict[str, str]]) -> None:
    server, tokens = people
    bearer = {"Authorization": f"Bearer {tokens['lisi']}"}
    rebound = httpx.get(f"{server.url}/v1/schema", headers={**bearer, "Host": "evil.example"})
    assert rebound.status_code == 421 and rebound.json()["code"] == "host.not_allowed"
    assert httpx.get(f"{server.url}/ledger", headers={"Host": "evil.example:80"}).status_code == 421
    assert httpx.get(f"{server.url}/healthz", headers={"Host": "10.0.0.9"}).status_code == 200
    named = httpx.get(f"{server.url}/v1/schema", headers={**bearer, "Host": "localhost"})
    assert named.status_code == 200


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (("--host", "0.0.0.0"), {}, "拒绝在 0.0.0.0 上无认证监听"),
        ((), {"CONTRACTGEN_TOKEN": ""}, "为空"),
        ((), {"CONTRACTGEN_TOKEN": "short-token"}, "过短"),
    ],
)
def test_the_service_refuses_to_start_without_real_authentication(
    args: tuple[str, ...], env: dict[str, str], said: str
) -> None:
    # refused before anything starts: no office, no ledger, no socket bound
    # (a missing templates folder stops it next, should the check ever be skipped)
    done = _cli("serve", "--port", "1", "--no-ledger", "--templates", "/no-such", *args, env=env)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr


def _session(users: Path, login: str, issued: float, seen: float | None = None) -> str:
    """Return a session cookie as the service signs it with :data:`SECRET`, last seen then."""
    entry = next(u for u in json.loads(users.read_text("utf-8"))["users"] if u["login"] == login)
    printed = hashlib.sha256(entry["token"].encode()).hexdigest()[:16]
    last = int(issued if seen is None else seen)
    body = f"{login}|nonce-of-the-test|{int(issued)}|{printed}|{last}"
    key = hashlib.sha256(b"contractgen session\n" + SECRET.encode()).digest()
    return f"{body}|{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}"


def test_a_session_past_twelve_hours_is_refused(people: tuple[Server, dict[str, str]]) -> None:
    server, _ = people
    users = next(server.log.parent.glob("users.json"))
    now = time.time()
    # seen a minute ago all along: the twelve hours from signing in are the limit
    for issued, status in ((now - 60, 200), (now - 12 * 3600 - 60, 303)):
        with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
            client.cookies.set("contractgen_session", _session(users, "lisi", issued, now - 60))
            assert client.get("/ledger").status_code == status


def test_a_session_idle_for_half_an_hour_ends_and_one_in_use_slides(
    people: tuple[Server, dict[str, str]],
) -> None:
    server, _ = people
    users = next(server.log.parent.glob("users.json"))
    now = time.time()
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
        client.cookies.set("contractgen_session", _session(users, "lisi", now - 7200, now - 1860))
        idle = client.get("/ledger")  # 31 minutes without a request: signed out
        assert idle.status_code == 303 and idle.headers["location"] == "/login"
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
        client.cookies.set("contractgen_session", _session(users, "lisi", now - 7200, now - 1740))
        used = client.get("/ledger")
        assert used.status_code == 200  # 29 minutes: still in, and seen now
        (cookie,) = [c for c in used.headers.get_list("set-cookie") if "_session=" in c]
        login, nonce, issued, _, seen, _ = cookie.split(";")[0].split("=", 1)[1].split("|")
        assert (login, nonce, int(issued)) == ("lisi", "nonce-of-the-test", int(now - 7200))
        assert int(seen) >= int(now)  # the idle timeout starts again from this request
