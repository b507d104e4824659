"""Parquet pass-through and PDF tables + page text."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow.parquet as pq
import pytest

from lakegate.errors import ReaderError

from .builders import write_pdf


def test_parquet_is_passed_through_and_recompressed_with_zstd(tmp_path, convert_one):
    frame = pl.DataFrame(
        {"id": [1, 2, 3], "when": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)], "tags": [["a"], [], None]}
    )
    src = tmp_path / "in.parquet"
    frame.write_parquet(src, compression="snappy")
    result, frames = convert_one(src)
    assert frames["in"].equals(frame)
    assert result.schema["in"] == {"id": "int64", "when": "date", "tags": "list[string]"}
    metadata = pq.read_metadata(result.outputs[0])
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_parquet_overrides(tmp_path, convert_one):
    src = tmp_path / "in.parquet"
    pl.DataFrame({"id": [1, 2], "score": [1, 2]}).write_parquet(src)
    _, frames = convert_one(src, overrides={"id": "string", "score": "float"})
    assert frames["in"].to_dicts() == [{"id": "1", "score": 1.0}, {"id": "2", "score": 2.0}]


@pytest.mark.parametrize("content", [b"", b"PAR1 this is not parquet", b"x" * 100])
def test_a_broken_parquet_file_is_a_reader_error(tmp_path, convert_one, content):
    src = tmp_path / "bad.parquet"
    src.write_bytes(content)
    with pytest.raises(ReaderError) as caught:
        convert_one(src)
    reason = caught.value.reason
    assert reason == "empty file" if not content else reason.startswith("not a valid Parquet file")


def test_pdf_tables_and_page_text(tmp_path, convert_one):
    src = write_pdf(
        tmp_path / "report.pdf",
        [
            (
                ["Quarterly report", "Sales by region"],
                [
                    ["region", "sales", "month"],
                    ["North", "1200.5", "2024-01-31"],
                    ["South", "980", "2024-02-29"],
                ],
            ),
            (["Notes on page two"], None),
        ],
    )
    result, frames = convert_one(src)
    assert set(frames) == {"report__text", "report__page1_table1"}
    text = frames["report__text"]
    assert text["file"].to_list() == ["report.pdf", "report.pdf"]
    assert text["page"].to_list() == [1, 2]
    assert text["text"][0].startswith("Quarterly report\nSales by region")
    assert text["text"][1] == "Notes on page two"
    table = frames["report__page1_table1"]
    assert result.schema["report__page1_table1"] == {"region": "string", "sales": "float64", "month": "date"}
    assert table.to_dicts() == [
        {"region": "North", "sales": 1200.5, "month": dt.date(2024, 1, 31)},
        {"region": "South", "sales": 980.0, "month": dt.date(2024, 2, 29)},
    ]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: write_pdf(p, [([], None)]), "no text layer: a scanned PDF? (OCR is not supported)"),
        (lambda p: write_pdf(p, [(["secret"], None)], user_password="pw"), "password-protected PDF"),
        (lambda p: p.write_bytes(b"hello"), "not a PDF file"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj\n<<"), "not a valid PDF"),
    ],
)
def test_a_bad_pdf_is_a_reader_error(tmp_path, convert_one, make, reason):
    src = tmp_path / "doc.pdf"
    make(src)
    with pytest.raises(ReaderError) as caught:
        convert_one(src)
    assert caught.value.reason.startswith(reason)
