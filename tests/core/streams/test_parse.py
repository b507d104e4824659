"""parse_records: JSON arrays and NDJSON in, NDJSON lines out; errors name the record/line."""

from __future__ import annotations

import orjson
import pytest

from lakegate.errors import StreamError
from lakegate.streams import ParsedRecords, parse_records


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'[{"a":1},{"b":[1,2]}]', "application/json", b'{"a":1}\n{"b":[1,2]}\n'),
        (b'  [ {"a" : 1} ,\n {"b": {"c": null}} ]  ', None, b'{"a":1}\n{"b":{"c":null}}\n'),
        (b'{"a":1}\n{"a":2}\n', "application/x-ndjson", b'{"a":1}\n{"a":2}\n'),
        (b'{"a":1}\n{"a":2}\n', "application/json; charset=utf-8", b'{"a":1}\n{"a":2}\n'),
        (b'{"a":1}\n\n  \n{"a":2}', None, b'{"a":1}\n{"a":2}\n'),
        (b'\r\n{"a":1}\r\n{"a":2}\r\n', "application/jsonl", b'{"a":1}\n{"a":2}\n'),
        (b'\xef\xbb\xbf[{"a":"\xc3\xa9"}]', None, b'{"a":"\xc3\xa9"}\n'),
    ],
    ids=["array", "array-spaced", "ndjson", "ndjson-sent-as-json", "blank-lines", "crlf", "bom-utf8"],
)
def test_bodies_become_ndjson_lines(body, content_type, expected):
    parsed = parse_records(body, content_type=content_type)
    assert parsed == ParsedRecords(lines=expected, count=expected.count(b"\n"))
    assert [orjson.loads(line) for line in parsed.lines.splitlines()] == [
        orjson.loads(line) for line in expected.splitlines()
    ]


def test_clean_ndjson_is_kept_without_a_copy():
    body = b"".join(orjson.dumps({"n": n, "s": "x" * n}) + b"\n" for n in range(50))
    parsed = parse_records(body, content_type="application/x-ndjson")
    assert parsed.count == 50
    assert parsed.lines is body


@pytest.mark.parametrize(
    ("body", "content_type", "message", "detail"),
    [
        (b"", None, "empty body", None),
        (b" \n\t ", "application/json", "empty body", None),
        (b"[]", None, "no records: the JSON array is empty", None),
        (b"\n \n", "application/x-ndjson", "empty body", None),
        (b'[{"a":1}, [1], {"b":2}]', None, "record 1: expected a JSON object, got a list", {"record": 1}),
        (b'[{"a":1}, "x"]', None, "record 1: expected a JSON object, got a string", {"record": 1}),
        (b'[{"a":1}, null]', None, "record 1: expected a JSON object, got null", {"record": 1}),
        (b'[{"a":1},', None, "invalid JSON: unexpected end of data", {"position": 9}),
        (b'{"a":1}\n\n{"a":2}\n{"a":\n', None, "line 4: invalid JSON: unexpected end of data", {"line": 4}),
        (b'{"a":1}\n{"a":2}\n{"a" 3}\n', None, "line 3: invalid JSON", {"line": 3}),
        (b'{"a":1}\n[1, 2]\n', None, "line 2: expected a JSON object, got a list", {"line": 2}),
        (b'[{"a":1}]', "application/x-ndjson", "line 1: expected a JSON object, got a list", {"line": 1}),
        (b"42\n", None, "line 1: expected a JSON object, got a number", {"line": 1}),
        (
            b'{"a":1} {"b":2}\n',
            None,
            "line 1: invalid JSON: unexpected content after document at column 9",
            {"line": 1},
        ),
    ],
    ids=[
        "empty",
        "whitespace",
        "empty-array",
        "blank-ndjson",
        "array-item-list",
        "array-item-string",
        "array-item-null",
        "array-truncated",
        "ndjson-truncated",
        "ndjson-bad-syntax",
        "ndjson-line-list",
        "array-sent-as-ndjson",
        "ndjson-scalar",
        "two-objects-one-line",
    ],
)
def test_errors_name_the_record_or_line(body, content_type, message, detail):
    with pytest.raises(StreamError) as caught:
        parse_records(body, content_type=content_type)
    assert caught.value.message.startswith(message)
    assert caught.value.detail == detail


@pytest.mark.parametrize(
    "body",
    [
        orjson.dumps([{"n": n} for n in range(11)]),
        b"".join(orjson.dumps({"n": n}) + b"\n" for n in range(11)),
    ],
    ids=["array", "ndjson"],
)
def test_max_records(body):
    assert parse_records(body, content_type=None, max_records=11).count == 11
    with pytest.raises(StreamError, match="body has 11 records, over the limit of 10") as caught:
        parse_records(body, content_type=None, max_records=10)
    assert caught.value.detail == {"records": 11, "max_records": 10}


def test_whitespace_only_lines_in_otherwise_clean_ndjson():
    parsed = parse_records(b'{"a":1}\n  \n{"a":2}\n', content_type=None)
    assert parsed == ParsedRecords(lines=b'{"a":1}\n{"a":2}\n', count=2)


def test_round_trip_of_many_shapes():
    records = [
        {"i": n, "f": n / 3, "s": f"line\nbreak {n}", "u": "\u2028é", "none": None, "nested": {"l": [n]}}
        for n in range(200)
    ]
    for body in (orjson.dumps(records), b"\n".join(orjson.dumps(r) for r in records)):
        parsed = parse_records(body, content_type=None)
        assert parsed.count == 200
        assert parsed.lines.count(b"\n") == 200
        assert [orjson.loads(line) for line in parsed.lines.splitlines()] == records
