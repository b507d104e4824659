"""Run a parser in a child process, under the time and memory budget of :class:`ReaderLimits`.

Some files' cost cannot be told from their size. A PDF's FlateDecode stream of a few
kilobytes can expand to gigabytes, and one page can hold millions of drawing operations
for the table finder; a corrupt legacy ``.xls`` (an OLE compound file) can send calamine
into a loop that allocates without end. Neither pdfium, pdfminer nor calamine has a hook
to count, so those files are parsed in a child process (``python -m
lakegate.formats._sandbox``) with ``RLIMIT_DATA`` (its heap) and ``RLIMIT_CPU`` set and a
wall-clock timeout. The child writes its answer as JSON; a child that runs out of memory
or time, or dies in native code, is a ``ReaderError`` naming the file and the limit, and
the parent process is never hurt. The child imports neither polars nor lakegate's readers.

Jobs: ``pdf`` returns the page texts and table cells (the parent builds the frames);
``xls`` only opens the workbook and loads every sheet, and the parent, knowing the
parse ends, then reads it itself (an ``.xls`` holds at most 65,536 rows a sheet).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from lakegate.errors import ReaderError
from lakegate.formats._limits import MiB, ReaderLimits, refusal

__all__ = ["PdfContent", "probe_xls", "read_pdf"]

PdfContent = tuple[list[str], list[tuple[str, list[list[str | None]]]]]


def read_pdf(path: Path, limits: ReaderLimits, *, work_dir: Path | None = None) -> PdfContent:
    """``(page texts, [(table name, rows)])`` of ``path``, read by a budgeted child process."""
    result = _run("pdf", path, limits, work_dir=work_dir, kind="PDF")
    tables = [(str(name), rows) for name, rows in result["tables"]]
    return list(result["texts"]), tables


def probe_xls(path: Path, limits: ReaderLimits, *, work_dir: Path | None = None) -> None:
    """Parse the legacy workbook ``path`` once in a budgeted child; ``ReaderError`` if it fails."""
    _run("xls", path, limits, work_dir=work_dir, kind="workbook")


def _run(job: str, path: Path, limits: ReaderLimits, *, work_dir: Path | None, kind: str) -> dict[str, Any]:
    memory = limits.max_memory_bytes
    seconds = limits.max_seconds

    def budget() -> None:  # runs in the child between fork and exec
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        cpu = int(seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    with tempfile.TemporaryDirectory(prefix="lakegate-sandbox-", dir=work_dir) as scratch:
        out = Path(scratch) / "answer.json"
        try:
            done = subprocess.run(  # noqa: S603 - our own module, the path as one argument
                [sys.executable, "-m", "lakegate.formats._sandbox", job, str(path), str(out)],
                preexec_fn=budget,  # only setrlimit runs between fork and exec
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=seconds,
                env={**os.environ, "RUST_BACKTRACE": "0"},
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise refusal(path, f"reading this {kind} took more than {seconds:g} s", "max_seconds") from exc
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    needed = f"reading this {kind} needed more than {memory // MiB} MiB of memory"
    if "error" in result:
        if result.get("memory"):
            raise refusal(path, needed, "max_memory_bytes")
        raise ReaderError(str(path), str(result["error"]))
    if done.returncode != 0 or not result:
        signal = -done.returncode if done.returncode < 0 else None
        if signal in (9, 24):  # SIGKILL / SIGXCPU: the CPU budget
            raise refusal(path, f"reading this {kind} took more than {seconds:g} s of CPU", "max_seconds")
        how = f"signal {signal}" if signal else f"exit {done.returncode}"
        raise ReaderError(
            str(path),
            f"the {kind} reader failed ({how}): a malformed file, or one needing more than "
            f"{memory // MiB} MiB (readers.max_memory_bytes)",
        )
    return result


def _pdf(path: Path) -> dict[str, Any]:
    from lakegate.formats.pdf import extract

    texts, tables = extract(path)
    return {"texts": texts, "tables": tables}


def _xls(path: Path) -> dict[str, Any]:
    import fastexcel

    book = fastexcel.read_excel(path)
    for name in book.sheet_names:
        book.load_sheet(name, header_row=None)
    return {"ok": True}


def _main(job: str, source: str, target: str) -> int:
    path = Path(source)
    try:
        payload = _pdf(path) if job == "pdf" else _xls(path)
    except ReaderError as exc:
        payload = {"error": exc.reason}
    except MemoryError:
        payload = {"error": "out of memory", "memory": True}
    except RecursionError:
        payload = {"error": "cannot read: objects nested too deeply"}
    except BaseException as exc:  # noqa: BLE001 - a parser's failure (a Rust panic too): a reason
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        what = "PDF" if job == "pdf" else "workbook"
        payload = {"error": f"not a valid {what} ({type(exc).__name__}: {first[:300]})"}
    Path(target).write_text(json.dumps(payload), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], sys.argv[2], sys.argv[3]))
