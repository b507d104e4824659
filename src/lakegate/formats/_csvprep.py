"""Make a delimited file something polars can read: UTF-8, no NULs, ``\\n`` lines, RFC quoting.

polars reads UTF-8 with doubled quotes and ``\\n`` / ``\\r\\n`` line ends only. A file that
is not that is first rewritten into a scratch copy, streaming in bounded memory:

- another encoding is re-encoded to UTF-8; NUL padding is dropped; a lone ``\\r`` ending
  a line outside quotes becomes ``\\n`` (:func:`lakegate.formats._text.transcode_to_utf8`);
- backslash-escaped quotes (``"say \\"hi\\""``) are re-quoted the RFC 4180 way by
  Python's ``csv`` module (C code, ~30-60 MB/s), which also reads lone ``\\r`` line ends.

Every rewrite keeps records on the same physical lines, so line numbers in messages
are the original file's.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TextIO

from lakegate.errors import ReaderError
from lakegate.formats._dialect import Dialect
from lakegate.formats._text import UTF8, transcode_to_utf8

__all__ = ["Prepared", "prepare"]

_FIELD_LIMIT: Final = 2**31 - 1


@dataclass
class Prepared:
    """The file polars reads, and what was changed on the way (as warnings)."""

    source: Path
    warnings: list[str] = field(default_factory=list)
    nul_stripped: bool = False
    line_ends_fixed: bool = False


def prepare(
    path: Path,
    scratch: Path,
    *,
    encoding: str,
    dialect: Dialect,
    strip_nul: bool,
    fix_line_ends: bool,
    name: str = "utf8.csv",
) -> Prepared:
    """The file to scan: ``path`` itself, or a rewritten copy in ``scratch``."""
    if dialect.escape:
        target = scratch / name
        nuls = _requote(path, target, encoding=encoding, dialect=dialect)
        warnings = ["quotes escaped with a backslash (\\\"): read as escapes, as Python's csv reads them"]
        if nuls:
            warnings.append(f"dropped {nuls} NUL byte(s) (padding)")
        return Prepared(target, warnings, nul_stripped=True, line_ends_fixed=True)
    if encoding in UTF8 and not strip_nul and not fix_line_ends:
        return Prepared(path)
    target = scratch / name
    done = transcode_to_utf8(
        path, target, encoding, strip_nul=strip_nul, cr_quote=dialect.quote if fix_line_ends else None
    )
    prepared = Prepared(target, nul_stripped=strip_nul, line_ends_fixed=fix_line_ends)
    if done.nuls:
        prepared.warnings.append(f"dropped {done.nuls} NUL byte(s) (padding)")
    if done.line_ends:
        prepared.warnings.append(
            f"{done.line_ends} line(s) ended by a lone carriage return (\\r): read as line ends"
        )
    return prepared


def _requote(src: Path, dst: Path, *, encoding: str, dialect: Dialect) -> int:
    """Rewrite ``src`` with doubled quotes instead of backslash escapes; return NULs dropped."""
    csv.field_size_limit(_FIELD_LIMIT)  # the default (128 KiB) refuses long text fields
    stripped = [0]
    with (
        src.open(encoding=encoding, errors="strict", newline="") as text,
        dst.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(
            _without_nul(text, stripped),
            delimiter=dialect.separator,
            quotechar=dialect.quote,
            escapechar=dialect.escape,
            doublequote=True,
            strict=True,
        )
        writer = csv.writer(out, delimiter=dialect.separator, quotechar=dialect.quote, lineterminator="\n")
        try:
            writer.writerows(reader)
        except csv.Error as exc:
            reason = "a quoted field is never closed" if "end of data" in str(exc) else str(exc)
            raise ReaderError(str(src), f"line {reader.line_num}: {reason}") from exc
        except UnicodeDecodeError as exc:
            raise ReaderError(str(src), f"not valid {encoding} text ({exc.reason})") from exc
    return stripped[0]


def _without_nul(lines: TextIO, count: list[int]) -> Iterator[str]:
    for line in lines:
        if "\x00" in line:
            count[0] += line.count("\x00")
            line = line.replace("\x00", "")  # noqa: PLW2901 - the cleaned line is what is read
        yield line
