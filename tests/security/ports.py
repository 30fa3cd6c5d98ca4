"""Which addresses a TCP port listens on, and this machine's own non-loopback addresses."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
from pathlib import Path


def _decode_ipv4(hex_address: str) -> str:
    return socket.inet_ntop(socket.AF_INET, bytes.fromhex(hex_address)[::-1])


def _decode_ipv6(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    # /proc/net/tcp6 prints the address as four 32-bit words in host (little-endian) order.
    words = b"".join(raw[index : index + 4][::-1] for index in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket in LISTEN state on `port` (from /proc/net/tcp{,6})."""
    found: set[str] = set()
    for table, decode in (("/proc/net/tcp", _decode_ipv4), ("/proc/net/tcp6", _decode_ipv6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(decode(address))
    return found


def own_non_loopback_addresses() -> list[str]:
    """This machine's IPv4 and global IPv6 addresses other than loopback (`ip -o addr`)."""
    addresses: set[str] = set()
    if shutil.which("ip"):
        listing = subprocess.run(
            ["ip", "-o", "addr", "show"], capture_output=True, text=True, check=False, timeout=10
        ).stdout
        for line in listing.splitlines():
            fields = line.split()
            if len(fields) > 3 and fields[2] in ("inet", "inet6"):
                addresses.add(fields[3].split("/")[0])
    else:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            addresses.add(str(info[4][0]))
    usable = []
    for text in sorted(addresses):
        address = ipaddress.ip_address(text)
        # Link-local IPv6 needs an interface scope to connect to; it is not where a client comes.
        if not address.is_loopback and not address.is_link_local:
            usable.append(text)
    return usable


def connection_refused(address: str, port: int) -> bool:
    """True when nothing accepts a TCP connection on address:port (this machine's own address:
    the packets never leave it)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(5)
        try:
            probe.connect((address, port))
        except OSError:  # refused, unreachable or timed out
            return True
    return False
