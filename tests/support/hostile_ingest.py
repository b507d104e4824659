"""Hostile files through ``lakegate ingest``: every file gets an outcome, every refusal a quarantine entry.

:func:`check_ingest` runs one ``lakegate ingest --json`` over all the files (as a user
would: one command, many files) and checks what a user is promised: the command goes
on past failures and reports every file, exits non-zero when one failed, prints no
traceback, and each refused file waits in the quarantine with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.support.hostile import Hostile

__all__ = ["check_ingest", "ingest_all"]

Run = Callable[..., subprocess.CompletedProcess[str]]
_BUG = ("a bug in lakegate", "Traceback (most recent call last)")


def check_ingest(run: Run, files: Sequence[Hostile], *, dataset: str = "hostile") -> dict[str, Any]:
    """Ingest ``files`` in one command through ``run`` (``Project.run``-like): figures and violations."""
    done = run(
        "ingest", "--json", "--mode", "overwrite", "-d", dataset, *[str(f.path) for f in files], check=False
    )
    violations: list[str] = []
    if any(marker in done.stderr for marker in _BUG):
        violations.append(f"a traceback reached the user: {done.stderr[-1500:]}")
    try:
        results = json.loads(done.stdout)["results"]
    except (ValueError, KeyError) as exc:
        return {"files": len(files), "violations": [f"no --json report ({exc}): {done.stderr[-1500:]}"]}
    if len(results) != len(files):
        violations.append(f"{len(results)} outcomes for {len(files)} files")
    failed = [r for r in results if "error" in r]
    if failed and done.returncode == 0:
        violations.append(f"exit 0 although {len(failed)} files failed")
    if not failed and done.returncode not in (0, 3):
        violations.append(f"exit {done.returncode} although every file was ingested")
    listed = run("quarantine", "list", "--json", check=False)
    items = json.loads(listed.stdout)["items"] if listed.returncode == 0 else []
    quarantined: dict[str, list[str]] = {}
    for item in items:
        quarantined.setdefault(Path(item["source"]).name, []).append(item["reason"])
    for result in failed:
        name = Path(result["source"]).name
        code = result["error"]["code"]
        if code == "conflict":
            continue  # clashes with the dataset's state are the user's to resolve, not quarantined
        reasons = quarantined.get(name)
        if not reasons:
            violations.append(f"{name}: refused ({result['error']['message'][:200]}) but not quarantined")
        elif not all(reason.strip() for reason in reasons):
            violations.append(f"{name}: quarantined without a reason")
    return {
        "files": len(files),
        "ingested": len(results) - len(failed),
        "refused": len(failed),
        "quarantined": len(items),
        "exit": done.returncode,
        "violations": violations,
    }


def ingest_all(files: Sequence[Hostile], project: Path) -> dict[str, Any]:
    """:func:`check_ingest` in a fresh embedded (SQLite) project at ``project``."""
    project.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    env.update(LAKEGATE_PROJECT_DIR=str(project), LAKEGATE_QUEUE_NAME=f"fuzz-{uuid.uuid4().hex[:8]}")

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "lakegate_server.cli", *args],
            env=env,
            cwd=project,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if check and done.returncode:
            raise RuntimeError(f"lakegate {args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
        return done

    run("init", str(project))
    return check_ingest(run, files)


def reader_crashes(root: Path) -> list[Hostile]:
    """Files that once crashed a reader or the Delta write (issue findings), and two good ones."""
    import polars as pl

    from tests.support import hostile as h

    root.mkdir(parents=True, exist_ok=True)
    work = root / ".work"
    work.mkdir(exist_ok=True)
    seeds = h.seeds(work)
    durations = root / "durations.parquet"
    pl.DataFrame({"d": [dt.timedelta(hours=36)], "t": [dt.time(1, 2)]}).write_parquet(durations)
    files = {
        "good.csv": b"a,b\n1,2\n3,4\n",
        "nested.json": b"[" * 100_000 + b"]" * 100_000,
        "nested-objects.jsonl": (b'{"a":' * 500 + b"1" + b"}" * 500 + b"\n") * 2,
        "surrogates.json": b'[{"a": "\\ud800x"}, {"a": "ok"}]',
        "case-dup-keys.json": b'[{"a": 1, "A": 2}]',
        "broken-xref.pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\nxref\n0 3\ngarbage\n%%EOF",
        "cut.xls": seeds[".xls"][: int(len(seeds[".xls"]) * 0.9)],
        "cut.xlsx": seeds[".xlsx"][: len(seeds[".xlsx"]) // 2],
        "zip-slip.zip": h._zip_entries([("../../evil.csv", b"a\n1\n")]),
        "zip-symlink.zip": h._zip_entries([h._symlink("link.csv", "/etc/passwd")]),
        "wide.csv": (",".join(f"c{i}" for i in range(20_000)) + "\n").encode(),
        "bad-dates.xlsx": h._xlsx_with(
            work,
            {
                "xl/worksheets/sheet1.xml": h._sheet(
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>d</t></is></c></row>'
                    b'<row r="2"><c r="A2" s="1"><v>99999999999</v></c></row>'
                    b'<row r="3"><c r="A3" s="2"><v>-5</v></c></row>'
                )
            },
        ),
    }
    made = [Hostile(durations, "attack")]
    for name, data in files.items():
        (root / name).write_bytes(data)
        made.append(Hostile(root / name, "attack"))
    for leftover in work.iterdir():
        leftover.unlink()
    work.rmdir()
    return made
