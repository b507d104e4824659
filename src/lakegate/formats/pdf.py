"""PDF: every table pdfplumber detects, and the text of every page (pypdfium2).

Tables are named ``page<p>_table<n>``; the first row is the header unless it looks like
data, and cells are typed like CSV text. The ``text`` table has one row per page:
``file``, ``page`` (1-based), ``text``. A PDF with neither text nor tables has no text
layer (a scan): that is an error, since lakegate does no OCR. So is an encrypted one.
The parsing runs in a child process within the time and memory budget of
``ReaderLimits`` (see ``_sandbox``): a PDF's cost cannot be told from its size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lakegate.errors import ReaderError
from lakegate.formats._base import Reader, ReadOptions, Table
from lakegate.formats._infer import check_overrides, infer_column, looks_like_header, to_kind

if TYPE_CHECKING:
    import polars as pl

__all__ = ["PdfReader", "extract"]


class PdfReader(Reader):
    name = "pdf"
    extensions: ClassVar[tuple[str, ...]] = (".pdf",)
    multi_table = True

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        import polars as pl

        with path.open("rb") as handle:
            magic = handle.read(1024)
        if not magic:
            raise ReaderError(str(path), "empty file")
        if b"%PDF-" not in magic:
            raise ReaderError(str(path), "not a PDF file")
        from lakegate.formats._sandbox import read_pdf

        texts, tables = read_pdf(path, options.reader_limits, work_dir=options.work_dir)
        overrides = check_overrides(options.overrides)
        text = pl.DataFrame(
            {"file": [path.name] * len(texts), "page": list(range(1, len(texts) + 1)), "text": texts},
            schema={"file": pl.String, "page": pl.Int32, "text": pl.String},
        )
        yield Table(name="text", frame=text.lazy())
        for name, rows in tables:
            yield Table(name=name, frame=_frame(rows, overrides, path, name).lazy())


def extract(path: Path) -> tuple[list[str], list[tuple[str, list[list[str | None]]]]]:
    """The page texts and the detected tables' cells (run in the budgeted child process)."""
    texts = _page_texts(path)
    tables = list(_tables(path))
    if not tables and not any(text.strip() for text in texts):
        raise ReaderError(str(path), "no text layer: a scanned PDF? (OCR is not supported)")
    return texts, tables


def _page_texts(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ReaderError(str(path), "password-protected PDF") from exc
        raise ReaderError(str(path), f"not a valid PDF ({exc})") from exc
    try:
        texts: list[str] = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range().replace("\r\n", "\n").strip())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def _tables(path: Path) -> Iterator[tuple[str, list[list[str | None]]]]:
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        with pdfplumber.open(path) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                for index, rows in enumerate(page.extract_tables(), start=1):
                    if rows and any(any(cell for cell in row) for row in rows):
                        yield f"page{number}_table{index}", rows
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise ReaderError(str(path), f"cannot read the tables ({exc})") from exc


def _frame(
    rows: Sequence[Sequence[str | None]], overrides: dict[str, Any], path: Path, name: str
) -> pl.DataFrame:
    import polars as pl

    width = max(len(row) for row in rows)
    cells = [[(cell or "").strip() for cell in row] + [""] * (width - len(row)) for row in rows]
    header = looks_like_header(cells)
    names: list[str] = []
    for index, cell in enumerate(cells[0] if header else [""] * width, start=1):
        base = " ".join(cell.split()) or f"column_{index}"
        unique, n = base, 2
        while unique in names:
            unique, n = f"{base}_{n}", n + 1
        names.append(unique)
    body = cells[1:] if header else cells
    raw = pl.DataFrame(
        {column: [row[i] or None for row in body] for i, column in enumerate(names)},
        schema=dict.fromkeys(names, pl.String),
    )
    try:
        return raw.select(
            to_kind(pl.col(column), overrides.get(column) or infer_column(raw[column])).alias(column)
            for column in names
        )
    except pl.exceptions.PolarsError as exc:
        raise ReaderError(str(path), f"table {name}: {str(exc).strip().splitlines()[0]}") from exc
