"""The ``dlt:<destination>`` path, for real against the local PostgreSQL.

dlt's own ``postgres`` destination needs psycopg2 (``pip install "dlt[postgres]"``), which is
not installed here; its ``sqlalchemy`` destination reaches the same server through
SQLAlchemy + psycopg 3, so it runs the same dlt pipeline code (extract, normalise, load,
state in the destination) against a real database.
"""

from __future__ import annotations

import importlib.util
import socket

import polars as pl
import pytest

from lakegate.errors import ExportError, InputError
from lakegate.export import export_table
from tests.core.export.conftest import PG_URL

DLT_URL = PG_URL.replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture(autouse=True)
def dlt_env(monkeypatch, tmp_path):
    """dlt reads credentials from the environment and keeps its data under ``tmp_path``, not ~/.dlt."""
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DESTINATION__SQLALCHEMY__CREDENTIALS", DLT_URL)


def test_append_then_replace_from_delta(make_delta, query, schema, tmp_path):
    source = make_delta(pl.DataFrame({"id": [1, 2], "name": ["a", ""], "score": [0.5, None]}))
    seen: list[int] = []
    first = export_table(
        source,
        to="dlt:sqlalchemy",
        table="People",
        schema=schema,
        progress=seen.append,
        pipelines_dir=tmp_path / "pipelines",
    )
    assert (first.rows, first.created, first.table, first.destination) == (
        2,
        True,
        f"{schema}.people",
        "dlt:sqlalchemy",
    )
    assert seen == [2]
    assert any((tmp_path / "pipelines").iterdir()), "dlt worked in the folder it was given"
    second = export_table(source, to="dlt:sqlalchemy", table="People", schema=schema)
    assert (second.rows, second.created) == (2, False)
    assert query(f'SELECT id, name, score FROM "{schema}".people ORDER BY id') == [
        (1, "a", 0.5),
        (1, "a", 0.5),
        (2, "", None),
        (2, "", None),
    ]
    export_table(
        pl.DataFrame({"id": [7], "name": ["z"], "score": [1.0]}),
        to="dlt:sqlalchemy",
        table="People",
        schema=schema,
        mode="replace",
    )
    assert query(f'SELECT id, name FROM "{schema}".people') == [(7, "z")]
    assert not (tmp_path / "dlt-data" / "pipelines").exists(), (
        "without pipelines_dir dlt works in a temp folder"
    )


# dlt's SQLAlchemy merge job trips SQLAlchemy's own deprecation warning (dlt issue, not ours).
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_merge_updates_and_inserts(query, schema):
    export_table(
        pl.DataFrame({"id": [1, 2], "v": ["a", "b"]}),
        to="dlt:sqlalchemy",
        table="t",
        schema=schema,
        mode="merge",
        key=["id"],
    )
    result = export_table(
        pl.DataFrame({"id": [2, 3], "v": ["B", "c"]}),
        to="dlt:sqlalchemy",
        table="t",
        schema=schema,
        mode="merge",
        key=["id"],
    )
    assert result.rows == 2
    assert query(f'SELECT id, v FROM "{schema}".t ORDER BY id') == [(1, "a"), (2, "B"), (3, "c")]


def test_zero_rows_still_creates_the_table(query, schema):
    empty = pl.DataFrame(schema={"id": pl.Int64, "v": pl.String})
    result = export_table(empty, to="dlt:sqlalchemy", table="t", schema=schema)
    assert (result.rows, result.created) == (0, True)
    assert query(f'SELECT count(*) FROM "{schema}".t') == [(0,)]


def test_unknown_destination_is_an_export_error(schema):
    with pytest.raises(ExportError, match="dlt:nosuchwarehouse") as info:
        export_table(pl.DataFrame({"id": [1]}), to="dlt:nosuchwarehouse", table="t", schema=schema)
    assert info.value.detail["destination"] == "nosuchwarehouse"


def test_unreachable_destination_is_an_export_error(monkeypatch, schema):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(
        "DESTINATION__SQLALCHEMY__CREDENTIALS", f"postgresql+psycopg://postgres:pw@127.0.0.1:{port}/test"
    )
    with pytest.raises(ExportError, match=r"export of t to dlt:sqlalchemy .* failed: .*connect"):
        export_table(pl.DataFrame({"id": [1]}), to="dlt:sqlalchemy", table="t", schema=schema)


def test_missing_key_column_is_refused_before_dlt_runs(schema):
    with pytest.raises(ExportError, match="key column 'nope'"):
        export_table(
            pl.DataFrame({"id": [1]}),
            to="dlt:sqlalchemy",
            table="t",
            schema=schema,
            mode="merge",
            key=["nope"],
        )


def test_a_source_error_keeps_its_type(tmp_path, schema):
    with pytest.raises(InputError, match="not a Delta table folder"):
        export_table(tmp_path, to="dlt:sqlalchemy", table="t", schema=schema)


@pytest.mark.skipif(importlib.util.find_spec("psycopg2") is not None, reason="psycopg2 is installed")
def test_dlt_postgres_without_its_extra_says_what_to_install(monkeypatch, schema):
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", PG_URL.replace("postgres@", "postgres:pw@"))
    with pytest.raises(ExportError, match=r'pip install "dlt\[postgres\]"'):
        export_table(pl.DataFrame({"id": [1]}), to="dlt:postgres", table="t", schema=schema)
