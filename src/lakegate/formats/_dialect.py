r"""Sniff how a delimited file is written from its decoded head.

- *separator*: ``,`` ``;`` tab ``|``, the one that splits the sampled records into the
  most consistent number of fields (tab first for ``.tsv``);
- *header*: the first record names the columns unless one of its cells looks like a
  number, date or boolean, or all columns are text and its cells repeat; names are
  stripped and put in Unicode NFC form (a name typed on a Mac, NFD, and the same name
  typed elsewhere are one column), blank ones become ``column_<n>``, repeats get ``_2``;
- *escape*: quotes are doubled inside quoted fields (RFC 4180: ``"a ""b"" c"``), unless
  the head only parses with backslash escapes (``"a \"b\" c"``, as MySQL and some JSON
  tools write): a backslash then escapes the next character, as Python's ``csv``,
  pandas and pyarrow read it, and the file is re-quoted before polars reads it;
- *line ends*: ``\n`` and ``\r\n``; a lone ``\r`` outside quotes (old Mac files, files
  pasted together from several systems) is a line end too, as in Python's ``csv``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from typing import Final

from lakegate.formats._infer import looks_like_header
from lakegate.formats._text import bare_crs_outside_quotes

__all__ = ["SEPARATORS", "Dialect", "column_names", "sniff"]

SEPARATORS: Final = (",", ";", "\t", "|")
_SNIFF_RECORDS: Final = 200
_BACKSLASH: Final = "\\"


@dataclass(frozen=True)
class Dialect:
    """How a delimited file is written, as sniffed from its head."""

    separator: str
    quote: str | None
    """``None``: the file has quote characters, but never quoting a field."""
    header: bool
    names: tuple[str, ...]
    escape: str | None = None
    """``"\\\\"`` when quotes are escaped with a backslash instead of doubled."""
    bare_cr: bool = False
    """True when a lone ``\\r`` ends lines in the head."""


def sniff(text: str, *, prefer_tab: bool = False, complete: bool = True) -> Dialect:
    """Sniff separator, header, column names, escapes and line ends from the head of a file.

    ``complete`` is false when ``text`` is only the head of a longer file (cut after a line).
    """
    dialect = _sniff(text, prefer_tab=prefer_tab, escape=None)
    if _BACKSLASH + '"' in text and _needs_backslash(text, dialect, complete=complete):
        dialect = _sniff(text, prefer_tab=prefer_tab, escape=_BACKSLASH)
    quoted_field = re.compile(rf'(^|[{re.escape(dialect.separator)}\r\n])[ \t]*"', re.MULTILINE)
    if '"' in text and not quoted_field.search(text):
        # Quotes only inside fields (12" pipe): they are text, not quoting (as DuckDB sniffs).
        dialect = replace(dialect, quote=None)
    return replace(dialect, bare_cr=bare_crs_outside_quotes(text, dialect.quote) > 0)


def _sniff(text: str, *, prefer_tab: bool, escape: str | None) -> Dialect:
    best: tuple[float, int, int] | None = None
    chosen: tuple[str, list[list[str]]] = (",", [])
    order = ("\t", ",", ";", "|") if prefer_tab else SEPARATORS
    for rank, separator in enumerate(order):
        records = _records(text, separator, escape)
        if not records:
            continue
        widths = Counter(len(record) for record in records)
        width, count = widths.most_common(1)[0]
        score = (count / len(records) if width > 1 else 0.0, width, -rank)
        if best is None or score > best:
            best, chosen = score, (separator, records)
    separator, records = chosen
    while records and not any(cell.strip() for cell in records[0]):
        records = records[1:]  # a leading row of empty cells (",,,"), as a spreadsheet exports it
    if not records:
        return Dialect(separator=",", quote='"', header=False, names=("column_1",), escape=escape)
    width = Counter(len(record) for record in records).most_common(1)[0][0]
    header = looks_like_header(records, width)
    raw = records[0] if header else []
    names = column_names([*raw, *[""] * (width - len(raw))][: max(width, len(raw))])
    return Dialect(separator=separator, quote='"', header=header, names=tuple(names), escape=escape)


def _records(text: str, separator: str, escape: str | None) -> list[list[str]]:
    records: list[list[str]] = []
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=separator, quotechar='"', escapechar=escape, strict=False
    )
    try:
        for record in reader:
            if record:
                records.append(record)
            if len(records) >= _SNIFF_RECORDS:
                break
    except csv.Error:
        pass  # an unterminated quote at the cut of the head: keep what parsed
    return records


def _needs_backslash(text: str, dialect: Dialect, *, complete: bool) -> bool:
    """True when the head parses further with backslash escapes than with doubled quotes.

    A file with doubled quotes may hold backslashes before a closing quote
    (``"C:\\dir\\"``): it parses as RFC 4180, so it keeps its backslashes.
    """
    plain = _parsed_records(text, dialect.separator, None, complete=complete)
    if plain is None:
        return False
    escaped = _parsed_records(text, dialect.separator, _BACKSLASH, complete=complete)
    return escaped is None or escaped > plain


def _parsed_records(text: str, separator: str, escape: str | None, *, complete: bool) -> int | None:
    """Records parsed strictly before the first quoting error (``None``: no error)."""
    count = 0
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=separator, quotechar='"', escapechar=escape, strict=True
    )
    try:
        for _ in reader:
            count += 1
    except csv.Error:
        if not complete and reader.line_num >= text.count("\n"):
            return None  # the head was cut inside a quoted field: not a quoting error
        return count
    return None


def column_names(raw: list[str]) -> list[str]:
    """Header cells as column names: stripped, NFC, blank -> ``column_<n>``, repeats -> ``_2``."""
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(raw, start=1):
        base = unicodedata.normalize("NFC", cell.strip()) or f"column_{index}"
        name, n = base, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append(name)
    return names
