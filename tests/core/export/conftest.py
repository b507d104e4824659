"""Fixtures for export tests: the real local PostgreSQL, one schema per test, Delta sources."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
from deltalake import write_deltalake

PG_URL = os.environ.get("LAKEGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

Query = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def schema() -> Iterator[str]:
    """A uniquely named schema (created by the export itself), dropped after the test.

    dlt's merge also creates ``<schema>_staging``: dropped too.
    """
    name = f"lg_export_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}_staging" CASCADE')


@pytest.fixture
def query() -> Iterator[Query]:
    """Run one statement on its own autocommit connection and return the rows (if any)."""
    conn = psycopg.connect(PG_URL, autocommit=True)

    def run(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []

    yield run
    conn.close()


@pytest.fixture
def make_delta(tmp_path: Path) -> Callable[..., Path]:
    """Write polars frames as versions of a Delta table in ``tmp_path`` (appends after the first)."""

    def make(*frames: pl.DataFrame, name: str = "table") -> Path:
        path = tmp_path / name
        for i, frame in enumerate(frames):
            write_deltalake(str(path), frame.to_arrow(), mode="append" if i else "error")
        return path

    return make
