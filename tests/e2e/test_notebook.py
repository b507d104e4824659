"""``examples/quickstart.ipynb`` runs top to bottom in a real Jupyter kernel (nbclient).

A fresh kernel, a fresh folder and no ``LAKEGATE_*`` variables: what a user gets who opens
the notebook next to a lakegate install, with no server running. The notebook asserts its
own milestones (every version accepted, the first model champion, five predictions); here
we check what it left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"

pytestmark = [
    pytest.mark.timeout(300),
    # The notebook is about the embedded defaults (it clears LAKEGATE_*): once per suite is enough.
    pytest.mark.skipif(
        bool(os.environ.get("LAKEGATE_DATABASE_URL")), reason="runs on SQLite; covered by the SQLite pass"
    ),
]


def outputs(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.extend(str(value) for value in output.get("data", {}).values())
    return "\n".join(parts)


def test_the_quickstart_notebook_goes_from_files_to_a_prediction(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEGATE_", "DJANGO_"))}
    client = NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=env)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [cell for cell in code if any(o.get("output_type") == "error" for o in cell.outputs)]
    rendered = "\n".join(outputs(cell) for cell in code)
    assert "<iframe srcdoc=" in rendered, "the quality report renders as HTML"
    assert "ModelVersion(name='churn', number=1, stage='champion'" in rendered
    project = tmp_path / "quickstart-project"
    assert (project / ".lakegate" / "db.sqlite3").is_file(), "embedded defaults: SQLite in the project"
    assert sorted(p.name for p in (project / ".lakegate" / "lake").iterdir()) == ["customers"]
    assert list((project / ".lakegate" / "artifacts" / "models" / "churn").iterdir())
