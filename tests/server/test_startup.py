"""Each long-running process checks its backends and says what it talks to (credentials scrubbed)."""

from __future__ import annotations

import logging

import pytest

from lakegate.errors import ConfigError, StorageUnavailableError
from lakegate_server.conf import project
from lakegate_server.startup import process_start, scrub_url


def test_urls_lose_their_password_only():
    assert scrub_url("postgresql://lg:s3cret@db:5432/lakegate") == "postgresql://lg:***@db:5432/lakegate"
    assert scrub_url("redis://:pw@redis:6379/0") == "redis://:***@redis:6379/0"
    assert scrub_url("postgresql://lg@db/lakegate") == "postgresql://lg@db/lakegate"
    assert scrub_url(None) is None


@pytest.mark.django_db
def test_the_start_line_names_role_version_and_backends(caplog):
    with caplog.at_level(logging.INFO, logger="lakegate.start"):
        line = process_start(project(), role="worker")
    record = next(r for r in caplog.records if r.name == "lakegate.start")
    assert record.getMessage() == "process started"
    assert (record.role, record.queue) == ("worker", line["queue"])
    assert record.storage == str(project().paths.state.as_uri())
    assert record.database in {"sqlite", "postgresql"}
    assert record.metrics_dir is None  # no PROMETHEUS_MULTIPROC_DIR here
    assert not hasattr(record, "web_processes")  # web settings are on web start lines only


@pytest.mark.django_db
def test_a_web_start_line_names_its_processes_and_access_log(caplog, settings):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"web": settings.LAKEGATE.web.model_copy(update={"processes": 3, "access_log": False})}
    )
    with caplog.at_level(logging.INFO, logger="lakegate.start"):
        line = process_start(project(), role="web")
    assert (line["web_processes"], line["access_log"]) == (3, False)
    (record,) = [r for r in caplog.records if r.name == "lakegate.start"]
    assert (record.role, record.web_processes, record.access_log) == ("web", 3, False)


@pytest.mark.django_db
def test_an_unreachable_storage_stops_the_process_at_start(settings):
    # A port nothing listens on at loopback: refused at once, named as the storage.
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={
            "storage": "s3://lakegate-bucket/state",
            "storage_options": {
                "aws_endpoint_url": "http://127.0.0.1:9",
                "aws_allow_http": "true",
                "aws_access_key_id": "x",
                "aws_secret_access_key": "y",
                "aws_region": "us-east-1",
                "retry_timeout": "1s",
            },
        }
    )
    with pytest.raises((StorageUnavailableError, ConfigError), match=r"127\.0\.0\.1:9"):
        process_start(project(), role="web")
