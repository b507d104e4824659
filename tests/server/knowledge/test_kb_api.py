"""Knowledge-base search over HTTP and `lakegate kb register` into the lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakegate.knowledge import build_kb
from lakegate_server.cli import app
from lakegate_server.datasets.selectors import version_get

DOCS = {
    "water/rivers.txt": "River water quality depends on nitrate levels and dissolved oxygen in streams.",
    "water/lakes.md": "# Lakes\n\nLake temperature and algae blooms change with the seasons.",
    "energy/solar.txt": "Solar panels convert sunlight into electricity with photovoltaic cells.",
    "energy/wind.txt": "Wind turbines produce power when the wind blows across the blades.",
}


@pytest.fixture
def kb_file(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    out = tmp_path / "kb.jsonl"
    build_kb(root, out, categories=2)
    return out


@pytest.fixture
def configured(settings, kb_file):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"knowledge_bases": {"docs": kb_file}})
    return kb_file


def test_search_returns_the_relevant_chunk_first(api, configured):
    response = api("viewer").get("/api/v1/kb/search", q="nitrate in river water", k=2)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kb"] == "docs"
    assert body["hits"][0]["file_name"] == "rivers.txt"
    assert body["hits"][0]["subfolders"] == ["water"]
    assert body["hits"][0]["rank"] == 1
    assert api("viewer").get("/api/v1/kb").json()["items"][0]["name"] == "docs"


def test_search_validates_and_needs_a_token(api, configured):
    assert api(None).get("/api/v1/kb/search", q="x").status_code == 401
    assert api("viewer").get("/api/v1/kb/search", q="").status_code == 422
    assert api("viewer").get("/api/v1/kb/search", q="x", k=0).status_code == 422
    missing = api("viewer").get("/api/v1/kb/search", q="x", kb="nope")
    assert missing.status_code == 404
    assert "known: docs" in missing.json()["error"]["message"]


def test_no_configured_base_is_a_clear_404(api):
    response = api("viewer").get("/api/v1/kb/search", q="x")
    assert response.status_code == 404
    assert "knowledge_bases:" in response.json()["error"]["message"]


@pytest.mark.django_db(transaction=True)
def test_register_puts_the_chunks_into_the_lake(kb_file):
    result = CliRunner().invoke(app, ["kb", "register", str(kb_file), "--dataset", "docs", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["rows"] == len(DOCS)
    version = version_get(name="docs")
    assert {"id", "path", "folder", "subfolders", "text", "category"} <= set(version.table_schema)
