"""Read a scratch project's records into a chaos :class:`~.invariants.Snapshot` (JSON on stdout).

Run by the engine as ``python -m lakegate_server.chaos.probe`` with the scratch project's
environment, after every trial: the catalog, the runs table, the registry, and every Delta
version of every table (those not read before: ``--delta-from`` names where the last probe
stopped). The engine's own process never opens the scratch project's database.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def _epoch(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def _delta(config: Any, name: str, start: int, stream: str) -> tuple[dict[str, Any], list[int]]:
    from deltalake import DeltaTable

    location = config.lake_table(name)
    uri = str(location) if isinstance(location, Path) else location.uri
    info: dict[str, Any] = {"latest": None, "rows": None, "unreadable": {}}
    ids: list[int] = []
    try:
        table = DeltaTable(uri)
    except Exception as exc:  # noqa: BLE001 - the table itself does not open: all unreadable
        info["unreadable"]["latest"] = f"{type(exc).__name__}: {exc}"
        return info, ids
    latest = table.version()
    info["latest"] = latest
    for version in range(max(start, 0), latest + 1):
        try:
            table.load_as_version(version)
            rows = table.to_pyarrow_dataset().count_rows()
        except Exception as exc:  # noqa: BLE001 - any failure to read is the finding
            info["unreadable"][str(version)] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        if version == latest:
            info["rows"] = rows
            if name == stream:
                column = table.to_pyarrow_dataset().to_table(columns=["id"]).column("id")
                ids = [int(x) for x in column.to_pylist()]
    return info, ids


def snapshot(*, delta_from: dict[str, int], stream: str) -> dict[str, Any]:
    from lakegate_server._django import django_setup

    config = django_setup(migrate=False)
    from lakegate_server.datasets.models import DatasetVersion, QuarantinedFile
    from lakegate_server.jobs.models import Run
    from lakegate_server.training.models import ModelVersion
    from lakegate_server.training.predictions import model_load

    versions: list[dict[str, Any]] = [
        {
            "dataset": v.dataset.name,
            "number": v.number,
            "sha256": v.sha256,
            "rows": v.rows,
            "total_rows": v.total_rows,
            "status": v.status,
            "source_name": v.source_name,
            "delta_version": v.delta_version,
        }
        for v in DatasetVersion.objects.select_related("dataset").order_by("dataset__name", "number")
    ]
    quarantine = [
        {
            "id": q.id,
            "dataset": q.dataset,
            "source_name": q.source_name,
            "code": q.code,
            "reason": q.reason,
            "sha256": q.sha256,
            "resolved_version": q.resolved_version_id,
        }
        for q in QuarantinedFile.objects.order_by("created_at")
    ]
    runs = [
        {
            "id": r.pk,
            "kind": r.kind,
            "status": r.status,
            "attempts": r.attempts,
            "max_attempts": r.max_attempts,
            "queued_at": _epoch(r.queued_at),
            "lease_expires_at": _epoch(r.lease_expires_at),
            "heartbeat_at": _epoch(r.heartbeat_at),
            "last_error": r.last_error[:300],
            # a training run's outcome: did it register a version, and which one it names
            "created": (r.result or {}).get("created") if isinstance(r.result, dict) else None,
            "model_version": (r.result or {}).get("version") if isinstance(r.result, dict) else None,
        }
        for r in Run.objects.order_by("id")
    ]
    models: list[dict[str, Any]] = [
        {"model": m.model.name, "number": m.number, "run_id": m.run_id, "stage": m.stage}
        for m in ModelVersion.objects.select_related("model").order_by("id")
    ]
    champions: dict[str, dict[str, Any]] = {}
    for m in models:
        if m["stage"] != "champion":
            continue
        try:
            model_load(config=config, name=m["model"])
            champions[m["model"]] = {"version": m["number"], "loadable": True, "error": ""}
        except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
            champions[m["model"]] = {"version": m["number"], "loadable": False, "error": str(exc)[:300]}
    delta: dict[str, dict[str, Any]] = {}
    stream_ids: list[int] = []
    for name in sorted({v["dataset"] for v in versions}):
        delta[name], ids = _delta(config, name, delta_from.get(name, 0), stream)
        stream_ids.extend(ids)
    return {
        "now": time.time(),
        "lease_seconds": config.runs.lease_seconds,
        "versions": versions,
        "quarantine": quarantine,
        "delta": delta,
        "stream_ids": stream_ids,
        "runs": runs,
        "model_versions": models,
        "champions": champions,
    }


def main() -> None:
    args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    data = snapshot(delta_from=args.get("delta_from", {}), stream=args.get("stream", "chaos_stream"))
    sys.stdout.write(json.dumps(data, default=str))


if __name__ == "__main__":
    main()
