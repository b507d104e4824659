"""A corpus of real files from other projects' test suites, plus fuzz cases made from them.

The files come from the source distributions (sdists) of packages on PyPI that ship
their test data: CSV/JSON from csvkit and agate, workbooks from agate-excel, xlsx2csv
and the pyexcel family. ``ensure_corpus`` downloads each pinned sdist once with pip
(``pip download --no-binary :all: --no-deps``) into a cache folder
(``$LAKEGATE_CORPUS_CACHE``, default ``~/.cache/lakegate-corpus``) and extracts only the
data files; later runs reuse it. Fuzz cases (truncations, bit flips, mixed encodings,
NUL padding, line-end rewrites) are derived from those files with a fixed seed.

``python -m tests.core.corpus.corpus`` converts the whole corpus and prints the counts.
"""

from __future__ import annotations

import fcntl
import os
import random
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

SDISTS: Final = (
    "csvkit==2.2.0",
    "agate==1.14.2",
    "agate-excel==0.4.2",
    "xlsx2csv==0.8.6",
    "pyexcel==0.7.6",
    "pyexcel-io==0.6.8",
    "pyexcel-xls==0.7.1",
    "pyexcel-xlsx==0.6.1",
    "pyexcel-ods==0.6.0",
    "pyexcel-ods3==0.6.1",
)
SUFFIXES: Final = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm", ".xls", ".ods")
_SKIP_NAMES: Final = (
    "requirements",
    "license",
    "readme",
    "changelog",
    "authors",
    "contributing",
    "top_level",
)
TIMEOUT_SECONDS: Final = 30.0
MAX_RSS: Final = 1024**3
_MAX_FILE: Final = 8 * 1024 * 1024


def cache_dir() -> Path:
    return Path(os.environ.get("LAKEGATE_CORPUS_CACHE") or Path.home() / ".cache" / "lakegate-corpus")


def ensure_corpus(root: Path | None = None) -> Path:
    """Download and extract the pinned sdists (once); return the folder of corpus files."""
    root = root or cache_dir()
    files = root / "files"
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers collect at the same time
        for spec in SDISTS:
            name = spec.replace("==", "-")
            done = files / name / ".done"
            if done.exists():
                continue
            archive = _download(spec, root / "sdists")
            _extract(archive, files / name)
            done.write_text(spec, encoding="utf-8")
        fuzz = root / "fuzz"
        if not (fuzz / ".done").exists():
            make_fuzz(files, fuzz)
            (fuzz / ".done").write_text("seed 18", encoding="utf-8")
    return root


def _download(spec: str, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    name, _, version = spec.partition("==")
    stem = f"{name}-{version}".lower().replace("-", "_")
    found = [p for p in where.glob("*.tar.gz") if p.name.lower().replace("-", "_").startswith(stem)]
    if found:
        return found[0]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--disable-pip-version-check",
            "-d",
            str(where),
            spec,
        ],
        check=True,
        timeout=300,
    )
    found = [p for p in where.glob("*.tar.gz") if p.name.lower().replace("-", "_").startswith(stem)]
    if not found:
        raise RuntimeError(f"pip download {spec} left no sdist in {where}")
    return found[0]


def _extract(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            path = Path(member.name)
            if (
                not member.isfile()
                or path.suffix.lower() not in SUFFIXES
                or member.size > _MAX_FILE
                or any(part.endswith(".egg-info") for part in path.parts)
                or path.stem.lower().startswith(_SKIP_NAMES)
            ):
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            out = target / Path(*path.parts[1:])  # drop "<name>-<version>/"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(source.read())


# -- fuzz cases --------------------------------------------------------------------------------


def make_fuzz(files: Path, fuzz: Path, seed: int = 18) -> None:
    """Derive broken and odd variants of the corpus files, the same ones on every machine."""
    rng = random.Random(seed)
    fuzz.mkdir(parents=True, exist_ok=True)
    originals = sorted(p for p in files.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    text = [p for p in originals if p.suffix.lower() in (".csv", ".json", ".tsv") and p.stat().st_size > 64]
    books = [p for p in originals if p.suffix.lower() in (".xlsx", ".xls", ".ods")]
    for index, path in enumerate(
        rng.sample(text, min(12, len(text))) + rng.sample(books, min(6, len(books)))
    ):
        data = path.read_bytes()
        suffix = path.suffix.lower()
        cut = rng.randrange(1, len(data))
        (fuzz / f"{index:02d}-truncated{suffix}").write_bytes(data[:cut])
        flipped = bytearray(data)
        for _ in range(8):
            at = rng.randrange(len(flipped))
            flipped[at] ^= 1 << rng.randrange(8)
        (fuzz / f"{index:02d}-bitflip{suffix}").write_bytes(bytes(flipped))
    for index, path in enumerate(rng.sample(text, min(8, len(text)))):
        data = path.read_bytes()
        suffix = path.suffix.lower()
        (fuzz / f"{index:02d}-nulpad{suffix}").write_bytes(data + b"\x00" * rng.randrange(1, 4096))
        (fuzz / f"{index:02d}-cr{suffix}").write_bytes(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        latin = "naïve café, Zürich\n".encode("cp1252")
        (fuzz / f"{index:02d}-mixedenc{suffix}").write_bytes(data + latin)
        (fuzz / f"{index:02d}-utf16{suffix}").write_bytes(decoded.encode("utf-16"))
        (fuzz / f"{index:02d}-bomblank{suffix}").write_bytes(b"\xef\xbb\xbf\n\n" + data + b"\n\n\n")


# -- one conversion, watched -------------------------------------------------------------------


@dataclass
class Outcome:
    """What converting one corpus file did."""

    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    headers: dict[str, bool] = field(default_factory=dict)
    """Per table: whether its first row named the columns (not all ``column_<n>``)."""
    refused: str | None = None
    crash: str | None = None
    seconds: float = 0.0
    peak_rss: int = 0
    """How far the process RSS rose above its level before the conversion (the file's own cost:
    the test process is long-lived, and what earlier tests left allocated is not this file's)."""
    hung: bool = False


def convert_watched(path: Path, out: Path) -> Outcome:
    """Convert ``path`` in a thread: at most ``TIMEOUT_SECONDS``, sampling the process RSS."""
    import polars as pl
    import psutil

    from lakegate.errors import LakegateError
    from lakegate.lake import convert

    outcome = Outcome(path)
    process = psutil.Process()
    baseline = process.memory_info().rss

    def run() -> None:
        try:
            [result] = convert([path], out)
        except LakegateError as exc:
            outcome.refused = exc.message
            return
        except BaseException as exc:  # noqa: BLE001 - a traceback is what this corpus hunts
            outcome.crash = (
                f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            )
            return
        for table in result.tables:
            outcome.tables[table.name] = table.rows
            columns = pl.read_parquet_schema(table.path)
            outcome.headers[table.name] = not all(name.startswith("column_") for name in columns)

    started = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True, name="corpus-convert")
    worker.start()
    while worker.is_alive():
        outcome.peak_rss = max(outcome.peak_rss, process.memory_info().rss - baseline)
        worker.join(0.05)
        if time.perf_counter() - started > TIMEOUT_SECONDS:
            outcome.hung = True
            break
    outcome.seconds = time.perf_counter() - started
    return outcome


# -- what the reference readers count ---------------------------------------------------------


def reference_rows(path: Path) -> dict[str, int] | None:
    """Rows DuckDB (text) or python-calamine (workbooks) reads; ``None`` when it cannot read."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _calamine_rows(path)
    import duckdb

    reader = "read_csv" if suffix in (".csv", ".tsv", ".txt") else "read_json_auto"
    try:
        with duckdb.connect() as db:
            count = db.sql(f"SELECT count(*) FROM {reader}('{_sql(path)}')").fetchall()[0][0]
    except duckdb.Error:
        return None
    return {"": int(count)}


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def _calamine_rows(path: Path) -> dict[str, int] | None:
    """Per sheet, rows from the first filled row to the last (the header included)."""
    from python_calamine import CalamineWorkbook

    try:
        with CalamineWorkbook.from_path(str(path)) as book:
            rows: dict[str, int] = {}
            for name in book.sheet_names:
                try:
                    cells = book.get_sheet_by_name(name).to_python(skip_empty_area=True)
                except Exception:  # noqa: BLE001 - a sheet calamine cannot read is not compared
                    continue
                filled = [i for i, row in enumerate(cells) if any(v not in ("", None) for v in row)]
                if filled:
                    rows[name] = filled[-1] - filled[0] + 1
    except Exception:  # noqa: BLE001 - calamine cannot read the file: nothing to compare
        return None
    return rows


def lakegate_rows(outcome: Outcome) -> dict[str, int]:
    """Rows per table as the reference counts them: a workbook's header row counts."""
    suffix = outcome.path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".xls", ".ods"):
        return {"": sum(outcome.tables.values())}
    stem_prefix = _stem(outcome.path) + "__"
    return {
        name.removeprefix(stem_prefix): rows + (1 if outcome.headers.get(name) else 0)
        for name, rows in outcome.tables.items()
    }


def _stem(path: Path) -> str:
    from lakegate.lake import output_stem

    return output_stem(path)


def corpus_files(root: Path) -> Iterator[Path]:
    for folder in ("files", "fuzz"):
        yield from sorted(
            p for p in (root / folder).rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
        )


def main() -> None:
    """Convert the whole corpus and print the counts (for notes; the test asserts them)."""
    import tempfile
    from collections import Counter

    from tests.core.corpus.expectations import explain

    root = ensure_corpus()
    counts: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as scratch:
        for index, path in enumerate(corpus_files(root)):
            rel = path.relative_to(root).as_posix()
            formats[path.suffix.lower()] += 1
            outcome = convert_watched(path, Path(scratch) / str(index))
            reference = reference_rows(path)
            verdict = explain(rel, outcome, reference)
            counts[verdict.kind] += 1
            counts["files"] += 1
            if verdict.kind not in ("agree", "no-reference"):
                print(f"{verdict.kind:14} {rel}: {verdict.reason}")
    print(dict(formats))
    print(dict(counts))


if __name__ == "__main__":
    main()


__all__ = [
    "MAX_RSS",
    "TIMEOUT_SECONDS",
    "Outcome",
    "convert_watched",
    "corpus_files",
    "ensure_corpus",
    "lakegate_rows",
    "reference_rows",
]
