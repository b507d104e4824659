"""One exit for every command: an error is one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import lakegate.lake
from lakegate.cli import _errors, app
from lakegate.errors import ConfigError, InputError, QualityGateError

runner = CliRunner()


def boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom\nsecond line of the message")


def saved_traceback(stderr: str) -> Path:
    line = " ".join(stderr.split())
    assert "the traceback is in " in line, line
    return Path(line.split("the traceback is in ")[1].split(";")[0].split(" ")[0])


def test_a_lakegate_error_is_one_line_and_exit_1(tmp_path):
    result = runner.invoke(app, ["convert", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'missing.csv'}: no such file\n"
    assert result.stdout == ""


def test_a_bad_option_value_from_a_command_body_is_one_line(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("a\n1\n", encoding="utf-8")
    result = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out"), "--type", "nope"])
    assert result.exit_code == 1
    assert result.stderr == "error: --type 'nope': expected COLUMN=TYPE, e.g. zip=string\n"


@pytest.mark.parametrize(
    ("error", "code"),
    [(InputError("bad input"), 1), (ConfigError("bad config"), 1), (QualityGateError("gate failed"), 3)],
)
def test_each_error_keeps_its_exit_code(error, code, capsys):
    with pytest.raises(typer.Exit) as exited, _errors.report(verbose=False):
        raise error
    assert exited.value.exit_code == code
    assert capsys.readouterr().err == f"error: {error.message}\n"


def test_usage_errors_stay_exit_2():
    assert runner.invoke(app, ["convert"]).exit_code == 2
    assert runner.invoke(app, ["convert", "x.csv", "-o", "out", "--format", "csv"]).exit_code == 2


def test_an_unexpected_error_is_one_line_with_the_traceback_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(lakegate.lake, "convert", boom)
    src = tmp_path / "a.csv"
    src.write_text("a\n1\n", encoding="utf-8")
    result = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: unexpected error, a bug in lakegate (RuntimeError: boom);")
    assert result.stderr.rstrip().endswith("run again with --verbose to print it")
    assert "Traceback" not in result.output
    kept = saved_traceback(result.stderr)
    text = kept.read_text(encoding="utf-8")
    kept.unlink()
    assert text.startswith("Traceback (most recent call last):")
    assert "in boom" in text
    assert "RuntimeError: boom\nsecond line of the message" in text


def test_verbose_prints_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(lakegate.lake, "convert", boom)
    src = tmp_path / "a.csv"
    src.write_text("a\n1\n", encoding="utf-8")
    result = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out"), "--verbose"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last):" in result.stderr
    assert "in boom" in result.stderr
    last = result.stderr.rstrip().splitlines()[-1]
    assert last.startswith("error: unexpected error, a bug in lakegate (RuntimeError: boom);")
    assert "--verbose" not in last
    saved_traceback(last).unlink()


_CRASH = """
import sys
import lakegate.lake

def boom(*args, **kwargs):
    raise KeyError("no such key")

lakegate.lake.convert = boom
sys.argv = ["lakegate", *sys.argv[1:]]
from lakegate_server.cli import main
main()
"""


def test_the_installed_entry_point_prints_no_traceback(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("a\n1\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    done = subprocess.run(
        [sys.executable, "-c", _CRASH, "convert", str(src), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "COLUMNS": "300"},
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: unexpected error, a bug in lakegate (KeyError: 'no such key');")
    saved_traceback(done.stderr).unlink()


def test_an_unexpected_error_without_a_message_is_named_by_its_type(capsys):
    with pytest.raises(typer.Exit) as exited, _errors.report(verbose=False):
        raise RuntimeError
    assert exited.value.exit_code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected error, a bug in lakegate (RuntimeError); the traceback is in ")
    saved_traceback(err).unlink()


@pytest.mark.parametrize(
    ("args", "env", "verbose"),
    [
        (["convert", "a.csv", "--verbose"], "", True),
        (["convert", "-v", "a.csv"], "", True),
        (["convert", "a.csv"], "", False),
        (["convert", "--", "-v"], "", False),  # after "--", -v is a file name
        (["convert", "a.csv"], "true", True),
        (["convert", "a.csv"], "0", False),
    ],
)
def test_verbose_is_read_from_the_raw_command_line(args, env, verbose, monkeypatch):
    monkeypatch.setenv("LAKEGATE_VERBOSE", env)
    assert _errors.verbose_requested(args) is verbose
