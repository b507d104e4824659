"""compose.yaml: the demo deployment's services, health checks, start order and settings.

Parsed with PyYAML (anchors and merge keys resolved) and checked for what `docker compose up`
depends on: a `service_healthy` dependency on a service without a health check would wait
forever, a wrong host name or bucket would fail at the first ingest. The lakegate services'
environment is loaded through lakegate's own settings, as the containers will load it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from lakegate.config import Settings
from lakegate.storage import open_storage

ROOT = Path(__file__).resolve().parents[2]
LAKEGATE_SERVICES = ("web", "scheduler", "worker", "init")
LONG_RUNNING = ("web", "scheduler", "worker")
_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with no variable set, and ``$$`` as a literal ``$``."""
    return _VARIABLE.sub(lambda m: m.group(2) or "", value).replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    return {key: interpolate(str(value)) for key, value in service.get("environment", {}).items()}


def test_the_services_of_the_demo(services):
    assert set(services) == {"web", "scheduler", "worker", "init", "postgres", "redis", "minio", "buckets"}
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["web"]["ports"] == ["8000:8000"]


def test_one_image_and_the_command_picks_the_role(services):
    for name in LAKEGATE_SERVICES:
        assert services[name]["image"] == "lakegate:latest"
        assert services[name]["build"]["context"] == "."
        assert "project:/srv/lakegate" in services[name]["volumes"]
    assert services["web"]["command"][:3] == ["up", "--workers", "0"]
    assert services["worker"]["command"][0] == "worker"
    assert services["scheduler"]["command"] == ["scheduler"]
    assert services["init"]["command"][:2] == ["init", "/srv/lakegate"]
    assert services["init"]["restart"] == "no"


def test_every_command_is_a_real_cli_command_with_real_options(services):
    from typer.main import get_command

    from lakegate_server.cli import app

    group = get_command(app)  # the lazy root group: each command is built when asked for
    context = group.context_class(group)
    commands = {name: group.get_command(context, name) for name in group.list_commands(context)}
    for name in LAKEGATE_SERVICES:
        command, *args = services[name]["command"]
        assert command in commands, (name, command)
        known = {opt for param in commands[command].params for opt in param.opts}
        assert {arg for arg in args if arg.startswith("-")} <= known, (name, args)


def test_health_checks_where_there_is_something_to_ask(services):
    probes = {
        "web": "/healthz",
        "postgres": "pg_isready",
        "redis": "ping",
        "minio": "ready",
    }
    for name, probe in probes.items():
        check = services[name]["healthcheck"]
        assert check["test"][0] == "CMD", name
        assert any(probe in part for part in check["test"]), name
        assert check["retries"] >= 3
    # The image's /healthz check would fail in containers without a web server.
    for name in ("scheduler", "worker", "init"):
        assert services[name]["healthcheck"] == {"disable": True}
    assert "127.0.0.1:8000/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert env_of(services["web"]).get("LAKEGATE_WEB__PORT", "8000") == "8000"


def test_dependencies_wait_for_health_or_completion(services):
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, (name, target)
            assert rule["condition"] in allowed, (name, target)
            if rule["condition"] == "service_healthy":  # else `up` waits forever
                assert services[target].get("healthcheck", {}).get("disable") is not True, (name, target)
                assert "test" in services[target]["healthcheck"], (name, target)
            if rule["condition"] == "service_completed_successfully":
                assert services[target]["restart"] == "no", (name, target)
    for name in LONG_RUNNING:
        needs = services[name]["depends_on"]
        for backend in ("postgres", "redis", "minio"):
            assert needs[backend]["condition"] == "service_healthy", (name, backend)
        for job in ("init", "buckets"):
            assert needs[job]["condition"] == "service_completed_successfully", (name, job)
    # web applies the migrations; the others start once it is healthy, so no two migrate at once.
    for name in ("scheduler", "worker"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_the_environment_points_at_the_compose_services(services):
    postgres = env_of(services["postgres"])
    minio = env_of(services["minio"])
    bucket_job = interpolate(" ".join(services["buckets"]["command"]))
    for name in LAKEGATE_SERVICES:
        env = env_of(services[name])
        db = urlsplit(env["LAKEGATE_DATABASE_URL"])
        assert (db.scheme, db.hostname, db.port) == ("postgresql", "postgres", 5432)
        assert (db.username, db.password, db.path) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
            "/" + postgres["POSTGRES_DB"],
        )
        assert urlsplit(env["LAKEGATE_REDIS_URL"]).hostname == "redis"
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
            minio["MINIO_ROOT_USER"],
            minio["MINIO_ROOT_PASSWORD"],
        )
        for setting in ("LAKEGATE_LAKE", "LAKEGATE_STORAGE"):
            bucket = env[setting].removeprefix("s3://").split("/", 1)[0]
            assert f"mc mb --ignore-existing local/{bucket}" in bucket_job, setting
        for options in ("LAKEGATE_LAKE_STORAGE_OPTIONS", "LAKEGATE_STORAGE_OPTIONS"):
            parsed = json.loads(env[options])
            assert parsed["aws_endpoint_url"] == "http://minio:9000", options
            assert parsed["aws_allow_http"] == "true", options


def test_lakegate_reads_the_environment_as_the_containers_will(services, tmp_path, monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("LAKEGATE_"):
            monkeypatch.delenv(key)
    env = env_of(services["web"])
    for key, value in env.items():
        if key.startswith("LAKEGATE_") and key != "LAKEGATE_PROJECT_DIR":
            monkeypatch.setenv(key, value)
    settings = Settings(project_dir=tmp_path)
    assert settings.database_url == env["LAKEGATE_DATABASE_URL"]
    assert settings.lake == "s3://lakegate/lake"
    assert settings.storage == "s3://lakegate/state"
    assert "web" in settings.web.allowed_hosts
    storage = open_storage(settings)
    assert storage.describe() == "s3://lakegate/state (endpoint http://minio:9000)"


def test_named_volumes_are_declared(compose, services):
    used = {
        mount.split(":", 1)[0]
        for service in services.values()
        for mount in service.get("volumes", [])
        if not mount.startswith(("/", "."))
    }
    assert used == set(compose["volumes"]) == {"project", "postgres-data", "redis-data", "minio-data"}
