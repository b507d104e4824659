"""Workbooks: every sheet a table, header detection, empty rows/columns, dates as dates."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from lakegate.errors import ReaderError
from lakegate.formats import ArchiveLimits

from .builders import naive, write_ods, write_xls, write_xlsx

ORDERS = [
    [],
    [None],
    [None, "id", "customer", "ordered", "shipped_at", "paid", "amount"],
    [None, 1, "Ann", dt.date(2024, 1, 31), naive(2024, 2, 1, 9, 30), True, 12.5],
    [None, 2, "Bob", dt.date(2024, 2, 29), naive(2024, 3, 1, 17, 0), False, 7],
    [None, 3, None, dt.date(2024, 3, 1), None, None, None],
]


def test_each_sheet_becomes_a_table_with_typed_columns(tmp_path, convert_one):
    src = write_xlsx(
        tmp_path / "book.xlsx", {"Orders": ORDERS, "Rates": [["code", "rate"], ["EUR", 1.1], ["USD", 1]]}
    )
    result, frames = convert_one(src)
    assert result.outputs == (
        str(tmp_path / "out" / "book__Orders.parquet"),
        str(tmp_path / "out" / "book__Rates.parquet"),
    )
    orders = frames["book__Orders"]
    assert result.schema["book__Orders"] == {
        "id": "int64",
        "customer": "string",
        "ordered": "date",
        "shipped_at": "datetime[us]",
        "paid": "boolean",
        "amount": "float64",
    }
    assert orders.row(0) == (1, "Ann", dt.date(2024, 1, 31), naive(2024, 2, 1, 9, 30), True, 12.5)
    assert orders["customer"].to_list() == ["Ann", "Bob", None]
    assert orders["amount"].to_list() == [12.5, 7.0, None]
    assert frames["book__Rates"]["code"].to_list() == ["EUR", "USD"]
    assert frames["book__Rates"]["rate"].to_list() == [1.1, 1.0]
    assert result.rows == 5


def test_sheet_option_picks_one_sheet(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "book.xlsx", {"Orders": ORDERS, "Rates": [["code"], ["EUR"]]})
    _, frames = convert_one(src, sheet="Rates")
    assert list(frames) == ["book__Rates"]
    assert frames["book__Rates"]["code"].to_list() == ["EUR"]


def test_an_unknown_sheet_is_an_error(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "book.xlsx", {"Orders": ORDERS})
    with pytest.raises(ReaderError, match=r"no sheet named 'Nope' \(sheets: Orders\)"):
        convert_one(src, sheet="Nope")


def test_a_sheet_without_header_and_an_empty_sheet(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "raw.xlsx", {"Empty": [], "Data": [[1, "a"], [2, "b"]]})
    result, frames = convert_one(src)
    assert list(frames) == ["raw__Data"]
    assert frames["raw__Data"].columns == ["column_1", "column_2"]
    assert frames["raw__Data"]["column_1"].to_list() == [1, 2]
    assert frames["raw__Data"]["column_2"].to_list() == ["a", "b"]
    assert result.warnings == ("raw__Data: skipped empty sheet(s): Empty",)


def test_empty_sheets_after_the_data_are_reported_too(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "raw.xlsx", {"A": [[1]], "Gap": [], "B": [[2]], "Tail": []})
    result, frames = convert_one(src)
    assert list(frames) == ["raw__A", "raw__B"]
    assert result.warnings == (
        "raw__B: skipped empty sheet(s): Gap",
        "raw__B: skipped empty sheet(s): Tail",
    )


def test_numbers_stored_as_text_are_typed(tmp_path, convert_one):
    src = write_xlsx(
        tmp_path / "t.xlsx",
        {"S": [["n", "when", "zip"], ["10", "2024-01-02", "01234"], ["20", "2024-05-06", "04321"]]},
    )
    result, frames = convert_one(src)
    assert result.schema["t__S"] == {"n": "int64", "when": "date", "zip": "string"}
    assert frames["t__S"]["when"].to_list() == [dt.date(2024, 1, 2), dt.date(2024, 5, 6)]


def test_it_reads_ods(tmp_path, convert_one):
    src = write_ods(tmp_path / "book.ods", {"Orders": ORDERS})
    _, frames = convert_one(src)
    orders = frames["book__Orders"]
    assert orders.columns == ["id", "customer", "ordered", "shipped_at", "paid", "amount"]
    assert orders["id"].to_list() == [1, 2, 3]
    assert orders["ordered"].to_list() == [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 1)]
    assert orders["shipped_at"][0] == naive(2024, 2, 1, 9, 30)
    assert orders["paid"].to_list() == [True, False, None]


def test_overrides_apply_to_sheets(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "b.xlsx", {"S": [["id", "v"], [1, 2.0], [2, 3.0]]})
    result, frames = convert_one(src, overrides={"id": "string", "v": "float"})
    assert result.schema["b__S"] == {"id": "string", "v": "float64"}
    assert frames["b__S"]["id"].to_list() == ["1", "2"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "password-protected (encrypted) workbook"),
        (b"this is not a workbook", "not a valid workbook (not a zip container)"),
        (b"PK\x03\x04" + bytes(40), "not a valid zip file"),
    ],
)
def test_a_broken_workbook_is_a_reader_error(tmp_path, convert_one, content, reason):
    src = tmp_path / "bad.xlsx"
    src.write_bytes(content)
    with pytest.raises(ReaderError) as caught:
        convert_one(src)
    assert caught.value.reason.startswith(reason)


def test_a_truncated_workbook_is_a_reader_error(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "cut.xlsx", {"Orders": ORDERS})
    src.write_bytes(src.read_bytes()[:-200])
    with pytest.raises(ReaderError, match="not a valid"):
        convert_one(src)


def test_a_workbook_bomb_is_refused_before_parsing(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "bomb.xlsx", {"S": [["a"], [1]]})
    with zipfile.ZipFile(src, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", bytes(4 * 1024 * 1024))
    limits = ArchiveLimits(max_ratio=50, ratio_floor_bytes=1024 * 1024)
    with pytest.raises(ReaderError, match=r"archive expands more than 50x .*possible archive bomb"):
        convert_one(src, limits=limits)
    with pytest.raises(ReaderError, match="more than the limit of 3"):
        convert_one(src, limits=ArchiveLimits(max_entries=3))


# -- legacy .xls (BIFF8, written by xlwt: a real writer of the format) ---------------------
# ``.xlsb`` goes through the same calamine path but has no writer available to build a fixture.


def test_a_real_xls_workbook_gives_typed_tables(tmp_path, convert_one):
    src = write_xls(
        tmp_path / "legacy.xls",
        {
            "Blank": [],
            "Orders": ORDERS,
            "Rates": [["code", "rate"], ["EUR", 1.1], ["USD", 1]],
            "Raw": [[1, "a", dt.date(2023, 12, 24)], [2, "b", dt.date(2023, 12, 25)]],
        },
    )
    assert src.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 (BIFF) file, not a zip
    result, frames = convert_one(src)
    assert [t.name for t in result.tables] == ["legacy__Orders", "legacy__Rates", "legacy__Raw"]
    assert result.schema["legacy__Orders"] == {
        "id": "int64",
        "customer": "string",
        "ordered": "date",
        "shipped_at": "datetime[us]",
        "paid": "boolean",
        "amount": "float64",
    }
    orders = frames["legacy__Orders"]
    assert orders.rows() == [
        (1, "Ann", dt.date(2024, 1, 31), naive(2024, 2, 1, 9, 30), True, 12.5),
        (2, "Bob", dt.date(2024, 2, 29), naive(2024, 3, 1, 17, 0), False, 7.0),
        (3, None, dt.date(2024, 3, 1), None, None, None),
    ]
    assert frames["legacy__Rates"].to_dict(as_series=False) == {"code": ["EUR", "USD"], "rate": [1.1, 1.0]}
    raw = frames["legacy__Raw"]  # first row is data, not a header
    assert raw.columns == ["column_1", "column_2", "column_3"]
    assert raw.rows() == [(1, "a", dt.date(2023, 12, 24)), (2, "b", dt.date(2023, 12, 25))]
    assert result.schema["legacy__Raw"] == {"column_1": "int64", "column_2": "string", "column_3": "date"}
    assert result.rows == 3 + 2 + 2
    assert result.warnings == ("legacy__Orders: skipped empty sheet(s): Blank",)


def test_xls_sheet_option_overrides_and_text_inference(tmp_path, convert_one):
    src = write_xls(
        tmp_path / "t.xls",
        {
            "Empty": [],
            "S": [
                ["n", "when", "zip", "code"],
                ["10", "2024-01-02", "01234", 5],
                ["20", "2024-05-06", "04321", 6],
            ],
        },
    )
    result, frames = convert_one(src, sheet="S", overrides={"code": "string"})
    assert list(frames) == ["t__S"]
    assert result.schema["t__S"] == {"n": "int64", "when": "date", "zip": "string", "code": "string"}
    assert frames["t__S"].row(0) == (10, dt.date(2024, 1, 2), "01234", "5")
    _, everything = convert_one(src)
    assert list(everything) == ["t__S"]


def test_an_xls_with_only_empty_sheets_and_a_broken_xls_are_reader_errors(tmp_path, convert_one):
    empty = write_xls(tmp_path / "empty.xls", {"A": [], "B": []})
    with pytest.raises(ReaderError, match=r"empty\.xls: no data in any sheet"):
        convert_one(empty)
    broken = tmp_path / "broken.xls"
    broken.write_bytes(write_xls(tmp_path / "ok.xls", {"S": ORDERS}).read_bytes()[:700])
    with pytest.raises(ReaderError) as caught:
        convert_one(broken)
    assert caught.value.path == str(broken)
    assert caught.value.reason.startswith("not a valid workbook (")
