"""Nothing is stranded in the staging folders: inbox links are refused, orphaned uploads swept.

Links are never followed: the tests point them at a file outside the project whose content
must not show up anywhere lakegate keeps data.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from lakegate_server.conf import project
from lakegate_server.datasets.inbox import inbox_claim
from lakegate_server.datasets.models import QuarantinedFile
from lakegate_server.datasets.sweep import inbox_links_refuse, staging_sweep, uploads_sweep
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_cancel

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "id,password\n1,hunter2\n"


def age(path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


def kept_text() -> str:
    """Everything the quarantine and the lake hold, as text."""
    roots = (settings.LAKEGATE.paths.quarantine, settings.LAKEGATE.paths.lake)
    return "".join(
        p.read_bytes().decode(errors="replace")
        for root in roots
        if root.exists()
        for p in root.rglob("*")
        if p.is_file()
    )


@pytest.fixture(autouse=True)
def _empty_staging():
    """The project folder is shared by the tests of one worker: start with nothing staged."""
    for folder in (settings.LAKEGATE.paths.inbox, settings.LAKEGATE.paths.uploads):
        folder.mkdir(parents=True, exist_ok=True)
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


@pytest.fixture
def outside(tmp_path):
    target = tmp_path / "outside" / "secrets.csv"
    target.parent.mkdir()
    target.write_text(SECRET)
    return target


def test_a_link_in_the_inbox_is_refused_with_a_reason_and_never_followed(outside, execute_queued, api):
    folder = settings.LAKEGATE.paths.inbox / "weather"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "w.csv"
    link.symlink_to(outside)
    age(link, 10)
    assert inbox_claim(config=project(), settle_seconds=2) == [], "the claim does not take a link"
    assert execute_queued() == []
    (record,) = staging_sweep(config=project())
    assert not link.is_symlink(), "the link is gone from the inbox"
    assert outside.read_text() == SECRET, "what it pointed to is untouched"
    assert (record.dataset, record.code, record.source_name) == (
        "weather",
        "symlink_refused",
        "w.csv.symlink.txt",
    )
    assert "w.csv is a symbolic link" in record.reason
    assert str(outside) not in record.reason, "viewers do not learn server paths"
    assert "hunter2" not in kept_text(), "the target's content was never read"
    listed = api("viewer").get("/api/v1/quarantine").json()["items"]
    assert [(q["code"], q["dataset"]) for q in listed] == [("symlink_refused", "weather")]
    # A retry reads the note, not the target: it fails on the note's format, and keeps it listed.
    retried = api("editor").post(f"/api/v1/quarantine/{record.id}/retry")
    assert retried.status_code >= 400
    assert "hunter2" not in kept_text()


def test_a_fresh_or_hidden_link_waits_and_a_linked_folder_is_skipped(outside):
    inbox = settings.LAKEGATE.paths.inbox
    folder = inbox / "weather"
    folder.mkdir(parents=True, exist_ok=True)
    fresh = folder / "fresh.csv"
    fresh.symlink_to(outside)
    hidden = folder / ".hidden.csv"
    hidden.symlink_to(outside)
    age(hidden, 10)
    linked_folder = inbox / "linked"
    linked_folder.symlink_to(outside.parent, target_is_directory=True)
    assert inbox_claim(config=project(), settle_seconds=2) == []
    assert inbox_links_refuse(config=project(), settle_seconds=2) == []
    assert fresh.is_symlink()
    assert hidden.is_symlink()
    assert outside.exists()
    fresh.unlink()
    hidden.unlink()
    linked_folder.unlink()


def test_a_cancelled_upload_is_swept_into_the_quarantine_naming_its_run(api):
    client = api("editor")
    response = client.client.post(
        "/api/v1/datasets/weather/files",
        {"file": SimpleUploadedFile("w.csv", b"id,temp\n1,2.5\n")},
        headers=client.headers,
    )
    assert response.status_code == 202, response.content
    run = Run.objects.get(pk=response.json()["id"])
    staged = settings.LAKEGATE.paths.state / run.params["key"]
    assert staged.is_file()
    assert uploads_sweep(config=project(), older_than=0) == [], "a queued run's file is left alone"
    run_cancel(run_id=run.pk, by="test")
    assert uploads_sweep(config=project(), older_than=3600) == [], "too fresh to sweep"
    (record,) = uploads_sweep(config=project(), older_than=0)
    assert not staged.parent.exists(), "the staging folder is gone"
    assert (record.dataset, record.code, record.source_name) == ("weather", "upload_stranded", "w.csv")
    assert f"ingest run {run.pk} ended cancelled" in record.reason
    assert "cancelled by test" in record.reason
    listed = api("viewer").get("/api/v1/quarantine").json()["items"]
    assert [q["source"] for q in listed] == ["w.csv"]


def test_a_file_no_run_took_and_an_empty_folder_are_swept():
    uploads = settings.LAKEGATE.paths.uploads
    orphan = uploads / "orphan-folder"
    orphan.mkdir(parents=True)
    (orphan / "lost.csv").write_text("id\n1\n")
    empty = uploads / "empty-folder"
    empty.mkdir()
    (record,) = uploads_sweep(config=project(), older_than=0)
    assert (record.dataset, record.code, record.source_name) == ("", "upload_stranded", "lost.csv")
    assert "no ingest run took it" in record.reason
    assert not orphan.exists()
    assert not empty.exists()
    assert QuarantinedFile.objects.count() == 1


def test_a_link_staged_in_uploads_is_refused_not_followed(outside):
    folder = settings.LAKEGATE.paths.uploads / "linked-upload"
    folder.mkdir(parents=True)
    (folder / "w.csv").symlink_to(outside)
    (record,) = uploads_sweep(config=project(), older_than=0)
    assert record.code == "symlink_refused"
    assert outside.read_text() == SECRET
    assert "hunter2" not in kept_text()
    assert not folder.exists()
