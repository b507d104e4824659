"""The curated public surface of lakegate.knowledge."""

from __future__ import annotations

import subprocess
import sys

import lakegate.knowledge


def test_all_lists_every_public_name_once() -> None:
    # ruff (RUF022) keeps __all__ sorted; here: nothing public is missing or listed twice.
    public = {name for name in vars(lakegate.knowledge) if not name.startswith("_")}
    assert len(set(lakegate.knowledge.__all__)) == len(lakegate.knowledge.__all__)
    assert public == set(lakegate.knowledge.__all__)


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = (
        "import sys, lakegate.knowledge; "
        "heavy = {'sklearn', 'scipy', 'pyarrow', 'pdfplumber', 'docx', 'networkx', 'sentence_transformers'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
