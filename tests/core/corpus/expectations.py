"""Where lakegate and the reference reader (DuckDB, python-calamine) differ on a corpus file, why.

Every difference is either explained by a rule for a class of files or listed by file with
its reason; an unexplained one fails the corpus test, and so does a listed file that no
longer differs (the list must stay true).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from tests.core.corpus.corpus import Outcome

__all__ = ["KNOWN", "Verdict", "explain"]


@dataclass(frozen=True)
class Verdict:
    kind: str
    """agree, no-reference, refused-both, documented, or a failure: crash, hang, memory, differs."""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.kind in ("agree", "no-reference", "refused-both", "documented")


_EMPTY_FIRST_ROW = (
    "a leading row of empty cells (,,,): lakegate skips it and finds the header below; "
    "DuckDB takes it for the header and reads the real header as a data row"
)
_RECORDS_UNDER_A_KEY = (
    "an object holding one list of records: lakegate reads the records, DuckDB the object as one row"
)
_EMPTY_TEXT_ROW = (
    "known gap: a first row of empty-text cells is not skipped, so lakegate finds no header and keeps "
    "every row as data (columns column_<n>); calamine's count starts below it"
)
_NO_ROWS_EITHER = "a workbook whose only cell is a duration text: lakegate reads it as a header, so no data"

# Per file (path under the corpus cache): why lakegate's row count or verdict differs.
KNOWN: Final[dict[str, str]] = {
    "files/agate-1.14.2/examples/test_key.json": _RECORDS_UNDER_A_KEY,
    "files/csvkit-2.2.0/examples/test_geojson.json": _RECORDS_UNDER_A_KEY + " (GeoJSON: the features)",
    "fuzz/01-bomblank.json": _RECORDS_UNDER_A_KEY,
    "files/agate-1.14.2/examples/test_tableset.json": (
        "an object holding several lists of records (one per table): lakegate refuses to pick one; "
        "DuckDB reads the object as one row"
    ),
    "files/csvkit-2.2.0/examples/realdata/Datagov_FY10_EDU_recp_by_State.csv": (
        "a title line above the header: lakegate takes the title for the header (the real header is a "
        "data row); DuckDB takes the empty first row for the header (title and header are data rows)"
    ),
    "files/pyexcel-io-0.6.8/tests/fixtures/issue20.csv": (
        "a file of one line of text: lakegate reads it as a header (no rows), DuckDB as one data row"
    ),
    "files/pyexcel-ods-0.6.0/tests/fixtures/12_day_as_time.ods": _NO_ROWS_EITHER,
    "files/pyexcel-ods3-0.6.1/tests/fixtures/12_day_as_time.ods": _NO_ROWS_EITHER,
    "files/xlsx2csv-0.8.6/test/empty_row.csv": _EMPTY_FIRST_ROW,
    "files/xlsx2csv-0.8.6/test/no_cell_ids.csv": _EMPTY_FIRST_ROW,
    "fuzz/06-cr.csv": _EMPTY_FIRST_ROW,
    "fuzz/06-bomblank.csv": _EMPTY_FIRST_ROW,
    "files/xlsx2csv-0.8.6/test/empty_row.xlsx": _EMPTY_TEXT_ROW,
    "files/xlsx2csv-0.8.6/test/no_cell_ids.xlsx": _EMPTY_TEXT_ROW,
    "files/xlsx2csv-0.8.6/test/float2.csv": (
        "a line of numbers over rows of empty cells: lakegate reads the numbers as data (a header is "
        "not numbers); DuckDB takes them for the header"
    ),
    "files/xlsx2csv-0.8.6/test/twolettercolumns.csv": (
        "a line of numbers over a line of letters: lakegate reads both as data; DuckDB takes the "
        "numbers for the header"
    ),
    "files/xlsx2csv-0.8.6/test/input-weird.csv": (
        "an empty row, then one line of text: lakegate skips the empty row and reads the text as a "
        "header (no rows); DuckDB reads one data row"
    ),
    "fuzz/07-bomblank.csv": (
        "a BOM and blank lines above a ragged file: DuckDB's sniffer gives up and reads one column, one "
        "row per line (blank ones too); lakegate reads the 3 rows, ragged ones reported"
    ),
}


def explain(rel: str, outcome: Outcome, reference: dict[str, int] | None) -> Verdict:  # noqa: PLR0911
    """The verdict for one file: ``rel`` is its path in the corpus cache."""
    from tests.core.corpus.corpus import MAX_RSS, lakegate_rows

    if outcome.crash:
        return Verdict("crash", outcome.crash)
    if outcome.hung:
        return Verdict("hang", f"still running after {outcome.seconds:.0f} s")
    if outcome.peak_rss > MAX_RSS:
        return Verdict("memory", f"peak RSS {outcome.peak_rss / 2**20:.0f} MiB")
    if outcome.refused is not None:
        if not reference:
            return Verdict("refused-both", outcome.refused)
        reason = KNOWN.get(rel) or _class_reason(rel, refused=True)
        return Verdict("documented", reason) if reason else Verdict("differs", f"refused: {outcome.refused}")
    if reference is None:
        return Verdict("no-reference", "the reference reader refuses it; lakegate converts it")
    ours = lakegate_rows(outcome)
    mismatched = {
        name: (ours.get(name), rows)
        for name, rows in reference.items()
        if name in ours and ours[name] != rows
    }
    if not mismatched:
        return Verdict("agree")
    reason = KNOWN.get(rel) or _class_reason(rel, refused=False)
    detail = ", ".join(f"{name or 'rows'}: lakegate {a} vs {b}" for name, (a, b) in mismatched.items())
    return Verdict("documented", f"{reason} ({detail})") if reason else Verdict("differs", detail)


def _class_reason(rel: str, *, refused: bool) -> str | None:
    """Reasons that hold for a whole class of files (mostly the fuzz cases)."""
    name = rel.rsplit("/", 1)[-1]
    if refused and name == "empty.csv":
        return "an empty CSV has no header, so no columns: lakegate refuses it, DuckDB reads 0 rows"
    if rel.startswith("fuzz/") and "-nulpad" in name:
        return "NUL padding: lakegate drops the NULs, DuckDB reads the padding as one more row"
    if rel.startswith("fuzz/") and ("-truncated" in name or "-bitflip" in name):
        if refused:
            return "a damaged file: lakegate refuses it with a reason, the reference reads what it can"
        return "a damaged file: the readers recover different rows from the damage"
    return None
