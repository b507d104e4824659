"""MySQL / MariaDB as an export target, for real against the local MariaDB server.

lakegate reaches MySQL and MariaDB through dlt's ``sqlalchemy`` destination with the PyMySQL
driver (both in the default install): ``to="dlt:sqlalchemy"`` with
``DESTINATION__SQLALCHEMY__CREDENTIALS=mysql+pymysql://user:pass@host:3306/db``. dlt's
dataset (``schema``) is a MySQL database, created by the export.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import polars as pl
import pymysql
import pytest

from lakegate.errors import ExportError
from lakegate.export import export_table

MARIADB_URL = os.environ.get("LAKEGATE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _connect(database: str | None = None) -> Any:
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database, autocommit=True)


@pytest.fixture(autouse=True)
def dlt_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DESTINATION__SQLALCHEMY__CREDENTIALS", MARIADB_URL)


@pytest.fixture
def database() -> Iterator[str]:
    """A uniquely named database (dlt's dataset, created by the export), dropped after."""
    name = f"lg_export_{uuid.uuid4().hex[:12]}"
    yield name
    with _connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"DROP DATABASE IF EXISTS `{name}_staging`")


def rows(database: str, statement: str) -> list[tuple[Any, ...]]:
    with _connect(database) as conn, conn.cursor() as cur:
        cur.execute(statement)
        return list(cur.fetchall())


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_append_replace_and_merge_into_mariadb(database):
    first = pl.DataFrame({"id": [1, 2], "name": ["Ana", "Zoë"], "score": [1.5, None]})
    result = export_table(first, to="dlt:sqlalchemy", table="People", schema=database)
    assert (result.rows, result.created, result.table) == (2, True, f"{database}.people")
    assert rows(database, "SELECT id, name, score FROM people ORDER BY id") == [
        (1, "Ana", 1.5),
        (2, "Zoë", None),
    ]

    more = pl.DataFrame({"id": [3], "name": ["Bo"], "score": [3.0]})
    export_table(more, to="dlt:sqlalchemy", table="People", schema=database)
    assert rows(database, "SELECT COUNT(*) FROM people") == [(3,)]

    changed = pl.DataFrame({"id": [2, 4], "name": ["Zoe", "Di"], "score": [2.0, 4.0]})
    merged = export_table(
        changed, to="dlt:sqlalchemy", table="People", schema=database, mode="merge", key=["id"]
    )
    assert (merged.rows, merged.created) == (2, False)
    assert rows(database, "SELECT id, name, score FROM people ORDER BY id") == [
        (1, "Ana", 1.5),
        (2, "Zoe", 2.0),
        (3, "Bo", 3.0),
        (4, "Di", 4.0),
    ]

    export_table(more, to="dlt:sqlalchemy", table="People", schema=database, mode="replace")
    assert rows(database, "SELECT id, name FROM people") == [(3, "Bo")]


def test_an_unreachable_mariadb_is_an_export_error(monkeypatch, database):
    monkeypatch.setenv("DESTINATION__SQLALCHEMY__CREDENTIALS", "mysql+pymysql://root:wrong@127.0.0.1:1/test")
    with pytest.raises(ExportError, match=r"export of t to dlt:sqlalchemy .* failed"):
        export_table(pl.DataFrame({"id": [1]}), to="dlt:sqlalchemy", table="t", schema=database)
