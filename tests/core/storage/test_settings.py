"""``storage`` and ``storage_options`` in lakegate.yaml and LAKEGATE_* variables; open_storage."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lakegate import init_project, load_settings
from lakegate.config import Settings
from lakegate.errors import ConfigError
from lakegate.storage import Area, Storage, join_key, open_storage
from lakegate.storage._options import split_options


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No LAKEGATE_* from the test session (its project folder) in these settings."""
    import os

    for key in list(os.environ):
        if key.startswith("LAKEGATE_"):
            monkeypatch.delenv(key)


def test_unset_it_is_the_projects_state_folder_with_the_usual_layout(tmp_path):
    paths = init_project(tmp_path)
    storage = open_storage(load_settings(tmp_path))
    assert storage.local_root == paths.state
    assert storage.local_path(join_key(Area.UPLOADS, "abc", "a.csv")) == paths.uploads / "abc" / "a.csv"
    assert storage.local_path(join_key(Area.QUARANTINE, "7")) == paths.quarantine / "7"
    assert storage.local_path(join_key(Area.RUN_LOGS, "3.jsonl")) == paths.run_logs / "3.jsonl"
    assert storage.local_path(join_key(Area.MODELS, "churn")) == paths.artifacts / "models" / "churn"


def test_an_s3_storage_from_the_yaml_file(tmp_path):
    init_project(tmp_path)
    config = tmp_path / "lakegate.yaml"
    config.write_text(
        config.read_text()
        + "storage: s3://team-bucket/lakegate/\n"
        + "storage_options:\n  aws_region: eu-central-1\n  max_retries: 5\n  aws_allow_http: true\n"
    )
    settings = load_settings(tmp_path)
    assert settings.storage == "s3://team-bucket/lakegate"
    assert settings.storage_options == {
        "aws_region": "eu-central-1",
        "max_retries": "5",
        "aws_allow_http": "true",
    }
    storage = open_storage(settings)
    assert storage.uri == "s3://team-bucket/lakegate"
    assert storage.local_root is None


def test_environment_variables_override_the_file(tmp_path, monkeypatch):
    init_project(tmp_path)
    monkeypatch.setenv("LAKEGATE_STORAGE", "s3://from-env/state")
    monkeypatch.setenv(
        "LAKEGATE_STORAGE_OPTIONS", json.dumps({"aws_endpoint_url": "http://minio:9000", "timeout": "2m"})
    )
    settings = load_settings(tmp_path)
    assert settings.storage == "s3://from-env/state"
    assert open_storage(settings).describe() == "s3://from-env/state (endpoint http://minio:9000)"


@pytest.mark.parametrize(
    ("storage", "expected"),
    [("shared/state", "shared/state"), ("file:///srv/lakegate-state", "/srv/lakegate-state")],
)
def test_a_folder_storage_is_relative_to_the_project(tmp_path, storage, expected):
    settings = Settings(project_dir=tmp_path, storage=storage)
    assert open_storage(settings).local_root == tmp_path / expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"storage": "s3:///x"}, "names no bucket"),
        ({"storage": "gs://bucket/x"}, "use s3://bucket/prefix, file:///folder or a folder path"),
        ({"storage": "file://relative"}, "a file:// storage needs an absolute path"),
        ({"storage_options": {"aws_region": "x"}}, "storage_options applies only to an s3:// storage"),
        (
            {"storage": "s3://b/x", "storage_options": {"timeout": "30"}},
            r"storage_options\.timeout: '30' is not a duration",
        ),
        (
            {"storage": "s3://b/x", "storage_options": {"max_retries": "many"}},
            r"storage_options\.max_retries: 'many' is not a whole number",
        ),
    ],
)
def test_bad_storage_settings_name_the_field(tmp_path, fields, message):
    init_project(tmp_path)
    (tmp_path / "lakegate.yaml").write_text(json.dumps(fields))  # JSON is YAML
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(tmp_path)
    assert "storage" in info.value.message


def test_the_lake_settings_keep_their_own_messages(tmp_path):
    with pytest.raises(ValueError, match="a file:// lake needs an absolute path"):
        Settings(project_dir=tmp_path, lake="file://relative")
    with pytest.raises(ValueError, match=r"lake_storage_options\.timeout"):
        Settings(project_dir=tmp_path, lake="s3://b/l", lake_storage_options={"timeout": "30"})


def test_options_are_split_the_way_obstore_takes_them_over_the_lake_defaults():
    split = split_options(
        {
            "aws_endpoint_url": "http://minio:9000",
            "aws_region": "eu-west-1",
            "aws_allow_http": "true",
            "timeout": "2m",
            "max_retries": "4",
        }
    )
    assert split.config == {"aws_endpoint_url": "http://minio:9000", "aws_region": "eu-west-1"}
    assert split.client == {"allow_http": "true", "connect_timeout": "5s", "timeout": "2m"}
    assert split.retry == {"retry_timeout": timedelta(seconds=10), "max_retries": 4}
    assert split.endpoint == "http://minio:9000"


def test_the_lakes_storage_options_work_unchanged_for_the_storage(tmp_path):
    # One options block for both: a compose file sets the same JSON in both variables.
    options = {"aws_endpoint_url": "http://minio:9000", "aws_allow_http": "true", "retry_timeout": "1m 30s"}
    settings = Settings(project_dir=tmp_path, lake="s3://b/lake", lake_storage_options=options)
    storage = Storage("s3://b/state", settings.lake_storage_options)
    assert storage.describe() == "s3://b/state (endpoint http://minio:9000)"
    assert split_options(options).retry == {"retry_timeout": timedelta(seconds=90)}
