"""The dashboard in a real browser: `lakegate up`, Debian's Chromium driven by Playwright.

Logs in, opens every page, uploads CSV files through the form, follows the ingest run in the
live log until it finishes, compares two versions, opens the quality gate's reports (the second
file drifts, so the gate rejects it) and approves the rejected version, starts a selfcheck,
sends a bad file to the quarantine, creates a token; no console error, failed request or HTTP
error on the way.
A screenshot of each page lands in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.conftest import free_port, wait_for

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "alice-in-the-lake"
LIVE_LOG_TIMEOUT = 60_000  # ms: the worker process starts beside the web server


def shot(page: Page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def upload(page: Page, path: Path, *, dataset: str | None = None) -> None:
    page.get_by_label("File", exact=True).set_input_files(path)
    if dataset is not None:
        page.get_by_label("Dataset", exact=True).fill(dataset)
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))


def follow_run(page: Page, status: str, last_line: str) -> None:
    """Watch the live log until the run ends and the page stops polling."""
    expect(page.locator("#log-lines")).to_contain_text(last_line, timeout=LIVE_LOG_TIMEOUT)
    expect(page.locator("#run-facts .badge")).to_have_text(status)
    expect(page.locator("#log-poll")).to_contain_text("the log is complete", timeout=10_000)


def test_the_dashboard_in_a_browser(project, tmp_path):
    assert CHROMIUM.exists(), "browser tests need Debian's chromium: apt-get install chromium"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    files = tmp_path / "files"
    files.mkdir()
    (files / "weather-1.csv").write_text(
        "id,temp,city\n"
        + "".join(f"{i},{10 + i % 17 * 0.7:.1f},{['Oslo', 'Rome', 'Lima'][i % 3]}\n" for i in range(200)),
        encoding="utf-8",
    )
    (files / "weather-2.csv").write_text(
        "id,temp,city,wind\n"
        + "".join(f"{i},{12 + i % 11 * 0.9:.1f},Oslo,{i % 9}\n" for i in range(200, 300)),
        encoding="utf-8",
    )
    (files / "broken.csv").write_text("id,temp,city\nnot-a-number,1.0,Oslo\n", encoding="utf-8")

    project.run("user", "create", "alice", "--role", "admin", "--password", PASSWORD)
    port = free_port()
    project.start("up", "--port", str(port), log_name="up")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=60, what="/healthz 200")

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on(
            "console",
            lambda m: m.type in {"error", "warning"} and problems.append(f"console {m.type}: {m.text}"),
        )
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
        menu = page.get_by_role("navigation", name="Main")

        # Every page needs a login.
        page.goto(f"{base}/datasets/")
        expect(page).to_have_url(f"{base}/login/?next=/datasets/")
        shot(page, "01-login")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
        shot(page, "02-datasets-empty")

        # Upload -> ingest run -> live log -> the new version.
        upload(page, files / "weather-1.csv", dataset="weather")
        expect(page.get_by_role("status").first).to_contain_text("weather-1.csv uploaded")
        follow_run(page, "succeeded", "attempt succeeded")
        expect(page.locator("#log-lines")).to_contain_text("ingest finished")
        shot(page, "03-run-ingest")
        page.get_by_role("link", name="Open weather version 1").click()
        expect(page.get_by_role("heading", name="weather", exact=True)).to_be_visible()
        expect(page.locator("table.columns")).to_contain_text("temp")
        expect(page.locator("svg.spark").first).to_be_visible()

        # A second file from the dataset's own form, then the diff of the two versions.
        upload(page, files / "weather-2.csv")
        follow_run(page, "succeeded", "attempt succeeded")
        page.get_by_role("link", name="Open weather version 2").click()
        expect(page.get_by_text("New columns: wind.")).to_be_visible()
        expect(page.locator("#version-title .vstatus-rejected")).to_have_text("rejected")
        expect(page.locator("#gate")).to_contain_text("column 'temp' drifted")
        report_frame = page.frame_locator("iframe.report-frame")
        expect(report_frame.locator("h1")).to_be_visible()
        expect(report_frame.locator("svg").first).to_be_visible()
        # A full-page screenshot paints an iframe only once it has been in view.
        page.locator("iframe.report-frame").scroll_into_view_if_needed()
        shot(page, "04-dataset")
        page.get_by_role("link", name="v1", exact=True).click()  # htmx swaps the version section
        expect(page).to_have_url(f"{base}/datasets/weather/?version=1")
        expect(page.get_by_role("heading", name=re.compile("^Version 1"))).to_be_visible()
        # Let v1's report frame finish loading: leaving first aborts its request (ERR_ABORTED).
        expect(page.frame_locator("iframe.report-frame").locator("h1")).to_be_visible()
        page.get_by_role("link", name="Compare versions").click()
        expect(page.locator("table").first).to_contain_text("added")
        shot(page, "05-dataset-diff")

        # The quality gate: the list of reports, one report, then approve the rejected version.
        menu.get_by_role("link", name="Quality").click()
        expect(page.locator("#reports-section tbody tr")).to_have_count(2)
        page.get_by_role("navigation", name="Filter by verdict").get_by_role("link", name="fail").click()
        expect(page).to_have_url(f"{base}/quality/?verdict=fail")
        expect(page.locator("#reports-section tbody tr")).to_have_count(1)
        shot(page, "12-quality")
        page.locator("#reports-section tbody tr a").first.click()
        expect(page.get_by_role("heading", name=re.compile(r"^Check report #\d+"))).to_be_visible()
        expect(page.frame_locator("iframe.report-frame").locator("h1")).to_be_visible()
        shot(page, "13-quality-report")
        page.get_by_role("link", name="Open weather version 2").click()
        page.get_by_role("button", name="Approve version 2").click()  # the reason is required
        expect(page.locator("#version-title .vstatus-rejected")).to_be_visible()
        page.get_by_label("Reason for approving").fill("Only the Oslo station reported this week.")
        page.get_by_role("button", name="Approve version 2").click()
        expect(page.get_by_role("status").first).to_contain_text("weather version 2 approved")
        expect(page.locator("#version-title .vstatus-accepted")).to_have_text("accepted")
        expect(page.locator("#gate .approval")).to_contain_text("Only the Oslo station reported")
        expect(page.get_by_role("button", name="Approve version 2")).to_have_count(0)
        expect(page.frame_locator("iframe.report-frame").locator("h1")).to_be_visible()
        page.locator("iframe.report-frame").scroll_into_view_if_needed()
        shot(page, "14-version-approved")
        page.get_by_role("button", name="Re-check").click()
        follow_run(page, "succeeded", "check finished")
        expect(page.get_by_role("link", name=re.compile("^Check report"))).to_contain_text("fail")
        shot(page, "15-run-check")

        # A file that cannot be ingested fails its run and waits in the quarantine.
        menu.get_by_role("link", name="Datasets").click()
        shot(page, "06-datasets")
        upload(page, files / "broken.csv", dataset="weather")
        follow_run(page, "failed", "attempt failed")
        expect(page.locator("#run-facts")).to_contain_text("type conflict")
        menu.get_by_role("link", name="Quarantine").click()
        expect(page.locator("table")).to_contain_text("broken.csv")
        shot(page, "07-quarantine")

        # Runs: a selfcheck from the list, the status filter as an htmx partial.
        menu.get_by_role("link", name="Runs").click()
        page.get_by_label("Selfcheck seconds").fill("1")
        page.get_by_role("button", name="Start selfcheck").click()
        follow_run(page, "succeeded", "selfcheck finished")
        shot(page, "08-run-selfcheck")
        menu.get_by_role("link", name="Runs").click()
        page.get_by_role("navigation", name="Filter by status").get_by_role("link", name="failed").click()
        expect(page).to_have_url(f"{base}/runs/?status=failed")
        expect(page.locator("#runs-section tbody tr")).to_have_count(1)
        page.get_by_role("navigation", name="Filter by status").get_by_role("link", name="all").click()
        expect(page.locator("#runs-section tbody tr")).to_have_count(5)
        shot(page, "09-runs")

        # Tokens: the secret is shown once.
        menu.get_by_role("link", name="Tokens").click()
        page.get_by_label("Name", exact=True).fill("nightly")
        page.get_by_label("Role", exact=True).select_option("editor")
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_label("New token")).to_have_value(re.compile(r"^lg_[0-9a-f]{12}_"))
        shot(page, "10-tokens")

        menu.get_by_role("link", name="Home").click()
        expect(page.locator("svg.bars")).to_have_count(3)
        expect(page.locator("#checks-title")).to_be_visible()
        expect(page.locator(".kpis")).to_contain_text("Files ingested")
        shot(page, "11-home")

        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(f"{base}/login/")
        browser.close()

    assert not problems, "\n".join(problems)
