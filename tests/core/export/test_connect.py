"""Connecting to a user's target: pinned to the checked address, no ambient credentials sent,
and only a reason code (never the far side's reply) in the error.

Traffic stays on 127.0.0.1: the local PostgreSQL, and listeners started here that answer as
hostile or foreign servers would (``fakepg``).
"""

from __future__ import annotations

import logging
import socket

import polars as pl
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from lakegate._outbound import OutboundPolicy
from lakegate.errors import ExportError, TransientExportError
from lakegate.export import TargetPolicy, export_table
from tests.core.export.conftest import PG_URL
from tests.core.export.fakepg import BANNER, banner, listener, password_request, pg_error

LOOPBACK_OK = TargetPolicy(outbound=OutboundPolicy(allowed_networks=["127.0.0.0/8"], timeout=3))


def frame() -> pl.DataFrame:
    return pl.DataFrame({"id": [1, 2], "name": ["a", "b"]})


def test_the_connection_goes_to_the_address_checked_once(monkeypatch, query, schema):
    """A name answering 127.0.0.1 and then the metadata address: the export uses the first answer."""
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    looked_up: list[str] = []

    def rebinding(host: str, port: object, *args: object, **kwargs: object) -> list[tuple]:
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    opened: list[dict[str, object]] = []
    real_connect = psycopg.connect

    def spy(conninfo: str = "", **kwargs: object) -> psycopg.Connection:
        opened.append(kwargs)
        return real_connect(conninfo, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(psycopg, "connect", spy)
    parts = conninfo_to_dict(PG_URL)
    url = f"postgresql://{parts['user']}@rebind.test:{parts.get('port', 5432)}/{parts['dbname']}"
    result = export_table(frame(), to=url, table="t", schema=schema, policy=LOOPBACK_OK)
    assert result.rows == 2
    assert looked_up == ["rebind.test"]  # resolved once; libpq was given the address, not the name
    assert len(opened) == 1
    assert (opened[0]["host"], opened[0]["hostaddr"]) == ("rebind.test", "127.0.0.1")
    assert query(f'SELECT count(*) FROM "{schema}".t') == [(2,)]


@pytest.mark.parametrize("policy", [LOOPBACK_OK, None], ids=["user-target", "operator-target"])
@pytest.mark.parametrize(
    ("serve", "code", "transient"),
    [
        (pg_error("28P01"), "login_refused", False),
        (pg_error("53300", f"too many connections; {BANNER}"), "login_refused", False),
        (banner, "unreachable", True),
        (password_request, "authentication_failed", False),
    ],
    ids=["pg-error", "pg-limit", "foreign-banner", "wants-password"],
)
def test_the_far_sides_reply_reaches_only_the_operators_log(serve, code, transient, policy, caplog):
    caplog.set_level(logging.WARNING, logger="lakegate.export")
    with listener(serve) as server, pytest.raises(ExportError) as info:
        export_table(frame(), to=server.url(), table="t", policy=policy)
    error = info.value
    assert isinstance(error, TransientExportError) is transient
    assert error.detail["reason"] == code
    assert f": {code} (" in error.message
    for text in (error.message, repr(error.detail), str(error.__cause__), str(error.__context__)):
        assert "remote-reply-7f3a" not in text
        assert "SSH-2.0" not in text
    logged = [r.reply for r in caplog.records if r.name == "lakegate.export" and hasattr(r, "reply")]
    assert logged, "the operator's log has no line for the failed connection"
    if code == "login_refused":  # a PostgreSQL ErrorResponse: its words are kept for the operator
        assert any("remote-reply-7f3a" in reply for reply in logged)


def test_a_users_host_is_never_offered_the_servers_password(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "ambient-secret-91")
    with listener(password_request) as server, pytest.raises(ExportError, match="authentication_failed"):
        export_table(frame(), to=server.url(), table="t", policy=LOOPBACK_OK)
    assert server.received, "the listener saw no client"
    assert all(b"ambient-secret-91" not in sent for sent in server.received)


def test_a_password_typed_for_that_host_is_sent_to_it_and_never_shown(monkeypatch):
    with listener(password_request) as server, pytest.raises(ExportError) as info:
        export_table(frame(), to=server.url(password="typed-pw-55"), table="t", policy=LOOPBACK_OK)
    assert any(b"typed-pw-55" in sent for sent in server.received)
    assert "typed-pw-55" not in info.value.message
    assert ":***@" in info.value.message


def test_real_server_refusals_have_their_codes():
    parts = conninfo_to_dict(PG_URL)
    port = int(parts.get("port", 5432))
    missing_db = f"postgresql://{parts['user']}@127.0.0.1:{port}/lakegate_no_such_db"
    with pytest.raises(ExportError) as info:
        export_table(frame(), to=missing_db, table="t", policy=LOOPBACK_OK)
    assert info.value.detail["reason"] == "login_refused"
    assert "does not exist" not in info.value.message
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(TransientExportError) as unreachable:
        export_table(frame(), to=f"postgresql://x@127.0.0.1:{closed}/dw", table="t", policy=LOOPBACK_OK)
    assert unreachable.value.detail["reason"] == "unreachable"
    assert "Connection refused" not in unreachable.value.message


def test_a_path_like_table_name_is_only_a_quoted_identifier(tmp_path, monkeypatch, query, schema):
    """Export targets take no file path: a table named like one is a table, nothing is written."""
    monkeypatch.chdir(tmp_path)
    parts = conninfo_to_dict(PG_URL)
    url = f"postgresql://{parts['user']}@127.0.0.1:{parts.get('port', 5432)}/{parts['dbname']}"
    result = export_table(frame(), to=url, table="../../etc/passwd", schema=schema, policy=LOOPBACK_OK)
    assert result.table == f"{schema}.../../etc/passwd"
    assert query(f'SELECT count(*) FROM "{schema}"."../../etc/passwd"') == [(2,)]
    assert list(tmp_path.iterdir()) == []
