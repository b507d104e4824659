"""``lakegate convert``: human and JSON output, several inputs, error lines and exit codes."""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from lakegate.cli import app
from tests.core.formats.builders import write_xlsx

runner = CliRunner()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_it_converts_a_file_and_prints_a_summary(tmp_path):
    src = write(tmp_path / "people.csv", "id,name\n1,Ann\n2,Bob\n")
    result = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"{src} -> {tmp_path / 'out' / 'people.parquet'}" in result.stdout
    assert "2 rows x 2 columns" in result.stdout
    assert pl.read_parquet(tmp_path / "out" / "people.parquet")["name"].to_list() == ["Ann", "Bob"]


def test_json_output_has_the_fields_per_input(tmp_path):
    src = write(tmp_path / "ragged.csv", "a,b\n1,2\n3\n")
    result = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["errors"] == []
    [item] = doc["results"]
    assert item["outputs"] == [str(tmp_path / "out" / "ragged.parquet")]
    assert item["rows"] == 2
    assert item["columns"] == 2
    assert item["schema"] == {"ragged": {"a": "int64", "b": "int64"}}
    assert item["bytes_in"] == src.stat().st_size
    assert item["bytes_out"] == (tmp_path / "out" / "ragged.parquet").stat().st_size
    assert item["ratio"] == round(item["bytes_in"] / item["bytes_out"], 3)
    assert item["seconds"] >= 0
    assert item["warnings"][0].startswith("1 ragged row(s) without exactly 2 fields")


def test_good_inputs_are_converted_and_each_bad_one_reported(tmp_path):
    good = write(tmp_path / "good.csv", "x\n1\n")
    empty = write(tmp_path / "empty.csv", "")
    broken = write(tmp_path / "broken.jsonl", '{"a": 1}\n{"a": \n')
    also_good = write(tmp_path / "also.jsonl", '{"a": 1}\n')
    result = runner.invoke(
        app,
        [
            "convert",
            str(good),
            str(empty),
            str(broken),
            str(also_good),
            "-o",
            str(tmp_path / "out"),
            "--json",
        ],
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [r["source"] for r in doc["results"]] == [str(good), str(also_good)]
    assert doc["errors"] == [
        {"file": str(empty), "code": "unreadable_file", "message": f"{empty}: empty file"},
        {
            "file": str(broken),
            "code": "unreadable_file",
            "message": f"{broken}: line 2: malformed JSON (Expecting value)",
        },
    ]
    assert result.stderr.splitlines() == [
        f"error: {empty}: empty file",
        f"error: {broken}: line 2: malformed JSON (Expecting value)",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["also.parquet", "good.parquet"]


def test_a_single_bad_input_exits_1_with_one_line(tmp_path):
    result = runner.invoke(app, ["convert", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'nope.csv'}: no such file\n"
    assert result.stdout == ""


def test_delta_format_sheet_and_type_options(tmp_path):
    book = write_xlsx(tmp_path / "book.xlsx", {"A": [["id", "v"], [1, 2]], "B": [["code"], [7]]})
    result = runner.invoke(
        app,
        [
            "convert",
            str(book),
            "-o",
            str(tmp_path / "out"),
            "--format",
            "delta",
            "--sheet",
            "B",
            "--type",
            "code=string",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)["results"]
    assert item["outputs"] == [str(tmp_path / "out" / "book__B")]
    assert item["schema"] == {"book__B": {"code": "string"}}
    assert pl.read_delta(str(tmp_path / "out" / "book__B"))["code"].to_list() == ["7"]


def test_usage_errors(tmp_path):
    src = write(tmp_path / "a.csv", "x\n1\n")
    bad_format = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out"), "--format", "csv"])
    assert bad_format.exit_code == 2
    no_out = runner.invoke(app, ["convert", str(src)])
    assert no_out.exit_code == 2
    bad_type = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out"), "--type", "nonsense"])
    assert bad_type.exit_code == 1
    assert bad_type.stderr == "error: --type 'nonsense': expected COLUMN=TYPE, e.g. zip=string\n"
    unknown_kind = runner.invoke(
        app, ["convert", str(src), "-o", str(tmp_path / "out"), "--type", "x=number"]
    )
    assert unknown_kind.exit_code == 1
    assert "unknown type 'number'" in unknown_kind.stderr


def test_several_inputs_in_human_mode(tmp_path):
    sources = [str(write(tmp_path / f"f{i}.csv", f"n\n{i}\n")) for i in range(3)]
    result = runner.invoke(app, ["convert", *sources, "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("1 rows x 1 columns") == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f0.parquet", "f1.parquet", "f2.parquet"]


def _zip(path: Path, members: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(members):
            archive.writestr(f"part{index}.csv", f"n\n{index}\n")
    return path


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--max-archive-entries", "2", "archive holds 3 entries, more than the limit of 2"),
        ("--max-archive-bytes", "8", "archive expands to more than 8 B (limit; possible archive bomb)"),
    ],
    ids=["entries", "bytes"],
)
def test_archive_limits_from_the_cli_refuse_a_zip(tmp_path, option, value, reason):
    src = _zip(tmp_path / "bundle.zip", 3)
    out = tmp_path / "out"
    refused = runner.invoke(app, ["convert", str(src), "-o", str(out), option, value])
    assert refused.exit_code == 1
    assert refused.stderr == f"error: {src}: {reason}\n"
    assert list(out.iterdir()) == []
    allowed = runner.invoke(app, ["convert", str(src), "-o", str(out), "--json"])
    assert allowed.exit_code == 0, allowed.output
    assert len(json.loads(allowed.stdout)["results"][0]["outputs"]) == 3


def test_archive_byte_limit_takes_units_and_stops_a_gzip(tmp_path):
    src = tmp_path / "big.csv.gz"
    src.write_bytes(gzip.compress(b"n\n" + b"1\n" * 4096, mtime=0))  # 8 KiB + 2 bytes expanded
    out = tmp_path / "out"
    refused = runner.invoke(app, ["convert", str(src), "-o", str(out), "--max-archive-bytes", "8KiB"])
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"error: {src}: archive expands to more than 8.0 KiB (limit; possible archive bomb)\n"
    )
    allowed = runner.invoke(app, ["convert", str(src), "-o", str(out), "--max-archive-bytes", "9KB"])
    assert allowed.exit_code == 0, allowed.output
    assert pl.read_parquet(out / "big.parquet").height == 4096


def test_archive_ratio_limit_from_the_cli(tmp_path):
    # The ratio is only enforced past 64 MiB expanded: a 65 MiB run of one byte, ~64 KiB zipped.
    src = tmp_path / "bomb.csv.gz"
    src.write_bytes(gzip.compress(b"n\n" + b"1\n" * (65 * 1024 * 512), compresslevel=1, mtime=0))
    result = runner.invoke(
        app, ["convert", str(src), "-o", str(tmp_path / "out"), "--max-archive-ratio", "10"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {src}: archive expands more than 10x (")
    assert result.stderr.endswith("; possible archive bomb)\n")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--max-archive-bytes", "lots"),
        ("--max-archive-bytes", "0"),
        ("--max-archive-ratio", "0.5"),
        ("--max-archive-entries", "0"),
    ],
    ids=["bytes-not-a-size", "bytes-zero", "ratio-below-1", "entries-zero"],
)
def test_bad_archive_limits_are_usage_errors(tmp_path, option, value):
    src = write(tmp_path / "a.csv", "x\n1\n")
    result = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out"), option, value])
    assert result.exit_code == 2
    assert option in result.stderr
    assert not (tmp_path / "out").exists()


def test_help_shows_the_archive_limit_defaults():
    result = runner.invoke(app, ["convert", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option, default in [
        ("--max-archive-bytes", "16GiB"),
        ("--max-archive-ratio", "200.0"),
        ("--max-archive-entries", "10000"),
    ]:
        assert re.search(rf"{option}\b.*?\[default: ([^\]]*)\]", result.stdout, re.DOTALL)[1] == default
