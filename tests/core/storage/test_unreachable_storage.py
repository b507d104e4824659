"""A storage that does not answer, refuses the credentials or lacks its bucket fails clearly.

Unreachable or throttled: ``StorageUnavailableError`` (transient: runs retry it, the API
answers 503) naming the endpoint and the attempts, in seconds rather than object_store's
3-minute default. Credentials, bucket and options: one ``ConfigError`` naming the setting,
raised by ``check()`` at start. The time bounds are regression guards, not benchmarks.
"""

from __future__ import annotations

import time

import pytest

from lakegate.errors import ConfigError, LakegateError, StorageUnavailableError, Transient
from lakegate.storage import Storage
from tests.core.lake import deadends
from tests.core.lake.s3server import storage_options

_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def unavailable(storage: Storage) -> tuple[StorageUnavailableError, float]:
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError) as info:
        storage.check()
    return info.value, time.monotonic() - started


def test_a_refused_endpoint_is_transient_and_names_endpoint_and_attempts():
    with deadends.refusing() as endpoint:
        storage = Storage("s3://lg-down/state", deadends.options(endpoint))
        error, elapsed = unavailable(storage)
    assert error.message.startswith(
        f"s3://lg-down/state: the storage is unreachable ({endpoint}: connection refused, gave up after"
    )
    assert error.message.endswith("; try again once it is reachable")
    assert " attempts in " in error.message
    assert error.detail == {
        "location": "s3://lg-down/state",
        "key": ".lakegate-check",
        "reason": "unreachable",
    }
    assert isinstance(error, Transient)
    assert error.http_status == 503
    assert "nothing" not in error.message  # the secret key of deadends.options
    assert elapsed < 30  # the client defaults bound it (object_store alone: minutes)


@pytest.mark.parametrize(
    ("status", "said"), [(503, "HTTP 503 Service Unavailable"), (429, "HTTP 429 Too Many")]
)
def test_a_store_that_only_says_try_later_is_unavailable(status, said):
    with deadends.answering(status) as endpoint:
        storage = Storage("s3://lg-busy/state", deadends.options(endpoint) | {"retry_timeout": "1s"})
        error, _ = unavailable(storage)
    assert f"the storage is unreachable ({endpoint}: {said}" in error.message


def test_a_hung_server_times_out_within_the_users_timeouts():
    with deadends.silent() as endpoint:
        options = deadends.options(endpoint) | {"timeout": "1s", "retry_timeout": "1s", "max_retries": "1"}
        error, elapsed = unavailable(Storage("s3://lg-down/state", options))
    assert f"({endpoint}: no response in time, gave up after 1 attempt in 1." in error.message
    assert elapsed < 15


def test_a_blackholed_endpoint_says_connect_timed_out():
    with deadends.blackholed() as endpoint:
        options = deadends.options(endpoint) | {"connect_timeout": "1s", "retry_timeout": "1s"}
        error, elapsed = unavailable(Storage("s3://lg-down/state", options))
    assert f"({endpoint}: connect timed out" in error.message
    assert elapsed < 15


def test_a_host_that_does_not_exist_is_unavailable():
    options = deadends.options("http://lakegate-no-such-host.invalid:9000") | {"retry_timeout": "1s"}
    error, _ = unavailable(Storage("s3://lg-down/state", options))
    assert "(http://lakegate-no-such-host.invalid:9000: host name not found" in error.message


def test_credentials_in_the_endpoint_never_reach_a_message():
    with deadends.refusing() as endpoint:
        secret = endpoint.replace("http://", "http://ops:s3cr3t@")
        error, _ = unavailable(Storage("s3://lg-down/state", deadends.options(secret)))
    assert "s3cr3t" not in error.message
    assert f"({endpoint}: connection refused" in error.message


def test_refused_credentials_are_one_config_error_naming_the_setting():
    with deadends.answering(403) as endpoint:
        storage = Storage("s3://lg-locked/state", deadends.options(endpoint))
        with pytest.raises(ConfigError) as info:
            storage.check()
    message = info.value.message
    assert message.startswith("storage s3://lg-locked/state: the credentials may not list")
    assert "(HTTP 403)" in message
    assert "AWS_ACCESS_KEY_ID" in message
    assert "storage_options.aws_access_key_id" in message
    assert "nothing" not in message


def test_missing_credentials_are_a_config_error_at_check(monkeypatch):
    for name in _AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    # No keys anywhere: object_store asks the instance metadata endpoint (here: refused).
    with deadends.refusing() as endpoint, deadends.refusing() as metadata:
        options = {
            "aws_endpoint_url": endpoint,
            "aws_region": "us-east-1",
            "aws_allow_http": "true",
            "aws_metadata_endpoint": metadata,
            "retry_timeout": "1s",
        }
        with pytest.raises(ConfigError) as info:
            Storage("s3://lg-nokeys/state", options).check()
    assert info.value.message.startswith(
        f"storage s3://lg-nokeys/state: no AWS credentials found ({metadata}/"
    )
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in info.value.message


def test_a_missing_bucket_is_a_config_error(endpoint):
    storage = Storage("s3://lg-never-created/state", storage_options(endpoint))
    with pytest.raises(ConfigError, match=r"the bucket 'lg-never-created' does not exist; create it or fix"):
        storage.check()


def test_an_unknown_option_names_itself():
    with pytest.raises(ConfigError, match=r"^storage_options\.aws_bogus_key: not an option of an S3 storage"):
        Storage("s3://b/state", {"aws_bogus_key": "1"}).check()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_retries": "many"}, r"storage_options\.max_retries: 'many' is not a whole number"),
        ({"retry_timeout": "soon"}, r"storage_options\.retry_timeout: 'soon' is not a duration"),
    ],
)
def test_bad_retry_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        Storage("s3://b/state", options)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3:///state", "names no bucket"),
        ("gs://bucket/state", "use s3://bucket/prefix"),
        ("relative/folder", "needs an absolute folder"),
    ],
)
def test_bad_locations_are_config_errors(uri, message):
    with pytest.raises(ConfigError, match=message):
        Storage(uri)


def test_options_on_a_local_storage_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="storage_options applies only to an s3:// storage"):
        Storage(tmp_path, {"aws_region": "eu-west-1"})


def test_a_local_folder_that_cannot_be_written_is_a_lakegate_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the storage folder should be")
    with pytest.raises(LakegateError) as info:
        Storage(blocker / "state").check()
    assert str(blocker) in info.value.message
