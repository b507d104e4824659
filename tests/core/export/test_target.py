"""``parse_target`` and ``mask_url``: URL kinds, env indirection, dlt names, masked passwords."""

from __future__ import annotations

import pytest

from lakegate.errors import ExportError
from lakegate.export import ExportTarget, mask_url, parse_target


@pytest.mark.parametrize(
    ("to", "url"),
    [
        ("postgresql://u:pw@db:5432/x", "postgresql://u:pw@db:5432/x"),
        ("postgres://u:pw@db/x", "postgresql://u:pw@db/x"),
        ("postgresql+psycopg://u:pw@db/x?sslmode=require", "postgresql://u:pw@db/x?sslmode=require"),
    ],
    ids=["postgresql", "postgres", "sqlalchemy-style"],
)
def test_postgres_urls_are_normalised_and_masked(to, url):
    target = parse_target(to)
    assert target.kind == "postgres"
    assert target.url == url
    assert "pw" not in target.destination
    assert target.destination == url.replace(":pw@", ":***@")
    assert "pw" not in repr(target)


def test_env_var_holds_the_url(monkeypatch):
    monkeypatch.setenv("LG_TEST_EXPORT_URL", "postgresql://me:hunter2@h/db")
    target = parse_target("env:LG_TEST_EXPORT_URL")
    assert target == ExportTarget(kind="postgres", destination="postgresql://me:***@h/db", url=target.url)
    assert target.url == "postgresql://me:hunter2@h/db"


@pytest.mark.parametrize("value", [None, "", "dlt:postgres"], ids=["unset", "empty", "not-a-url"])
def test_env_var_missing_or_wrong_is_an_error_naming_it(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("LG_TEST_EXPORT_MISSING", raising=False)
    else:
        monkeypatch.setenv("LG_TEST_EXPORT_MISSING", value)
    with pytest.raises(ExportError, match="LG_TEST_EXPORT_MISSING"):
        parse_target("env:LG_TEST_EXPORT_MISSING")


def test_dlt_destination_names():
    target = parse_target("dlt:snowflake")
    assert (target.kind, target.dlt_destination, target.destination) == ("dlt", "snowflake", "dlt:snowflake")
    assert target.url is None
    with pytest.raises(ExportError, match="not a dlt destination name"):
        parse_target("dlt:../../etc")


def test_unknown_scheme_is_an_error_without_the_password():
    with pytest.raises(ExportError, match="unsupported destination") as info:
        parse_target("mysql://root:topsecret@db/x")
    assert "topsecret" not in info.value.message
    assert "mysql://root:***@db/x" in info.value.message


def test_mask_url_masks_password_parameters_and_keeps_the_rest():
    assert mask_url("postgresql://h/db?user=a&password=b&sslmode=require") == (
        "postgresql://h/db?user=a&password=***&sslmode=require"
    )
    assert mask_url("postgresql://a@h:1/db") == "postgresql://a@h:1/db"
    assert mask_url("postgresql://a:p%40ss@h/db") == "postgresql://a:***@h/db"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pa#ss@h/db",  # '#' in the password: urllib would cut it at the fragment
        "postgresql://u:pa/ss@h/db",  # '/' in the password: urllib would cut it at the path
        "postgresql://u:p@ss@h/db",  # '@' in the password: libpq takes the first '@', urllib the last
        "postgresql://u:pass@h/db?sslpassword=pass&sslmode=require",
        "postgresql://h/db?pass%77ord=pass",  # an encoded parameter name
    ],
)
def test_mask_url_never_shows_a_password_however_the_url_is_written(url):
    masked = mask_url(url)
    assert "pass" not in masked.replace("sslpassword", "").replace("password", "")
    assert "ss@" not in masked


def test_a_text_that_is_no_url_is_never_echoed():
    with pytest.raises(ExportError, match="unsupported destination") as info:
        parse_target("host=db password=topsecret dbname=x")
    assert "topsecret" not in info.value.message
