"""Which webhook URLs faktur sends to: https (http for localhost only), and public addresses only
unless private ones are allowed (a webhook must not be a way into the service's own network)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from faktur.webhooks.errors import WebhookUrlInvalid, WebhookUrlNotHttps, WebhookUrlPrivate

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    """Raise a 422 unless faktur may send webhooks to `url`. A host that does not resolve is
    accepted (it may resolve later); every delivery checks the address again."""
    checked_addresses(url, allow_private=allow_private, resolver=resolver)


def checked_addresses(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> list[str]:
    """The addresses `url`'s host resolves to, each one faktur may send to; raises a 422 as
    `check_url` does. A delivery connects to one of these and resolves nothing itself: a name that
    resolved to a public address for the check and to a private one for the connection (DNS
    rebinding) would otherwise reach the service's own network."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlInvalid(str(exc)) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlInvalid("an absolute http(s) URL with a host is needed")
    if parts.username or parts.password:
        raise WebhookUrlInvalid("credentials in the URL are not allowed; use a secret path or the signature")
    host = parts.hostname
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        raise WebhookUrlNotHttps(url)
    addresses = resolver(host, port or (443 if parts.scheme == "https" else 80))
    if not allow_private:
        for address in addresses:
            if _is_private(address):
                raise WebhookUrlPrivate(host, address)
    return addresses
