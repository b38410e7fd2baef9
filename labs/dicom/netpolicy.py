"""Where a node may open outbound associations (C-MOVE destinations, storage commitment reports, console
sends). Host names are resolved first and every address they resolve to must be inside an allowed network;
the caller then connects to the checked address, so a later DNS answer cannot redirect it."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationRefused(Exception):
    """The destination is outside the allowed networks or cannot be resolved; the message says why."""


def _effective(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address a connection really reaches: an IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is the IPv4
    host, so it is judged by the IPv4 networks (otherwise ``::/0`` would let any IPv4 host through)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def resolve_allowed(host: str, port: int, allowed: Sequence[Network]) -> str:
    """Return the IP address to connect to for ``host``, or raise :class:`DestinationRefused`."""
    if not host or len(host) > 253:
        raise DestinationRefused("No host name or address given.")
    if not 1 <= port <= 65535:
        raise DestinationRefused(f"Port {port} is not a valid TCP port (1-65535).")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationRefused(f"The host name '{host}' cannot be resolved ({exc}).") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise DestinationRefused(f"The host name '{host}' has no address.")
    for address in addresses:
        ip = _effective(ipaddress.ip_address(address.split("%", 1)[0]))
        if ip.is_unspecified or ip.is_multicast:
            raise DestinationRefused(
                f"{host} ({address}) is not a single host: the unspecified and multicast addresses are never used."
            )
        if not any(ip in net for net in allowed):
            nets = ", ".join(str(n) for n in allowed) or "none"
            raise DestinationRefused(
                f"{host} ({address}) is outside the networks this platform may connect to ({nets}). "
                "The operator sets them with NODE_ALLOWED_NETWORKS."
            )
    # Prefer IPv4 loopback-style addresses for predictability.
    return next((a for a in addresses if ":" not in a), addresses[0])
