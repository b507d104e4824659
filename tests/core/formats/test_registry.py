"""The reader registry: every built-in registered, lazy imports, curated exports."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import lakegate.formats
import lakegate.lake
from lakegate.errors import ReaderError
from lakegate.formats import EXTENSIONS, READERS, Reader, reader_for

BUILT_INS = {"csv", "excel", "json", "jsonl", "parquet", "pdf"}


def test_every_built_in_reader_is_registered_and_importable():
    assert set(READERS) == BUILT_INS
    for name, dotted in READERS.items():
        module_name, _, class_name = dotted.partition(":")
        reader = getattr(importlib.import_module(module_name), class_name)
        assert issubclass(reader, Reader)
        assert reader.name == name
        for extension in reader.extensions:
            assert EXTENSIONS[extension] == name
    assert set(EXTENSIONS.values()) == BUILT_INS


@pytest.mark.parametrize(
    ("name", "reader"), [("a.CSV", "csv"), ("b.xlsx", "excel"), ("c.ndjson", "jsonl"), ("d.pdf", "pdf")]
)
def test_reader_for_uses_the_extension(name, reader):
    assert reader_for(Path(name)).name == reader


def test_an_unknown_extension_is_a_reader_error():
    with pytest.raises(ReaderError, match=r"unsupported file type '\.docx'"):
        reader_for(Path("x.docx"))


def test_all_lists_the_public_names():
    public = sorted(n for n in vars(lakegate.formats) if not n.startswith("_") and n != "annotations")
    assert sorted(lakegate.formats.__all__) == sorted(
        n for n in public if n not in {"csv", "excel", "json", "parquet", "pdf"}
    )
    for name in ("convert", "ConvertResult", "TableResult"):
        assert name in lakegate.lake.__all__


def test_importing_the_registry_and_the_cli_does_not_import_polars():
    code = (
        "import sys, lakegate.formats, lakegate.cli;"
        "heavy = ('polars', 'pyarrow', 'fastexcel', 'pdfplumber', 'deltalake');"
        "heavy = [m for m in heavy if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
