"""Dashboard writes: upload -> ingest run, cancel, selfcheck, quarantine retry, tokens, CSRF."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from lakegate_server.accounts.models import ApiToken
from lakegate_server.accounts.selectors import token_authenticate
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.jobs.models import Run, RunStatus
from tests.support.fixtures import staged_entries

pytestmark = pytest.mark.django_db(transaction=True)

SALES = b"day,amount\n2024-01-01,10.5\n2024-01-02,7\n"


def upload(client: Client, content: bytes = SALES, **fields: str):
    data = {"file": SimpleUploadedFile("sales.csv", content), "dataset": "sales", "mode": "append"}
    return client.post("/upload/", {**data, **fields}, follow=True)


def staged(settings) -> set:
    return staged_entries(settings.LAKEGATE.paths.uploads)


def test_an_upload_queues_an_ingest_run_and_shows_it(browse, execute_queued, settings):
    response = upload(browse("editor"))
    run = Run.objects.get(kind="ingest")
    assert response.redirect_chain == [(f"/runs/{run.pk}/", 302)]
    page = response.content.decode()
    assert f"sales.csv uploaded; run {run.pk} ingests it into sales." in page
    assert run.params["dataset"] == "sales"
    assert run.created_by == "user:editor-person"
    assert execute_queued() == ["succeeded"]
    assert DatasetVersion.objects.get(dataset__name="sales").rows == 2
    done = browse("viewer").get(f"/runs/{run.pk}/").content.decode()
    assert 'href="/datasets/sales/?version=1">Open sales version 1</a>' in done


def test_an_upload_can_evolve_the_schema(browse, lake, execute_queued):
    upload(browse("editor"), b"id,temp,city\nx1,2.5,Oslo\n", dataset="weather", evolve="on")
    assert Run.objects.get(kind="ingest").params["evolve"] is True
    assert execute_queued() == ["succeeded"]
    assert DatasetVersion.objects.get(dataset__name="weather", number=3).widened_columns == {"id": "string"}


def test_uploads_over_the_limit_are_refused_and_nothing_is_kept(browse, settings):
    before = staged(settings)
    web = settings.LAKEGATE.web.model_copy(update={"max_upload_bytes": 100})
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"web": web})
    response = upload(browse("editor"), b"x" * 5000)
    assert response.redirect_chain == [("/datasets/", 302)]
    assert "Upload refused: upload is larger than web.max_upload_bytes=100" in response.content.decode()
    assert not Run.objects.exists()
    assert staged(settings) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dataset": "Bad Name"}, "dataset name &#x27;Bad Name&#x27;"),
        ({"mode": "sideways"}, "mode: Select a valid choice."),
    ],
)
def test_bad_upload_fields_are_refused_and_nothing_is_kept(browse, settings, fields, message):
    before = staged(settings)
    response = upload(browse("editor"), **fields)
    assert f"Upload refused: {message}" in response.content.decode()
    assert not Run.objects.exists()
    assert staged(settings) == before


def test_an_upload_without_a_file_says_so(browse, lake):
    response = browse("editor").post("/upload/", {"dataset": "weather", "mode": "append"}, follow=True)
    assert response.redirect_chain == [("/datasets/weather/", 302)], "back to the dataset's page"
    assert "send the file as the multipart form field &#x27;file&#x27;" in response.content.decode()


def test_posts_need_the_csrf_token_uploads_included(users, settings):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["editor"])
    before = staged(settings)
    refused = client.post("/upload/", {"file": SimpleUploadedFile("s.csv", SALES), "dataset": "sales"})
    assert refused.status_code == 403
    assert staged(settings) == before, "the staged file of a refused upload is removed"
    assert client.post("/runs/selfcheck/", {"seconds": "1"}).status_code == 403
    assert not Run.objects.exists()

    client.get("/datasets/")  # sets the CSRF cookie, as a browser would
    token = client.cookies["csrftoken"].value
    data = {"file": SimpleUploadedFile("s.csv", SALES), "dataset": "sales", "mode": "append"}
    accepted = client.post("/upload/", {**data, "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    # htmx sends the token as a header (hx-headers on <body>).
    assert (
        client.post("/runs/selfcheck/", {"seconds": "1"}, headers={"X-CSRFToken": token}).status_code == 302
    )
    assert Run.objects.count() == 2


def test_cancel_stops_an_unfinished_run_and_explains_a_finished_one(browse, queued_run):
    client = browse("editor")
    response = client.post(f"/runs/{queued_run.pk}/cancel/", follow=True)
    assert f"Run {queued_run.pk} cancelled." in response.content.decode()
    queued_run.refresh_from_db()
    assert (queued_run.status, queued_run.last_error) == ("cancelled", "cancelled by user:editor-person")
    again = client.post(f"/runs/{queued_run.pk}/cancel/", follow=True)
    assert f"run {queued_run.pk} already cancelled; nothing to cancel" in again.content.decode()
    assert client.post("/runs/999/cancel/").status_code == 404


def test_selfcheck_starts_a_run_with_the_given_seconds(browse, execute_queued):
    client = browse("editor")
    response = client.post("/runs/selfcheck/", {"seconds": "0.2"})
    run = Run.objects.get()
    assert response["Location"] == f"/runs/{run.pk}/"
    assert (run.kind, run.params["seconds"], run.created_by) == ("selfcheck", 0.2, "user:editor-person")
    assert execute_queued() == ["succeeded"]
    bad = client.post("/runs/selfcheck/", {"seconds": "-1"}, follow=True)
    assert "seconds: Ensure this value is greater than or equal to 0." in bad.content.decode()
    assert Run.objects.count() == 1


def test_retry_without_evolve_keeps_the_file_and_with_evolve_ingests_it(browse, lake):
    client = browse("editor")
    entry = lake.quarantined
    failed = client.post(f"/quarantine/{entry.pk}/retry/", follow=True)
    assert failed.redirect_chain == [("/quarantine/", 302)]
    assert "Retry failed:" in failed.content.decode()
    assert "type conflict" in failed.content.decode()
    entry.refresh_from_db()
    assert (entry.retries, entry.resolved_at) == (1, None)

    done = client.post(f"/quarantine/{entry.pk}/retry/", {"evolve": "on"}, follow=True)
    assert done.redirect_chain == [("/datasets/weather/?version=3", 302)]
    assert "bad.csv is now version 3 of weather." in done.content.decode()
    entry.refresh_from_db()
    assert entry.resolved_version.number == 3
    assert "No files waiting in the quarantine." in client.get("/quarantine/").content.decode()
    resolved = client.get("/quarantine/?resolved=1").content.decode()
    assert "ingested as v3" in resolved
    assert client.post("/quarantine/nope/retry/").status_code == 404


def test_an_admin_creates_a_token_and_sees_the_secret_once(browse):
    client = browse("admin")
    response = client.post("/tokens/", {"name": "nightly-job", "role": "editor"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    raw = page.split('id="new-token" class="token-value" type="text" readonly value="')[1].split('"')[0]
    token = token_authenticate(raw=raw)
    assert token is not None
    assert (token.name, token.role) == ("nightly-job", "editor")
    assert "it is shown only once" in page
    later = client.get("/tokens/").content.decode()
    assert "nightly-job" in later
    assert raw not in later
    assert f"lg_{token.prefix}_…" in later


def test_token_form_errors_are_shown(browse):
    response = browse("admin").post("/tokens/", {"name": "", "role": "owner"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert "Select a valid choice. owner is not one of the available choices." in page
    assert not ApiToken.objects.exists()


def test_an_admin_revokes_a_token(browse):
    client = browse("admin")
    client.post("/tokens/", {"name": "old", "role": "viewer"})
    token = ApiToken.objects.get(name="old")
    response = client.post(f"/tokens/{token.pk}/revoke/", follow=True)
    assert "Token &#x27;old&#x27; revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "<td>old</td>" not in client.get("/tokens/").content.decode()
    everything = client.get("/tokens/?revoked=1").content.decode()
    assert '<tr class="revoked">\n          <td>old</td>' in everything
    assert client.post("/tokens/999/revoke/").status_code == 404


def test_a_just_finished_run_is_tailed_a_moment_longer(browse, queued_run):
    Run.objects.filter(pk=queued_run.pk).update(status=RunStatus.FAILED, finished_at=timezone.now())
    page = browse("viewer").get(f"/runs/{queued_run.pk}/").content.decode()
    # Just finished: the worker may still write its last line, so the poll goes on briefly.
    assert 'hx-trigger="every 1s"' in page
