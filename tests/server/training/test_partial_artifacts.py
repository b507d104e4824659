"""A model upload cut short is never taken for a model: it counts only once its row commits.

A training worker that dies while uploading leaves files under its attempt's fresh key and
no version row (and no manifest when it died before the last file). The next attempt
uploads under a new key; readers follow rows only; the scheduler's sweep deletes the
abandoned folder once it is old enough not to be an upload in progress.
"""

from __future__ import annotations

import pytest

from lakegate.errors import NotFoundError
from lakegate.storage import join_key, open_storage, read_manifest
from lakegate_server.conf import project
from lakegate_server.training import registry
from lakegate_server.training.models import ModelVersion
from lakegate_server.training.registry import model_attempts_sweep
from lakegate_server.training.selectors import version_artifact_dir
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_dying_mid_upload_leaves_no_version_and_its_files_are_swept(
    ingest, pipelines, train, monkeypatch
):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    real_upload = registry.upload_folder
    prefixes: list[str] = []

    def dies_before_the_manifest(storage, folder, prefix):
        prefixes.append(prefix)
        if len(prefixes) > 1:
            return real_upload(storage, folder, prefix)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            storage.put_file(join_key(prefix, path.relative_to(folder).as_posix()), path)
        raise RuntimeError("the worker's host went away")

    monkeypatch.setattr(registry, "upload_folder", dies_before_the_manifest)
    dead = train()
    assert dead.status == "failed"
    storage = open_storage(project())
    [abandoned] = prefixes
    assert storage.list_objects(abandoned), "the dead attempt's files are in the storage"
    with pytest.raises(NotFoundError, match="no committed folder"):
        read_manifest(storage, abandoned)
    assert not ModelVersion.objects.exists(), "files without a row are not a version"

    retried = train()
    assert retried.status == "succeeded", retried.last_error
    [version] = ModelVersion.objects.all()
    committed = version.artifact_path.rpartition("/")[0]
    assert committed == prefixes[1] != abandoned, "the next attempt wrote under a fresh key"
    assert read_manifest(storage, committed).files
    assert (version_artifact_dir(project(), version) / "model.json").is_file()

    assert model_attempts_sweep(config=project()) == [], "an hour's grace: it may be an upload in progress"
    assert model_attempts_sweep(config=project(), older_than=0) == [abandoned]
    assert storage.list_objects(abandoned) == []
    assert read_manifest(storage, committed).files, "the committed folder is kept"
    assert model_attempts_sweep(config=project(), older_than=0) == []


def test_a_folder_with_its_manifest_but_no_row_is_still_not_a_version(ingest, pipelines, train, tmp_path):
    """Killed after the manifest, before the row: a complete folder no row names is swept too."""
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    assert train().status == "succeeded"
    [version] = ModelVersion.objects.all()
    storage = open_storage(project())
    orphan = version.artifact_path.rpartition("/")[0].rpartition("/")[0] + "/0123456789abcdef0123456789abcdef"
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.json").write_text("{}")
    registry.upload_folder(storage, tmp_path, orphan)
    assert read_manifest(storage, orphan).files
    assert ModelVersion.objects.count() == 1
    assert model_attempts_sweep(config=project(), older_than=0) == [orphan]
    assert (version_artifact_dir(project(), version) / "model.json").is_file()
