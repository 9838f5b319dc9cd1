"""Who is asking, and over what: believed from forwarding headers only when a proxy sent them.

Behind the region's reverse proxy TLS ends at the proxy, which says who the client was
(`X-Forwarded-For`) and how it came (`X-Forwarded-Proto`). Anyone can write those headers, so
they count only when the connection itself comes from a configured proxy address; from anywhere
else a request that carries them is refused (a forgery, or a proxy missing from the settings).
Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from verify.errors import ConfigError
from verify.locale import N_

# Headers that claim something about the client or the hop: every `X-Forwarded-*`, and these.
FORWARDING = frozenset({"forwarded", "x-real-ip", "x-client-ip", "true-client-ip",
                        "x-original-forwarded-for"})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(items: Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.1`, `10.0.0.0/24`, `::1` … as networks; a clear error for anything else."""
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ConfigError(N_("not an address or network: {value}"),
                              value=repr(item)) from None
    return tuple(out)


def within(address: str, nets: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in nets)


@dataclass(frozen=True)
class Origin:
    """The client as the service believes it: its address, the scheme, through a proxy or not."""

    client: str
    scheme: str
    proxied: bool


def origin_of(peer: str, headers: Mapping[str, str], proxies: tuple[Network, ...]
              ) -> Origin | None:
    """None when forwarding headers came from an address that is not a configured proxy.

    From a proxy, the client is the right-most `X-Forwarded-For` entry that is not itself a
    proxy (entries further left were written by whoever sent the request) and the scheme is
    `X-Forwarded-Proto` when it is http or https.
    """
    present = {k.lower(): v for k, v in headers.items()
               if k.lower() in FORWARDING or k.lower().startswith("x-forwarded-")}
    if not within(peer, proxies):
        return None if present else Origin(peer, "http", False)
    client = peer
    for hop in reversed([h.strip() for h in present.get("x-forwarded-for", "").split(",")]):
        if not hop:
            continue
        client = hop
        if not within(hop, proxies):
            break
    proto = present.get("x-forwarded-proto", "http").strip().lower()
    return Origin(client, proto if proto in ("http", "https") else "http", bool(present))
