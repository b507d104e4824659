"""JSON documents and JSON lines: shapes, flattening, types, malformed input."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from lakegate.errors import ReaderError

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
    assert any("column 'n': values past the sample" in w for w in result.warnings)


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
        ("bad.jsonl", "", "empty file"),
        ("bad.jsonl", "\n\n", "empty file (only blank lines)"),
        ("bad.json", '[{"a": 1},\n {"a": 2},\n {"a": }]', "line 3: malformed JSON"),
        ("bad.json", '[{"a": 1}, 5]', "line 1: expected a record (an object), found a number"),
        ("bad.json", "[]", "no records (an empty array)"),
        ("bad.json", '[{"a": 1}', "line 1: expected ',' or ']', found the end of the file"),
        (
            "bad.json",
            '{"x": [{"a": 1}], "y": [{"b": 2}]}',
            "line 1: holds several lists of records ('x' and 'y')",
        ),
        ("bad.json", '"just a string"', "line 1: expected an array of records or an object holding one"),
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
