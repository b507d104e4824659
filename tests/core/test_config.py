"""Settings: lakegate.yaml overlaid by LAKEGATE_* variables, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakegate import init_project, load_settings
from lakegate._project import CONFIG_TEMPLATE
from lakegate.config import RunSettings, Settings, find_project_dir
from lakegate.errors import ConfigError, ProjectNotFoundError


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for key in list(os.environ):
        if key.startswith("LAKEGATE_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_the_commented_template_states_the_real_defaults(tmp_path: Path, clean_env):
    init_project(tmp_path)
    from_template = load_settings(tmp_path)
    defaults = Settings(project_dir=tmp_path.resolve(), secret_key=from_template.secret_key)
    assert from_template == defaults
    assert "LAKEGATE_RUNS__LEASE_SECONDS" in CONFIG_TEMPLATE


def test_environment_wins_over_the_yaml_file(tmp_path: Path, clean_env):
    init_project(tmp_path)
    (tmp_path / "lakegate.yaml").write_text("env: prod\nruns:\n  lease_seconds: 60\n")
    clean_env.setenv("LAKEGATE_ENV", "preprod")
    clean_env.setenv("LAKEGATE_RUNS__HEARTBEAT_SECONDS", "5")
    clean_env.setenv("LAKEGATE_DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings(tmp_path)
    assert settings.env == "preprod"
    assert settings.runs == RunSettings(heartbeat_seconds=5, lease_seconds=60)
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.redis_url is None


def test_invalid_yaml_names_file_and_line(tmp_path: Path, clean_env):
    (tmp_path / "lakegate.yaml").write_text("env: dev\nruns:\n  lease_seconds: [1\n")
    with pytest.raises(ConfigError, match=r"lakegate\.yaml:4:1: invalid YAML"):
        load_settings(tmp_path)


def test_invalid_values_name_the_field(tmp_path: Path, clean_env):
    (tmp_path / "lakegate.yaml").write_text("runs:\n  lease_seconds: soon\nweb:\n  prot: 80\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert "runs.lease_seconds: Input should be a valid number" in info.value.message
    assert "web.prot: Extra inputs are not permitted" in info.value.message


def test_a_lease_shorter_than_two_heartbeats_is_refused(tmp_path: Path, clean_env):
    (tmp_path / "lakegate.yaml").write_text("runs:\n  heartbeat_seconds: 10\n  lease_seconds: 15\n")
    with pytest.raises(ConfigError, match=r"at least 2 x runs\.heartbeat_seconds"):
        load_settings(tmp_path)


def test_the_project_is_found_upwards_or_from_the_environment(tmp_path: Path, clean_env):
    init_project(tmp_path)
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_project_dir(nested) == tmp_path.resolve()
    clean_env.setenv("LAKEGATE_PROJECT_DIR", str(tmp_path / "a"))
    with pytest.raises(ProjectNotFoundError, match=r"holds no lakegate\.yaml"):
        find_project_dir()


def test_no_project_anywhere_says_what_to_do(tmp_path: Path, clean_env):
    with pytest.raises(ProjectNotFoundError, match=r"run `lakegate init`"):
        find_project_dir(tmp_path)
