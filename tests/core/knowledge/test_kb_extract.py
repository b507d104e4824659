"""Per-format text extraction and its registry."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from lakegate.errors import InputError, ReaderError
from lakegate.knowledge import EXTRACTORS, Page, clean_text, extract
from lakegate.knowledge._extract import looks_binary

from .kb_files import write_docx, write_pdf, write_xlsx


def run(path: Path) -> list[Page]:
    return extract(path, path.read_bytes())


def skip_reason(path: Path) -> str:
    with pytest.raises(ReaderError) as info:
        run(path)
    return str(info.value.detail["skip"])


@pytest.mark.parametrize("extension", [".txt", ".md", ".html", ".pdf", ".docx", ".csv", ".xlsx", ".json"])
def test_every_builtin_format_is_registered_and_importable(extension: str) -> None:
    module_name, _, attr = EXTRACTORS[extension].partition(":")
    assert callable(getattr(importlib.import_module(module_name), attr))


def test_every_registry_entry_resolves() -> None:
    for dotted in EXTRACTORS.values():
        module_name, _, attr = dotted.partition(":")
        assert callable(getattr(importlib.import_module(module_name), attr)), dotted


def test_pdf_text_per_page_with_tables_as_rows(tmp_path: Path) -> None:
    pdf = write_pdf(
        tmp_path / "r.pdf",
        [["Annual report", "Water quality improved in the north-", "ern basin."], ["Page two text"]],
        table=[["Station", "Flow"], ["Delta", "120"]],
    )
    pages = run(pdf)
    assert [p.number for p in pages] == [1, 2]
    first = clean_text(pages[0].text)
    assert first.startswith("Annual report\nWater quality improved in the northern basin.")
    assert first.endswith("Station | Flow\nDelta | 120")
    assert first.count("Delta") == 1  # table text is not repeated in the body
    assert pages[1].text == "Page two text"


def test_encrypted_pdf_is_reported_as_encrypted(tmp_path: Path) -> None:
    assert skip_reason(write_pdf(tmp_path / "s.pdf", [["secret"]], encrypted=True)) == "encrypted"


def test_not_a_pdf_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_text("hello", encoding="utf-8")
    assert skip_reason(tmp_path / "x.pdf") == "unreadable"
    (tmp_path / "y.pdf").write_bytes(b"%PDF-1.4\ngarbage without objects")
    assert skip_reason(tmp_path / "y.pdf") == "unreadable"


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "d.docx", ["Minutes", "Budget approved."], table=[["Item", "Amount"], ["Rent", "900"]]
    )
    assert run(path) == [Page(None, "Minutes\n\nBudget approved.\n\nItem | Amount\nRent | 900")]


def test_password_protected_office_file_is_encrypted(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le")
    (tmp_path / "locked.docx").write_bytes(ole)
    (tmp_path / "locked.xlsx").write_bytes(ole)
    assert skip_reason(tmp_path / "locked.docx") == "encrypted"
    assert skip_reason(tmp_path / "locked.xlsx") == "encrypted"


def test_spreadsheet_one_page_per_sheet_rows_as_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "w.xlsx", {"Q1": [["Station", "Flow"], ["Alpha", 12], ["Beta", 15.5]], "Q2": []}
    )
    assert run(path) == [
        Page(1, "Sheet: Q1\nStation: Alpha; Flow: 12\nStation: Beta; Flow: 15.5"),
        Page(2, ""),
    ]


def test_csv_rows_rendered_with_sniffed_delimiter(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("name;city\nAda;London\n;Paris\n\n", encoding="utf-8")
    assert run(tmp_path / "p.csv") == [Page(None, "name: Ada; city: London\ncity: Paris")]


def test_json_records_and_nested_documents(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text(
        '[{"a": 1, "b": {"c": "x"}}, {"a": 2, "tags": ["p", "q"]}]', encoding="utf-8"
    )
    assert run(tmp_path / "r.json") == [Page(None, "a: 1; b.c: x\na: 2; tags: p, q")]
    (tmp_path / "d.json").write_text(
        '{"site": {"name": "Weir", "readings": [{"v": 3}]}, "ok": true}', encoding="utf-8"
    )
    assert run(tmp_path / "d.json") == [Page(None, "site.name: Weir\nsite.readings[0].v: 3\nok: True")]
    (tmp_path / "r.jsonl").write_text('{"q": "why"}\n\n{"q": "how"}\n', encoding="utf-8")
    assert run(tmp_path / "r.jsonl") == [Page(None, "q: why\nq: how")]
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert skip_reason(tmp_path / "bad.json") == "unreadable"


def test_html_visible_text_only(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text(
        "<html><head><title>T &amp; C</title><script>evil()</script><style>b{}</style></head>"
        "<body><p>One</p><table><tr><td>a</td><td>b</td></tr></table></body></html>",
        encoding="utf-8",
    )
    text = clean_text(run(tmp_path / "p.html")[0].text)
    assert text == "T & C\n\nOne\n\na | b |"


def test_text_in_another_encoding_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "l.txt").write_bytes("Déjà vu: crème brûlée, façade, naïve café au lait.".encode("cp1252"))
    assert run(tmp_path / "l.txt")[0].text == "Déjà vu: crème brûlée, façade, naïve café au lait."
    (tmp_path / "bom.md").write_bytes("\ufeff# Title".encode())
    assert run(tmp_path / "bom.md")[0].text == "# Title"


def test_binary_detection() -> None:
    assert looks_binary(b"abc\x00def")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary("plain text, ünïcode\n\ttabs".encode())
    assert not looks_binary(b"")


def test_unknown_extension_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "x.xyz").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="no extractor"):
        run(tmp_path / "x.xyz")
