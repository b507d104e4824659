"""Fixtures for exports: a clean lake, the local PostgreSQL as the warehouse, loopback allowed.

The warehouse database is ``LAKEGATE_TEST_POSTGRES_URL`` (default: ``test`` on the local
server), so parallel test runs can each use their own. Exports to it need ``outbound:`` to
allow 127.0.0.0/8, as a deployment with a warehouse on its own host would.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings as django_settings

PG_URL = os.environ.get("LAKEGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
LOOPBACK = {"allowed_networks": ["127.0.0.0/8"]}


@pytest.fixture(autouse=True)
def _fresh_lake() -> None:
    shutil.rmtree(django_settings.LAKEGATE.paths.lake, ignore_errors=True)


@pytest.fixture
def loopback_allowed(configure: Callable[..., None]) -> None:
    """``outbound: {allowed_networks: [127.0.0.0/8]}``: the local warehouse may be reached."""
    configure(outbound=LOOPBACK)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the warehouse database, dropped afterwards."""
    name = f"lg_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


def pg_rows(sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(PG_URL) as conn:
        return conn.execute(sql).fetchall()
