"""Fixtures for streams: clean stream and lake folders, stream logs closed around each test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from lakegate_server.streams import wal


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    paths = django_settings.LAKEGATE.paths
    for folder in (paths.lake, paths.streams):
        shutil.rmtree(folder, ignore_errors=True)
    wal.stream_logs_close()
    yield
    wal.stream_logs_close()
