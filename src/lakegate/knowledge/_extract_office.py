"""Extractors for binary document formats: PDF (pdfplumber), DOCX (python-docx), spreadsheets (calamine).

Each library is imported inside its function: a knowledge build over plain text never pays for it.
Password protection is reported as the ``encrypted`` skip reason, anything else that breaks a
parser as ``unreadable``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakegate.errors import ReaderError
from lakegate.knowledge._extract import Page, render_table

__all__ = ["extract_docx", "extract_pdf", "extract_spreadsheet"]

# Office files saved with a password are OLE compound files holding an "EncryptedPackage" stream.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _unreadable(path: Path, reason: str, exc: BaseException | None = None) -> ReaderError:
    message = f"{reason}: {exc}" if exc is not None and str(exc) else reason
    return ReaderError(str(path), message, detail={"skip": "unreadable"})


def _encrypted(path: Path, what: str) -> ReaderError:
    return ReaderError(str(path), f"{what} is password protected", detail={"skip": "encrypted"})


def _check_office_container(data: bytes, path: Path, what: str) -> None:
    if data.startswith(_OLE_MAGIC) and _ENCRYPTED_PACKAGE in data:
        raise _encrypted(path, what)


def _table_text(rows: list[list[Any]]) -> str:
    return "\n".join(" | ".join(str(cell or "").strip() for cell in row) for row in rows if any(row))


def _is_password_error(exc: BaseException) -> bool:
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, PDFPasswordIncorrect | PDFEncryptionError):
            return True
        # pdfplumber wraps pdfminer errors and keeps the original as the first argument.
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def _outside(bboxes: list[tuple[float, float, float, float]]) -> Callable[[dict[str, Any]], bool]:
    def keep(obj: dict[str, Any]) -> bool:
        if "x0" not in obj or "top" not in obj:
            return True
        cx = (obj["x0"] + obj["x1"]) / 2
        cy = (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in bboxes)

    return keep


def extract_pdf(data: bytes, path: Path) -> list[Page]:
    """Text per page; tables found by pdfplumber are rendered as ``a | b | c`` rows after the text."""
    if b"%PDF" not in data[:1024]:
        raise _unreadable(path, "not a PDF file")
    import pdfplumber

    pages: list[Page] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                tables = page.find_tables()
                if tables:
                    body = page.filter(_outside([t.bbox for t in tables])).extract_text() or ""
                    rendered = [_table_text(t.extract()) for t in tables]
                    text = "\n\n".join(part for part in (body, *rendered) if part.strip())
                else:
                    text = page.extract_text() or ""
                pages.append(Page(number, text))
                page.close()  # drop the page's parsed layout objects now, not at the end
    except Exception as exc:  # pdfminer raises many unrelated types for one broken file
        if _is_password_error(exc):
            raise _encrypted(path, "PDF") from exc
        raise _unreadable(path, "broken PDF", exc) from exc
    return pages


def extract_docx(data: bytes, path: Path) -> list[Page]:
    """Paragraphs and tables in document order; table rows as ``a | b | c``."""
    _check_office_container(data, path, "DOCX")
    import zipfile

    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _unreadable(path, "broken DOCX", exc) from exc
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = []
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if not cells or cells[-1] != text:  # merged cells repeat their text
                        cells.append(text)
                rows.append(cells)
            parts.append(_table_text(rows))
        elif block.text.strip():
            parts.append(block.text)
    return [Page(None, "\n\n".join(parts))]


def extract_spreadsheet(data: bytes, path: Path) -> list[Page]:
    """One page per sheet (``page`` is the sheet's 1-based position), rows rendered as text."""
    _check_office_container(data, path, "workbook")
    import python_calamine

    try:
        workbook = python_calamine.load_workbook(io.BytesIO(data))
    except python_calamine.PasswordError as exc:
        raise _encrypted(path, "workbook") from exc
    except Exception as exc:  # calamine raises its own and plain errors for broken zips/XML
        raise _unreadable(path, "broken workbook", exc) from exc
    pages: list[Page] = []
    for number, name in enumerate(workbook.sheet_names, start=1):
        try:
            rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=True)
        except Exception as exc:  # one broken sheet makes the file unreadable, not the build
            raise _unreadable(path, f"broken sheet {name!r}", exc) from exc
        body = render_table(rows)
        pages.append(Page(number, f"Sheet: {name}\n{body}" if body else ""))
    return pages
