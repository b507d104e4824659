from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """``csv_file("a.csv", "id,x\\n1,2\\n")`` -> a real file in tmp_path."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make
