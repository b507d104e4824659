"""Check a CSV file while polars reads it: ragged and blank rows, NULs, lone CRs, open quotes.

polars reads a ragged file happily: a short row is padded with nulls and a long row is
cut (``truncate_ragged_lines``), and neither is reported. lakegate keeps those rows but
says so. Two cheap signals decide whether any row is ragged:

* *long rows*: polars is first asked to fail on a row longer than the header; only
  then does the reader read again, keeping the first fields of such rows;
* *short rows*: this module counts separators and record ends per 16 MiB block with
  numpy (quoted fields excluded), in a thread while polars writes. When no row is long,
  the file has a short row exactly when a block holds fewer separators than
  ``records x (fields - 1)``.

Only when a signal fires is the file scanned again record by record, to give the exact
count and the first line numbers. Line numbers are physical lines (1-based, header
included), so they stay right when quoted fields span lines. A blank line in a file of
several columns is not a row (as DuckDB, pandas and pyarrow read it): the exact pass
lists them so the reader can drop them. In a one-column file it is an empty value.

The same quick pass notes what the sampled head could not show: NUL bytes, a lone
``\\r`` ending a line outside quotes, and a quote left open at the end of the file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["FileFacts", "RaggedReport", "RaggedScan"]

_BLOCK: Final = 16 * 1024 * 1024
_MAX_CARRY: Final = 256 * 1024 * 1024
_SPAN_GATHER_LIMIT: Final = 4 * 1024 * 1024
FIRST_LINES: Final = 5
_LF: Final = 10
_CR: Final = 13


@dataclass(frozen=True)
class RaggedReport:
    rows: int = 0
    first_lines: tuple[int, ...] = ()
    unchecked: str | None = None
    """Why the check could not run (a quoted field longer than the carry limit)."""
    blank_rows: tuple[int, ...] = ()
    """Row numbers (0-based, as polars reads them) of blank lines in a multi-column file."""
    first_blank_lines: tuple[int, ...] = ()

    def warning(self, fields: int) -> str | None:
        if self.unchecked:
            return f"ragged rows not checked: {self.unchecked}"
        if not self.rows:
            return None
        lines = ", ".join(str(line) for line in self.first_lines)
        more = ", ..." if self.rows > len(self.first_lines) else ""
        return (
            f"{self.rows} ragged row(s) without exactly {fields} fields, kept "
            f"(short rows padded with nulls, extra fields dropped); first at line(s) {lines}{more}"
        )

    def blank_warning(self) -> str | None:
        if not self.blank_rows:
            return None
        lines = ", ".join(str(line) for line in self.first_blank_lines)
        more = ", ..." if len(self.blank_rows) > len(self.first_blank_lines) else ""
        return f"skipped {len(self.blank_rows)} blank line(s); first at line(s) {lines}{more}"


@dataclass
class FileFacts:
    """What the quick pass saw in the whole file."""

    nuls: int = 0
    bare_crs: int = 0
    open_quote_line: int | None = None
    """The line of a quote still open at the end of the file."""


@dataclass
class RaggedScan:
    """Background check of one UTF-8 CSV file; call :meth:`start`, then :meth:`report`.

    ``skip`` is how many records come before the first data row (the header, blank lines).
    """

    path: Path
    separator: str
    quote: str | None
    fields: int
    skip: int = 0
    facts: FileFacts = field(default_factory=FileFacts, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _quick_mismatch: bool = field(default=False, init=False)
    _error: str | None = field(default=None, init=False)

    def start(self) -> RaggedScan:
        if self._thread is None:
            self._thread = threading.Thread(target=self._quick, name="lakegate-ragged", daemon=True)
            self._thread.start()
        return self

    def wait(self) -> FileFacts:
        """Wait for the quick pass; the facts it found."""
        if self._thread is not None:
            self._thread.join()
        return self.facts

    def report(self, *, long_rows: bool) -> RaggedReport:
        """Wait for the quick check; scan exactly when it or ``long_rows`` found a ragged row."""
        self.wait()
        if self.fields <= 1:
            return RaggedReport()
        if self._error:
            return RaggedReport(unchecked=self._error)
        if not long_rows and not self._quick_mismatch:
            return RaggedReport()
        return self._exact()

    # -- quick pass: totals per block -------------------------------------------------

    def _quick(self) -> None:
        import numpy as np

        sep = ord(self.separator)
        line_base = 1
        try:
            for arr, end, quotes in self._blocks():
                body = arr[:end]
                newlines = int(np.count_nonzero(body == _LF))
                seps = int(np.count_nonzero(body == sep))
                records = newlines + (1 if end and arr[end - 1] != _LF else 0)
                if int(np.count_nonzero(body <= _CR)) > newlines + (seps if sep <= _CR else 0):
                    self._controls(body, quotes)
                if quotes is not None and len(quotes):
                    if len(quotes) % 2:
                        self._open_quote(body, quotes, line_base)
                    records -= self._inside_count(body, quotes, _LF)
                    seps -= self._inside_count(body, quotes, sep)
                if self.fields > 1 and seps != records * (self.fields - 1):
                    self._quick_mismatch = True
                line_base += newlines
        except _CarryTooLongError as exc:
            self._error = str(exc)

    def _controls(self, body: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp] | None) -> None:
        import numpy as np

        self.facts.nuls += int(np.count_nonzero(body == 0))
        crs = np.flatnonzero(body == _CR)
        if not len(crs):
            return
        after = crs + 1
        bare = crs[(after >= len(body)) | (body[np.minimum(after, len(body) - 1)] != _LF)]
        if quotes is not None and len(quotes):
            bare = bare[(np.searchsorted(quotes, bare, side="right") & 1) == 0]
        self.facts.bare_crs += len(bare)

    def _open_quote(self, body: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp], line_base: int) -> None:
        import numpy as np

        # Only the last block can hold an odd number of quotes (blocks end outside quotes).
        opened = int(quotes[-1])
        self.facts.open_quote_line = line_base + int(np.count_nonzero(body[:opened] == _LF))

    @staticmethod
    def _inside_count(body: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp], byte: int) -> int:
        """How many ``byte`` sit inside the quoted spans ``quotes[0]..quotes[1]``, ..."""
        import numpy as np

        if len(quotes) % 2:
            quotes = np.append(quotes, len(body))  # a quote open at the end spans the rest
        starts, ends = quotes[0::2], quotes[1::2]
        lengths = ends - starts
        total = int(lengths.sum())
        if total <= _SPAN_GATHER_LIMIT:
            # Gather the bytes of every span (quoted fields are short) and count in them.
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            return int(np.count_nonzero(body[offsets] == byte))
        positions = np.flatnonzero(body == byte)
        return int(np.count_nonzero(np.searchsorted(quotes, positions, side="right") & 1))

    # -- exact pass: fields per record ------------------------------------------------

    def _exact(self) -> RaggedReport:
        import numpy as np

        sep = ord(self.separator)
        rows = 0
        first: list[int] = []
        blank: list[npt.NDArray[np.intp]] = []
        first_blank: list[int] = []
        line_base = 1
        record_base = 0
        try:
            for arr, end, quotes in self._blocks():
                body = arr[:end]
                all_newlines = np.flatnonzero(body == _LF)
                starts, ends, counts = self._records(arr, end, quotes, sep, all_newlines)
                empty = (counts == 0) & (
                    (ends == starts)
                    | ((ends - starts == 1) & (body[np.minimum(starts, max(end - 1, 0))] == _CR))
                )
                index = np.arange(len(starts)) + record_base
                data = index >= self.skip
                blanks = np.flatnonzero(empty & data)
                blank.append(index[blanks] - self.skip)
                if len(first_blank) < FIRST_LINES and len(blanks):
                    lines = np.searchsorted(all_newlines, starts[blanks[: FIRST_LINES - len(first_blank)]])
                    first_blank.extend(int(line) + line_base for line in lines)
                bad = np.flatnonzero((counts != self.fields - 1) & ~empty & data)
                rows += len(bad)
                if len(first) < FIRST_LINES and len(bad):
                    lines = np.searchsorted(all_newlines, starts[bad[: FIRST_LINES - len(first)]]) + line_base
                    first.extend(int(line) for line in lines)
                line_base += len(all_newlines)
                record_base += len(starts)
        except _CarryTooLongError as exc:
            return RaggedReport(unchecked=str(exc))
        blank_rows = np.concatenate(blank) if blank else np.array([], dtype=np.intp)
        return RaggedReport(
            rows=rows,
            first_lines=tuple(first),
            blank_rows=tuple(int(row) for row in blank_rows),
            first_blank_lines=tuple(first_blank),
        )

    @staticmethod
    def _records(
        arr: npt.NDArray[np.uint8],
        end: int,
        quotes: npt.NDArray[np.intp] | None,
        sep: int,
        all_newlines: npt.NDArray[np.intp],
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """``(starts, ends, separators)`` of every record of ``arr[:end]``."""
        import numpy as np

        body = arr[:end]
        ends = all_newlines
        separators = np.flatnonzero(body == sep)
        if quotes is not None and len(quotes):
            ends = ends[(np.searchsorted(quotes, ends, side="right") & 1) == 0]
            separators = separators[(np.searchsorted(quotes, separators, side="right") & 1) == 0]
        if end and arr[end - 1] != _LF:
            ends = np.append(ends, end)  # last record without a newline
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.intp)
        counts = np.searchsorted(separators, ends) - np.searchsorted(separators, starts)
        return starts, ends, counts

    def line_of(self, row: int) -> int | None:
        """The physical line (1-based) where data row ``row`` (0-based, as polars reads) starts."""
        import numpy as np

        record = row + self.skip
        line_base = 1
        record_base = 0
        try:
            for arr, end, quotes in self._blocks():
                all_newlines = np.flatnonzero(arr[:end] == _LF)
                starts, _ends, _counts = self._records(arr, end, quotes, ord(self.separator), all_newlines)
                if record < record_base + len(starts):
                    start = starts[record - record_base]
                    return line_base + int(np.searchsorted(all_newlines, start))
                line_base += len(all_newlines)
                record_base += len(starts)
        except _CarryTooLongError:
            return None
        return None

    # -- blocks cut at record boundaries ------------------------------------------------

    def _blocks(self) -> Iterator[tuple[npt.NDArray[np.uint8], int, npt.NDArray[np.intp] | None]]:
        """Yield ``(bytes, end, quote positions)`` where ``bytes[:end]`` is whole records.

        One buffer is reused (the tail of a cut record moves to its front), so a block
        is valid only until the next one is asked for.
        """
        import numpy as np

        quote = ord(self.quote) if self.quote else None
        buffer = bytearray(_BLOCK)
        kept = 0
        with self.path.open("rb") as handle:
            while True:
                if kept >= len(buffer) // 2:
                    if len(buffer) >= _MAX_CARRY:
                        raise _CarryTooLongError("a quoted field spans more than 256 MiB")
                    # A new buffer: the caller may still hold a view of the old one.
                    grown = bytearray(2 * len(buffer))
                    grown[:kept] = buffer[:kept]
                    buffer = grown
                read = handle.readinto(memoryview(buffer)[kept:])
                size = kept + read
                if size == 0:
                    return
                arr = np.frombuffer(buffer, dtype=np.uint8, count=size)
                quotes = np.flatnonzero(arr == quote) if quote is not None else None
                if read == 0:  # end of file: everything left is whole records
                    yield arr, size, quotes
                    return
                end = self._last_record_end(arr, quotes)
                if quotes is not None:
                    quotes = quotes[quotes < end]
                if end:
                    yield arr, end, quotes
                del arr  # release the export of ``buffer`` before it is resized or reused
                kept = size - end
                buffer[:kept] = buffer[end:size]

    @staticmethod
    def _last_record_end(arr: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp] | None) -> int:
        import numpy as np

        if quotes is None or not len(quotes):
            newlines = np.flatnonzero(arr[-65536:] == _LF)
            if len(newlines):
                return len(arr) - min(len(arr), 65536) + int(newlines[-1]) + 1
            newlines = np.flatnonzero(arr == _LF)
            return int(newlines[-1]) + 1 if len(newlines) else 0
        newlines = np.flatnonzero(arr[int(quotes[-1]) :] == _LF) + int(quotes[-1])
        if len(quotes) % 2 == 0 and len(newlines):
            return int(newlines[-1]) + 1
        # Odd quote count at the end: the last newline outside quotes is before the last quote.
        newlines = np.flatnonzero(arr == _LF)
        outside = newlines[(np.searchsorted(quotes, newlines, side="right") & 1) == 0]
        return int(outside[-1]) + 1 if len(outside) else 0


class _CarryTooLongError(Exception):
    pass
