"""What each page shows, read as a viewer: real numbers from a real lake, partials for htmx."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.services import run_create

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_home_shows_totals_runs_by_status_and_two_charts(browse, lake):
    run_create(kind="selfcheck", params={"seconds": 0})
    page = text(browse("viewer").get("/"))
    assert "<dt>Files ingested</dt><dd>2</dd>" in page
    assert "<dt>Rows</dt><dd>6</dd>" in page
    assert '>1</a></dd><dd class="sub">2 versions</dd>' in page  # one dataset, two versions
    assert 'href="/quarantine/">1</a>' in page
    assert '<span class="badge status-queued">queued</span> <strong>1</strong>' in page
    assert page.count('<svg class="bars"') == 3  # bytes saved, runs, and the lake's two checks
    today = timezone.localdate()
    assert f"<title>{today:%b} {today.day}: 1 queued</title>" in page
    assert "Bytes saved per day" in page
    assert "Storage saved per file format" in page
    assert '<tr><th scope="row">csv</th><td class="num">2</td><td class="num">6</td>' in page
    assert "per GB-month" in page
    assert "Recent runs" in page


def test_home_without_data_says_so(browse, db):
    page = text(browse("viewer").get("/"))
    assert "No files ingested in the last 14 days." in page
    assert "No runs in the last 14 days." in page
    assert "No runs yet." in page


def test_datasets_list_and_detail_show_versions_schema_and_statistics(browse, lake):
    client = browse("viewer")
    listing = text(client.get("/datasets/"))
    assert '<a href="/datasets/weather/">weather</a>' in listing
    assert '<td class="num">2</td>' in listing  # versions
    assert '<td class="num">6</td>' in listing  # rows as of the latest version
    detail = text(client.get("/datasets/weather/"))
    assert "Version 2" in detail
    assert "New columns: wind." in detail
    for column in ("id", "temp", "city", "wind"):
        assert f"<code>{column}</code>" in detail
    assert '<span class="type">float</span>' in detail
    assert 'class="spark"' in detail  # numeric columns get a histogram
    assert 'href="?version=1"' in detail, "version links work without JavaScript"

    first = text(client.get("/datasets/weather/?version=1"))
    assert "Version 1" in first
    assert "25.0 %" in first  # temp: one null in four rows
    assert 'Oslo <span class="muted">3</span>' in first  # top value with its count
    assert "<title>19 to 19.16: 1 row</title>" in first  # the first histogram bin of temp


def test_a_version_switch_over_htmx_returns_only_the_section(browse, lake):
    partial = text(browse("viewer").get("/datasets/weather/?version=1", headers=HTMX))
    assert partial.lstrip().startswith('<section id="version-section"')
    assert "<html" not in partial
    assert "Version 1" in partial


def test_a_history_restore_gets_the_whole_page(browse, lake):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    page = text(browse("viewer").get("/datasets/weather/?version=1", headers=headers))
    assert page.startswith("<!doctype html>")


def test_unknown_datasets_and_versions_are_404(browse, lake):
    client = browse("viewer")
    assert client.get("/datasets/nope/").status_code == 404
    assert client.get("/datasets/weather/?version=7").status_code == 404
    assert client.get("/datasets/weather/?version=x").status_code == 404
    assert client.get("/datasets/nope/diff/").status_code == 404


def test_the_diff_shows_schema_changes_and_statistics_side_by_side(browse, lake):
    page = text(browse("viewer").get("/datasets/weather/diff/?a=1&b=2"))
    assert "Schema: v1 → v2" in page
    assert "1 column changed." in page
    assert '<span class="badge change-added">added</span>' in page
    assert "<td>\u2013</td>\n          <td>int</td>" in page  # wind: absent in v1, int in v2
    # temp's mean went from 20.53 (v1) to 17.75 (v2)
    assert '<td class="num">20.53</td>' in page
    assert '<td class="num">17.75</td>' in page
    assert "\u22122.78" in page  # with a true minus sign


def test_the_diff_defaults_to_the_last_two_versions_and_reports_bad_ones(browse, lake):
    client = browse("viewer")
    assert "Schema: v1 → v2" in text(client.get("/datasets/weather/diff/"))
    bad = client.get("/datasets/weather/diff/?a=1&b=9")
    assert bad.status_code == 400
    assert "dataset &#x27;weather&#x27; has no version 9" in bad.content.decode()


def test_runs_can_be_filtered_by_status_and_the_filter_works_as_a_partial(browse, db):
    done = run_create(kind="selfcheck", params={"seconds": 0})
    Run.objects.filter(pk=done.pk).update(status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    waiting = run_create(kind="selfcheck", params={"seconds": 0})
    client = browse("viewer")
    everything = text(client.get("/runs/"))
    assert f'href="/runs/{done.pk}/"' in everything
    assert f'href="/runs/{waiting.pk}/"' in everything
    assert 'hx-trigger="every 2s"' in everything, "the list refreshes while a run is active"
    succeeded = text(client.get("/runs/?status=succeeded"))
    assert f'href="/runs/{done.pk}/"' in succeeded
    assert f'href="/runs/{waiting.pk}/"' not in succeeded
    assert 'hx-trigger="every 2s"' not in succeeded
    partial = text(client.get("/runs/?status=queued", headers=HTMX))
    assert partial.lstrip().startswith('<section id="runs-section"')
    assert f'href="/runs/{waiting.pk}/"' in partial
    assert "Unknown status" in text(client.get("/runs/?status=bogus"))


def test_a_run_waiting_out_its_retry_says_when_it_is_due(browse, db):
    now = timezone.now()
    retrying = run_create(kind="selfcheck", params={"seconds": 0})
    Run.objects.filter(pk=retrying.pk).update(queued_at=now + timedelta(seconds=40))
    later = run_create(kind="selfcheck", params={"seconds": 0})
    Run.objects.filter(pk=later.pk).update(queued_at=now + timedelta(minutes=5, seconds=30))
    fresh = run_create(kind="selfcheck", params={"seconds": 0})
    page = text(browse("viewer").get("/runs/"))
    row = {
        run.pk: page.split(f'href="/runs/{run.pk}/"', 1)[1].split("</tr>", 1)[0]
        for run in (retrying, later, fresh)
    }
    assert re.search(r">in (3\d|40) s</time>", row[retrying.pk]), row[retrying.pk]
    assert ">in 5\xa0minutes</time>" in row[later.pk], row[later.pk]
    assert ">just now</time>" in row[fresh.pk]


def _log(run_id: int, *messages: str) -> None:
    from lakegate_server.jobs.models import RunLogLine

    for msg in messages:
        entry = {"ts": "2026-01-02T03:04:05.678+00:00", "level": "INFO", "msg": msg, "run": run_id}
        RunLogLine.objects.create(run_id=run_id, entry={**entry, "rows": 3})


def test_a_running_run_tails_its_log_by_polling(browse, db):
    run = run_create(kind="selfcheck", params={"seconds": 5})
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, worker="w1", attempts=1)
    _log(run.pk, "attempt started")
    client = browse("viewer")
    page = text(client.get(f"/runs/{run.pk}/"))
    assert "03:04:05.678" in page
    assert "attempt started" in page
    assert '<span class="key">rows</span>=<span class="value">3</span>' in page
    assert f'hx-get="/runs/{run.pk}/log/?after=1" hx-trigger="every 1s"' in page

    _log(run.pk, "halfway", "almost")
    poll = client.get(f"/runs/{run.pk}/log/?after=1", headers=HTMX)
    body = text(poll)
    assert "attempt started" not in body, "only lines after the cursor"
    assert "halfway" in body
    assert "almost" in body
    assert f'hx-get="/runs/{run.pk}/log/?after=3"' in body
    assert 'id="run-facts" class="card" aria-label="Run details" hx-swap-oob="true"' in body


def test_the_log_poll_stops_once_the_run_has_finished(browse, db):
    run = run_create(kind="selfcheck", params={"seconds": 0})
    finished = timezone.now() - timedelta(seconds=10)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, finished_at=finished, result={"seconds": 0.1}
    )
    _log(run.pk, "attempt started", "attempt succeeded")
    client = browse("viewer")
    poll = client.get(f"/runs/{run.pk}/log/?after=1", headers=HTMX)
    assert poll.status_code == 286  # htmx stops polling on this status
    body = poll.content.decode()
    assert "attempt succeeded" in body
    assert "hx-trigger" not in body
    assert "the log is complete" in body
    assert '<span class="badge status-succeeded">succeeded</span>' in body
    page = text(client.get(f"/runs/{run.pk}/"))
    assert "hx-trigger" not in page
    # Without htmx the log URL is just the run page.
    assert client.get(f"/runs/{run.pk}/log/")["Location"] == f"/runs/{run.pk}/"
    assert client.get("/runs/999/").status_code == 404


def test_an_ingest_run_links_to_the_version_it_made(browse, lake):
    run = run_create(kind="selfcheck", params={"seconds": 0})
    Run.objects.filter(pk=run.pk).update(
        kind="ingest",
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        result={"dataset": "weather", "version": 2},
    )
    page = text(browse("viewer").get(f"/runs/{run.pk}/"))
    assert 'href="/datasets/weather/?version=2">Open weather version 2</a>' in page


def test_quarantine_lists_files_with_their_reason(browse, lake):
    page = text(browse("viewer").get("/quarantine/"))
    assert "<strong>bad.csv</strong>" in page
    assert "type conflict: id is int in the dataset but string in this file" in page
    assert lake.quarantined.pk in page


def test_viewers_see_no_editor_or_admin_controls(browse, lake):
    client = browse("viewer")
    run = run_create(kind="selfcheck", params={"seconds": 0})
    pages = ["/", "/datasets/", "/datasets/weather/", "/runs/", f"/runs/{run.pk}/", "/quarantine/"]
    for url in pages:
        page = text(client.get(url))
        for control in ("Upload and ingest", "Start selfcheck", "Cancel run", ">Retry<", "Tokens</a>"):
            assert control not in page, (url, control)
        assert 'action="/upload/"' not in page


def test_editors_see_their_controls_but_not_the_tokens_page(browse, lake):
    client = browse("editor")
    run = run_create(kind="selfcheck", params={"seconds": 0})
    assert "Upload and ingest" in text(client.get("/datasets/"))
    detail = text(client.get("/datasets/weather/"))
    assert '<input type="hidden" name="dataset" value="weather">' in detail
    assert "Start selfcheck" in text(client.get("/runs/"))
    assert "Cancel run" in text(client.get(f"/runs/{run.pk}/"))
    assert ">Retry<" in text(client.get("/quarantine/"))
    assert "Tokens</a>" not in text(client.get("/"))
    assert "Tokens</a>" in text(browse("admin").get("/"))
