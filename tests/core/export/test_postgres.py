"""``export_table`` into the real local PostgreSQL: modes, transactions, errors, names."""

from __future__ import annotations

import json
import socket
import threading

import polars as pl
import psycopg
import pytest

from lakegate.errors import ExportError, InputError
from lakegate.export import ExportResult, export_table
from tests.core.export.conftest import PG_URL


def people(ids, names=None) -> pl.DataFrame:
    return pl.DataFrame({"id": ids, "name": names or [f"n{i}" for i in ids]})


def rows_of(query, schema, table="t", order="id"):
    return query(f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}')


# -- append ----------------------------------------------------------------------------


def test_append_creates_the_table_then_adds_rows(make_delta, query, schema):
    source = make_delta(people([1, 2]))
    first = export_table(source, to=PG_URL, table="t", schema=schema)
    assert isinstance(first, ExportResult)
    assert (first.rows, first.created, first.mode, first.table) == (2, True, "append", f"{schema}.t")
    second = export_table(people([3]), to=PG_URL, table="t", schema=schema)
    assert (second.rows, second.created) == (1, False)
    assert rows_of(query, schema) == [(1, "n1"), (2, "n2"), (3, "n3")]
    doc = first.to_dict()
    assert json.loads(json.dumps(doc))["destination"] == PG_URL


def test_schema_dot_table_names_the_schema(query, schema):
    result = export_table(people([1]), to=PG_URL, table=f"{schema}.t")
    assert result.table == f"{schema}.t"
    assert rows_of(query, schema) == [(1, "n1")]


def test_append_matches_columns_by_name(query, schema):
    query(f'CREATE SCHEMA "{schema}"')
    query(f'CREATE TABLE "{schema}".t (note text, name text, id bigint)')
    export_table(people([5]), to=PG_URL, table="t", schema=schema)
    assert query(f'SELECT id, name, note FROM "{schema}".t') == [(5, "n5", None)]


def test_append_refuses_a_column_the_table_lacks_and_writes_nothing(query, schema):
    query(f'CREATE SCHEMA "{schema}"')
    query(f'CREATE TABLE "{schema}".t (id bigint)')
    query(f'INSERT INTO "{schema}".t VALUES (1)')
    with pytest.raises(ExportError, match=r"has no column 'name'") as info:
        export_table(people([2]), to=PG_URL, table="t", schema=schema)
    assert info.value.detail["columns"] == ["name"]
    assert query(f'SELECT id FROM "{schema}".t') == [(1,)]


def test_a_bad_value_names_table_column_and_reason_and_rolls_back(query, schema):
    query(f'CREATE SCHEMA "{schema}"')
    query(f'CREATE TABLE "{schema}".t (id bigint, amount integer)')
    frame = pl.DataFrame({"id": [1, 2, 3], "amount": ["10", "20", "lots"]})
    with pytest.raises(ExportError) as info:
        export_table(frame, to=PG_URL, table="t", schema=schema, batch_rows=2)
    message = info.value.message
    assert f"{schema}.t" in message
    assert "amount" in message
    assert "invalid input syntax for type integer" in message
    assert info.value.detail["sqlstate"] == "22P02"
    assert query(f'SELECT count(*) FROM "{schema}".t') == [(0,)]


# -- replace ---------------------------------------------------------------------------


def test_replace_swaps_content_and_schema(query, schema):
    first = export_table(people([1, 2]), to=PG_URL, table="t", schema=schema, mode="replace")
    frame = pl.DataFrame({"id": [9], "score": [0.5]})
    second = export_table(frame, to=PG_URL, table="t", schema=schema, mode="replace", key=["id"])
    assert (first.created, second.created) == (True, False)
    assert rows_of(query, schema) == [(9, 0.5)]
    tables = query("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
    assert tables == [("t",)], "the staging table is renamed, nothing is left behind"
    indexes = query("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema])
    assert indexes == [("t_lakegate_key",)]


def test_replace_is_atomic_for_a_concurrent_reader(query, schema):
    export_table(people(list(range(1000))), to=PG_URL, table="t", schema=schema)
    big = pl.DataFrame({"id": range(300_000), "name": ["x" * 20] * 300_000})
    counts: list[int] = []
    errors: list[Exception] = []
    started, finished = threading.Event(), threading.Event()

    def reader() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            started.wait(30)
            while not finished.is_set():
                try:
                    counts.append(conn.execute(f'SELECT count(*) FROM "{schema}".t').fetchone()[0])
                except psycopg.Error as exc:
                    errors.append(exc)
                    return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        export_table(
            big,
            to=PG_URL,
            table="t",
            schema=schema,
            mode="replace",
            batch_rows=30_000,
            progress=lambda _rows: started.set(),
        )
    finally:
        finished.set()
        thread.join(30)
    counts.append(query(f'SELECT count(*) FROM "{schema}".t')[0][0])
    assert errors == []
    assert set(counts) <= {1000, 300_000}
    assert 1000 in counts, "the reader saw the old rows while the new ones were loading"
    assert counts[-1] == 300_000


def test_a_failed_replace_keeps_the_old_table(query, schema):
    export_table(people([1]), to=PG_URL, table="t", schema=schema)
    query(f'CREATE VIEW "{schema}".v AS SELECT id FROM "{schema}".t')
    with pytest.raises(ExportError, match="depend") as info:
        export_table(people([2]), to=PG_URL, table="t", schema=schema, mode="replace")
    assert "_lakegate_" not in info.value.message
    assert rows_of(query, schema) == [(1, "n1")]
    assert query("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [schema]) == [(1,)]


# -- merge -----------------------------------------------------------------------------


def test_merge_updates_and_inserts_and_last_duplicate_wins(query, schema):
    first = export_table(people([1, 2]), to=PG_URL, table="t", schema=schema, mode="merge", key=["id"])
    assert first.created
    update = people([2, 3, 3], ["two", "three-a", "three-b"])
    second = export_table(update, to=PG_URL, table="t", schema=schema, mode="merge", key="id", batch_rows=1)
    assert (second.rows, second.created) == (3, False)
    assert rows_of(query, schema) == [(1, "n1"), (2, "two"), (3, "three-b")]
    assert query("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema]) == [("t_lakegate_key",)]


def test_merge_on_a_compound_key_into_a_table_without_unique_index_uses_merge(query, schema):
    query(f'CREATE SCHEMA "{schema}"')
    query(f'CREATE TABLE "{schema}".t (day date, shop text, sales bigint)')
    query(f"""INSERT INTO "{schema}".t VALUES ('2024-01-01', 'a', 1), ('2024-01-01', 'b', 2)""")
    frame = pl.DataFrame({"day": ["2024-01-01", "2024-01-02"], "shop": ["b", "b"], "sales": [20, 30]})
    frame = frame.with_columns(pl.col("day").str.to_date())
    export_table(frame, to=PG_URL, table="t", schema=schema, mode="merge", key=["day", "shop"])
    rows = query(f'SELECT day::text, shop, sales FROM "{schema}".t ORDER BY 1, 2')
    assert rows == [("2024-01-01", "a", 1), ("2024-01-01", "b", 20), ("2024-01-02", "b", 30)]


def test_merge_when_every_column_is_key_only_inserts_new_rows(query, schema):
    frame = pl.DataFrame({"id": [1, 2]})
    export_table(frame, to=PG_URL, table="t", schema=schema, mode="merge", key=["id"])
    export_table(pl.DataFrame({"id": [2, 3]}), to=PG_URL, table="t", schema=schema, mode="merge", key=["id"])
    assert rows_of(query, schema) == [(1,), (2,), (3,)]


@pytest.mark.parametrize(
    ("key", "match"),
    [(None, "needs --key"), (["nope"], "key column 'nope' is not in"), (["id", "id"], "named twice")],
    ids=["no-key", "unknown-column", "twice"],
)
def test_merge_key_errors(schema, query, key, match):
    with pytest.raises(ExportError, match=match):
        export_table(people([1]), to=PG_URL, table="t", schema=schema, mode="merge", key=key)
    assert query("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [schema]) == [(0,)]


def test_merge_refuses_null_keys(query, schema):
    frame = pl.DataFrame({"id": [1, None], "name": ["a", "b"]})
    with pytest.raises(ExportError, match=r"key column 'id' is null in 1 row"):
        export_table(frame, to=PG_URL, table="t", schema=schema, mode="merge", key=["id"])
    assert query("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [schema]) == [(0,)]


def test_unknown_mode_is_an_error(schema):
    with pytest.raises(ExportError, match="--mode 'upsert'"):
        export_table(people([1]), to=PG_URL, table="t", schema=schema, mode="upsert")  # type: ignore[arg-type]


# -- sources, batches, names ---------------------------------------------------------


def test_delta_version_and_batches_with_progress(make_delta, query, schema):
    source = make_delta(people(list(range(50))), people([100]))
    seen: list[int] = []
    lines: list[str] = []
    result = export_table(
        source,
        to=PG_URL,
        table="t",
        schema=schema,
        version=0,
        batch_rows=7,
        progress=seen.append,
        log=lines.append,
    )
    assert result.rows == 50
    assert seen == sorted(seen)
    assert seen[-1] == 50
    assert len(seen) >= 8
    assert query(f'SELECT count(*), max(id) FROM "{schema}".t') == [(50, 49)]
    assert lines[-1].startswith(f"exported 50 rows to {schema}.t")


def test_zero_rows_creates_an_empty_table(make_delta, query, schema):
    empty = pl.DataFrame(schema={"id": pl.Int64, "when": pl.Datetime("us", "UTC")})
    result = export_table(make_delta(empty), to=PG_URL, table="t", schema=schema)
    assert (result.rows, result.created) == (0, True)
    columns = query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
        "ORDER BY ordinal_position",
        [schema],
    )
    assert columns == [("id", "bigint"), ("when", "timestamp with time zone")]
    assert query(f'SELECT count(*) FROM "{schema}".t') == [(0,)]


def test_a_lazy_frame_is_streamed(query, schema):
    lazy = pl.LazyFrame({"id": range(1000)}).with_columns(name=pl.col("id").cast(pl.String))
    result = export_table(lazy, to=PG_URL, table="t", schema=schema, batch_rows=100)
    assert result.rows == 1000
    assert query(f'SELECT count(*), sum(id) FROM "{schema}".t') == [(1000, 499500)]


def test_hostile_names_are_quoted_not_executed(query, schema):
    evil = 'x"; DROP TABLE pg_class; --'
    frame = pl.DataFrame({evil: [1], "Mixed Case": ["a"]})
    export_table(frame, to=PG_URL, table='odd "name"', schema=schema)
    assert query("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]) == [('odd "name"',)]
    assert query(f'SELECT "x""; DROP TABLE pg_class; --", "Mixed Case" FROM "{schema}"."odd ""name"""') == [
        (1, "a")
    ]


def test_unsupported_column_type_names_the_column(schema):
    frame = pl.DataFrame({"id": [1], "blob": pl.Series([object()], dtype=pl.Object)})
    with pytest.raises(ExportError, match="column 'blob'"):
        export_table(frame, to=PG_URL, table="t", schema=schema)


def test_a_folder_that_is_no_table_is_an_input_error(tmp_path, schema):
    with pytest.raises(InputError, match="not a Delta table folder"):
        export_table(tmp_path, to=PG_URL, table="t", schema=schema)
    with pytest.raises(InputError, match="version= needs a Delta table"):
        export_table(tmp_path, to=PG_URL, table="t", schema=schema, version=1)


def test_unreachable_server_is_an_export_error_without_the_password():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://postgres:sup3rsecret@127.0.0.1:{port}/test"
    with pytest.raises(ExportError, match="could not connect to") as info:
        export_table(people([1]), to=url, table="t")
    assert "sup3rsecret" not in info.value.message
    assert f"postgresql://postgres:***@127.0.0.1:{port}/test" in info.value.message
