"""Where webhooks may connect: the SSRF guard (docs/security.md §8).

Used at registration (the API process, bws/service/webhooks.py) and before
every delivery attempt (bws/delivery/webhooks.py TreqPoster, run by the
pushservice process). The URL's host is resolved as the HTTP client would
(``getaddrinfo``: ``0x7f000001``, ``2130706433``, ``127.1`` are 127.0.0.1) and
every address must be public (:func:`address_allowed`) or inside
``webhookOpts.allowPrivateNetworks``; a mixed answer is refused whole.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Awaitable, Callable, Iterable, Optional
from urllib.parse import urlsplit

__all__ = ["DestinationPolicy", "DestinationRefused", "address_allowed", "resolve_host"]

#: NAT64 well-known prefix (RFC 6052): the low 32 bits are an IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(Exception):
    """The URL's host does not resolve, or resolves to an address webhooks may not reach."""


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
    )


def address_allowed(address: str, allowed: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()) -> bool:
    """True when a webhook may connect to ``address`` (an IP literal, IPv6 zone allowed).

    Public (``is_global`` and none of private, loopback, link-local, reserved,
    multicast, unspecified), or inside one of the ``allowed`` networks. An IPv6
    address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
    ``64:ff9b::/96``) is judged by that IPv4 address; 6to4 and Teredo
    addresses need their embedded IPv4 address to pass as well."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    allowed = list(allowed)
    if any(ip.version == net.version and ip in net for net in allowed):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None:
            return address_allowed(str(inner), allowed)
        tunnel = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if tunnel is not None and not address_allowed(str(tunnel), allowed):
            return False
    return _is_public(ip)


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host`` (what the system's HTTP
    clients connect to), in its order, without duplicates; raises ``OSError``."""
    from twisted.internet.threads import deferToThread

    infos = await deferToThread(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class DestinationPolicy:
    """Which webhook URLs may be contacted: used at registration (API process)
    and before every delivery attempt (pushservice).

    allowed_networks: CIDR strings (``webhookOpts.allowPrivateNetworks``) whose
    addresses are allowed although not public; resolve: ``async (host, port)
    -> [address]`` (default :func:`resolve_host`)."""

    def __init__(
        self,
        allowed_networks: Iterable[str] = (),
        resolve: Optional[Callable[[str, int], Awaitable[list[str]]]] = None,
    ) -> None:
        self.allowed = [ipaddress.ip_network(n) for n in allowed_networks]
        self.resolve = resolve or resolve_host

    async def addresses(self, url: str) -> list[str]:
        """The checked addresses of ``url``'s host; raises :class:`DestinationRefused`
        when it has none or any of them is not allowed (a mixed answer is refused whole)."""
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise DestinationRefused("invalid port") from None
        host = parts.hostname
        if not host:
            raise DestinationRefused("no host")
        try:
            found = await self.resolve(host, port)
        except (OSError, UnicodeError) as e:
            raise DestinationRefused(f"{host} does not resolve ({e})") from None
        if not found:
            raise DestinationRefused(f"{host} does not resolve")
        refused = [a for a in found if not address_allowed(a, self.allowed)]
        if refused:
            raise DestinationRefused(
                f"{host} resolves to {', '.join(refused)}: not public and not in webhookOpts.allowPrivateNetworks"
            )
        return found
