"""SQL source against the real local PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import decimal
import socket
import uuid
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lakegate.errors import ConfigError, SourceError, TransientSourceError
from lakegate.sources import OutboundPolicy, fetch, load_sources
from lakegate.sources import sql as sql_source

URLS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql://root@127.0.0.1:3306/test",
}
POLICY = OutboundPolicy()  # does not apply to databases: the default must not get in the way
ROWS = 2500


def _rows(start: int, stop: int) -> list[dict]:
    base = dt.datetime(2024, 1, 1, 12, 0, 0)  # noqa: DTZ001 (a naive DATETIME column)
    return [
        {
            "id": i,
            "grp": i // 7,  # ties: 7 rows share each value
            "name": None if i % 10 == 0 else f"name {i} é",
            "amount": None if i % 13 == 0 else decimal.Decimal(i) / 100,
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=i % 365),
            "stamp": base + dt.timedelta(minutes=i),
        }
        for i in range(start, stop)
    ]


@pytest.fixture(params=sorted(URLS), ids=sorted(URLS))
def table(request):
    backend = request.param
    url = URLS[backend]
    engine = sa.create_engine(sql_source.engine_url(url), poolclass=sa.pool.NullPool)
    name = f"lg_src_{uuid.uuid4().hex[:10]}"
    metadata = sa.MetaData()
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("grp", sa.Integer, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("day", sa.Date),
        sa.Column("stamp", sa.DateTime),
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), _rows(1, ROWS + 1))

    def insert(start: int, stop: int) -> None:
        with engine.begin() as connection:
            connection.execute(table.insert(), _rows(start, stop))

    try:
        yield {"backend": backend, "url": url, "name": name, "insert": insert}
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def spec(tmp_path: Path, url: str, **options):
    return load_sources({"db": {"kind": "sql", "dataset": "db", "url": url, **options}}, tmp_path)["db"]


def test_full_load_types_and_values(table, tmp_path):
    source = spec(tmp_path, table["url"], query=f"SELECT * FROM {table['name']} ORDER BY id;")
    [batch] = list(fetch(source, {}, tmp_path / "work", outbound=POLICY))
    frame = pl.read_parquet(batch.path)
    assert batch.rows == frame.height == ROWS
    assert batch.state == {}
    assert batch.path.suffix == ".parquet"
    assert frame.columns == ["id", "grp", "name", "amount", "day", "stamp"]
    assert frame["name"].null_count() == ROWS // 10
    assert frame["amount"].null_count() == ROWS // 13
    assert frame.schema["day"] == pl.Date
    assert isinstance(frame.schema["stamp"], pl.Datetime)
    assert isinstance(frame.schema["amount"], pl.Decimal)
    row = frame.filter(pl.col("id") == 7).row(0, named=True)
    assert row["amount"] == decimal.Decimal("0.07")
    assert row["name"] == "name 7 é"
    assert row["day"] == dt.date(2024, 1, 8)
    assert row["stamp"] == dt.datetime(2024, 1, 1, 12, 7)  # noqa: DTZ001
    assert batch.label.endswith("/test (db)")


def test_rerun_stages_identical_bytes(table, tmp_path):
    source = spec(tmp_path, table["url"], query=f"SELECT * FROM {table['name']} ORDER BY id")
    [one] = list(fetch(source, {}, tmp_path / "a", outbound=POLICY))
    [two] = list(fetch(source, {}, tmp_path / "b", outbound=POLICY))
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.meta["sha256"] == two.meta["sha256"]


def test_incremental_batches_then_only_new_rows(table, tmp_path, monkeypatch):
    monkeypatch.setattr(sql_source, "_CHUNK_ROWS", 300)  # several chunks per batch
    source = spec(
        tmp_path,
        table["url"],
        query=f"SELECT id, name, amount FROM {table['name']}",
        incremental={"cursor_column": "id"},
        batch_rows=1000,
    )
    batches = list(fetch(source, {}, tmp_path, outbound=POLICY))
    assert [b.rows for b in batches] == [1000, 1000, 500]
    assert [b.state["cursor"] for b in batches] == [
        {"type": "int", "value": 1000},
        {"type": "int", "value": 2000},
        {"type": "int", "value": 2500},
    ]
    assert pl.read_parquet(batches[-1].path)["id"].to_list() == list(range(2001, 2501))
    assert not batches[0].path.exists()  # earlier batch files are cleaned up as the caller advances

    assert list(fetch(source, batches[-1].state, tmp_path, outbound=POLICY)) == []
    table["insert"](ROWS + 1, ROWS + 101)
    [new] = list(fetch(source, batches[-1].state, tmp_path, outbound=POLICY))
    assert pl.read_parquet(new.path)["id"].to_list() == list(range(ROWS + 1, ROWS + 101))
    assert new.state["cursor"] == {"type": "int", "value": ROWS + 100}


def test_batches_never_split_a_cursor_value(table, tmp_path, monkeypatch):
    monkeypatch.setattr(sql_source, "_CHUNK_ROWS", 64)
    source = spec(
        tmp_path,
        table["url"],
        query=f"SELECT id, grp FROM {table['name']}",
        incremental={"cursor_column": "grp"},
        batch_rows=100,
    )
    batches = [(batch, pl.read_parquet(batch.path)) for batch in fetch(source, {}, tmp_path, outbound=POLICY)]
    for batch, frame in batches:
        # the state is the batch's greatest cursor: resuming after it loses and repeats nothing
        assert frame["grp"].max() == batch.state["cursor"]["value"]
    for batch, frame in batches[:-1]:
        assert 100 <= batch.rows <= 106  # cut at batch_rows, moved on to the end of a 7-row group
        assert frame.filter(pl.col("grp") == frame["grp"].max()).height == 7
    seen = [i for _, frame in batches for i in frame["id"].to_list()]
    assert sorted(seen) == list(range(1, ROWS + 1))
    assert len(seen) == len(set(seen))


def test_a_row_committed_later_at_the_stored_cursor_is_not_lost(table, tmp_path, monkeypatch):
    """``day`` repeats (id % 365): a new row on the newest day must still arrive, once."""
    monkeypatch.setattr(sql_source, "_CHUNK_ROWS", 2)  # the six rows at the cursor span three chunks
    source = spec(
        tmp_path,
        table["url"],
        query=f"SELECT id, name, amount, day FROM {table['name']}",
        incremental={"cursor_column": "day"},
    )
    [first] = list(fetch(source, {}, tmp_path, outbound=POLICY))
    newest = dt.date(2024, 1, 1) + dt.timedelta(days=364)
    assert first.rows == ROWS
    assert first.state["cursor"] == sql_source.encode_cursor(newest)
    assert len(first.state["boundary"]) == 6  # ids 364, 729, ... 2189 share the newest day

    assert list(fetch(source, first.state, tmp_path, outbound=POLICY)) == []  # nothing new, nothing again
    table["insert"](ROWS + 1, ROWS + 101)  # only id 2554 lands on the newest day; the rest is older
    [second] = list(fetch(source, first.state, tmp_path, outbound=POLICY))
    assert pl.read_parquet(second.path)["id"].to_list() == [2554]
    assert len(second.state["boundary"]) == 7
    assert list(fetch(source, second.state, tmp_path, outbound=POLICY)) == []


def test_an_identical_row_committed_later_at_the_cursor_is_kept_once(table, tmp_path):
    """A query without a key column: six identical rows at the cursor, then a seventh."""
    source = spec(
        tmp_path, table["url"], query=f"SELECT day FROM {table['name']}", incremental={"cursor_column": "day"}
    )
    [first] = list(fetch(source, {}, tmp_path, outbound=POLICY))
    newest = dt.date(2024, 1, 1) + dt.timedelta(days=364)
    assert first.state["boundary"] == [first.state["boundary"][0]] * 6  # one key, six times
    table["insert"](2554, 2555)  # the newest day again: a row identical to the six
    [second] = list(fetch(source, first.state, tmp_path, outbound=POLICY))
    assert pl.read_parquet(second.path).rows() == [(newest,)]
    assert len(second.state["boundary"]) == 7
    assert list(fetch(source, second.state, tmp_path, outbound=POLICY)) == []


def test_datetime_cursor_round_trips(table, tmp_path):
    source = spec(
        tmp_path,
        table["url"],
        query=f"SELECT id, stamp FROM {table['name']}",
        incremental={"cursor_column": "stamp", "initial": "2024-01-02T00:00:00"},
    )
    [batch] = list(fetch(source, {}, tmp_path, outbound=POLICY))
    assert batch.state["cursor"]["type"] == "datetime"
    assert pl.read_parquet(batch.path)["id"].min() == 12 * 60 + 1  # after 2024-01-02 00:00
    assert list(fetch(source, batch.state, tmp_path, outbound=POLICY)) == []
    table["insert"](ROWS + 1, ROWS + 3)
    [new] = list(fetch(source, batch.state, tmp_path, outbound=POLICY))
    assert new.rows == 2


def test_query_file_and_url_env(table, tmp_path, monkeypatch):
    env = f"LAKEGATE_TEST_DB_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(env, table["url"])
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "q.sql").write_text(f"SELECT id FROM {table['name']} WHERE id <= 10\n")
    source = load_sources(
        {"db": {"kind": "sql", "dataset": "db", "url_env": env, "query_file": "queries/q.sql"}}, tmp_path
    )["db"]
    [batch] = list(fetch(source, {}, tmp_path / "w", outbound=POLICY))
    assert sorted(pl.read_parquet(batch.path)["id"].to_list()) == list(range(1, 11))


def test_bad_query_names_source_and_database_message(table, tmp_path):
    source = spec(tmp_path, table["url"], query="SELECT * FROM lakegate_no_such_table_xyz")
    with pytest.raises(
        SourceError, match=r"source 'db': query failed on .*lakegate_no_such_table_xyz"
    ) as info:
        list(fetch(source, {}, tmp_path, outbound=POLICY))
    assert not isinstance(info.value, TransientSourceError)


def test_unknown_cursor_column(table, tmp_path):
    source = spec(
        tmp_path, table["url"], query=f"SELECT id FROM {table['name']}", incremental={"cursor_column": "zz"}
    )
    with pytest.raises(SourceError, match="zz"):
        list(fetch(source, {}, tmp_path, outbound=POLICY))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"], ids=["postgresql", "mariadb"])
def test_unreachable_server_is_transient_and_password_masked(tmp_path, scheme):
    url = f"{scheme}://user:hunter2@127.0.0.1:{_closed_port()}/test"
    with pytest.raises(TransientSourceError, match="cannot reach") as info:
        list(fetch(spec(tmp_path, url, query="SELECT 1"), {}, tmp_path, outbound=POLICY))
    assert "hunter2" not in str(info.value)
    assert "***" in str(info.value)


def test_password_is_masked_in_the_label(tmp_path):
    source = spec(tmp_path, "postgresql://postgres:hunter2@127.0.0.1:5432/test", query="SELECT 1 AS one")
    [batch] = list(fetch(source, {}, tmp_path, outbound=POLICY))
    assert "hunter2" not in batch.label
    assert "***" in batch.label
    assert pl.read_parquet(batch.path)["one"].to_list() == [1]


def test_missing_url_env(tmp_path):
    source = load_sources(
        {
            "db": {
                "kind": "sql",
                "dataset": "db",
                "url_env": "LAKEGATE_TEST_UNSET_DB_URL",
                "query": "SELECT 1",
            }
        },
        tmp_path,
    )["db"]
    with pytest.raises(ConfigError, match="LAKEGATE_TEST_UNSET_DB_URL is not set"):
        list(fetch(source, {}, tmp_path, outbound=POLICY))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("mysql://u@h/db", "mysql+pymysql://u@h/db"),
        ("mariadb://u@h/db", "mariadb+pymysql://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
    ids=["postgresql", "postgres", "mysql", "mariadb", "explicit", "other"],
)
def test_engine_url_picks_the_installed_drivers(url, expected):
    assert sql_source.engine_url(url) == expected


@pytest.mark.parametrize(
    "value",
    [
        7,
        1.5,
        decimal.Decimal("12.30"),
        dt.date(2024, 2, 29),
        dt.datetime(2024, 1, 1, 3, 4, 5, 6),  # noqa: DTZ001
        dt.datetime(2024, 1, 1, 3, 4, tzinfo=dt.UTC),
        "abc",
    ],
    ids=["int", "float", "decimal", "date", "datetime", "datetime_tz", "str"],
)
def test_cursor_state_round_trips(value):
    import json

    encoded = json.loads(json.dumps(sql_source.encode_cursor(value)))
    decoded = sql_source.decode_cursor(encoded)
    assert decoded == value
    assert type(decoded) is type(value)
