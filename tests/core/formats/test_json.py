"""JSON documents and JSON lines: shapes, flattening, types, malformed input."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from lakegate.errors import ReaderError
from lakegate.formats import ReadOptions, read_tables

RECORDS = [
    {"id": 1, "user": {"name": "Ann", "address": {"city": "Oslo"}}, "tags": ["a", "b"], "day": "2024-01-31"},
    {"id": 2, "user": {"name": "Bob", "address": None}, "tags": [], "day": "2024-02-29"},
    {"id": 3, "user": None, "tags": None, "day": None, "extra": True},
]


def lines(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def check_flattened(frame):
    assert frame.columns == ["id", "user.name", "user.address.city", "tags", "day", "extra"]
    assert frame["id"].to_list() == [1, 2, 3]
    assert frame["user.name"].to_list() == ["Ann", "Bob", None]
    assert frame["user.address.city"].to_list() == ["Oslo", None, None]
    assert frame["tags"].to_list() == [["a", "b"], [], None]
    assert frame["day"].to_list() == [dt.date(2024, 1, 31), dt.date(2024, 2, 29), None]
    assert frame["extra"].to_list() == [None, None, True]


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines_are_flattened(tmp_path, convert_one, suffix):
    result, frames = convert_one(lines(tmp_path / f"events{suffix}", RECORDS))
    check_flattened(frames["events"])
    assert result.schema["events"]["tags"] == "list[string]"
    assert result.schema["events"]["day"] == "date"


def test_an_array_of_records(tmp_path, convert_one):
    src = tmp_path / "events.json"
    src.write_text(json.dumps(RECORDS, indent=2), encoding="utf-8")
    result, frames = convert_one(src)
    check_flattened(frames["events"])
    assert result.warnings == ()


def test_an_object_holding_one_list_of_records(tmp_path, convert_one):
    src = tmp_path / "export.json"
    src.write_text(json.dumps({"meta": {"v": 2}, "data": RECORDS, "count": 3}), encoding="utf-8")
    result, frames = convert_one(src)
    check_flattened(frames["export"])
    assert result.warnings == ("read the records under 'data'; ignored the other keys: meta, count",)


def test_a_single_object_is_one_record(tmp_path, convert_one):
    src = tmp_path / "one.json"
    src.write_text('{"a": 1, "b": {"c": "x"}, "l": [1, 2]}', encoding="utf-8")
    _, frames = convert_one(src)
    assert frames["one"].to_dicts() == [{"a": 1, "b.c": "x", "l": [1, 2]}]


def test_a_json_file_that_holds_json_lines(tmp_path, convert_one):
    _, frames = convert_one(lines(tmp_path / "mislabelled.json", RECORDS))
    check_flattened(frames["mislabelled"])


def test_gzipped_json_lines(tmp_path, convert_one):
    src = tmp_path / "events.jsonl.gz"
    src.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in RECORDS).encode()))
    result, frames = convert_one(src)
    check_flattened(frames["events"])
    assert result.outputs == (str(tmp_path / "out" / "events.parquet"),)


def test_a_dotted_key_next_to_a_nested_one_gets_a_suffix(tmp_path, convert_one):
    _, frames = convert_one(lines(tmp_path / "d.jsonl", [{"a": {"b": 1}, "a.b": 2}]))
    assert frames["d"].to_dicts() == [{"a.b": 1, "a.b_2": 2}]


def test_a_type_change_past_the_sample_reads_the_key_as_text(tmp_path, convert_one):
    records = [{"n": i, "s": {"v": i}} for i in range(6_000)] + [{"n": "many", "s": {"v": 1.5}}]
    result, frames = convert_one(lines(tmp_path / "late.jsonl", records))
    frame = frames["late"]
    assert result.rows == 6_001
    assert frame["n"][-1] == "many"
    assert frame["n"][0] == "0"
    assert "column 'n': values are not all one JSON type; read as text" in result.warnings


def test_overrides_apply_to_flattened_columns(tmp_path, convert_one):
    result, frames = convert_one(
        lines(tmp_path / "o.jsonl", RECORDS), overrides={"id": "string", "user.name": "categorical"}
    )
    assert result.schema["o"]["id"] == "string"
    assert result.schema["o"]["user.name"] == "categorical"
    assert frames["o"]["id"].to_list() == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bad.jsonl", '{"a": 1}\n{"a": 2}\n{"a": 3,}\n', "line 3: malformed JSON"),
        ("bad.jsonl", '{"a": 1}\n[1, 2]\n', "line 2: expected a JSON object per line"),
        ("bad.json", '[{"a": 1},\n {"a": 2},\n {"a": }]', "line 3: malformed JSON"),
        ("bad.json", '[{"a": 1}', "line 1: expected ',' or ']', found the end of the file"),
        ("bad.json", '[{"a": 1}] x', "line 1: unexpected data after the JSON document"),
        ("bad.jsonl", '{"a": 1}\n{"a": 2}\n{"a": 1e}\n' * 3_000, "line 3: malformed JSON"),
        (
            "bad.json",
            '{"x": [{"a": 1}], "y": [{"b": 2}]}',
            "line 1: holds several lists of records ('x' and 'y')",
        ),
    ],
)
def test_malformed_json_is_a_reader_error_naming_the_line(tmp_path, convert_one, name, content, reason):
    src = tmp_path / name
    src.write_text(content, encoding="utf-8")
    with pytest.raises(ReaderError) as caught:
        convert_one(src)
    assert caught.value.path == str(src)
    assert caught.value.reason.startswith(reason)


def test_a_malformed_line_past_the_sample_is_named(tmp_path, convert_one):
    src = tmp_path / "late.jsonl"
    body = "".join(json.dumps({"a": i}) + "\n" for i in range(6_000))
    src.write_text(body + '{"a": 1\n', encoding="utf-8")
    with pytest.raises(ReaderError, match=r"late\.jsonl: line 6001: malformed JSON"):
        convert_one(src)
    assert not (tmp_path / "out" / "late.parquet").exists()


# -- the pyarrow engine and its fallbacks -------------------------------------------------


def test_fractional_seconds_past_the_sample_keep_the_column_a_datetime(tmp_path, convert_one):
    records = [{"at": f"2024-01-02T03:04:{i % 60:02d}"} for i in range(6_000)]
    records.append({"at": "2024-01-02T03:04:05.25"})
    result, frames = convert_one(lines(tmp_path / "late.jsonl", records))
    assert result.schema["late"] == {"at": "datetime[us]"}
    assert frames["late"]["at"][0] == dt.datetime(2024, 1, 2, 3, 4, 0)  # noqa: DTZ001
    assert frames["late"]["at"][-1] == dt.datetime(2024, 1, 2, 3, 4, 5, 250_000)  # noqa: DTZ001
    assert result.warnings == ()


def test_many_blocks_blank_lines_and_nested_lists_stream_in_order(tmp_path, convert_one, monkeypatch):
    monkeypatch.setattr("lakegate.formats._jsonstream.ARROW_BLOCK", 4096)  # dozens of blocks
    records = [{"i": i, "o": {"l": [{"k": i}], "s": str(i)}} for i in range(3_000)]
    src = lines(tmp_path / "blocks.jsonl", records)
    src.write_text(src.read_text(encoding="utf-8").replace('{"i": 7,', '\n  \t\n{"i": 7,'), encoding="utf-8")
    result, frames = convert_one(src)
    frame = frames["blocks"]
    assert result.schema["blocks"] == {"i": "int64", "o.l": "list[struct{k: int64}]", "o.s": "string"}
    assert frame["i"].to_list() == list(range(3_000))
    assert frame["o.l"][2_999].to_list() == [{"k": 2_999}]
    assert frame["o.s"][7] == "7"
    assert result.warnings == ()


def test_a_line_longer_than_a_block_is_still_read(tmp_path, convert_one, monkeypatch):
    monkeypatch.setattr("lakegate.formats._jsonstream.ARROW_BLOCK", 1024)
    records = [{"n": 1, "text": "x" * 10}, {"n": 2, "text": "y" * 5_000}]
    result, frames = convert_one(lines(tmp_path / "long.jsonl", records))
    assert frames["long"]["text"].str.len_chars().to_list() == [10, 5_000]
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("late", "kept"),
    [({"n": True}, "true"), ({"n": {"x": 1}}, '{"x":1}'), ({"n": "7"}, "7")],
    ids=["bool-in-int", "object-in-int", "string-in-int"],
)
def test_a_late_value_of_another_type_is_never_silently_changed(tmp_path, convert_one, late, kept):
    records = [{"n": i} for i in range(6_000)] + [late]
    result, frames = convert_one(lines(tmp_path / "t.jsonl", records))
    assert result.schema["t"] == {"n": "string"}
    assert frames["t"]["n"][-1].replace(" ", "") == kept
    assert frames["t"]["n"][1] == "1"
    assert "column 'n': values are not all one JSON type; read as text" in result.warnings


def test_a_late_fraction_widens_an_int_key_to_float_without_rounding(tmp_path, convert_one):
    records = [{"n": i} for i in range(6_000)] + [{"n": 1.5}]
    result, frames = convert_one(lines(tmp_path / "f.jsonl", records))
    assert result.schema["f"] == {"n": "float64"}
    assert frames["f"]["n"][-1] == 1.5
    assert frames["f"]["n"][5_999] == 5_999.0
    assert result.warnings == ("column 'n': values past the sample widened it from int64 to float64",)


def test_integers_past_2_53_next_to_fractions_stay_exact_as_text(tmp_path, convert_one):
    big = 2**53 + 1
    records = [{"n": big}] + [{"n": i} for i in range(6_000)] + [{"n": 0.5}]
    result, frames = convert_one(lines(tmp_path / "b.jsonl", records))
    assert result.schema["b"] == {"n": "string"}
    assert frames["b"]["n"][0] == str(big)
    assert frames["b"]["n"][-1] == "0.5"


def test_the_lazy_table_reads_through_pyarrow_with_projection_filter_and_limit(tmp_path):
    src = lines(tmp_path / "p.jsonl", [{"a": i, "b": {"c": str(i)}} for i in range(100)])
    tables = read_tables(src, ReadOptions(work_dir=tmp_path))
    try:
        [table] = list(tables)
        assert "PYTHON SCAN" in table.frame.explain()  # the pyarrow reader, not NDJSON SCAN
        head = table.frame.filter(pl.col("a") >= 10).select("b.c").head(3).collect()
    finally:
        tables.close()
    assert head.to_dict(as_series=False) == {"b.c": ["10", "11", "12"]}


def test_a_key_null_in_the_whole_sample_stays_on_pyarrow_and_a_late_value_is_kept(tmp_path, convert_one):
    records = [{"a": i, "z": None} for i in range(6_000)] + [{"a": 1, "z": "late"}]
    tables = read_tables(lines(tmp_path / "n.jsonl", records), ReadOptions(work_dir=tmp_path))
    try:
        [table] = list(tables)
        assert "PYTHON SCAN" in table.frame.explain()
    finally:
        tables.close()
    result, frames = convert_one(tmp_path / "n.jsonl")
    assert frames["n"]["a"][-1] == 1
    assert frames["n"]["z"][-1] == "late"
    assert frames["n"]["z"].null_count() == 6_000
    assert result.rows == 6_001
