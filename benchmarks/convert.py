"""Convert benchmark: lakegate against its peers on the same files, in the same run (not a test).

    uv run --group bench python benchmarks/convert.py [--quick] [--reps 3] [--big] [--only csv,jsonl,xlsx]

1. Generates (once, into ``benchmarks/.data/convert/``; reused when present) a 5M-row,
   12-column CSV (ints, floats, strings, a low-cardinality city, free text with commas,
   ISO timestamps and dates, booleans, ~2-10% nulls per nullable column), a 1M-row JSON
   lines file with nested objects and arrays, and a 200k-row xlsx. ``--quick`` uses
   100k / 50k / 10k rows. ``--big`` adds a ~2 GB CSV (lakegate and polars only) to check
   peak memory.
2. Converts each file to Parquet (zstd) with every tool, each run in its own subprocess:
   ``lakegate`` (the ``convert`` function), ``lakegate-cli`` (the ``lakegate convert``
   command), polars, duckdb, pyarrow, pandas; for xlsx python-calamine, polars
   (fastexcel) and pandas (calamine engine). Each tool runs ``--reps`` times, interleaved,
   and reports the best time (the least disturbed by whatever else runs on the machine)
   and the median. Peak RSS is the child's own ``ru_maxrss`` (``os.wait4``).
3. Writes ``benchmarks/results/convert.json``: per file, per tool seconds (conversion
   only, measured inside the child after its libraries were imported; the CLI's is wall
   time including interpreter start-up and imports) and peak
   RSS, and ``ratio`` = lakegate best / fastest peer best, with the targets:
   CSV and JSONL <= 1.25, xlsx <= 1.2 against python-calamine, lakegate peak RSS <= 1 GiB.
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
import time
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "convert"
RESULTS = HERE / "results" / "convert.json"
GiB = 1024**3

SIZES = {
    "full": {"csv": 5_000_000, "jsonl": 1_000_000, "xlsx": 200_000},
    "quick": {"csv": 100_000, "jsonl": 50_000, "xlsx": 10_000},
}
BIG_ROWS = 16_000_000
TARGETS = {"csv": 1.25, "jsonl": 1.25, "xlsx": 1.2}
TOOLS = {
    "csv": ["lakegate", "lakegate-cli", "polars", "duckdb", "pyarrow", "pandas"],
    "jsonl": ["lakegate", "lakegate-cli", "polars", "duckdb", "pyarrow", "pandas"],
    "xlsx": ["lakegate", "lakegate-cli", "python-calamine", "polars", "pandas"],
    "csv-2gb": ["lakegate", "polars"],
}


# -- data -------------------------------------------------------------------------------


def _frame(rows: int, seed: int) -> Any:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    cities = np.array(
        ["Paris", "Lyon", "Berlin", "Madrid", "Rome", "Lisbon", "Oslo", "Vienna", "Prague", "Dublin"]
    )
    words = np.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"])
    base = np.datetime64("2020-01-01T00:00:00", "ms")

    def nulls(name: str, fraction: float) -> pl.Expr:
        return pl.when(pl.Series(rng.random(rows) < fraction)).then(None).otherwise(pl.col(name)).alias(name)

    glue = np.where(rng.random(rows) < 0.05, ", ", " ")  # 5% of the free text needs quoting
    frame = pl.DataFrame(
        {
            "id": np.arange(rows),
            "user_id": rng.integers(1, 100_000, rows),
            "amount": np.round(rng.normal(100, 30, rows), 2),
            "price": rng.random(rows) * 1000,
            "qty": rng.integers(0, 50, rows),
            "name": np.char.add("user_", rng.integers(0, 1_000_000, rows).astype(str)),
            "city": cities[rng.integers(0, len(cities), rows)],
            "comment": np.char.add(
                np.char.add(words[rng.integers(0, 8, rows)], glue), words[rng.integers(0, 8, rows)]
            ),
            "created_at": base
            + rng.integers(0, 3 * 365 * 86400, rows).astype("timedelta64[s]").astype("timedelta64[ms]"),
            "event_date": (base + rng.integers(0, 1000, rows).astype("timedelta64[D]")).astype(
                "datetime64[D]"
            ),
            "flag": rng.random(rows) < 0.5,
            "score": rng.random(rows),
        }
    )
    return frame.with_columns(nulls("user_id", 0.1), nulls("price", 0.05), nulls("city", 0.02))


def make_csv(path: Path, rows: int) -> None:
    chunk = 1_000_000
    with path.open("wb") as out:
        for start in range(0, rows, chunk):
            frame = _frame(min(chunk, rows - start), seed=start)
            frame = frame.with_columns(id=frame["id"] + start)
            frame.write_csv(out, include_header=start == 0, datetime_format="%Y-%m-%d %H:%M:%S")


def make_jsonl(path: Path, rows: int) -> None:
    import polars as pl

    frame = _frame(rows, seed=1).select(
        "id",
        pl.struct(
            pl.col("user_id").alias("id"),
            "name",
            pl.struct("city", pl.col("qty").alias("floor")).alias("address"),
        ).alias("user"),
        "amount",
        "price",
        pl.col("created_at").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.col("event_date").cast(pl.String),
        "flag",
        "score",
        pl.col("comment").str.split(" ").alias("tags"),
        "comment",
    )
    frame.write_ndjson(path)


def make_xlsx(path: Path, rows: int) -> None:
    """A one-sheet workbook written directly as OOXML (no xlsx writer is a dependency)."""
    from xml.sax.saxutils import escape

    frame = _frame(rows, seed=2).select(
        "id", "user_id", "amount", "name", "city", "created_at", "event_date", "score"
    )
    epoch = 25569  # 1970-01-01 as an Excel serial day
    header = "".join(f'<c t="inlineStr"><is><t>{n}</t></is></c>' for n in frame.columns)
    ns_pkg = "http://schemas.openxmlformats.org/package/2006"
    ns_doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ns_main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{ns_pkg}/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns_pkg}/relationships">'
        f'<Relationship Id="rId1" Type="{ns_doc}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns_main}" xmlns:r="{ns_doc}">'
        '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns_pkg}/relationships">'
        f'<Relationship Id="rId1" Type="{ns_doc}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{ns_doc}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": f'<?xml version="1.0"?><styleSheet xmlns="{ns_main}">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
        '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/>'
        '<xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/>'
        "</cellXfs></styleSheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0"?><worksheet xmlns="{ns_main}"><sheetData>'.encode())
            sheet.write(f"<row>{header}</row>".encode())
            for row in frame.iter_rows():
                ident, user, amount, name, city, created, day, score = row
                cells = [f"<c><v>{ident}</v></c>", f"<c><v>{user}</v></c>" if user is not None else "<c/>"]
                cells.append(f"<c><v>{amount!r}</v></c>")
                cells.append(f'<c t="inlineStr"><is><t>{escape(name)}</t></is></c>')
                cells.append(f'<c t="inlineStr"><is><t>{city}</t></is></c>' if city is not None else "<c/>")
                cells.append(f'<c s="2"><v>{created.timestamp() / 86400 + epoch!r}</v></c>')
                cells.append(f'<c s="1"><v>{(day.toordinal() - 719163) + epoch}</v></c>')
                cells.append(f"<c><v>{score!r}</v></c>")
                sheet.write(f"<row>{''.join(cells)}</row>".encode())
            sheet.write(b"</sheetData></worksheet>")


def dataset(kind: str, rows: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    suffix = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx", "csv-2gb": "csv"}[kind]
    path = DATA / f"{kind}-{rows}.{suffix}"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_name(path.name + ".partial")
        # In a child: this process stays small, so the children it starts do not inherit
        # its memory high-water mark (Linux keeps ru_maxrss across fork + exec).
        subprocess.run([sys.executable, __file__, "--generate", kind, str(rows), str(partial)], check=True)
        partial.replace(path)
        print(
            f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
    return path


# -- one conversion, in a child process -------------------------------------------------


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


def measure(tool: str, kind: str, src: Path, work: Path) -> dict[str, float]:
    out = work / tool
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if tool == "lakegate-cli":
        lakegate = Path(sys.executable).with_name("lakegate")
        command = [str(lakegate), "convert", str(src), "-o", str(out), "--json"]
    else:
        command = [sys.executable, __file__, "--run", tool, kind, str(src), str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{tool} on {src.name} failed:\n{stderr.decode()[-2000:]}")
    seconds = (
        wall if tool == "lakegate-cli" else json.loads(stdout.decode().strip().splitlines()[-1])["seconds"]
    )
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "wall": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "bytes_out": size}


def bench(kind: str, src: Path, reps: int, work: Path) -> dict[str, Any]:
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, float]]] = {tool: [] for tool in TOOLS[kind]}
    for rep in range(reps):
        for tool in TOOLS[kind]:
            result = measure(tool, kind, src, work)
            runs[tool].append(result)
            print(
                f"  {kind:8} rep {rep + 1}/{reps}  {tool:16} {result['seconds']:7.2f} s  "
                f"{result['peak_rss_mib']:7.0f} MiB"
            )
    tools = {
        tool: {
            "seconds_best": round(min(r["seconds"] for r in results), 3),
            "seconds_median": round(statistics.median(r["seconds"] for r in results), 3),
            "wall_best": round(min(r["wall"] for r in results), 3),
            "peak_rss_mib": round(max(r["peak_rss_mib"] for r in results)),
            "bytes_out": int(results[-1]["bytes_out"]),
        }
        for tool, results in runs.items()
    }
    peers = {t: v for t, v in tools.items() if not t.startswith("lakegate")}
    fastest = min(peers, key=lambda t: peers[t]["seconds_best"])
    ours = tools["lakegate"]
    report: dict[str, Any] = {
        "file": src.name,
        "bytes_in": src.stat().st_size,
        "tools": tools,
        "fastest_peer": fastest,
        "ratio": round(ours["seconds_best"] / peers[fastest]["seconds_best"], 3),
        "ratio_median": round(ours["seconds_median"] / peers[fastest]["seconds_median"], 3),
        "lakegate_peak_rss_mib": ours["peak_rss_mib"],
        "rss_ok": ours["peak_rss_mib"] <= 1024,
        # 1-minute load average before and after: on a shared 2-core machine, above ~1 the
        # seconds (and so the ratio) are dominated by whatever else runs.
        "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }
    if kind == "xlsx":
        calamine = tools["python-calamine"]["seconds_best"]
        report["ratio_vs_python_calamine"] = round(ours["seconds_best"] / calamine, 3)
        report["target"] = {"ratio_vs_python_calamine": TARGETS["xlsx"], "peak_rss_mib": 1024}
        report["ok"] = report["ratio_vs_python_calamine"] <= TARGETS["xlsx"] and report["rss_ok"]
    elif kind in TARGETS:
        report["target"] = {"ratio": TARGETS[kind], "peak_rss_mib": 1024}
        report["ok"] = report["ratio"] <= TARGETS[kind] and report["rss_ok"]
    else:
        report["target"] = {"peak_rss_mib": 1024}
        report["ok"] = report["rss_ok"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small files: a smoke run")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also a ~2 GB CSV (peak memory)")
    parser.add_argument("--only", default="csv,jsonl,xlsx")
    parser.add_argument("--run", nargs=4, metavar=("TOOL", "KIND", "SRC", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, metavar=("KIND", "ROWS", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_tool(*args.run)
        return
    if args.generate:
        kind, rows, path = args.generate
        {"csv": make_csv, "csv-2gb": make_csv, "jsonl": make_jsonl, "xlsx": make_xlsx}[kind](
            Path(path), int(rows)
        )
        return
    sizes = SIZES["quick" if args.quick else "full"]
    kinds = [k for k in args.only.split(",") if k]
    files = {kind: dataset(kind, sizes[kind]) for kind in kinds}
    if args.big:
        files["csv-2gb"] = dataset("csv-2gb", BIG_ROWS)
    work = DATA / "work"
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "quick": args.quick,
        "reps": args.reps,
        "note": "seconds_best: the best of the repetitions (the machine is shared); "
        "ratio: lakegate / fastest peer",
        "parent_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "results": {},
    }
    if RESULTS.exists():
        # Keep the files not re-run this time (``--only``, ``--big``) from the last run of this size.
        previous = json.loads(RESULTS.read_text(encoding="utf-8"))
        if previous.get("quick") == args.quick:
            report["results"] = previous.get("results", {})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for kind, src in files.items():
        report["results"][kind] = bench(kind, src, args.reps, work)
        report["results"][kind]["reps"] = args.reps
        RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    for kind, result in report["results"].items():
        extra = f", vs python-calamine {result['ratio_vs_python_calamine']}" if kind == "xlsx" else ""
        load = result.get("load_average")
        print(
            f"{kind:8} ratio {result['ratio']} vs {result['fastest_peer']}{extra}; "
            f"lakegate peak {result['lakegate_peak_rss_mib']} MiB; ok={result['ok']}"
            + (f"; load average {load[0]} -> {load[1]}" if load else "")
        )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
