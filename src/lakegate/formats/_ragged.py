"""Find ragged CSV rows (more or fewer fields than the header) without slowing the read.

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
several columns is a short row (polars reads it as a row of nulls).
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

__all__ = ["RaggedReport", "RaggedScan"]

_BLOCK: Final = 16 * 1024 * 1024
_MAX_CARRY: Final = 256 * 1024 * 1024
_SPAN_GATHER_LIMIT: Final = 4 * 1024 * 1024
FIRST_LINES: Final = 5


@dataclass(frozen=True)
class RaggedReport:
    rows: int = 0
    first_lines: tuple[int, ...] = ()
    unchecked: str | None = None
    """Why the check could not run (a quoted field longer than the carry limit)."""

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


@dataclass
class RaggedScan:
    """Background check of one UTF-8 CSV file; call :meth:`start`, then :meth:`report`."""

    path: Path
    separator: str
    quote: str | None
    fields: int
    _thread: threading.Thread | None = field(default=None, init=False)
    _quick_mismatch: bool = field(default=False, init=False)
    _error: str | None = field(default=None, init=False)

    def start(self) -> RaggedScan:
        if self.fields > 1 and self._thread is None:
            self._thread = threading.Thread(target=self._quick, name="lakegate-ragged", daemon=True)
            self._thread.start()
        return self

    def report(self, *, long_rows: bool) -> RaggedReport:
        """Wait for the quick check; scan exactly when it or ``long_rows`` found a ragged row."""
        if self.fields <= 1:
            return RaggedReport()
        if self._thread is not None:
            self._thread.join()
        if self._error:
            return RaggedReport(unchecked=self._error)
        if not long_rows and not self._quick_mismatch:
            return RaggedReport()
        return self._exact()

    # -- quick pass: totals per block -------------------------------------------------

    def _quick(self) -> None:
        import numpy as np

        sep = ord(self.separator)
        try:
            for arr, end, quotes in self._blocks():
                body = arr[:end]
                records = int(np.count_nonzero(body == 10))
                if end and arr[end - 1] != 10:
                    records += 1  # the last record has no newline
                seps = int(np.count_nonzero(body == sep))
                if quotes is not None and len(quotes):
                    records -= self._inside_count(body, quotes, 10)
                    seps -= self._inside_count(body, quotes, sep)
                if seps != records * (self.fields - 1):
                    self._quick_mismatch = True
                    return
        except _CarryTooLongError as exc:
            self._error = str(exc)

    @staticmethod
    def _inside_count(body: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp], byte: int) -> int:
        """How many ``byte`` sit inside the quoted spans ``quotes[0]..quotes[1]``, ..."""
        import numpy as np

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
        line_base = 1
        try:
            for arr, end, quotes in self._blocks():
                body = arr[:end]
                all_newlines = np.flatnonzero(body == 10)
                ends = all_newlines
                separators = np.flatnonzero(body == sep)
                if quotes is not None and len(quotes):
                    ends = ends[(np.searchsorted(quotes, ends, side="right") & 1) == 0]
                    separators = separators[(np.searchsorted(quotes, separators, side="right") & 1) == 0]
                if end and arr[end - 1] != 10:
                    ends = np.append(ends, end)  # last record without a newline
                starts = np.concatenate(([0], ends[:-1] + 1))
                counts = np.searchsorted(separators, ends) - np.searchsorted(separators, starts)
                bad = np.flatnonzero(counts != self.fields - 1)
                rows += len(bad)
                if len(first) < FIRST_LINES and len(bad):
                    lines = np.searchsorted(all_newlines, starts[bad[: FIRST_LINES - len(first)]]) + line_base
                    first.extend(int(line) for line in lines)
                line_base += len(all_newlines)
        except _CarryTooLongError as exc:
            return RaggedReport(unchecked=str(exc))
        return RaggedReport(rows=rows, first_lines=tuple(first))

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
            newlines = np.flatnonzero(arr[-65536:] == 10)
            if len(newlines):
                return len(arr) - min(len(arr), 65536) + int(newlines[-1]) + 1
            newlines = np.flatnonzero(arr == 10)
            return int(newlines[-1]) + 1 if len(newlines) else 0
        newlines = np.flatnonzero(arr[int(quotes[-1]) :] == 10) + int(quotes[-1])
        if len(quotes) % 2 == 0 and len(newlines):
            return int(newlines[-1]) + 1
        # Odd quote count at the end: the last newline outside quotes is before the last quote.
        newlines = np.flatnonzero(arr == 10)
        outside = newlines[(np.searchsorted(quotes, newlines, side="right") & 1) == 0]
        return int(outside[-1]) + 1 if len(outside) else 0


class _CarryTooLongError(Exception):
    pass
