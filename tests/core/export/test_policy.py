"""The export policy for targets users give: SSRF probes, URL options, env: allow-list, pinning.

Nothing here opens a connection or asks real DNS: ``psycopg.connect`` and
``socket.create_connection`` fail the test if called, and names resolve through a stub.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import psycopg
import pytest

from lakegate._outbound import OutboundPolicy
from lakegate.config import ExportPolicySettings
from lakegate.errors import InputError, TransientExportError
from lakegate.export import CatalogDatabase, TargetPolicy, check_target, parse_target
from lakegate.export._policy import pinned_params

DEFAULT = TargetPolicy()
LOOPBACK_OK = TargetPolicy(outbound=OutboundPolicy(allowed_networks=["127.0.0.0/8"]))
PRIVATE_OK = TargetPolicy(outbound=OutboundPolicy(allow_private=True))
PUBLIC = "93.184.216.34"

# 127.0.0.1 carried inside IPv6 forms that route to it.
SIX_TO_FOUR = "2002:7f00:1::"
TEREDO = str(ipaddress.IPv6Address((0x20010000 << 96) | (0x4136E378 << 64) | (0xFFFFFFFF ^ 0x7F000001)))


@pytest.fixture(autouse=True)
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: refusals must come before one."""

    def forbidden(*args: object, **kwargs: object) -> None:
        pytest.fail(f"a connection was attempted: {args} {kwargs}")

    monkeypatch.setattr(psycopg, "connect", forbidden)
    monkeypatch.setattr(psycopg.Connection, "connect", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], list[str]]:
    """``resolver({"db.internal": ["10.0.0.7"]})``: getaddrinfo answers from this map only.

    Returns the list of names looked up. A name not in the map fails the test (no real DNS).
    """
    asked: list[str] = []

    def install(answers: dict[str, list[str]]) -> list[str]:
        def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[tuple]:
            asked.append(host)
            if host not in answers:
                pytest.fail(f"unexpected DNS lookup of {host!r}")
            family = {4: socket.AF_INET, 6: socket.AF_INET6}
            return [
                (family[ipaddress.ip_address(a).version], socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return asked

    return install


def refused(to: str, policy: TargetPolicy = DEFAULT) -> InputError:
    with pytest.raises(InputError) as info:
        check_target(to, policy)
    return info.value


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",  # decimal
        "0x7f000001",  # hex
        "0177.0.0.1",  # octal
        "0x7f.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.10",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # cloud metadata
        "169.254.170.2",  # ECS task metadata
        "100.100.100.200",  # Alibaba metadata
        "0.0.0.0",
        "[::1]",
        "[::]",
        "[fe80::1]",
        "[fd00:ec2::254]",
        "[fc00::5]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:7f00:1]",
        "[::ffff:169.254.169.254]",
        f"[{SIX_TO_FOUR}]",
        f"[{TEREDO}]",
    ],
)
def test_inside_addresses_are_refused_without_a_lookup_or_connection(host, resolver):
    asked = resolver({})
    error = refused(f"postgresql://etl@{host}:5432/warehouse")
    assert error.detail == {"field": "to", "reason": "refused_by_policy"}
    assert "refused_by_policy" in error.message
    assert asked == []  # numeric forms are read as addresses, never sent to a resolver


@pytest.mark.parametrize(
    ("name", "answers"),
    [
        ("db.internal", ["10.0.0.7"]),
        ("meta.example", ["169.254.169.254"]),
        ("loop.example", ["::1"]),
        ("mixed.example", [PUBLIC, "192.168.0.3"]),  # one inside address refuses the name
        ("mapped.example", ["::ffff:10.1.2.3"]),
    ],
)
def test_names_resolving_inside_are_refused_without_saying_where(name, answers, resolver):
    asked = resolver({name: answers})
    error = refused(f"postgresql://etl@{name}/warehouse")
    assert error.detail["reason"] == "refused_by_policy"
    assert f"{name} resolves to" in error.message
    inside = answers[-1]
    assert inside not in error.message  # viewers read run errors: no map of internal DNS
    assert asked == [name]


def test_tls_with_the_systems_certificates_is_allowed(resolver):
    resolver({"warehouse.example.com": [PUBLIC]})
    check_target("postgresql://etl@warehouse.example.com/dw?sslmode=verify-full&sslrootcert=system", DEFAULT)


def test_a_public_name_passes_and_nothing_connects(resolver):
    asked = resolver({"warehouse.example.com": [PUBLIC]})
    check_target("postgresql://etl@warehouse.example.com:6432/dw?sslmode=require", DEFAULT)
    target = parse_target("postgresql://etl@warehouse.example.com:6432/dw?sslmode=require", DEFAULT)
    assert (target.kind, target.policy) == ("postgres", DEFAULT)
    assert asked == ["warehouse.example.com"]  # parse_target alone looks nothing up


def test_an_unresolvable_name_is_refused_at_request_time(resolver, monkeypatch):
    def fail(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    error = refused("postgresql://etl@nowhere.example/dw")
    assert error.detail["reason"] == "unreachable"


def test_allowed_networks_open_only_what_they_name(resolver):
    resolver({})
    check_target("postgresql://postgres@127.0.0.1:5432/dw", LOOPBACK_OK)
    for host in ("10.0.0.5", "169.254.169.254", "[::1]"):
        assert (
            refused(f"postgresql://postgres@{host}/dw", LOOPBACK_OK).detail["reason"] == "refused_by_policy"
        )


def test_allow_private_still_refuses_metadata_and_link_local(resolver):
    resolver({})
    check_target("postgresql://etl@10.1.2.3/dw", PRIVATE_OK)
    for host in ("169.254.169.254", "[fe80::1]", "[fd00:ec2::254]"):
        assert refused(f"postgresql://etl@{host}/dw", PRIVATE_OK).detail["reason"] == "refused_by_policy"


@pytest.mark.parametrize(
    ("to", "why"),
    [
        ("postgresql://warehouse.example.com/dw?host=127.0.0.1", "refused_by_policy"),  # libpq's host wins
        ("postgresql://warehouse.example.com/dw?hostaddr=127.0.0.1", "hostaddr"),
        ("postgresql://h1.example.com,h2.example.com/dw", "one host"),
        ("postgresql:///dw", "socket"),
        ("postgresql://%2Ftmp/dw", "socket"),
        ("postgresql://warehouse.example.com:99999/dw", "port"),
        ("postgresql://warehouse.example.com/dw?passfile=/etc/passwd", "passfile"),
        ("postgresql://warehouse.example.com/dw?sslkey=/project/.lakegate/key", "sslkey"),
        ("postgresql://warehouse.example.com/dw?sslrootcert=/etc/shadow", "sslrootcert"),
        ("postgresql://warehouse.example.com/dw?service=catalog", "service"),
        ("postgresql://warehouse.example.com/dw?krbsrvname=x&gssencmode=require", "gssencmode, krbsrvname"),
        ("postgresql://warehouse.example.com/dw?%zz", "not a valid PostgreSQL URL"),
        ("host=127.0.0.1 password=topsecret dbname=x", "unsupported destination"),
    ],
)
def test_url_options_that_pick_a_host_or_read_a_file_are_refused(to, why, resolver):
    resolver({})
    error = refused(to)
    assert why in error.message
    assert "topsecret" not in error.message


def test_env_targets_name_only_allowed_variables(monkeypatch, resolver):
    resolver({})
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", "postgresql://lakegate:catalog-pw@127.0.0.1/lakegate")
    monkeypatch.setenv("LG_TEST_WAREHOUSE", "postgresql://etl:wh-pw@10.0.0.9/dw")
    policy = TargetPolicy(allowed_env=frozenset({"LG_TEST_WAREHOUSE"}))
    for name in ("LAKEGATE_DATABASE_URL", "HOME", "PATH", ""):
        error = refused(f"env:{name}", policy)
        assert error.detail["reason"] == "env_not_allowed"
        assert "exports.allowed_env" in error.message
        assert "catalog-pw" not in error.message
    # A listed variable is the operator's URL: its (private) host is theirs to choose.
    target = parse_target("env:LG_TEST_WAREHOUSE", policy)
    assert (target.destination, target.policy) == ("postgresql://etl:***@10.0.0.9/dw", None)
    # The request only checks the name: the value is the worker's environment, read by the run.
    monkeypatch.delenv("LG_TEST_WAREHOUSE")
    check_target("env:LG_TEST_WAREHOUSE", policy)
    with pytest.raises(InputError, match="not set or empty"):
        parse_target("env:LG_TEST_WAREHOUSE", policy)


def test_dlt_targets_name_only_allowed_destinations():
    policy = TargetPolicy(allowed_dlt=frozenset({"snowflake"}))
    assert parse_target("dlt:snowflake", policy).dlt_destination == "snowflake"
    for to in ("dlt:duckdb", "dlt:filesystem"):  # duckdb and filesystem write files on the server
        error = refused(to, policy)
        assert error.detail["reason"] == "dlt_not_allowed"
        assert "exports.allowed_dlt" in error.message
    assert refused("dlt:../../etc", policy).detail["reason"] == "invalid_target"
    assert parse_target("dlt:duckdb").dlt_destination == "duckdb"  # the operator's own call: not limited


def test_allowed_env_never_lists_lakegates_own_settings():
    for name in ("LAKEGATE_DATABASE_URL", "lakegate_secret_key", "LAKEGATE_REDIS_URL"):
        with pytest.raises(ValueError, match="lakegate's own settings"):
            ExportPolicySettings(allowed_env=[name])
    with pytest.raises(ValueError, match="not an environment variable name"):
        ExportPolicySettings(allowed_env=["WAREHOUSE URL"])
    assert ExportPolicySettings(allowed_env=["WAREHOUSE_URL", "LAKEGATE_EXPORT_DW"]).allowed_env == [
        "WAREHOUSE_URL",
        "LAKEGATE_EXPORT_DW",
    ]


def test_the_catalog_database_is_never_a_target(resolver):
    resolver({"localhost": ["127.0.0.1", "::1"]})
    for catalog in (
        CatalogDatabase(host="127.0.0.1", port=5432, name="lakegate"),
        CatalogDatabase(host="localhost", port=5432, name="lakegate"),
        CatalogDatabase(host="", port=5432, name="lakegate"),  # a Unix socket: the same server
    ):
        policy = TargetPolicy(outbound=LOOPBACK_OK.outbound, catalog=catalog)
        for to in (
            "postgresql://postgres@127.0.0.1:5432/lakegate",
            "postgresql://x@[::ffff:127.0.0.1]/lakegate",
        ):
            error = refused(to, policy)
            assert "catalog" in error.message
        check_target("postgresql://postgres@127.0.0.1:5432/warehouse", policy)  # another database
        check_target("postgresql://postgres@127.0.0.1:5433/lakegate", policy)  # another server


def test_a_second_dns_answer_is_checked_when_the_export_connects(resolver, monkeypatch):
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)
        ],
    )
    to = "postgresql://postgres@rebind.example/dw"
    check_target(to, LOOPBACK_OK)  # the request: 127.0.0.1, allowed
    target = parse_target(to, LOOPBACK_OK)
    from lakegate.export._pgconnect import connect

    with pytest.raises(InputError, match="refused_by_policy"):  # the run: metadata, refused before connecting
        connect(target)


def test_pinned_connections_borrow_none_of_the_servers_credentials(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "ambient-secret")
    params = pinned_params("warehouse.example.com", 5432, {"user": "etl", "dbname": "dw"}, PUBLIC)
    assert params["hostaddr"] == PUBLIC
    assert params["host"] == "warehouse.example.com"  # kept for TLS name checks
    assert params["password"] == ""  # an empty password: libpq does not fall back to PGPASSWORD
    assert params["passfile"].startswith("/nonexistent/")
    assert (params["sslcertmode"], params["gssencmode"]) == ("disable", "disable")
    given = pinned_params("h", 5432, {"password": "typed-on-the-cli"}, PUBLIC)
    assert given["password"] == "typed-on-the-cli"


def test_without_a_policy_the_target_is_the_callers():
    target = parse_target("postgresql://postgres@127.0.0.1/dw?service=local")
    assert target.policy is None


def test_unresolvable_at_connect_time_is_transient(monkeypatch):
    def fail(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    target = parse_target("postgresql://etl@flaky.example/dw", DEFAULT)
    monkeypatch.setattr(socket, "getaddrinfo", fail)
    from lakegate.export._pgconnect import connect

    with pytest.raises(TransientExportError, match="unreachable"):
        connect(target)
