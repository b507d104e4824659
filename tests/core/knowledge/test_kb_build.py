"""build_kb: records and their folder metadata, skip reasons, incremental rebuilds, atomic output."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from lakegate.errors import InputError, NotFoundError
from lakegate.knowledge import ChunkOptions, KBPaths, build_kb
from lakegate.knowledge._store import iter_records, read_embeddings, read_manifest

from .kb_corpus import BAD_ENTRIES, GOOD_FILES, MAX_BYTES, Built, Corpus

RECORD_KEYS = [
    "id", "path", "folder", "subfolders", "file_name", "file_type", "modified", "size",
    "page", "chunk_index", "text", "category", "category_label",
]  # fmt: skip


def records_of(path: Path) -> list[dict]:
    return list(iter_records(path))


def by_path(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for record in records:
        out.setdefault(record["path"], []).append(record)
    return out


def test_build_indexes_every_readable_file_and_skips_the_rest(built: Built) -> None:
    report = built.report
    assert report.files_read == len(GOOD_FILES)
    assert report.files_indexed == len(GOOD_FILES)
    assert report.files_reused == 0
    assert {s.path: s.reason for s in report.skipped} == BAD_ENTRIES
    assert [s.path for s in report.skipped] == sorted(BAD_ENTRIES)
    records = records_of(built.corpus.out)
    assert sorted(by_path(records)) == sorted(GOOD_FILES)
    assert report.chunks == len(records)
    assert not any(".hidden" in r["path"] for r in records)


def test_records_carry_folder_metadata(built: Built) -> None:
    records = by_path(records_of(built.corpus.out))
    pdf = records["reports/2024/river.pdf"]
    first = pdf[0]
    assert list(first) == RECORD_KEYS
    assert first["folder"] == "reports/2024"
    assert first["subfolders"] == ["reports", "2024"]
    assert first["file_name"] == "river.pdf"
    assert first["file_type"] == "pdf"
    assert first["size"] == (built.corpus.root / "reports/2024/river.pdf").stat().st_size
    assert datetime.fromisoformat(first["modified"]).tzinfo is not None
    assert [r["page"] for r in pdf] == [1, 2]
    assert [r["chunk_index"] for r in pdf] == [0, 1]
    assert "northern basin" in first["text"]  # de-hyphenated across the line break
    assert "Delta | 120 | 4.1" in first["text"]  # the table, as text
    readme = records["README.md"][0]
    assert (readme["folder"], readme["subfolders"], readme["page"]) == (".", [], None)
    sheet = records["reports/finance.xlsx"]
    assert [r["page"] for r in sheet] == [1]  # the empty sheet gives no chunk
    assert "Customer: Globex; Invoice total: 830.5" in sheet[0]["text"]


def test_every_record_has_a_unique_id_and_a_category(built: Built) -> None:
    records = records_of(built.corpus.out)
    assert len({r["id"] for r in records}) == len(records)
    labels = {c.id: c.label for c in built.report.categories}
    assert sum(c.size for c in built.report.categories) == len(records)
    for record in records:
        assert labels[record["category"]] == record["category_label"]


def test_embeddings_are_stored_beside_the_jsonl_in_record_order(built: Built) -> None:
    paths = KBPaths.of(built.corpus.out)
    ids, vectors = read_embeddings(paths.embeddings)
    assert ids == [r["id"] for r in records_of(paths.jsonl)]
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(ids), built.report.dims)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    manifest = read_manifest(paths.manifest)
    assert sorted(manifest["files"]) == sorted(GOOD_FILES)
    assert manifest["embedder"]["name"] == "tfidf"


def test_rebuild_without_changes_reuses_everything_with_the_same_ids(corpus: Corpus) -> None:
    first = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    ids = [r["id"] for r in records_of(corpus.out)]
    second = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    assert (second.files_read, second.files_reused, second.files_removed) == (0, len(GOOD_FILES), 0)
    assert second.up_to_date
    assert second.vectors_reused == second.chunks == first.chunks
    assert second.chunks_embedded == 0
    assert [r["id"] for r in records_of(corpus.out)] == ids
    assert [c.to_dict() for c in second.categories] == [c.to_dict() for c in first.categories]


def test_rebuild_reprocesses_only_changed_added_and_removed_files(corpus: Corpus) -> None:
    build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    before = by_path(records_of(corpus.out))
    (corpus.root / "notes" / "garden.txt").write_text(
        "Roses need pruning in early spring.\n", encoding="utf-8"
    )
    (corpus.root / "notes" / "bees.md").write_text("Bees pollinate the orchard.\n", encoding="utf-8")
    (corpus.root / "web" / "turbines.html").unlink()
    report = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    assert (report.files_read, report.files_reused, report.files_removed) == (2, len(GOOD_FILES) - 2, 1)
    assert not report.up_to_date
    after = by_path(records_of(corpus.out))
    assert "web/turbines.html" not in after
    assert after["notes/bees.md"][0]["text"] == "Bees pollinate the orchard."
    assert after["notes/garden.txt"][0]["id"] != before["notes/garden.txt"][0]["id"]
    for path in ("README.md", "reports/2024/river.pdf", "data/people.csv"):
        assert [r["id"] for r in after[path]] == [r["id"] for r in before[path]]
    # TF-IDF is fitted to the corpus, so a changed corpus is embedded again as a whole.
    assert report.vectors_reused == 0


def test_touching_a_file_without_changing_it_reuses_it_and_refreshes_modified(corpus: Corpus) -> None:
    build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    readme = corpus.root / "README.md"
    os.utime(readme, (1_600_000_000, 1_600_000_000))
    report = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    assert report.files_read == 0
    assert report.up_to_date
    record = by_path(records_of(corpus.out))["README.md"][0]
    assert record["modified"] == "2020-09-13T12:26:40+00:00"


def test_changed_chunking_rebuilds_every_file(corpus: Corpus) -> None:
    build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    report = build_kb(
        corpus.root,
        corpus.out,
        max_file_bytes=MAX_BYTES,
        chunking=ChunkOptions(unit="tokens", size=8, overlap=2),
    )
    assert (report.files_read, report.files_reused) == (len(GOOD_FILES), 0)
    assert max(len(r["text"].split()) for r in records_of(corpus.out)) <= 8


def test_a_corrupt_previous_build_is_rebuilt_from_scratch(corpus: Corpus) -> None:
    build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    KBPaths.of(corpus.out).embeddings.write_bytes(b"not parquet")
    report = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    assert (report.files_read, report.files_reused) == (len(GOOD_FILES), 0)


def test_output_inside_the_folder_is_never_indexed_and_no_temp_file_remains(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("alpha beta gamma", encoding="utf-8")
    out = root / "kb.jsonl"
    build_kb(root, out)
    report = build_kb(root, out)
    assert report.files_indexed == 1
    assert report.up_to_date
    assert sorted(p.name for p in root.iterdir()) == [
        "a.txt", "kb.embedder.npz", "kb.embeddings.parquet", "kb.jsonl", "kb.manifest.json",
    ]  # fmt: skip


def test_unreadable_file_is_skipped_not_fatal(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PermissionError path, forced: tests run as root here, and root reads chmod 000 files."""
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "garden.txt":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    skipped = {s.path: (s.reason, s.detail) for s in report.skipped}
    assert skipped["notes/garden.txt"] == ("unreadable", "Permission denied")
    assert report.files_indexed == len(GOOD_FILES) - 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file, so nothing is skipped")
def test_chmod_000_file_is_skipped_as_unreadable(corpus: Corpus) -> None:
    locked = corpus.root / "notes" / "garden.txt"
    locked.chmod(0)
    try:
        report = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    finally:
        locked.chmod(0o644)
    assert {s.path: s.reason for s in report.skipped}["notes/garden.txt"] == "unreadable"


def test_a_broken_docx_is_skipped_with_its_reason(corpus: Corpus) -> None:
    (corpus.root / "reports" / "broken.docx").write_bytes(b"PK\x03\x04 this is no zip archive")
    report = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES)
    broken = next(s for s in report.skipped if s.path == "reports/broken.docx")
    assert broken.reason == "unreadable"
    assert "broken DOCX" in broken.detail


def test_progress_reports_every_stage(corpus: Corpus) -> None:
    seen: list[tuple[str, int, int]] = []
    build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES, progress=lambda *a: seen.append(a))
    stages = [stage for stage, _, _ in seen]
    assert list(dict.fromkeys(stages)) == ["scan", "read", "embed", "categorize", "write"]
    reads = [(done, total) for stage, done, total in seen if stage == "read"]
    # The scan hands over blob.bin, fake.txt, notes.xyz and secret.pdf too: reading skips them.
    assert reads[-1] == (len(GOOD_FILES) + 4, len(GOOD_FILES) + 4)


def test_fixed_number_of_categories(corpus: Corpus) -> None:
    report = build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES, categories=3)
    assert [c.id for c in report.categories] == [0, 1, 2]
    sizes = [c.size for c in report.categories]
    assert sizes == sorted(sizes, reverse=True)
    assert all(c.terms and c.label == ", ".join(c.terms[:3]) for c in report.categories)


def test_empty_folder_builds_an_empty_knowledge_base(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = build_kb(tmp_path / "empty", tmp_path / "kb.jsonl")
    assert (report.files_indexed, report.chunks, report.categories) == (0, 0, [])
    assert (tmp_path / "kb.jsonl").read_bytes() == b""


def test_report_is_json_serialisable(built: Built) -> None:
    document = json.loads(json.dumps(built.report.to_dict()))
    assert document["files_skipped"] == len(BAD_ENTRIES)
    assert document["skipped"][0] == {"path": "bad/blob.bin", "reason": "binary", "detail": "binary content"}
    assert set(document["timings"]) == {"scan", "read", "embed", "categorize", "write"}


def test_bad_arguments_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="folder not found"):
        build_kb(tmp_path / "missing", tmp_path / "kb.jsonl")
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        build_kb(tmp_path / "file.txt", tmp_path / "kb.jsonl")
    with pytest.raises(InputError, match="unknown embedder"):
        build_kb(tmp_path, tmp_path / "kb.jsonl", embed="word2vec")
    with pytest.raises(InputError, match="at least 1"):
        build_kb(tmp_path, tmp_path / "kb.jsonl", categories=0)
    with pytest.raises(InputError, match="is a folder"):
        build_kb(tmp_path, tmp_path)
