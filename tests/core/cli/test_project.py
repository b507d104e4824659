"""`lakegate init`, `--version`, and a CLI that starts without heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from lakegate import __version__
from lakegate.cli import app

runner = CliRunner()


def test_init_creates_settings_and_state(tmp_path: Path):
    target = tmp_path / "proj"
    result = runner.invoke(app, ["init", str(target), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["project_dir"] == str(target.resolve())
    for name in ("lake", "artifacts", "inbox", "quarantine", "logs"):
        assert (target / ".lakegate" / name).is_dir()
    assert (target / "lakegate.yaml").read_text().startswith("# lakegate project settings.")
    assert (target / ".lakegate" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_init_twice_is_an_error_unless_forced(tmp_path: Path):
    assert runner.invoke(app, ["init", str(tmp_path)]).exit_code == 0
    (tmp_path / "lakegate.yaml").write_text("env: prod\n")
    again = runner.invoke(app, ["init", str(tmp_path)])
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    forced = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert (tmp_path / "lakegate.yaml").read_text() == "env: prod\n"


def test_version_and_usage_errors():
    version = runner.invoke(app, ["--version"])
    assert (version.exit_code, version.stdout.strip()) == (0, f"lakegate {__version__}")
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_the_cli_starts_without_importing_heavy_libraries():
    code = (
        "import sys, lakegate_server.cli; "
        "heavy = {'django', 'polars', 'pyarrow', 'sklearn', 'deltalake', 'huey', 'uvicorn'}; "
        "heavy &= set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
