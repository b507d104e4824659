"""A fast command line: the entry point imports nothing heavy, and lazy commands stay true.

``lakegate --version`` and ``--help`` run the real entry point in a fresh interpreter and
look at ``sys.modules`` afterwards. The command table that ``--help`` lists without importing
the commands is checked against the commands themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

import lakegate_server.cli  # declares the server's commands too
from lakegate.cli import _lazy, app
from lakegate.cli._registry import entries

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINT = "lakegate_server.cli:main"

# Top-level packages the entry point must not import to print the version or the help.
HEAVY = {
    "polars", "numpy", "pyarrow", "pandas", "duckdb", "deltalake", "fastexcel", "python_calamine",
    "django", "ninja", "huey", "pydantic", "pydantic_settings", "yaml", "sklearn", "scipy",
    "lightgbm", "dlt", "sqlalchemy", "httpx", "boto3", "uvicorn",
}  # fmt: skip
# The CLI shell: everything of lakegate's own that --help may import.
SHELL = {
    "lakegate", "lakegate.errors", "lakegate.cli", "lakegate.cli._app", "lakegate.cli._errors",
    "lakegate.cli._lazy", "lakegate.cli._registry", "lakegate_server", "lakegate_server.cli",
}  # fmt: skip

# Runs the console script's function as the installed ``lakegate`` script does, then writes
# the exit code and every module imported to a file (stdout is the command's).
_PROBE = """
import importlib, json, sys
entry, report, args = sys.argv[1:]
sys.argv = ["lakegate", *json.loads(args)]
module, _, function = entry.partition(":")
code = 0
try:
    getattr(importlib.import_module(module), function)()
except SystemExit as exc:
    code = exc.code or 0
with open(report, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the test project's settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    return {**env, "COLUMNS": "100", **extra}


def run_entry_point(tmp_path: Path, *args: str) -> tuple[int, str, set[str]]:
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ENTRY_POINT, str(report), json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=clean_env(),
    )
    found = json.loads(report.read_text())
    return found["code"], done.stdout, set(found["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    own = {m for m in modules if m.split(".")[0] in {"lakegate", "lakegate_server"}}
    return sorted({m for m in modules if m.split(".")[0] in HEAVY} | (own - SHELL))


def test_the_console_script_is_the_entry_point_measured_here():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"lakegate": ENTRY_POINT}


def test_version_imports_neither_typer_nor_anything_heavy(tmp_path):
    code, stdout, modules = run_entry_point(tmp_path, "--version")
    assert (code, stdout) == (0, f"lakegate {lakegate_server.cli.__version__}\n")
    assert heavy_in(modules) == []
    assert not {"typer", "rich"} & {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("args", [["--help"], [], ["-C", "somewhere", "--version"]])
def test_help_and_version_import_only_the_cli_shell(tmp_path, args):
    code, stdout, modules = run_entry_point(tmp_path, *args)
    assert code == (2 if args == [] else 0)  # no arguments: the help, as a usage error
    assert heavy_in(modules) == []
    if args != ["-C", "somewhere", "--version"]:
        for name in entries():
            assert f" {name} " in stdout


def test_a_command_imports_only_its_own_module(tmp_path):
    code, _stdout, modules = run_entry_point(tmp_path, "init", str(tmp_path / "p"))
    assert code == 0
    assert "lakegate.cli.project" in modules
    assert not {"lakegate.cli.convert", "lakegate.cli.kb", "lakegate_server.cli.datasets"} & modules
    assert not {"django", "polars", "numpy"} & {m.split(".")[0] for m in modules}


def first_paragraph(text: str | None) -> str:
    import inspect

    return inspect.cleandoc(text or "").split("\n\n")[0].strip()


@pytest.mark.parametrize("modules", sorted({e.modules for e in entries().values()}))
def test_each_module_registers_exactly_its_declared_commands_with_their_help(modules):
    declared = {name: entry for name, entry in entries().items() if entry.modules == modules}
    built = _lazy.build(modules, "rich")
    assert set(built) == set(declared)
    for name, command in built.items():
        assert first_paragraph(command.short_help or command.help) == declared[name].help, name
        assert isinstance(command, TyperGroup) == declared[name].group, name
        assert not command.hidden


_EAGER = """
import importlib, json, typer
from typer.testing import CliRunner
import lakegate_server.cli
from lakegate.cli import app
from lakegate.cli._app import _root
from lakegate.cli._registry import entries

def show(target):
    return CliRunner().invoke(target, ["--help"], prog_name="lakegate").stdout

lazy = show(app)  # first: listing the commands imports none of them
eager = typer.Typer(
    name="lakegate", help=app.info.help, rich_markup_mode="rich", no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
eager.callback()(_root)
modules = ["lakegate.cli.convert", "lakegate.cli.kb", "lakegate.cli.project"]
modules += sorted({m for e in entries().values() for m in e.modules if m.startswith("lakegate_server.")})
for module in modules:
    importlib.import_module(module).register(eager)
print(json.dumps({"lazy": lazy, "eager": show(eager)}))
"""


def test_the_lazy_help_is_the_help_typer_prints_with_every_command_imported(tmp_path):
    # The usual way (every module registering on one app) in a fresh interpreter, where
    # ``kb register`` adds itself to the kb sub-app exactly once.
    done = subprocess.run(
        [sys.executable, "-c", _EAGER], capture_output=True, text=True, check=True, env=clean_env()
    )
    helps = json.loads(done.stdout)
    assert " convert " in helps["eager"]
    assert helps["lazy"] == helps["eager"]


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion():
    result = CliRunner().invoke(app, ["datsets"])
    assert result.exit_code == 2
    assert "Did you mean 'datasets'?" in result.output


def test_importing_the_library_loads_its_settings_only_when_used():
    code = (
        "import sys, lakegate; before = 'pydantic_settings' in sys.modules; lakegate.Settings; "
        "names = sorted(n for n, v in vars(lakegate).items() if not n.startswith('_') "
        "and n != 'annotations' and type(v).__name__ != 'module'); "
        "print(before, names == sorted(set(lakegate.__all__) - {'__version__'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_an_unknown_attribute_is_still_an_attribute_error():
    import lakegate

    with pytest.raises(AttributeError, match="no_such_name"):
        _ = lakegate.no_such_name  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = lakegate_server.cli.no_such_name


def test_the_typer_app_is_the_one_the_entry_point_runs():
    assert lakegate_server.cli.app is app
    assert isinstance(app, typer.Typer)
