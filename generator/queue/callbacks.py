"""Where a job's callback may go: checked once when the job is made, again when it is called.

A callback URL is ``https``, or ``http`` to a host the operator allows
(``CONTRACTGEN_CALLBACK_ALLOW``: host names or addresses, joined by commas). Its
host is resolved, and every address it resolves to must be a public one: no
loopback, private, link-local, unique-local, shared, reserved, multicast or
unspecified address, nor one of those inside an IPv6 form (IPv4-mapped,
IPv4-compatible, 6to4, Teredo, NAT64). Numeric spellings (``0x7f000001``,
``2130706433``, ``127.1``) resolve to what they mean and are checked as that. A
host the operator allows by name skips the address check: it is theirs.

The call connects to the address as checked (:func:`resolve` returns it;
:func:`pinned` makes the request go to it, the host name kept for ``Host`` and
TLS), so a second DNS answer cannot send it elsewhere, and redirects are never
followed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = [
    "ALLOW_VARIABLE",
    "KEY_VARIABLE",
    "CallbackRefused",
    "Target",
    "allowed_hosts",
    "check_at_start",
    "pinned",
    "public_address",
    "resolve",
]

#: the variable naming the hosts a callback may reach over plain http (or inside the network)
ALLOW_VARIABLE = "CONTRACTGEN_CALLBACK_ALLOW"
#: the variable holding the key callbacks are signed with (never the API token)
KEY_VARIABLE = "CONTRACTGEN_CALLBACK_KEY"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class CallbackRefused(ValueError):
    """A callback URL that may not be called: its Chinese message and stable code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    """A callback URL as checked: its parts and the address to connect to."""

    url: str
    host: str
    port: int
    address: str


def allowed_hosts(text: str | None = None) -> frozenset[str]:
    """Return the hosts the operator allows (``CONTRACTGEN_CALLBACK_ALLOW`` by default)."""
    raw = os.environ.get(ALLOW_VARIABLE, "") if text is None else text
    return frozenset(_host_key(part) for part in raw.split(",") if part.strip())


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address carries (mapped, compatible, 6to4, …)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0:  # ::a.b.c.d, IPv4-compatible (and :: and ::1)
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_address(text: str) -> bool:
    """Return whether an address is a public unicast one, in every form it may take."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if int(address) >> 32 == 0 and int(address) <= 1:
            return False  # :: and ::1
        inner = _embedded(address)
        if inner is not None and not public_address(str(inner)):
            return False
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_unspecified
        and not address.is_reserved
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
    )


def _parts(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise CallbackRefused("回调地址不是有效的 URL", "jobs.callback_url") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise CallbackRefused("回调地址应为 HTTPS 的 URL", "jobs.callback_url")
    if parts.username is not None or parts.password is not None:
        raise CallbackRefused("回调地址不能含用户名或密码", "jobs.callback_url")
    return parts


def resolve(url: str, allowed: frozenset[str] | None = None) -> Target:
    """Return a callback URL checked and resolved; raise :class:`CallbackRefused` if refused."""
    allow = allowed_hosts() if allowed is None else allowed
    parts = _parts(url)
    host = parts.hostname or ""
    key = _host_key(host)
    permitted = key in allow
    if parts.scheme == "http" and not permitted:
        message = f"回调地址应为 HTTPS（HTTP 仅限运维人员在 {ALLOW_VARIABLE} 中允许的主机）"
        raise CallbackRefused(message, "jobs.callback_scheme")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(key, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise CallbackRefused("回调地址的主机无法解析", "jobs.callback_host") from None
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise CallbackRefused("回调地址的主机无法解析", "jobs.callback_host")
    if not permitted and not all(public_address(a) for a in addresses):
        message = "回调地址指向内部网络地址（回环、私有、链路本地等），不能回调"
        raise CallbackRefused(message, "jobs.callback_address")
    return Target(url, key, port, addresses[0])


def pinned(target: Target) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Return the URL to request, its headers and httpx extensions: to the address checked.

    The URL names the address, ``Host`` the host; for https the TLS server name (SNI,
    and the name the certificate is checked against) stays the host.
    """
    parts = urlsplit(target.url)
    literal = f"[{target.address}]" if ":" in target.address else target.address
    default = 443 if parts.scheme == "https" else 80
    netloc = literal if target.port == default else f"{literal}:{target.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    shown = parts.hostname or target.host
    if ":" in shown:
        shown = f"[{shown}]"
    host = shown if target.port == default else f"{shown}:{target.port}"
    extensions: dict[str, Any] = {}
    if parts.scheme == "https":
        extensions["sni_hostname"] = target.host
    return url, {"Host": host}, extensions


def check_at_start(key: bytes | None, token: str | None) -> str | None:
    """Return why the service may not start with these callback settings (None: it may)."""
    if os.environ.get(ALLOW_VARIABLE, "").strip() and key is None:
        return (
            f"设置了 {ALLOW_VARIABLE} 即启用了回调，须同时给出回调签名密钥"
            f"（{KEY_VARIABLE} 或 --callback-key-file）"
        )
    if key is not None and token and key == token.encode():
        return "回调签名密钥不能与 API 令牌相同（截获一次回调即可试出令牌）"
    return None
