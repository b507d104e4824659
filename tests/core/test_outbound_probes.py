"""SSRF probes on every URL-taking input: notifiers (Slack, webhooks), REST sources, S3
endpoints and export targets.

Each input gets the same hostile hosts: loopback, link-local and cloud metadata, private
ranges, IPv6 (IPv4-mapped, 6to4 and NAT64 carrying an inside IPv4, ULA, site-local), the
decimal/octal/hex forms of 127.0.0.1, and names a resolver stub answers with inside
addresses. Every one must be refused at the policy layer (``lakegate._outbound``) before any
connection: socket connections fail the test, and no real DNS query is made. Redirects are
probed end to end at a loopback listener in tests/core/notify and tests/core/sources.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from lakegate._outbound import OutboundPolicy, check_address, embedded_ipv4, host_literal
from lakegate.errors import InputError, LakegateError, NotificationError, SourceError
from lakegate.export import TargetPolicy, check_target
from lakegate.notify import Notification, SlackConfig, WebhookConfig, notifier_for
from lakegate.sources import RestSource, S3Source
from lakegate.sources.rest import make_session_for
from lakegate.sources.s3 import _client as s3_client

# What the resolver stub answers: names that resolve inside (or partly inside) the network.
NAMES = {
    "localhost.example": ["127.0.0.1"],
    "db.internal": ["10.0.0.7"],
    "metadata.google.internal": ["169.254.169.254"],
    "loop6.example": ["::1"],
    "mapped.example": ["::ffff:10.1.2.3"],
    "sixtofour.example": ["2002:c0a8:1::1"],  # 6to4 of 192.168.0.1
    "nat64.example": ["64:ff9b::a9fe:a9fe"],  # NAT64 of 169.254.169.254
    "mixed.example": ["93.184.216.34", "192.168.0.3"],  # one inside address refuses the name
}

HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",  # 127.0.0.1, decimal
    "0x7f.1",  # hex
    "0x7f000001",
    "017700000001",  # octal
    "0177.0.0.1",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.10",
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "169.254.169.254",  # cloud metadata
    "169.254.170.2",
    "100.100.100.200",
    "[::1]",
    "[::]",
    "[fe80::1]",  # link-local
    "[fd00:ec2::254]",  # AWS metadata, IPv6
    "[fd12:3456::1]",  # ULA
    "[fec0::1]",  # site-local
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:169.254.169.254]",
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
    "[2002:a9fe:a9fe::]",  # 6to4 of 169.254.169.254
    "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "[64:ff9b:1::a00:1]",  # a site's own NAT64 prefix
    "[::127.0.0.1]",  # IPv4-compatible
    *NAMES,
]

EVENT = Notification(event="model.promoted", title="t", text="x", pipeline="p", run_id="r")


@pytest.fixture(autouse=True)
def fenced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No connection leaves the test, and getaddrinfo answers from ``NAMES`` only.

    Only for this test's own thread: a background thread an earlier test of the same worker
    process left running (a token-revocation listener on 127.0.0.1) keeps the real socket
    functions and is neither refused nor counted.
    """
    asked: list[str] = []
    owner = threading.get_ident()
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def ours() -> bool:
        return threading.get_ident() == owner

    def forbidden(real: Any) -> Any:
        def refuse(*args: object, **kwargs: object) -> Any:
            if not ours():
                return real(*args, **kwargs)
            pytest.fail(f"a connection was attempted: {args} {kwargs}")

        return refuse

    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        if not ours():
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        asked.append(host)
        if host not in NAMES:
            pytest.fail(f"unexpected DNS lookup of {host!r}")
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (family[ipaddress.ip_address(a).version], socket.SOCK_STREAM, 6, "", (a, port))
            for a in NAMES[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", forbidden(real_create_connection))
    monkeypatch.setattr(socket.socket, "connect", forbidden(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", forbidden(real_connect_ex))
    return asked


def _webhook(host: str) -> None:
    notifier_for("audit", WebhookConfig(url=f"http://{host}/hook", secret="s")).send(EVENT)


def _slack(host: str) -> None:
    notifier_for("team", SlackConfig(url=f"https://{host}/services/T/B/X")).send(EVENT)


def _rest(host: str) -> None:
    spec = RestSource(name="orders", dataset="orders", url=f"https://{host}/v1/orders")
    make_session_for(spec, OutboundPolicy()).get(spec.url, timeout=5)


def _s3(host: str) -> None:
    spec = S3Source(name="logs", dataset="logs", url="s3://bucket/logs/", endpoint_url=f"http://{host}:9000")
    s3_client(spec, OutboundPolicy())


def _export(host: str) -> None:
    check_target(f"postgresql://etl@{host}:5432/warehouse", TargetPolicy())


INPUTS: dict[str, tuple[Callable[[str], None], type[LakegateError]]] = {
    "webhook": (_webhook, NotificationError),
    "slack": (_slack, NotificationError),
    "rest-source": (_rest, SourceError),
    "s3-endpoint": (_s3, SourceError),
    "export": (_export, InputError),
}


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("kind", INPUTS)
def test_every_url_input_refuses_every_inside_address_before_connecting(kind, host, fenced):
    probe, error = INPUTS[kind]
    with pytest.raises(error) as info:
        probe(host)
    message = info.value.message
    assert "refus" in message, message
    bare = host.strip("[]")
    if bare in NAMES:
        assert fenced == [bare], "a name is resolved once, then judged"
    else:
        assert fenced == [], "an address (in any numeric form) is judged without a lookup"


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("2002:7f00:1::", "127.0.0.1"),
        ("2002:c0a8:101::1", "192.168.1.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("::127.0.0.1", "127.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),  # Teredo (client bits inverted)
        ("2606:4700:4700::1111", None),
        ("::1", None),
        ("::", None),
    ],
)
def test_ipv6_forms_that_carry_an_ipv4_address_are_unwrapped(address, inside):
    found = embedded_ipv4(ipaddress.ip_address(address))
    assert (str(found[1]) if found else None) == inside


@pytest.mark.parametrize(
    ("address", "policy", "allowed"),
    [
        ("2002:808:808::1", OutboundPolicy(), True),  # 6to4 of a public address
        ("64:ff9b::808:808", OutboundPolicy(), True),  # NAT64 of a public address
        ("::ffff:8.8.8.8", OutboundPolicy(), True),
        ("2002:7f00:1::", OutboundPolicy(), False),
        ("2002:7f00:1::", OutboundPolicy(allow_private=True), True),
        ("2002:a9fe:a9fe::", OutboundPolicy(allow_private=True), False),  # metadata stays closed
        ("64:ff9b::a9fe:a9fe", OutboundPolicy(allow_private=True), False),
        ("fec0::1", OutboundPolicy(), False),
        ("fec0::1", OutboundPolicy(allow_private=True), True),
        ("64:ff9b:1::a00:1", OutboundPolicy(), False),
        ("::8.8.8.8", OutboundPolicy(), False),  # IPv4-compatible: deprecated, never routed out
        ("2002:7f00:1::", OutboundPolicy(allowed_networks=["127.0.0.1/32"]), True),
        ("2002:7f00:1::", OutboundPolicy(allowed_networks=["2002::/16"]), True),
        ("10.0.0.1", OutboundPolicy(allowed_networks=["::/0"]), False),  # an IPv6 network holds no IPv4
    ],
)
def test_address_policy_for_tunnelled_and_site_local_forms(address, policy, allowed):
    assert (check_address(ipaddress.ip_address(address), policy) is None) is allowed


def test_a_refusal_says_which_tunnel_and_what_it_reaches():
    reason = check_address(ipaddress.ip_address("2002:a9fe:a9fe::"), OutboundPolicy())
    assert reason == "2002:a9fe:a9fe:: is a 6to4 address for a cloud metadata address"
    reason = check_address(ipaddress.ip_address("::ffff:127.0.0.1"), OutboundPolicy())
    assert reason is not None
    assert reason.startswith("::ffff:7f00:1 is an IPv4-mapped address for a private or loopback address")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("[::1]", "::1"),
        ("example.org", None),
        ("1.2.3.4.5", None),
        ("0xfg", None),
    ],
)
def test_host_literals_are_read_as_a_c_resolver_reads_them(host, address):
    found = host_literal(host)
    assert (str(found) if found else None) == address
