"""Data for ``benchmarks/convert.py``: generated once into ``benchmarks/.data/convert/``, reused.

A 12-column table (ints, floats, strings, a low-cardinality city, free text with commas, ISO
timestamps and dates, booleans, ~2-10% nulls per nullable column) written as CSV, as JSON
lines with nested objects and arrays, and as a one-sheet xlsx. ``python _convert_data.py KIND
ROWS PATH`` writes one file (run in a child by ``dataset``).
"""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "convert"

__all__ = ["DATA", "dataset"]


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
        subprocess.run([sys.executable, __file__, kind, str(rows), str(partial)], check=True)
        partial.replace(path)
        print(
            f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
    return path


GENERATORS = {"csv": make_csv, "csv-2gb": make_csv, "jsonl": make_jsonl, "xlsx": make_xlsx}

if __name__ == "__main__":
    kind, rows, path = sys.argv[1:]
    GENERATORS[kind](Path(path), int(rows))
