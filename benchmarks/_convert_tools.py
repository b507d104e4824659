"""What each peer runs in the library benchmark of ``convert.py``, in a child process of its own.

``python _convert_tools.py TOOL KIND SRC OUT`` imports the tool's libraries, then converts
``SRC`` into the folder ``OUT`` and prints ``{"seconds": ...}``: the conversion only, after
the imports (the command line's whole-process time is measured separately).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["run_tool"]

_IMPORTS = {
    "lakegate": ("lakegate.lake", "polars", "numpy", "fastexcel"),
    "polars": ("polars", "fastexcel"),
    "duckdb": ("duckdb",),
    "pyarrow": ("pyarrow.csv", "pyarrow.json", "pyarrow.parquet"),
    "pandas": ("pandas", "pyarrow.parquet", "python_calamine"),
    "python-calamine": ("python_calamine", "polars"),
}


def _column(name: str, values: tuple[Any, ...]) -> Any:
    """A polars Series from calamine values (a datetime at midnight comes back as a date)."""
    import datetime as dt

    import polars as pl

    if any(type(v) is dt.datetime for v in values):
        values = tuple(dt.datetime.combine(v, dt.time()) if type(v) is dt.date else v for v in values)
    return pl.Series(name, [None if v == "" else v for v in values], strict=False)


def run_tool(tool: str, kind: str, src: str, out: str) -> None:  # noqa: PLR0912 - one branch per tool
    """Convert ``src`` into the folder ``out`` with ``tool``; print the seconds taken."""
    kind = "csv" if kind == "csv-2gb" else kind
    target = Path(out) / "out.parquet"
    # Libraries are imported before the clock starts: the seconds are the conversion's.
    for module in _IMPORTS[tool]:
        __import__(module)
    started = time.perf_counter()
    if tool == "lakegate":
        from lakegate.lake import convert

        convert([src], out)
    elif tool == "polars":
        import polars as pl

        if kind == "csv":
            pl.scan_csv(src, try_parse_dates=True).sink_parquet(target, compression="zstd")
        elif kind == "jsonl":
            pl.scan_ndjson(src).sink_parquet(target, compression="zstd")
        else:
            pl.read_excel(src, engine="calamine").write_parquet(target, compression="zstd")
    elif tool == "duckdb":
        import duckdb

        reader = "read_csv" if kind == "csv" else "read_json_auto"
        duckdb.sql(f"COPY (SELECT * FROM {reader}('{src}')) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
    elif tool == "pyarrow":
        import pyarrow.csv as pacsv
        import pyarrow.json as pajson
        import pyarrow.parquet as pq

        table = pacsv.read_csv(src) if kind == "csv" else pajson.read_json(src)
        pq.write_table(table, target, compression="zstd")
    elif tool == "pandas":
        import pandas as pd

        if kind == "csv":
            frame = pd.read_csv(src, parse_dates=["created_at", "event_date"])
        elif kind == "jsonl":
            frame = pd.read_json(src, lines=True)
        else:
            frame = pd.read_excel(src, engine="calamine")
        frame.to_parquet(target, compression="zstd")
    elif tool == "python-calamine":
        import polars as pl
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(src).get_sheet_by_index(0).to_python()
        header = [str(c) for c in rows[0]]
        pl.DataFrame(
            [_column(name, values) for name, values in zip(header, zip(*rows[1:], strict=True), strict=True)]
        ).write_parquet(target, compression="zstd")
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    run_tool(*sys.argv[1:5])
