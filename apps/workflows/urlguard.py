"""Where a workflow's HTTP call may go when event data wrote its URL (server-side request
forgery): never to loopback, private, link-local, multicast or otherwise non-public addresses
(0.0.0.0, 169.254.169.254 cloud metadata, 10/8, fc00::/7 ...) unless an allow-list in the
settings (CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS, CIDR networks) names them.

Two checks: the host is resolved and every address it has must pass before anything is sent
(a name with one private address is refused, whichever the connection would pick); and the
connection itself checks the address it really reached (`GuardedAdapter`), so a name that
resolves elsewhere the second time (DNS rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ConnectionError):
    """The URL leads to an address that templated calls may not reach; the message says which."""


def url_check(url: str) -> None:
    """Raise AddressRefused unless every address of the URL's host may be reached."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise AddressRefused(f"{url!r} is not an http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise AddressRefused(f"cannot resolve {host!r}: {error}") from None
    for *_, sockaddr in found:
        address_check(sockaddr[0], host=host)


def address_check(text: str, *, host: str) -> None:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    if address_allowed(address):
        return
    raise AddressRefused(
        f"{host!r} resolves to {address}, a non-public address; templated URLs may reach it "
        "only if CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS lists it"
    )


def address_allowed(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        address = mapped
    if any(address in network for network in _allowed_networks()):
        return True
    return address.is_global and not address.is_multicast


def _allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _parse_networks(tuple(settings.CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS))


@lru_cache(maxsize=8)
def _parse_networks(texts: tuple[str, ...]):
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


class _GuardedConnectionMixin:
    def _new_conn(self):
        sock = super()._new_conn()
        try:
            address_check(sock.getpeername()[0], host=self.host)
        except AddressRefused:
            sock.close()
            raise
        return sock


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse addresses that `address_allowed` refuses.
    (Through a proxy from the environment, the address checked is the proxy's.)"""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }
