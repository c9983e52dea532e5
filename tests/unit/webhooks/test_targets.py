"""Where webhooks may be sent (app/webhooks/targets.py): public addresses only, in every spelling."""

import asyncio
import ipaddress
import socket

import pytest

from app.webhooks.targets import PublicOnlyResolver, RefusedTarget, TargetPolicy, literal_address

PRODUCTION = TargetPolicy()
DEVELOPMENT = TargetPolicy(allow_local_http=True)

REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.0.10",
    "169.254.10.10",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "100.100.100.200",  # Alibaba's metadata, inside CGNAT
    "0.0.0.0",
    "224.0.0.251",
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:c0a8:0101::1",  # 6to4 of 192.168.1.1
    "ff02::1",
]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_a_non_public_address_is_refused(address):
    with pytest.raises(RefusedTarget):
        PRODUCTION.check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"])
def test_a_public_address_is_allowed(address):
    PRODUCTION.check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("[::ffff:7f00:1]", "::ffff:127.0.0.1"),
        ("[fe80::1%25eth0]", "fe80::1"),
    ],
)
def test_every_spelling_of_an_address_is_read_as_that_address(host, address):
    assert literal_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["crm.example.com", "localhost", "1.2.3.4.example"])
def test_a_name_is_not_an_address(host):
    assert literal_address(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/hook",
        "https://0177.0.0.1/hook",
        "https://0x7f.1/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "http://crm.example.com/hook",
        "ftp://crm.example.com/hook",
        "https:///no-host",
        "crm.example.com/hook",
    ],
)
def test_production_refuses_the_url(url):
    with pytest.raises(RefusedTarget):
        PRODUCTION.check_url(url)


def test_production_takes_a_public_https_url():
    assert PRODUCTION.check_url("https://crm.example.com:8443/hooks?x=1") == ("crm.example.com", None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8002/", "http://[::1]:8002/", "https://127.0.0.1/"])
def test_development_also_takes_this_machine(url):
    DEVELOPMENT.check_url(url)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://192.168.1.1/", "http://crm.example.com/", "http://localhost/"]
)
def test_development_takes_nothing_else_private_and_no_other_http(url):
    with pytest.raises(RefusedTarget):
        DEVELOPMENT.check_url(url)


def answers(*addresses: str):
    async def getaddrinfo(host, port, **_):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return getaddrinfo


async def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", answers("93.184.216.34", "10.0.0.7"))
    with pytest.raises(RefusedTarget, match=r"10\.0\.0\.7"):
        await PRODUCTION.check_resolved("rebind.example.com", 443)


async def test_a_name_resolving_to_public_addresses_is_allowed(monkeypatch):
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", answers("93.184.216.34"))
    await PRODUCTION.check_resolved("crm.example.com", 443)


async def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_at_each_delivery(monkeypatch):
    async def unknown(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", unknown)
    await PRODUCTION.check_resolved("not-yet.example.com", 443)


async def test_the_delivery_resolver_refuses_an_answer_holding_a_private_address(monkeypatch):
    resolver = PublicOnlyResolver(PRODUCTION)

    async def resolved(host, port=0, family=socket.AF_INET):
        return [
            {"hostname": host, "host": "93.184.216.34", "port": port, "family": family, "proto": 0, "flags": 0},
            {"hostname": host, "host": "169.254.169.254", "port": port, "family": family, "proto": 0, "flags": 0},
        ]

    monkeypatch.setattr(resolver._resolver, "resolve", resolved)
    with pytest.raises(RefusedTarget):
        await resolver.resolve("rebind.example.com", 443)
    await resolver.close()
