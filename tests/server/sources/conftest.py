"""Fixtures for sources, streams and exports: clean stream/lake folders, settings helpers, PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings as django_settings

from lakegate_server.streams import wal

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    paths = django_settings.LAKEGATE.paths
    for folder in (paths.lake, paths.streams):
        shutil.rmtree(folder, ignore_errors=True)
    wal.stream_logs_close()
    yield
    wal.stream_logs_close()


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
