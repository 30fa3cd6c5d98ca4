"""The client's network address, for the `client_address` metadata key of every user message.

Only the server decides it: a `client_address` sent in the body is replaced. X-Forwarded-For is
believed only when the direct peer is one of the configured proxies (TRUSTED_PROXY); then the
client is the right-most address in it that is not itself one of those proxies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

CLIENT_ADDRESS_KEY = "client_address"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def parse_trusted_proxies(trusted: Iterable[str]) -> tuple[str, ...]:
    """Checks TRUSTED_PROXY entries (addresses or networks); a typo fails at start, not later."""
    entries = tuple(trusted)
    try:
        _networks(entries)
    except ValueError as error:
        raise ValueError(f"TRUSTED_PROXY: {error}") from None
    return entries


def _is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _networks(trusted))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The address to record for a request whose TCP peer is `peer`."""
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if not _is_address(hop):
            return peer  # not what a proxy writes: believe nothing further left
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def with_client_address(metadata: Any, address: str) -> dict[str, Any]:
    """The message metadata (a dict whatever the client sent) with the server's client address."""
    cleaned = dict(metadata) if isinstance(metadata, Mapping) else {}
    cleaned[CLIENT_ADDRESS_KEY] = address
    return cleaned
