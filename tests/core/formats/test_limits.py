"""Reader budgets: a file past a limit is refused at once with a ReaderError naming the file,
the limit and its setting; a parser's crash on hostile bytes is a ReaderError too."""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import pytest

from lakegate.errors import InputError, ReaderError
from lakegate.formats import ReaderLimits
from lakegate.formats._limits import check_line_lengths, json_depth
from lakegate.lake import convert

from .builders import write_pdf


def _convert(path: Path, tmp_path: Path, **limits: object):
    return convert([path], tmp_path / "out", reader_limits=ReaderLimits(**limits))  # type: ignore[arg-type]


def test_a_csv_wider_than_max_columns_is_refused_before_it_is_read(tmp_path):
    src = tmp_path / "wide.csv"
    src.write_text(",".join(f"c{i}" for i in range(300)) + "\n" + ",".join("1" * 300) + "\n")
    with pytest.raises(ReaderError) as caught:
        _convert(src, tmp_path, max_columns=200)
    assert caught.value.path == str(src)
    assert "300 columns, more than 200" in caught.value.reason
    assert "readers.max_columns" in caught.value.reason
    [result] = _convert(src, tmp_path, max_columns=300)  # at the limit: read
    assert result.columns == 300


def test_a_line_longer_than_max_line_bytes_is_refused_before_polars_reads_it(tmp_path):
    src = tmp_path / "line.csv"
    src.write_bytes(b"a,b\n1,2\n3," + b"x" * (3 * 2**20) + b"\n4,5\n")
    started = time.perf_counter()
    with pytest.raises(ReaderError) as caught:
        _convert(src, tmp_path, max_line_bytes=2**20)
    assert time.perf_counter() - started < 10
    assert "line 3 is longer than 1 MiB" in caught.value.reason
    assert "readers.max_line_bytes" in caught.value.reason
    [result] = _convert(src, tmp_path, max_line_bytes=4 * 2**20)
    assert result.rows == 3


@pytest.mark.parametrize("terminator", [b"\n", b"\r"])
def test_the_line_scan_finds_a_long_line_across_blocks_only(tmp_path, terminator):
    src = tmp_path / "lines.txt"
    short = (b"y" * 1000 + terminator) * 3000  # 3 MB of short lines: never refused
    src.write_bytes(short + b"x" * (2**20 + 10) + terminator + short)
    check_line_lengths(src, ReaderLimits(max_line_bytes=2 * 2**20), terminator=terminator)
    with pytest.raises(ReaderError, match="line 3,001 is longer than 1 MiB"):
        check_line_lengths(src, ReaderLimits(max_line_bytes=2**20), terminator=terminator)


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'["\\"]]]]", [[2]]]') == 3
    assert json_depth(b"") == 0


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
@pytest.mark.parametrize("depth", [100, 5000])
def test_deeply_nested_json_is_refused_not_a_crash_or_a_hang(tmp_path, suffix, depth):
    record = '{"a":' * depth + "1" + "}" * depth
    src = tmp_path / f"deep{suffix}"
    src.write_text(f"[{record}]" if suffix == ".json" else f"{record}\n{record}\n")
    started = time.perf_counter()
    with pytest.raises(ReaderError) as caught:
        convert([src], tmp_path / "out")
    assert time.perf_counter() - started < 20
    assert "nested" in caught.value.reason


def test_a_bare_nested_array_is_a_reader_error(tmp_path):
    src = tmp_path / "arrays.json"
    src.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ReaderError, match="nested too deeply"):
        convert([src], tmp_path / "out")


def test_json_nested_within_the_limit_converts(tmp_path):
    src = tmp_path / "ok.jsonl"
    src.write_text('{"a": {"b": {"c": 1}}, "d": [1, 2]}\n')
    [result] = convert([src], tmp_path / "out")
    assert result.rows == 1


def _flate_bomb_pdf(path: Path, expanded: int) -> Path:
    """A one-page PDF whose content stream inflates to ``expanded`` bytes."""
    stream = zlib.compress(b"BT /F1 12 Tf 72 720 Td (hi) Tj ET\n" + b" " * expanded, 9)
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d/Filter/FlateDecode>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(out)
    return path


@pytest.mark.timeout(120)
def test_a_pdf_flate_bomb_is_refused_within_the_memory_budget(tmp_path):
    src = _flate_bomb_pdf(tmp_path / "bomb.pdf", 600 * 2**20)
    started = time.perf_counter()
    with pytest.raises(ReaderError) as caught:
        _convert(src, tmp_path, max_memory_bytes=256 * 2**20)
    assert time.perf_counter() - started < 60
    assert caught.value.path == str(src)
    assert "256 MiB" in caught.value.reason
    assert "readers.max_memory_bytes" in caught.value.reason


def test_a_pdf_over_its_time_budget_is_refused(tmp_path):
    src = write_pdf(tmp_path / "slow.pdf", [(["hello"], [["a", "b"], ["1", "2"]])] * 3)
    with pytest.raises(ReaderError) as caught:
        _convert(src, tmp_path, max_seconds=0.05)
    assert "took more than 0.05 s" in caught.value.reason
    assert "readers.max_seconds" in caught.value.reason
    [result] = convert([src], tmp_path / "out")  # the default budget reads it
    assert "text" in {t.name.split("__")[-1] for t in result.tables}


def test_a_pdf_with_a_broken_xref_table_is_a_reader_error(tmp_path):
    src = tmp_path / "broken.pdf"
    src.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\nxref\n0 3\ngarbage\n%%EOF")
    with pytest.raises(ReaderError, match=r"broken\.pdf"):
        convert([src], tmp_path / "out")


def test_a_parser_crash_is_a_reader_error_naming_the_file(tmp_path, monkeypatch):
    import lakegate.formats.csv as csv_module

    def explode(*_args: object, **_kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(csv_module, "sniff", explode)
    src = tmp_path / "a.csv"
    src.write_text("a,b\n1,2\n")
    with pytest.raises(ReaderError) as caught:
        convert([src], tmp_path / "out")
    assert caught.value.path == str(src)
    assert "KeyError" in caught.value.reason


def test_limits_must_be_positive():
    with pytest.raises(InputError, match="max_columns"):
        ReaderLimits(max_columns=0)
    with pytest.raises(InputError, match="max_line_bytes"):
        ReaderLimits(max_line_bytes=1000)


@pytest.mark.parametrize("fraction", [0.6, 0.9, 0.99])
def test_a_truncated_xls_is_a_reader_error_not_a_rust_panic(tmp_path, fraction):
    from .builders import write_xls

    whole = write_xls(tmp_path / "whole.xls", {"data": [["a", "b"], *[[i, f"x{i}"] for i in range(200)]]})
    data = whole.read_bytes()
    src = tmp_path / "cut.xls"
    src.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ReaderError) as caught:
        convert([src], tmp_path / "out")
    assert caught.value.path == str(src)


def test_a_legacy_xls_still_converts_after_its_probe(tmp_path):
    from .builders import write_xls

    src = write_xls(tmp_path / "ok.xls", {"data": [["a", "b"], [1, "x"], [2, "y"]]})
    [result] = convert([src], tmp_path / "out")
    assert result.rows == 2


def test_a_json_record_with_thousands_of_keys_converts(tmp_path):
    import json

    src = tmp_path / "wide.jsonl"
    src.write_text("".join(json.dumps({f"k{i}": i + row for i in range(3000)}) + "\n" for row in range(3)))
    [result] = convert([src], tmp_path / "out")
    assert (result.rows, result.columns) == (3, 3000)
