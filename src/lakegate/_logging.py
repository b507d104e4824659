"""JSON-lines logging: one file per component (web, worker, scheduler, cli) and one per run."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "read_json_lines"]

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: ts, level, logger, msg, plus ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.entry(record), default=str, ensure_ascii=False)

    def entry(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as the JSON-safe dict :meth:`format` writes."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(
            {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS and not k.startswith("_")}
        )
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        safe: dict[str, Any] = json.loads(json.dumps(entry, default=str, ensure_ascii=False))
        return safe


def configure_logging(
    component: str,
    *,
    logs_dir: Path | None,
    level: str = "INFO",
    verbose: bool = False,
) -> None:
    """Send logs to ``<logs_dir>/<component>.jsonl`` and errors (everything, if verbose) to stderr.

    Safe to call again: handlers installed by an earlier call are replaced.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_lakegate", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else level.upper())

    console = logging.StreamHandler(sys.stderr)
    # Commands report problems themselves (one line on stderr); the log file has the rest.
    console.setLevel(logging.DEBUG if verbose else logging.ERROR)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console._lakegate = True  # type: ignore[attr-defined]
    root.addHandler(console)

    if logs_dir is not None:
        logs_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(logs_dir / f"{component}.jsonl", encoding="utf-8")
        file_handler.setFormatter(JsonFormatter())
        file_handler._lakegate = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)


def read_json_lines(path: Path, *, skip: int = 0) -> list[dict[str, Any]]:
    """Read a JSON-lines log, skipping ``skip`` lines; a torn last line is ignored."""
    if not path.is_file():
        return []
    entries: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if index < skip or not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                # The writer may be mid-line; the next read picks the line up whole.
                break
    return entries
