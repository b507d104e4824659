"""`lakegate ingest` into an S3 lake that is down: exit 1 in seconds, the file kept for a retry.

Before the lake's client defaults this took ~5 s (refused) to ~187 s (a hung endpoint)
and said only "cannot reach the Delta table (Generic S3 error: ...)". The time bound is a
regression guard with a wide margin, not a benchmark.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from typer.testing import CliRunner

from lakegate_server.cli import app
from tests.core.lake import deadends
from tests.core.lake.s3server import moto_s3, new_bucket, storage_options

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def invoke(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def use_lake(settings: Any, lake: str, options: dict[str, str]) -> None:
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"lake": lake, "lake_storage_options": options})


def test_an_unreachable_lake_fails_fast_and_the_file_waits_in_quarantine(settings, tmp_path):
    dataset = f"down_{uuid.uuid4().hex[:8]}"
    source = tmp_path / "a.csv"
    source.write_text("id,temp\n1,20.5\n2,22.1\n", encoding="utf-8")
    with deadends.refusing() as endpoint:
        use_lake(settings, "s3://lg-down/lake", deadends.options(endpoint))
        started = time.monotonic()
        result = invoke("ingest", source, "--dataset", dataset)
        elapsed = time.monotonic() - started

    assert result.exit_code == 1, result.output
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert message.startswith(
        f"error: a.csv: s3://lg-down/lake/{dataset}: the lake is unreachable ({endpoint}: connection refused"
    )
    assert "try again once it is reachable (kept in quarantine as " in message
    assert elapsed < 60
    assert source.read_text(encoding="utf-8") == "id,temp\n1,20.5\n2,22.1\n"  # never moved or changed

    [entry] = json.loads(invoke("quarantine", "list", "--json").stdout)["items"]
    assert entry["dataset"] == dataset
    assert entry["reason"].startswith(f"s3://lg-down/lake/{dataset}: the lake is unreachable")
    assert json.loads(invoke("datasets", "list", "--json").stdout)["items"] == []  # no version

    # The lake is back: the quarantined copy goes in as version 1.
    with moto_s3() as url:
        use_lake(settings, f"s3://{new_bucket(url)}/lake", storage_options(url))
        retried = invoke("quarantine", "retry", entry["id"], "--json")
    assert retried.exit_code == 0, retried.output
    assert (json.loads(retried.stdout)["version"], json.loads(retried.stdout)["rows"]) == (1, 2)
    assert json.loads(invoke("quarantine", "list", "--json").stdout)["items"] == []
