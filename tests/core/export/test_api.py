"""The export package's public API: a curated ``__all__`` and no heavy import at import time."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import lakegate.export


def test_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(lakegate.export).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert sorted(lakegate.export.__all__) == sorted(public)


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, lakegate.export; "
        "print(sorted(m for m in ('polars', 'pyarrow', 'psycopg', 'dlt', 'deltalake') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
