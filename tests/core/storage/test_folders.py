"""Folders (model artifacts) in the storage: files first, the manifest last, checked on the way back."""

from __future__ import annotations

import json

import pytest

from lakegate.errors import ConflictError, InputError, LakegateError, NotFoundError
from lakegate.storage import MANIFEST, Area, download_folder, read_manifest, unique_key, upload_folder


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    (folder / "meta").mkdir(parents=True)
    (folder / "model.skops").write_bytes(b"\x00model-bytes" * 1000)
    (folder / "meta" / "metrics.json").write_text('{"auc": 0.91}')
    (folder / "empty.txt").write_bytes(b"")
    return folder


def test_a_folder_round_trips_with_its_manifest(storage, model_dir, tmp_path):
    prefix = unique_key(Area.MODELS, "churn")
    manifest = upload_folder(storage, model_dir, prefix)
    assert [f.path for f in manifest.files] == ["empty.txt", "meta/metrics.json", "model.skops"]
    assert manifest.total_bytes == 12_000 + 13
    assert read_manifest(storage, prefix) == manifest

    out = tmp_path / "scratch"
    assert download_folder(storage, prefix, out) == manifest
    for item in manifest.files:
        assert (out / item.path).read_bytes() == (model_dir / item.path).read_bytes()
    assert json.loads(storage.get_bytes(f"{prefix}/{MANIFEST}"))["format"] == "lakegate-folder/1"


def test_a_folder_without_its_manifest_was_never_committed(storage, model_dir, tmp_path):
    # A worker died after its files went up and before the manifest: readers must not see it.
    prefix = unique_key(Area.MODELS, "churn")
    storage.put_file(f"{prefix}/model.skops", model_dir / "model.skops")
    with pytest.raises(NotFoundError, match="no committed folder there"):
        read_manifest(storage, prefix)
    with pytest.raises(NotFoundError):
        download_folder(storage, prefix, tmp_path / "scratch")
    assert not (tmp_path / "scratch").exists()
    # The abandoned attempt is found by listing the area, and can be deleted.
    assert storage.list_dirs(f"{Area.MODELS}/churn") == [prefix]
    assert storage.delete_prefix(prefix) == 1


def test_a_committed_folder_is_never_written_into(storage, model_dir):
    prefix = unique_key(Area.MODELS, "churn")
    upload_folder(storage, model_dir, prefix)
    before = storage.get_bytes(f"{prefix}/model.skops")
    (model_dir / "model.skops").write_bytes(b"retrained")
    with pytest.raises(ConflictError, match="a folder is already committed there"):
        upload_folder(storage, model_dir, prefix)
    assert storage.get_bytes(f"{prefix}/model.skops") == before


def test_a_file_changed_after_the_commit_is_an_error(storage, model_dir, tmp_path):
    prefix = unique_key(Area.MODELS, "churn")
    upload_folder(storage, model_dir, prefix)
    storage.put_bytes(f"{prefix}/meta/metrics.json", b'{"auc": 0.99}')
    with pytest.raises(
        LakegateError, match=r"meta/metrics\.json: 13 bytes with SHA-256 .* the manifest says"
    ):
        download_folder(storage, prefix, tmp_path / "scratch")


def test_a_folder_with_a_link_or_the_reserved_name_is_refused(storage, model_dir):
    (model_dir / "link").symlink_to(model_dir / "model.skops")
    with pytest.raises(InputError, match="a symbolic link"):
        upload_folder(storage, model_dir, "artifacts/models/a/1")
    (model_dir / "link").unlink()
    (model_dir / MANIFEST).write_text("{}")
    with pytest.raises(InputError, match="reserved for the folder's manifest"):
        upload_folder(storage, model_dir, "artifacts/models/a/2")


def test_a_damaged_manifest_is_an_error_naming_it(storage):
    storage.put_bytes(f"artifacts/models/a/1/{MANIFEST}", b'{"format": "something-else"}')
    with pytest.raises(LakegateError, match=r"\.lakegate-manifest\.json: not a folder manifest"):
        read_manifest(storage, "artifacts/models/a/1")
