"""Fixtures for streams: clean stream and lake folders, stream logs closed around each test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_state(fresh_streams: None) -> None:
    """Every test here starts without lake tables or stream logs (tests/support/fixtures.py)."""
