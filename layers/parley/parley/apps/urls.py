"""Which URLs Parley may call on an app's behalf: a guard against server-side request forgery.

An app's eventsUrl and commandUrl are chosen by a workspace admin, and Parley POSTs to them
from inside AWS, where 169.254.169.254 answers with the function's credentials and private
addresses reach whatever shares the network. So a URL must be http(s), without credentials,
and every address its host resolves to must be a public unicast one: not private, loopback,
link-local, multicast, reserved, unspecified or shared (100.64/10). IPv4-mapped IPv6
addresses are judged as the IPv4 address they carry.

The check runs when a URL is saved (a clear 422 to the admin) and again on every request,
on the address the connection actually reached (parley.adapters.app_http), so a name that resolved
to a public address when saved and to a private one later (DNS rebinding) is still refused.
Redirects are never followed. The local runtime's receivers listen on 127.0.0.1: there the
setting AllowPrivateAppUrls lets private addresses through (never in AWS by default).
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Callable, Sequence

Resolve = Callable[[str, int], Sequence[str]]


class UnsafeUrl(ValueError):
    """The URL may not be called; the message says why, for the admin."""


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def refused_address(address: str) -> str | None:
    """Why Parley may not connect to this IP address, or None if it is public unicast."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return f"{address} is a {kind.replace('_', '-')} address"
    if not ip.is_global:  # shared address space (100.64/10) and the like
        return f"{address} is not a public address"
    return None


def check_url(url: str, *, allow_private: bool, resolve: Resolve | None = None) -> None:
    """Raises UnsafeUrl unless `url` is http(s) to a host whose every address is public
    (or `allow_private`). Resolves the host: a name that does not resolve is refused too."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("the URL must be http or https")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL must not carry credentials")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl("the URL's port is not a number from 0 to 65535") from None
    if allow_private:
        return
    try:
        addresses = (resolve or _resolve)(host, port)
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"the host {host} does not resolve") from None
    if not addresses:
        raise UnsafeUrl(f"the host {host} does not resolve")
    for address in addresses:
        reason = refused_address(address)
        if reason is not None:
            raise UnsafeUrl(f"the host {host} resolves to {reason}")
