"""Quality pages: the reports list, one report and its HTML, the gate on a version's page,
re-check and approve; who may do what (admin / editor / viewer / stranger / anonymous)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import polars as pl
import pytest
from django.test import Client

from lakegate.config import DatasetSettings
from lakegate.storage import open_storage
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.flow import ingest_file
from lakegate_server.jobs.models import Run
from lakegate_server.quality.models import CheckReport
from tests.server.dashboard.conftest import WHO
from tests.server.dashboard.test_access import HTMX, outcome

pytestmark = pytest.mark.django_db(transaction=True)


def text(response: Any) -> str:
    return response.content.decode()


def readings(folder: Path, name: str, *, seed: int, shift: float = 0.0, rows: int = 2000) -> Path:
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame(
        {
            "sensor": rng.choice(["a", "b", "c"], rows),
            "temp": rng.normal(20 + shift, 2, rows).round(3),
            "humidity": rng.normal(50, 5, rows).round(3),
        }
    )
    path = folder / name
    frame.write_csv(path)
    return path


@pytest.fixture
def sensors(db: None, tmp_path: Path) -> str:
    """Dataset ``sensors``: v1 and v2 alike (accepted), v3 with ``temp`` shifted (rejected)."""
    for number, (seed, shift) in enumerate([(1, 0.0), (2, 0.0), (3, 6.0)], start=1):
        ingest_file(
            config=project(),
            dataset="sensors",
            path=readings(tmp_path, f"s{number}.csv", seed=seed, shift=shift),
            actor="test",
        )
    return "sensors"


@pytest.fixture
def rejected(db: None, tmp_path: Path, settings: Any) -> DatasetVersion:
    """A small version the gate rejects: its contract caps ``temp`` below a value it holds."""
    contract = {"columns": {"temp": {"type": "float", "max": 21.0}}}
    datasets = {**settings.LAKEGATE.datasets, "meters": DatasetSettings(contract=contract)}
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"datasets": datasets})
    path = tmp_path / "meters.csv"
    path.write_text("id,temp\n1,20.5\n2,22.1\n", encoding="utf-8")
    version = ingest_file(config=project(), dataset="meters", path=path, actor="fixture").version
    assert version.status == "rejected"
    return version


# -- who may do what ---------------------------------------------------------------------------

PAGES = [
    ("/quality/", {}),
    ("/quality/?verdict=fail", HTMX),
    ("/quality/reports/{report}/", {}),
    ("/quality/reports/{report}/html/", {}),
    ("/datasets/meters/?version=1", {}),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("url", "headers"), PAGES)
def test_every_quality_page_needs_a_viewer(browse, rejected, who, url, headers):
    path = url.format(report=rejected.reports.get().pk)
    response = browse(who).get(path, headers=headers)
    expected = outcome(who, "viewer")
    if expected == "login" and headers:
        assert response.status_code == 200
        assert response["HX-Redirect"].startswith("/login/?next=")
    elif expected == "login":
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={quote(path, safe='/')}"
    elif expected == "forbidden":
        assert response.status_code == 403
        assert b"Not allowed" in response.content
        assert b"temp" not in response.content
    else:
        assert response.status_code == 200, response.content[:500]
        assert b"Not allowed" not in response.content


@dataclass(frozen=True)
class Action:
    name: str
    send: Callable[[Client], Any]
    happened: Callable[[], bool]


ACTIONS = [
    Action(
        "recheck",
        lambda client: client.post("/datasets/meters/versions/1/check/", {"reference": ""}),
        lambda: Run.objects.filter(kind="check").exists(),
    ),
    Action(
        "approve",
        lambda client: client.post("/datasets/meters/versions/1/approve/", {"reason": "known outlier"}),
        lambda: DatasetVersion.objects.get(dataset__name="meters", number=1).approved_at is not None,
    ),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_recheck_and_approve_need_an_editor_and_change_nothing_when_refused(browse, rejected, who, action):
    response = action.send(browse(who))
    expected = outcome(who, "editor")
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
    elif expected == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code == 302, response.content[:500]
    assert action.happened() is (expected == "allowed")
    if expected != "allowed":
        assert DatasetVersion.objects.get(dataset__name="meters").status == "rejected"


@pytest.mark.parametrize("who", ["stranger", "viewer", "editor", "admin"])
def test_get_is_refused_where_only_post_is_meant(browse, rejected, who):
    client = browse(who)
    for url in ["/datasets/meters/versions/1/check/", "/datasets/meters/versions/1/approve/"]:
        assert client.get(url).status_code in {403, 405}, url
    assert not Run.objects.filter(kind="check").exists()
    assert DatasetVersion.objects.get(dataset__name="meters").approved_at is None


def test_viewers_see_the_gate_but_not_its_buttons(browse, rejected):
    page = browse("viewer").get("/datasets/meters/?version=1").content.decode()
    assert "Quality gate" in page
    assert "Rejected by the quality gate" in page
    assert "Re-check" not in page
    assert "Reason for approving" not in page
    editor = browse("editor").get("/datasets/meters/?version=1").content.decode()
    assert 'action="/datasets/meters/versions/1/check/"' in editor
    assert 'action="/datasets/meters/versions/1/approve/"' in editor


def test_unknown_reports_and_versions_are_404(browse, rejected):
    client = browse("editor")
    assert client.get("/quality/reports/999/").status_code == 404
    assert client.get("/quality/reports/999/html/").status_code == 404
    assert client.post("/datasets/meters/versions/9/check/").status_code == 404
    assert client.post("/datasets/nope/versions/1/approve/", {"reason": "x"}).status_code == 404


# -- what the pages show -----------------------------------------------------------------------


def test_the_quality_page_lists_reports_and_filters_by_verdict(browse, sensors):
    client = browse("viewer")
    page = client.get("/quality/").content.decode()
    reports = list(CheckReport.objects.order_by("id"))
    assert [r.status for r in reports] == ["pass", "pass", "fail"]
    for report in reports:
        assert f'href="/quality/reports/{report.pk}/">#{report.pk}</a>' in page
    assert 'href="/datasets/sensors/?version=3">v3</a>' in page
    assert '<span class="badge verdict-fail">fail</span>' in page
    assert '<span class="badge vstatus-rejected">rejected</span>' in page
    assert "<td>v2</td>" in page, "v3 was compared with the last accepted version"

    failed = client.get("/quality/?verdict=fail", headers=HTMX)
    fragment = failed.content.decode()
    assert fragment.lstrip().startswith('<section id="reports-section"'), "htmx gets the partial"
    assert 'href="/datasets/sensors/?version=3">v3</a>' in fragment
    assert "?version=1" not in fragment
    assert "?version=2" not in fragment
    assert "No check reports with verdict warn yet." in client.get("/quality/?verdict=warn").content.decode()
    assert "Unknown verdict" in client.get("/quality/?verdict=meh").content.decode()


def test_a_rejected_version_shows_its_verdict_reasons_and_report(browse, sensors):
    report = CheckReport.objects.get(version__number=3)
    page = browse("viewer").get("/datasets/sensors/?version=3").content.decode()
    assert '<span class="badge vstatus-rejected" title="version status">rejected</span>' in page
    assert '<span class="badge verdict-fail" title="verdict of the last check">fail</span>' in page
    assert "Rejected by the quality gate" in page
    assert "column &#x27;temp&#x27; drifted" in page, "the drift check's top reason"
    assert "column &#x27;humidity&#x27; drifted" not in page
    assert f'<iframe class="report-frame" src="/quality/reports/{report.pk}/html/" sandbox=""' in page
    # The versions list carries every version's status.
    assert page.count('<span class="badge vstatus-accepted" title="version status">accepted</span>') == 2

    alone = browse("viewer").get(f"/quality/reports/{report.pk}/").content.decode()
    assert "Check report #" in alone
    assert "sensors v3" in alone
    assert "column &#x27;temp&#x27; drifted" in alone
    assert f'src="/quality/reports/{report.pk}/html/"' in alone


def test_the_report_html_is_served_with_a_strict_policy(browse, sensors):
    report = CheckReport.objects.get(version__number=3)
    response = browse("viewer").get(f"/quality/reports/{report.pk}/html/")
    assert response["Content-Type"] == "text/html; charset=utf-8"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy
    assert policy.endswith("; sandbox"), "no scripts, no forms, an opaque origin"
    assert response["X-Frame-Options"] == "SAMEORIGIN", "the dashboard may frame it, nobody else"
    html = response.content.decode()
    assert html == open_storage(project()).get_bytes(report.html_path).decode("utf-8")
    assert "<svg" in html
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    # Other dashboard pages still refuse to be framed at all.
    assert browse("viewer").get(f"/quality/reports/{report.pk}/")["X-Frame-Options"] == "DENY"


def test_every_report_keeps_its_own_page_and_renders_from_its_json_when_it_is_gone(
    browse, sensors, execute_queued
):
    first = CheckReport.objects.get(version__number=3)
    browse("editor").post("/datasets/sensors/versions/3/check/", {"reference": "1"})
    assert execute_queued() == ["succeeded"]
    second = CheckReport.objects.filter(version__number=3).latest("id")
    assert second.reference_versions == [1]
    assert first.html_path != second.html_path, "a re-check never overwrites an earlier report's page"
    client = browse("viewer")
    storage = open_storage(project())
    assert client.get(f"/quality/reports/{first.pk}/html/").content == storage.get_bytes(first.html_path)
    # A page that is gone from the storage is rendered again from the report's stored JSON.
    storage.delete(first.html_path)
    CheckReport.objects.filter(pk=first.pk).update(report={**first.report, "seconds": 12.345})
    assert "12.345" in client.get(f"/quality/reports/{first.pk}/html/").content.decode()
    assert "12.345" not in client.get(f"/quality/reports/{second.pk}/html/").content.decode()
    older = client.get(f"/quality/reports/{first.pk}/").content.decode()
    assert "a later check exists" in older


def test_recheck_queues_a_check_run_and_shows_it(browse, sensors, execute_queued):
    response = browse("editor").post("/datasets/sensors/versions/3/check/", {"reference": "1"}, follow=True)
    run = Run.objects.get(kind="check")
    assert response.redirect_chain == [(f"/runs/{run.pk}/", 302)]
    assert f"Run {run.pk} checks sensors version 3." in response.content.decode()
    assert run.params == {"dataset": "sensors", "version": 3, "reference": 1}
    assert run.created_by == "user:editor-person"
    assert execute_queued() == ["succeeded"]
    done = browse("viewer").get(f"/runs/{run.pk}/").content.decode()
    assert 'href="/datasets/sensors/?version=3">Open sensors version 3</a>' in done
    report = CheckReport.objects.filter(version__number=3).latest("id")
    assert (
        f'href="/quality/reports/{report.pk}/">Check report <span class="badge verdict-fail">fail</span>'
        in done
    )
    assert CheckReport.objects.filter(version__number=3).count() == 2
    runs = browse("viewer").get("/runs/").content.decode()
    assert 'check <span class="muted">sensors v3</span>' in runs


def test_recheck_refuses_a_reference_that_is_not_another_version(browse, sensors):
    client = browse("editor")
    for reference in ("3", "9", "x"):
        response = client.post("/datasets/sensors/versions/3/check/", {"reference": reference}, follow=True)
        assert response.redirect_chain == [("/datasets/sensors/?version=3", 302)]
        assert "Re-check refused: reference: Select a valid choice." in response.content.decode()
    assert not Run.objects.exists()


def test_approve_needs_a_reason_then_records_who_when_why(browse, sensors):
    client = browse("editor")
    url = "/datasets/sensors/versions/3/approve/"
    refused = client.post(url, {"reason": "   "}, follow=True)
    assert "Not approved: reason: This field is required." in refused.content.decode()
    assert DatasetVersion.objects.get(dataset__name="sensors", number=3).status == "rejected"

    response = client.post(url, {"reason": "sensor recalibrated"}, follow=True)
    assert response.redirect_chain == [("/datasets/sensors/?version=3", 302)]
    page = response.content.decode()
    assert "sensors version 3 approved: it is accepted now." in page
    assert "Approved by <strong>user:editor-person</strong>" in page
    assert "“sensor recalibrated”" in page
    assert "Reason for approving" not in page, "no second approval form"
    assert "Rejected by the quality gate" not in page
    version = DatasetVersion.objects.get(dataset__name="sensors", number=3)
    assert (version.status, version.verdict) == ("accepted", "fail"), "the verdict stays as it was"
    assert version.approved_by == "user:editor-person"

    again = client.post(url, {"reason": "twice"}, follow=True)
    assert "Not approved: sensors version 3 was already approved by user:editor-person" in text(again)
    listing = browse("viewer").get("/quality/").content.decode()
    assert 'title="approved by user:editor-person: sensor recalibrated">approved</span>' in listing


def test_home_counts_checks_by_verdict(browse, sensors):
    page = browse("viewer").get("/").content.decode()
    assert "Quality checks by verdict" in page
    assert '<span class="badge verdict-pass">pass</span> <strong>2</strong>' in page
    assert '<span class="badge verdict-warn">warn</span> <strong>0</strong>' in page
    assert '<span class="badge verdict-fail">fail</span> <strong>1</strong>' in page
    assert "1</strong> version rejected and not approved" in page
    assert "Checks per day" in page
    assert '<svg class="bars" viewBox="0 0 640 200" role="img" aria-label="Checks per day">' in page
    assert 'class="bar s-fail"' in page


def test_home_without_checks_says_so(browse):
    page = browse("viewer").get("/").content.decode()
    assert "No checks yet" in page
    assert "No checks in the last 14 days." in page
