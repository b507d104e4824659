"""atheris target: the format sniffers and readers, coverage-guided.

Each input is one file: its first byte picks the extension (csv, tsv, txt, json, jsonl,
parquet, xlsx, ods, csv.gz, zip), the rest is the content, converted through
``lakegate.lake.convert`` as ``lakegate convert`` does. The dialect sniffer, the encoding
detector and the JSON depth scan also get the raw bytes. Anything but a
``LakegateError`` (the user-facing refusal) is a finding and stops the run. PDFs and legacy
``.xls`` are parsed in a budgeted child process (``_sandbox``): the hostile-file generator
covers them (``tests/support/hostile.py``).

    uv run python tests/support/fuzz_readers.py -max_total_time=60 [corpus_dir]
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["lakegate"]):
    from lakegate.errors import LakegateError
    from lakegate.formats._dialect import sniff
    from lakegate.formats._limits import ReaderLimits, json_depth
    from lakegate.formats._text import decode_head, detect_encoding
    from lakegate.lake import convert

SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".xlsx", ".ods", ".csv.gz", ".zip")
LIMITS = ReaderLimits(max_line_bytes=1024 * 1024, max_columns=2000)
_work = Path(tempfile.mkdtemp(prefix="lakegate-atheris-"))


def one_input(data: bytes) -> None:
    if not data:
        return
    suffix = SUFFIXES[data[0] % len(SUFFIXES)]
    body = data[1:]
    json_depth(body)
    path = _work / f"input{suffix}"
    path.write_bytes(body)
    with contextlib.suppress(LakegateError):
        encoding = detect_encoding(path, body)
        text = decode_head(path, body, encoding)
        if text.strip():
            sniff(text, prefer_tab=suffix == ".tsv", complete=True)
    with contextlib.suppress(LakegateError):
        convert([path], _work / "out", reader_limits=LIMITS)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
