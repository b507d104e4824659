"""Read one PDF in a child process, under the time and memory budget of :class:`ReaderLimits`.

A PDF's cost cannot be told from its size: one FlateDecode stream of a few kilobytes can
expand to gigabytes, one page can hold millions of drawing operations for the table
finder. pdfium and pdfminer give no hook to count either, so the PDF is read in a child
process (``python -m lakegate.formats._pdfworker``) with ``RLIMIT_DATA`` (its heap) and
``RLIMIT_CPU`` set and a wall-clock timeout; the parent gets the page texts and the table
cells as JSON, or a reason. A child that runs out of memory, time, or crashes in native
code is a ``ReaderError`` naming the file and the limit; the parent process is never hurt.
The child imports neither polars nor lakegate's readers: only pypdfium2 and pdfplumber.
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

__all__ = ["PdfContent", "read_pdf"]

PdfContent = tuple[list[str], list[tuple[str, list[list[str | None]]]]]


def read_pdf(path: Path, limits: ReaderLimits, *, work_dir: Path | None = None) -> PdfContent:
    """``(page texts, [(table name, rows)])`` of ``path``, read by a budgeted child process."""
    with tempfile.TemporaryDirectory(prefix="lakegate-pdf-", dir=work_dir) as scratch:
        out = Path(scratch) / "content.json"
        memory = limits.max_memory_bytes
        seconds = limits.max_seconds

        def budget() -> None:  # runs in the child, before it imports anything
            import resource

            resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
            cpu = int(seconds) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

        env = {**os.environ, "PYTHONHASHSEED": "0"}
        try:
            done = subprocess.run(  # noqa: S603 - our own module, the path as one argument
                [sys.executable, "-m", "lakegate.formats._pdfworker", str(path), str(out)],
                preexec_fn=budget,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=seconds,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise refusal(path, f"reading this PDF took more than {seconds:g} s", "max_seconds") from exc
        result: dict[str, Any] = {}
        if out.exists():
            result = json.loads(out.read_text(encoding="utf-8"))
        if "error" in result:
            if result.get("memory"):
                raise refusal(
                    path,
                    f"reading this PDF needed more than {memory // MiB} MiB of memory",
                    "max_memory_bytes",
                )
            raise ReaderError(str(path), str(result["error"]))
        if done.returncode != 0 or "texts" not in result:
            signal = -done.returncode if done.returncode < 0 else None
            if signal in (9, 24):  # SIGKILL / SIGXCPU: the CPU budget
                raise refusal(path, f"reading this PDF took more than {seconds:g} s of CPU", "max_seconds")
            how = f"signal {signal}" if signal else f"exit {done.returncode}"
            raise ReaderError(
                str(path),
                f"the PDF reader failed ({how}): a malformed PDF, or one needing more than "
                f"{memory // MiB} MiB (readers.max_memory_bytes)",
            )
        tables = [(str(name), rows) for name, rows in result["tables"]]
        return list(result["texts"]), tables


def _main(source: str, target: str) -> int:
    path = Path(source)
    try:
        from lakegate.formats.pdf import extract

        texts, tables = extract(path)
        payload: dict[str, Any] = {"texts": texts, "tables": tables}
    except ReaderError as exc:
        payload = {"error": exc.reason}
    except MemoryError:
        payload = {"error": "out of memory", "memory": True}
    except RecursionError:
        payload = {"error": "cannot read: objects nested too deeply"}
    except Exception as exc:  # noqa: BLE001 - a parser's failure on hostile bytes: a reason, not a crash
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        payload = {"error": f"not a valid PDF ({type(exc).__name__}: {first})"}
    Path(target).write_text(json.dumps(payload), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], sys.argv[2]))
