"""Export benchmark: lakegate's PostgreSQL export against ``psql \\copy`` (the floor) and dlt (not a test).

    uv run --group bench python benchmarks/export.py [--quick] [--reps 3] [--rows 1000000]
        [--url postgresql://postgres@127.0.0.1:5432/test] [--skip dlt]

1. Generates (once, into ``benchmarks/.data/export/``; reused when present) ``--rows`` rows
   x 10 columns from the convert benchmark's generator (``convert._frame``: ints, floats,
   strings, a low-cardinality city, free text with commas, a timestamp, a date, a boolean,
   2-10% nulls in three columns) as a Delta table (lakegate's source) and as a CSV with a
   header (the floor's source). ``--quick`` uses 100k rows.
2. Every run loads all rows into a fresh table in the schema ``lakegate_bench_export``
   (dropped at the end), interleaving the tools, ``--reps`` times each:
   - ``psql-copy`` (floor): ``CREATE TABLE`` with the types lakegate would create, then
     ``psql -c "\\copy t FROM 'file.csv' CSV HEADER"``; wall time of both psql processes;
   - ``lakegate``: ``export_table(delta, to=URL, table=..., mode="append")`` in a child process,
     timed inside it after imports (reading the Delta table, CSV encoding and ``COPY``,
     creating the table included, so ``COPY`` runs with ``FREEZE``); peak RSS is the child's
     ``ru_maxrss``; import time is reported apart;
   - ``lakegate-existing``: the same, appending to a table created beforehand (plain ``COPY``,
     like the floor);
   - ``lakegate-csv``: like ``lakegate``, forced onto the CSV path (what columns without a
     binary encoder, e.g. decimals, get); the default path here is binary ``COPY``;
   - ``dlt``: the same Delta table through ``export_table(..., to="dlt:sqlalchemy")`` (dlt's
     ``postgres`` destination needs psycopg2, not installed here; ``sqlalchemy`` reaches the
     same server through SQLAlchemy + psycopg 3, which is what dlt offers without it).
3. Writes ``benchmarks/results/export.json``: per tool the median and best seconds, rows/s
   (from the median) and ``ratio_to_floor`` = median seconds / floor median seconds. A tool
   left out with ``--skip`` keeps its previous numbers, marked ``carried_over_from``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "export"
RESULTS = HERE / "results" / "export.json"
SCHEMA = "lakegate_bench_export"
COLUMNS = ["id", "user_id", "amount", "price", "name", "city", "comment", "created_at", "event_date", "flag"]
TOOLS = ["psql-copy", "lakegate", "lakegate-existing", "lakegate-csv", "dlt"]


def make_data(rows: int) -> tuple[Path, Path]:
    """The Delta table and the CSV of the same ``rows`` rows (generated once)."""
    import polars as pl
    from deltalake import write_deltalake

    sys.path.insert(0, str(HERE))
    from convert import _frame

    delta, csv = DATA / f"delta-{rows}", DATA / f"rows-{rows}.csv"
    if delta.exists() and csv.exists():
        return delta, csv
    shutil.rmtree(delta, ignore_errors=True)
    DATA.mkdir(parents=True, exist_ok=True)
    chunk = 500_000
    with csv.open("wb") as out:
        for start in range(0, rows, chunk):
            frame = _frame(min(chunk, rows - start), seed=start).select(COLUMNS)
            frame = frame.with_columns(id=pl.col("id") + start)
            write_deltalake(str(delta), frame.to_arrow(), mode="append")
            frame.write_csv(out, include_header=start == 0)
    return delta, csv


def psql(url: str, command: str) -> None:
    subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command], check=True)


def ddl(delta: Path) -> str:
    """``CREATE TABLE`` column list with the types lakegate maps the Delta schema to."""
    import polars as pl

    from lakegate.export import pg_type

    schema = pl.scan_delta(str(delta)).collect_schema()
    return ", ".join(f'"{name}" {pg_type(name, dtype)}' for name, dtype in schema.items())


def run_floor(url: str, csv: Path, table: str, columns: str) -> dict[str, Any]:
    started = time.perf_counter()
    psql(url, f"CREATE TABLE {SCHEMA}.{table} ({columns})")
    psql(url, f"\\copy {SCHEMA}.{table} FROM '{csv}' CSV HEADER")
    return {"seconds": time.perf_counter() - started}


def run_child(tool: str, url: str, delta: Path, table: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", tool, "--url", url, "--source", str(delta), "--table", table],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(tool: str, url: str, source: Path, table: str) -> None:
    """Run one export in this process and print its timing as one JSON line."""
    started = time.perf_counter()
    import deltalake  # noqa: F401 - imported before the clock starts, as in a running worker
    import polars  # noqa: F401
    import psycopg  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    from lakegate.export import export_table

    if tool == "dlt":
        import dlt  # noqa: F401
    if tool == "lakegate-csv":  # the CSV fallback path, for comparison (private switch, bench only)
        from lakegate.export import _postgres

        _postgres._Run._binary_ok = lambda self: False  # type: ignore[method-assign]
    imports = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as scratch:
        to = url
        if tool == "dlt":
            os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
            os.environ["DLT_DATA_DIR"] = scratch
            os.environ["DESTINATION__SQLALCHEMY__CREDENTIALS"] = url.replace(
                "postgresql://", "postgresql+psycopg://"
            )
            to = "dlt:sqlalchemy"
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = export_table(source, to=to, table=table, schema=SCHEMA, mode="append")
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": result.rows,
                "imports_seconds": imports,
                "peak_rss_mib": peak / 1024,
                "rss_before_mib": before / 1024,
            }
        )
    )


def count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {SCHEMA}.{table}").fetchone()
        return int(row[0]) if row else -1


def summarise(runs: dict[str, list[dict[str, Any]]], rows: int, tools: list[str]) -> dict[str, Any]:
    """Per tool: seconds, median, best, rows/s and ratio to the floor (skipped tools: last numbers)."""
    floor = statistics.median(r["seconds"] for r in runs["psql-copy"]) if "psql-copy" in runs else None
    results: dict[str, Any] = {}
    for tool, tool_runs in runs.items():
        seconds = [round(r["seconds"], 3) for r in tool_runs]
        median = statistics.median(seconds)
        results[tool] = {
            "seconds": seconds,
            "seconds_median": median,
            "seconds_best": min(seconds),
            "rows_per_s": round(rows / median),
            "ratio_to_floor": round(median / floor, 3) if floor else None,
        }
        if "peak_rss_mib" in tool_runs[0]:
            results[tool]["peak_rss_mib"] = round(max(r["peak_rss_mib"] for r in tool_runs))
            results[tool]["rss_before_mib"] = round(max(r["rss_before_mib"] for r in tool_runs))
            results[tool]["imports_seconds_median"] = round(
                statistics.median(r["imports_seconds"] for r in tool_runs), 3
            )
    skipped = [t for t in TOOLS if t not in tools]
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() and skipped else {}
    for tool in skipped:  # keep a skipped tool's last numbers, marked as such
        old = previous.get("results", {}).get(tool)
        if old and previous.get("rows") == rows:
            old["carried_over_from"] = old.get("carried_over_from") or previous.get("measured_at")
            if floor and old.get("seconds_median"):
                old["ratio_to_floor"] = round(old["seconds_median"] / floor, 3)
            results[tool] = old
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip", default="", help="comma-separated tools to leave out")
    parser.add_argument("--child", choices=TOOLS)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--table")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.source, args.table)
        return

    rows = 100_000 if args.quick else args.rows
    delta, csv = make_data(rows)
    columns = ddl(delta)
    tools = [t for t in TOOLS if t not in set(args.skip.split(","))]
    psql(args.url, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    load = []
    try:
        for rep in range(args.reps):
            for tool in tools:
                table = f"t_{tool.replace('-', '_')}_{rep}"
                load.append(os.getloadavg()[0])
                run = (
                    run_floor(args.url, csv, table, columns)
                    if tool == "psql-copy"
                    else run_child(tool, args.url, delta, table)
                )
                run["rows_loaded"] = count(args.url, table)
                if run["rows_loaded"] != rows:
                    raise SystemExit(f"{tool}: loaded {run['rows_loaded']} rows, expected {rows}")
                print(f"{tool:10s} rep {rep}: {run['seconds']:.2f} s", file=sys.stderr)
                runs[tool].append(run)
                psql(args.url, f"DROP TABLE {SCHEMA}.{table}")
    finally:
        psql(args.url, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")

    results = summarise(runs, rows, tools)
    doc = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "rows": rows,
        "columns": len(COLUMNS),
        "csv_bytes": csv.stat().st_size,
        "reps": args.reps,
        "load_average_1min": {"min": min(load), "max": max(load)},
        "note": "median of the repetitions; ratio_to_floor = tool median / psql \\copy median "
        "(lower is better); lakegate sends binary COPY and creates the table in its transaction "
        "(COPY ... FREEZE); lakegate-existing appends to a table created beforehand (no FREEZE); "
        "lakegate-csv is forced onto the CSV fallback",
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
