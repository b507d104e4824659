"""A lake on S3 that does not answer fails in seconds, says so, and writes nothing.

With object_store's own defaults (a 3-minute retry budget per request) these took ~5 s
(refused), ~64 s (blackholed) and ~187 s (hung server) before failing. The time bounds below
are regression guards with a wide margin, not benchmarks.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest

from lakegate.config import Settings
from lakegate.errors import ConfigError, LakegateError, LakeUnavailableError
from lakegate.lake import TableLocation, table_schema, write_batch
from lakegate.lake._location import CLIENT_DEFAULTS, parse_duration, table_errors
from tests.core.lake import deadends


def staged(tmp_path: Path) -> Path:
    path = tmp_path / "batch.parquet"
    pl.DataFrame({"id": [1, 2], "x": [1.5, 2.5]}).write_parquet(path)
    return path


def fails_unreachable(table: TableLocation, staged_file: Path) -> tuple[LakegateError, float]:
    before = staged_file.read_bytes()
    started = time.monotonic()
    with pytest.raises(LakegateError) as info:
        write_batch(table, staged_file, expected_version=None)
    elapsed = time.monotonic() - started
    assert staged_file.read_bytes() == before  # the batch is untouched, ready for a retry
    return info.value, elapsed


def test_a_refused_endpoint_names_the_table_and_says_unreachable(tmp_path):
    with deadends.refusing() as endpoint:
        table = TableLocation("s3://lg-down/lake", deadends.options(endpoint)).child("sales")
        error, elapsed = fails_unreachable(table, staged(tmp_path))
    assert error.message.startswith(
        f"s3://lg-down/lake/sales: the lake is unreachable ({endpoint}: connection refused, gave up after"
    )
    assert error.message.endswith("; try again once it is reachable")
    assert error.detail == {"location": "s3://lg-down/lake/sales", "reason": "unreachable"}
    assert "nothing" not in error.message  # no credentials in the message
    assert elapsed < 30


def test_a_blackholed_endpoint_fails_within_the_default_budget(tmp_path):
    # object_store alone: 10 retries x 5 s connect timeouts, ~60 s. The defaults: ~10 s.
    with deadends.blackholed() as endpoint:
        table = TableLocation("s3://lg-down/lake", deadends.options(endpoint)).child("sales")
        error, elapsed = fails_unreachable(table, staged(tmp_path))
    assert f"the lake is unreachable ({endpoint}: connect timed out, gave up after" in error.message
    assert elapsed < 40


def test_the_users_timeouts_win_over_the_defaults(tmp_path):
    # A hung server: the default 30 s request timeout would hold this for 30 s.
    with deadends.silent() as endpoint:
        user = deadends.options(endpoint) | {"timeout": "1s", "retry_timeout": "1s", "max_retries": "1"}
        table = TableLocation("s3://lg-down/lake", user).child("sales")
        error, elapsed = fails_unreachable(table, staged(tmp_path))
        assert f"({endpoint}: no response in time, gave up after 1 attempt in 1." in error.message
        assert elapsed < 15

        # polars reads the same options in its own form (an int max_retries, retry_timeout_ms):
        # given as-is, it rejects the string "1"; with its own retry default it waits > 60 s.
        started = time.monotonic()
        with pytest.raises(OSError, match="timed out"):
            pl.scan_parquet("s3://lg-down/x.parquet", storage_options=table.polars_options).collect()
        assert time.monotonic() - started < 15


def test_reading_the_schema_of_an_unreachable_table_says_so():
    with deadends.refusing() as endpoint:
        table = TableLocation("s3://lg-down/lake/sales", deadends.options(endpoint))
        with pytest.raises(LakegateError, match=r"^s3://lg-down/lake/sales: the lake is unreachable"):
            table_schema(table)


@pytest.mark.parametrize(
    ("chain", "said"),
    [
        pytest.param(
            "Error performing GET https://ops:s3cr3t@minio:9000/b?list-type=2 in 1.0s - HTTP error\n"
            " ↳ error sending request\n ↳ client error (Connect)\n ↳ dns error: failed to lookup",
            "(https://minio:9000: host name not found, gave up after 1 attempt in 1.0s)",
            id="dns-no-userinfo",
        ),
        pytest.param(
            "Generic S3 error: Error performing GET http://h:9/b/x.parquet in 2.5s, after 3 retries, "
            "max_retries: 3 - HTTP error: error sending request (path: s3://b/x.parquet)\n\nCaused by:\n"
            "    0: client error (Connect)\n    1: operation timed out",
            "(http://h:9: connect timed out, gave up after 4 attempts in 2.5s)",
            id="polars-form",
        ),
        pytest.param(
            "Generic S3 error: Error performing list request: Error performing GET "
            "http://127.0.0.1:18503/b?list-type=2&prefix=lake in 1.786932294s, after 10 retries, "
            "max_retries: 10, retry_timeout: 10s  - Server returned non-2xx status code: "
            "503 Service Unavailable: <Error><Code>ServiceUnavailable</Code></Error>",
            "(http://127.0.0.1:18503: HTTP 503 Service Unavailable, gave up after 11 attempts in 1.8s)",
            id="answers-503",
        ),
        pytest.param(
            "Error performing PUT http://k:v@h:9/b/x in 0.5s, after 2 retries - "
            "Server returned non-2xx status code: 429 Too Many Requests: SlowDown",
            "(http://h:9: HTTP 429 Too Many Requests, gave up after 3 attempts in 0.5s)",
            id="throttled-429",
        ),
    ],
)
def test_an_unanswered_request_reads_as_unreachable(chain, said):
    with pytest.raises(LakegateError) as info, table_errors("s3://b/lake/sales", "write"):
        raise OSError(chain)
    expected = f"s3://b/lake/sales: the lake is unreachable {said}; try again once it is reachable"
    assert info.value.message == expected


def test_an_http_answer_is_not_unreachable():
    with pytest.raises(LakegateError) as info, table_errors("s3://b/lake/sales", "write"):
        raise OSError("Generic S3 error\n ↳ Client error with status 403 Forbidden: AccessDenied")
    assert info.value.message.startswith("s3://b/lake/sales: cannot write the Delta table (Generic S3")
    assert "unreachable" not in info.value.message
    assert not isinstance(info.value, LakeUnavailableError)


def test_credentials_in_a_url_never_reach_the_message():
    with pytest.raises(LakegateError) as info, table_errors("s3://b/lake/sales", "write"):
        raise OSError("Error performing PUT http://ops:s3cr3t@h:9/b/x - status 403 Forbidden: AccessDenied")
    assert "s3cr3t" not in info.value.message
    assert "http://h:9/b/x" in info.value.message


def test_a_lake_that_only_answers_503_is_unavailable_not_a_bad_table():
    """A real server (a child process: delta-rs holds the GIL while it waits) answering 503."""
    with deadends.answering(503) as endpoint:
        table = TableLocation("s3://lg-busy/lake/sales", deadends.options(endpoint) | {"retry_timeout": "1s"})
        with pytest.raises(
            LakeUnavailableError, match=r"the lake is unreachable \(http://127\.0\.0\.1:\d+: HTTP 503"
        ):
            table_schema(table)


def test_remote_tables_get_the_defaults_under_the_users_options():
    user = {"timeout": "2m", "max_retries": "4", "aws_region": "eu-west-1"}
    table = TableLocation("s3://bucket/lake", user).child("sales")
    assert table.options == {
        "connect_timeout": "5s",
        "timeout": "2m",
        "retry_timeout": "10s",
        "max_retries": "4",
        "aws_region": "eu-west-1",
    }
    assert table.polars_options == {
        "connect_timeout": "5s",
        "timeout": "2m",
        "retry_timeout": "10s",
        "retry_timeout_ms": 10_000,
        "max_retries": 4,
        "aws_region": "eu-west-1",
    }
    assert TableLocation("s3://bucket/t").options == dict(CLIENT_DEFAULTS)
    longer = TableLocation("s3://bucket/t", {"retry_timeout": "1m 30s"}).polars_options
    assert longer["retry_timeout_ms"] == 90_000
    explicit = TableLocation("s3://bucket/t", {"retry_timeout_ms": "2500"}).polars_options
    assert (explicit["retry_timeout_ms"], explicit["retry_timeout"]) == (2500, "10s")


def test_local_tables_get_no_client_options(tmp_path):
    assert TableLocation(str(tmp_path / "sales")).options is None
    assert TableLocation(f"file://{tmp_path}/sales").polars_options is None


def test_the_settings_lake_gets_the_defaults_and_the_users_options_win(tmp_path):
    settings = Settings(
        project_dir=tmp_path,
        lake="s3://bucket/lake",
        lake_storage_options={"connect_timeout": "2s", "retry_timeout": "45s"},
    )
    table = settings.lake_table("sales")
    assert isinstance(table, TableLocation)
    assert table.options == {"connect_timeout": "2s", "timeout": "30s", "retry_timeout": "45s"}


def test_yaml_numbers_and_booleans_in_the_options_are_read_as_strings(tmp_path):
    settings = Settings(
        project_dir=tmp_path,
        lake="s3://bucket/lake",
        lake_storage_options={"max_retries": 5, "aws_allow_http": True},
    )
    assert settings.lake_storage_options == {"max_retries": "5", "aws_allow_http": "true"}
    table = settings.lake_table("sales")
    assert isinstance(table, TableLocation)
    assert table.polars_options is not None
    assert table.polars_options["max_retries"] == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"timeout": "30"}, r"storage_options\.timeout: '30' is not a duration", id="no-unit"),
        pytest.param({"retry_timeout": "soon"}, "lake_storage_options.retry_timeout", id="words"),
        pytest.param({"max_retries": "many"}, "max_retries: 'many' is not a whole number", id="retries"),
    ],
)
def test_a_bad_timeout_setting_says_which(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        Settings(project_dir=tmp_path, lake="s3://bucket/lake", lake_storage_options=options)


def test_a_bad_retry_option_on_a_location_is_a_config_error():
    with pytest.raises(ConfigError, match="max_retries: 'x' is not a whole number"):
        _ = TableLocation("s3://bucket/t", {"max_retries": "x"}).polars_options


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5), ("500ms", 0.5), ("1.5s", 1.5), ("2 s", 2), ("1m 30s", 90), ("2min", 120), ("1h", 3600)],
)
def test_durations_read_as_object_store_reads_them(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "s", "5 parsecs", "5s soon"])
def test_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
