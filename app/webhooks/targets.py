"""Where webhooks may be sent: public addresses only, never into the BFF's own network (SSRF).

A URL is checked when an endpoint is saved (`check_url`: scheme, a literal address in any form,
and the addresses its name resolves to now), and every address is checked again when a delivery
connects (`PublicOnlyResolver`), so a name that later resolves to a private address (DNS
rebinding) is refused at the moment it would be used. Refused: loopback, private, link-local,
unique-local, CGNAT (shared), multicast, reserved and unspecified addresses, cloud metadata
endpoints, and IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) when the
embedded address is refused.

Production takes https only. A development setting (`WEBHOOK_ALLOW_LOCAL_HTTP`, refused in
production) also lets http reach 127.0.0.1 and ::1, and nothing else private, for a receiver
on the developer's machine.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not covered by `is_global` on every Python version, or worth naming: metadata services.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
RESOLVE_TIMEOUT_S = 2.0
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


class RefusedTarget(ValueError):
    """A webhook URL, or an address it resolves to, that deliveries may not reach."""


@dataclass(frozen=True)
class TargetPolicy:
    allow_local_http: bool = False

    def check_address(self, address: IPAddress) -> None:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            self.check_address(embedded)
            return
        if self.allow_local_http and any(address in net for net in LOOPBACK):
            return
        if address in METADATA or not address.is_global or address.is_multicast or address.is_unspecified:
            raise RefusedTarget(f"{address} is not a public address")

    def check_url(self, url: str) -> tuple[str, IPAddress | None]:
        """The URL's host, and its address when the host is one; refuses what no delivery may reach."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme not in ("https", "http") or not host:
            raise RefusedTarget("the url must be an absolute https URL")
        literal = literal_address(host)
        if parts.scheme == "http" and not (
            self.allow_local_http and literal is not None and any(literal in net for net in LOOPBACK)
        ):
            raise RefusedTarget("the url must use https")
        if literal is not None:
            self.check_address(literal)
        elif host.rstrip(".").lower() == "localhost" or host.lower().endswith(".localhost"):
            raise RefusedTarget("localhost is not a public host")
        return host, literal

    async def check_resolved(self, host: str, port: int | None) -> None:
        """Refuse a name that resolves to any address deliveries may not reach. A name that does
        not resolve (yet) is accepted: each delivery resolves it again and checks then."""
        loop = asyncio.get_running_loop()
        try:
            lookup = loop.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
            infos = await asyncio.wait_for(lookup, RESOLVE_TIMEOUT_S)
        except (OSError, TimeoutError):
            return
        for info in infos:
            self.check_address(ipaddress.ip_address(info[4][0]))


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally, in any form a resolver or browser accepts:
    dotted, decimal (2130706433), octal (0177.0.0.1), hexadecimal (0x7f.1), short (127.1), IPv6."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%")[0])
    except ValueError:
        pass
    try:
        # inet_aton takes every legacy IPv4 form, as getaddrinfo and WHATWG URL parsing do.
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except OSError:
        return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class PublicOnlyResolver(AbstractResolver):
    """aiohttp's resolver, refusing any answer that holds an address the policy refuses: checked
    at connect time, for the addresses the connection will use."""

    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy
        self._resolver = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._resolver.resolve(host, port, family)
        for answer in answers:
            self._policy.check_address(ipaddress.ip_address(answer["host"]))
        return answers

    async def close(self) -> None:
        await self._resolver.close()
