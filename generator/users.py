"""Named users: the people the service knows, each with a token of their own, kept hashed.

The users file (``serve --users FILE``, ``CONTRACTGEN_USERS``) is JSON, written by
``contractgen users add|remove`` only, atomically and with mode 0600::

    {"users": [{"login": "zhangsan", "name": "张三", "role": "clerk",
                "token": "sha256:<hex>", "added": "2026-12-07T04:40:00Z"}]}

A token is 32 random bytes (43 characters, URL-safe base64) made by ``users add``
and printed once; only its SHA-256 is stored. A fast hash is enough here: a token
has 256 bits of chance, so there is nothing to guess from its hash, and a slow hash
(scrypt) would cost every API request tens of milliseconds for no gain. A token an
operator chose (the single ``CONTRACTGEN_TOKEN`` of older deployments) is never
written anywhere: it is one user, :data:`SERVICE_LOGIN`, compared in constant time.

The service reads the file again whenever it changes (its size, inode or time), so
a user added or removed counts from the next request on, and a removed user's
sessions end with it. Who acts is :attr:`User.actor`, e.g. ``张三（zhangsan）``:
what the ledger records in every event and a job records as who asked for it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from contextvars import ContextVar, Token
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .clock import utc_text
from .errors import UsageError

__all__ = [
    "ANONYMOUS",
    "ENVIRONMENT",
    "MIN_TOKEN",
    "SERVICE_LOGIN",
    "SERVICE_NAME",
    "Directory",
    "User",
    "UsersFile",
    "as_user",
    "check_token",
    "current_actor",
    "current_user",
    "hashed",
    "new_token",
    "reset_user",
]

#: the variable naming the users file
ENVIRONMENT = "CONTRACTGEN_USERS"
#: the shortest token accepted: 20 characters (a random URL-safe one holds ≥ 120 bits)
MIN_TOKEN = 20
#: the single token of ``CONTRACTGEN_TOKEN`` / ``--token-file``, as a user
SERVICE_LOGIN = "service"
SERVICE_NAME = "服务令牌"
#: who acts when the service has no users and no token
ANONYMOUS = "api"
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
_ROLES = ("clerk", "admin", "platform")
_NAME_MAX = 40


@dataclass(frozen=True)
class User:
    """One person (or platform) the service knows."""

    login: str
    name: str
    #: ``sha256:<hex>`` of the token
    token: str
    role: str = "clerk"
    added: str = ""

    @property
    def actor(self) -> str:
        """Return who the ledger says acted: ``张三（zhangsan）``."""
        if self.login == SERVICE_LOGIN:  # the one token: its name says all, in Chinese
            return self.name
        return f"{self.name}（{self.login}）"


_current: ContextVar[User | None] = ContextVar("contractgen_user", default=None)


def current_user() -> User | None:
    """Return the user of the request being answered (None: nobody signed in)."""
    return _current.get()


def current_actor() -> str:
    """Return who the ledger says acts in the request being answered (and what it started)."""
    user = _current.get()
    return ANONYMOUS if user is None else user.actor


def as_user(user: User | None) -> Token[User | None]:
    """Make ``user`` the current one; return what :func:`reset_user` takes."""
    return _current.set(user)


def reset_user(token: Token[User | None]) -> None:
    """Make the user before :func:`as_user` the current one again."""
    _current.reset(token)


def hashed(token: str) -> str:
    """Return what the users file stores of a token."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """Return a new token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def check_token(token: str, where: str) -> str:
    """Return a token fit to guard the service, or raise :class:`UsageError` saying why."""
    if not token:
        raise UsageError(f"{where}为空：空令牌不能关闭认证；不需要认证时请不设置它")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise UsageError(f"{where}含空白或不可见字符")
    if len(token) < MIN_TOKEN:
        raise UsageError(
            f"{where}过短（{len(token)} 个字符，至少 {MIN_TOKEN} 个）：请用随机生成的令牌"
            "（或改用 contractgen users add 为每人生成令牌）"
        )
    return token


def _check_login(login: str) -> str:
    if not _LOGIN.fullmatch(login):
        raise UsageError(
            f"登录名“{login}”无效：应为 1 到 32 个小写字母、数字或 . _ -，以字母或数字开头"
        )
    if login == SERVICE_LOGIN:
        raise UsageError(f"登录名“{login}”保留给服务令牌（CONTRACTGEN_TOKEN），请换一个")
    return login


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > _NAME_MAX or any(not c.isprintable() for c in name):
        raise UsageError(f"姓名应为 1 到 {_NAME_MAX} 个可见字符")
    if any(c in name for c in "（）()"):
        raise UsageError("姓名不能含括号（台账记为“姓名（登录名）”）")
    return name


class UsersFile:
    """The users file: read, and changed atomically (a new file renamed over the old, 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[User]:
        """Return the users of the file (none when it does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{self.path}: 无法读取用户文件（{exc}）") from None
        try:
            data = json.loads(text)
            return [User(**entry) for entry in data["users"]]
        except (ValueError, TypeError, KeyError) as exc:
            raise UsageError(f"{self.path}: 用户文件格式无效（{exc}）") from None

    def write(self, users: list[User]) -> None:
        """Replace the file with ``users``: whole or not at all, mode 0600."""
        folder = self.path.absolute().parent
        if not folder.is_dir():
            raise UsageError(f"{self.path}: 文件夹 {folder} 不存在")
        body = {"users": [asdict(user) for user in users]}
        text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
        fd, staging = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(staging, self.path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise

    def add(self, login: str, name: str, role: str = "clerk") -> tuple[User, str]:
        """Add a user (or give an existing one a new token); return it and its token."""
        _check_login(login)
        name = _check_name(name)
        if role not in _ROLES:
            raise UsageError(f"角色应为 {'、'.join(_ROLES)} 之一，不是“{role}”")
        token = new_token()
        user = User(login, name, hashed(token), role, utc_text())
        others = [u for u in self.read() if u.login != login]
        self.write([*others, user])
        return user, token

    def remove(self, login: str) -> User:
        """Remove a user; raise :class:`UsageError` when there is none of that login."""
        users = self.read()
        gone = [u for u in users if u.login == login]
        if not gone:
            raise UsageError(f"{self.path}: 没有登录名为“{login}”的用户")
        self.write([u for u in users if u.login != login])
        return gone[0]


class Directory:
    """Who a token (or a login) is: the users file, read again when it changes, and the token.

    Safe to share between threads. ``enabled`` is False when the service has neither a
    users file nor a token: then nobody is asked who they are.
    """

    def __init__(self, users: Path | None = None, token: str | None = None) -> None:
        self.file = UsersFile(users) if users is not None else None
        self._service = (
            User(SERVICE_LOGIN, SERVICE_NAME, hashed(token), "platform") if token else None
        )
        self._token = token.encode() if token else None
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._users: dict[str, User] = {}
        if self.file is not None:
            self._refresh()

    @property
    def enabled(self) -> bool:
        return self.file is not None or self._service is not None

    def _refresh(self) -> dict[str, User]:
        """Return the users by login, the file read again if it changed since last time."""
        assert self.file is not None
        try:
            info = os.stat(self.file.path)
            seen = (info.st_ino, info.st_size, info.st_mtime_ns)
        except FileNotFoundError:
            seen = (0, 0, 0)
        with self._lock:
            if seen != self._seen:
                self._users = {u.login: u for u in self.file.read()}
                self._seen = seen
            return self._users

    def by_token(self, token: str) -> User | None:
        """Return the user whose token this is (None: nobody's)."""
        if self._token is not None and hmac.compare_digest(token.encode(), self._token):
            return self._service
        if self.file is None:
            return None
        digest = hashed(token)
        found = None
        for user in self._refresh().values():  # every entry compared: no early answer
            if hmac.compare_digest(user.token.encode(), digest.encode()):
                found = user
        return found

    def by_login(self, login: str) -> User | None:
        """Return the user of a login (the service token's user too), None: no such user."""
        if self._service is not None and login == SERVICE_LOGIN:
            return self._service
        if self.file is None:
            return None
        return self._refresh().get(login)

    def state_folder(self) -> Path | None:
        """Return the folder replicas share sessions' revocations in: the users file's."""
        return None if self.file is None else self.file.path.absolute().parent

    def describe(self) -> dict[str, Any]:
        """Return what the service says at start about who may use it."""
        return {
            "users_file": str(self.file.path) if self.file else None,
            "service_token": self._service is not None,
        }
