"""``.gz`` and ``.zip`` inputs: unwrapped within limits, entry names never used as paths."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from lakegate.errors import InputError, ReaderError
from lakegate.formats import ArchiveLimits
from lakegate.formats._archive import gunzip_to, parse_size, size_text

CSV = b"id,name\n1,Ann\n2,Bob\n"
SMALL = ArchiveLimits(max_bytes=1024 * 1024, max_ratio=20, ratio_floor_bytes=64 * 1024, max_entries=5)


def test_a_gzipped_csv_is_read(tmp_path, convert_one):
    src = tmp_path / "people.csv.gz"
    src.write_bytes(gzip.compress(CSV))
    result, frames = convert_one(src)
    assert frames["people"].to_dicts() == [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}]
    assert result.bytes_in == src.stat().st_size


def test_multi_member_gzip_is_read_whole(tmp_path):
    src = tmp_path / "two.csv.gz"
    src.write_bytes(gzip.compress(b"a\n1\n") + gzip.compress(b"2\n"))
    written = gunzip_to(src, tmp_path / "two.csv", ArchiveLimits())
    assert (tmp_path / "two.csv").read_bytes() == b"a\n1\n2\n"
    assert written == 6


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        # mtime=0: the same bytes in every process, so pytest-xdist workers collect the same ids.
        (gzip.compress(CSV, mtime=0)[:-12], "truncated gzip file"),
        (b"\x1f\x8b\x08\x00garbage-garbage-garbage", "corrupt gzip data"),
        (b"", "empty file"),
    ],
    ids=["truncated", "corrupt", "empty"],
)
def test_a_broken_gzip_is_a_reader_error(tmp_path, convert_one, content, reason):
    src = tmp_path / "bad.csv.gz"
    src.write_bytes(content)
    with pytest.raises(ReaderError) as caught:
        convert_one(src)
    assert caught.value.path == str(src)
    assert caught.value.reason.startswith(reason)


def test_a_gzip_bomb_stops_at_the_limits(tmp_path, convert_one):
    src = tmp_path / "bomb.csv.gz"
    src.write_bytes(gzip.compress(b"a\n" + b"0\n" * 2_000_000, compresslevel=9))
    with pytest.raises(ReaderError, match=r"archive expands more than 20x .*possible archive bomb"):
        convert_one(src, limits=SMALL)
    with pytest.raises(ReaderError, match=r"archive expands to more than 1\.0 MiB"):
        convert_one(src, limits=ArchiveLimits(max_bytes=1024 * 1024))
    assert not (tmp_path / "out" / "bomb.parquet").exists()
    assert list((tmp_path / "out").iterdir()) == []  # no scratch left behind


def test_a_gz_without_an_inner_extension_is_refused(tmp_path, convert_one):
    src = tmp_path / "data.gz"
    src.write_bytes(gzip.compress(CSV))
    with pytest.raises(ReaderError, match="cannot tell the format inside"):
        convert_one(src)


def test_zip_members_become_tables_and_names_are_sanitised(tmp_path, convert_one):
    src = tmp_path / "bundle.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("../../evil/people.csv", CSV)
        z.writestr("dir/other data.jsonl", b'{"x": 1}\n{"x": 2}\n')
        z.writestr("readme.md", b"# not data")
        z.writestr("__MACOSX/._people.csv", b"junk")
    result, frames = convert_one(src)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["bundle__other_data.parquet", "bundle__people.parquet"]
    assert frames["bundle__people"]["name"].to_list() == ["Ann", "Bob"]
    assert frames["bundle__other_data"]["x"].to_list() == [1, 2]
    assert not (tmp_path / "evil").exists()
    assert any("skipped 2 zip entries of unknown type" in w for w in result.warnings)


def test_zip_limits_and_bad_zips(tmp_path, convert_one):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(6):
            z.writestr(f"f{i}.csv", CSV)
    with pytest.raises(ReaderError, match="holds 6 entries, more than the limit of 5"):
        convert_one(many, limits=SMALL)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.csv", b"a\n" + b"0\n" * 1_000_000)
    with pytest.raises(ReaderError, match="possible archive bomb"):
        convert_one(bomb, limits=SMALL)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("notes.txt.md", b"x")
    with pytest.raises(ReaderError, match=r"zip holds no readable table \(skipped: notes\.txt\.md\)"):
        convert_one(empty)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ReaderError, match="not a valid zip file"):
        convert_one(broken)


def test_an_error_inside_a_zip_names_the_entry(tmp_path, convert_one):
    src = tmp_path / "b.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("good.csv", CSV)
        z.writestr("bad.jsonl", b'{"a": 1}\n{oops}\n')
    with pytest.raises(ReaderError) as caught:
        convert_one(src)
    assert caught.value.path == f"{src}:bad.jsonl"
    assert caught.value.reason.startswith("line 2: malformed JSON")
    # Nothing of the input is visible: its good table was staged, never committed.
    assert list((tmp_path / "out").iterdir()) == []


def test_an_encrypted_zip_entry_is_refused(tmp_path, convert_one):
    src = tmp_path / "locked.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("a.csv", CSV)
    data = bytearray(src.read_bytes())
    # Set the "encrypted" flag in the local header and the central directory entry.
    data[6] |= 1
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    src.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match=r"password-protected zip entry 'a\.csv'"):
        convert_one(Path(src))


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("100", 100),
        ("100B", 100),
        ("8KiB", 8192),
        ("8k", 8192),
        ("1.5 MiB", 1536 * 1024),
        ("2GB", 2_000_000_000),
        ("16GiB", 16 * 1024**3),
        ("1TiB", 1024**4),
    ],
    ids=["bytes", "bytes-unit", "kib", "k", "fraction", "gb-decimal", "gib", "tib"],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text", ["", "lots", "-1", "5 XB", "1e9"], ids=["empty", "word", "negative", "unit", "exp"]
)
def test_parse_size_refuses_what_is_not_a_size(text):
    with pytest.raises(InputError, match=rf"size {text!r}: expected a number of bytes"):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "text"),
    [(16 * 1024**3, "16GiB"), (1536 * 1024, "1536KiB"), (64 * 1024**2, "64MiB"), (1000, "1000")],
    ids=["gib", "kib", "mib", "bytes"],
)
def test_size_text_round_trips(size, text):
    assert size_text(size) == text
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("limit", "value"),
    [("max_bytes", 0), ("max_ratio", 0.0), ("max_entries", -1)],
    ids=["bytes", "ratio", "entries"],
)
def test_archive_limits_must_be_positive(limit, value):
    with pytest.raises(InputError, match=rf"archive limit {limit}: must be positive"):
        ArchiveLimits(**{limit: value})
