"""Fixtures for sources, streams and exports: clean stream/lake folders, settings helpers, PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(autouse=True)
def _fresh_state(fresh_streams: None) -> None:
    """Every test here starts without lake tables or stream logs (tests/support/fixtures.py)."""


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema in database ``test``, dropped afterwards."""
    name = f"lg_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


def pg_rows(sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(PG_URL) as conn:
        return conn.execute(sql).fetchall()
