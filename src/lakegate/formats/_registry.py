"""The lazy registry of readers: format name -> dotted path, file extension -> format name.

Nothing here imports a reader module until a file of that format is read, so listing
formats or starting the CLI stays fast. :func:`read_tables` is the one entry point:
it unwraps ``.gz`` and ``.zip`` inputs (within :class:`ArchiveLimits`) and hands each
file to the reader its extension names.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Final

from lakegate._resolve import resolve
from lakegate.errors import ReaderError
from lakegate.formats._archive import gunzip_to, zip_members
from lakegate.formats._base import Reader, ReadOptions, Reread, Table, safe_name

__all__ = ["ARCHIVE_EXTENSIONS", "EXTENSIONS", "READERS", "is_multi_table", "read_tables", "reader_for"]

READERS: Final[dict[str, str]] = {
    "csv": "lakegate.formats.csv:CsvReader",
    "excel": "lakegate.formats.excel:ExcelReader",
    "json": "lakegate.formats.json:JsonReader",
    "jsonl": "lakegate.formats.json:JsonLinesReader",
    "parquet": "lakegate.formats.parquet:ParquetReader",
    "pdf": "lakegate.formats.pdf:PdfReader",
}

EXTENSIONS: Final[dict[str, str]] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xlsb": "excel",
    ".xls": "excel",
    ".ods": "excel",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".pdf": "pdf",
}

ARCHIVE_EXTENSIONS: Final = (".gz", ".zip")

_loaded: dict[str, Reader] = {}


def _load(name: str) -> Reader:
    reader = _loaded.get(name)
    if reader is None:
        reader = resolve(READERS[name])()
        _loaded[name] = reader
    return reader


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def reader_for(path: Path) -> Reader:
    """The reader for ``path``'s extension (``ReaderError`` for an unknown one)."""
    name = EXTENSIONS.get(_suffix(path))
    if name is None:
        known = ", ".join(sorted({*EXTENSIONS, *ARCHIVE_EXTENSIONS}))
        raise ReaderError(str(path), f"unsupported file type {path.suffix or '(none)'!r} (known: {known})")
    return _load(name)


def is_multi_table(path: Path) -> bool:
    """True when ``path`` may hold several tables (outputs then carry the table name)."""
    if _suffix(path) == ".zip":
        return True
    if _suffix(path) == ".gz":
        return False
    return reader_for(path).multi_table


def read_tables(path: Path, options: ReadOptions | None = None) -> Generator[Table, None, None]:
    """Yield every table of ``path``, unwrapping ``.gz`` / ``.zip`` into a scratch folder.

    The scratch copies live as long as the generator: write each table before closing it.
    """
    options = options or ReadOptions()
    if not path.is_file():
        raise ReaderError(str(path), "no such file" if not path.exists() else "not a file")
    suffix = _suffix(path)
    if suffix not in ARCHIVE_EXTENSIONS:
        yield from reader_for(path).read(path, options)
        return
    with tempfile.TemporaryDirectory(prefix="lakegate-", dir=options.work_dir) as scratch:
        work = Path(scratch)
        if suffix == ".gz":
            yield from _read_gzip(path, work, options)
        else:
            yield from _read_zip(path, work, options)


def _read_gzip(path: Path, work: Path, options: ReadOptions) -> Iterator[Table]:
    inner = Path(path.stem)  # "data.csv.gz" -> "data.csv"
    if _suffix(inner) in ARCHIVE_EXTENSIONS or not inner.suffix:
        raise ReaderError(str(path), "cannot tell the format inside this .gz (name it like data.csv.gz)")
    reader = reader_for(inner)
    target = work / f"data{_suffix(inner)}"
    gunzip_to(path, target, options.limits)
    yield from _relabelled(reader.read(target, options), str(path))


def _read_zip(path: Path, work: Path, options: ReadOptions) -> Iterator[Table]:
    readable: list[tuple[str, Path, str]] = []
    skipped: list[str] = []
    for entry, extracted in zip_members(path, work, options.limits):
        inner = Path(entry.replace("\\", "/"))
        name = EXTENSIONS.get(_suffix(inner))
        if name is None or inner.name.startswith(".") or "__MACOSX" in inner.parts:
            skipped.append(entry)
        else:
            readable.append((entry, extracted, name))
    if not readable:
        detail = f" (skipped: {_few(skipped)})" if skipped else ""
        raise ReaderError(str(path), f"zip holds no readable table{detail}")
    taken: set[str] = set()
    first = True
    for entry, extracted, name in readable:
        base = _unique(safe_name(Path(entry.replace("\\", "/")).stem), taken)
        for table in _relabelled(_load(name).read(extracted, options), f"{path}:{entry}"):
            table.name = base if table.name is None else f"{base}__{table.name}"
            if first and skipped:
                table.warnings.append(f"skipped {len(skipped)} zip entries of unknown type: {_few(skipped)}")
            first = False
            yield table


def _unique(name: str, taken: set[str]) -> str:
    candidate, index = name, 2
    while candidate in taken:
        candidate, index = f"{name}_{index}", index + 1
    taken.add(candidate)
    return candidate


def _few(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _relabelled(tables: Iterator[Table], where: str) -> Iterator[Table]:
    """Make errors about a scratch copy name the file (and zip entry) the user gave."""

    def renamed(error: ReaderError) -> ReaderError:
        return ReaderError(where, error.reason, detail=error.detail)

    try:
        for table in tables:
            yield _renaming(table, renamed)
    except ReaderError as error:
        raise renamed(error) from error


def _renaming(table: Table, renamed: Callable[[ReaderError], ReaderError]) -> Table:
    """``table`` whose ``recover`` and ``finish`` (and the tables they hand back) rename errors."""
    recover, finish = table.recover, table.finish
    if recover is not None:

        def wrapped_recover(exc: BaseException) -> Table:
            try:
                return _renaming(recover(exc), renamed)
            except ReaderError as error:
                raise renamed(error) from error

        table.recover = wrapped_recover
    if finish is not None:

        def wrapped_finish(written: Path) -> list[str]:
            try:
                return finish(written)
            except Reread as again:
                raise Reread(_renaming(again.table, renamed)) from None
            except ReaderError as error:
                raise renamed(error) from error

        table.finish = wrapped_finish
    return table
