"""The invariants ``lakegate chaos`` checks after every trial: plain functions over plain data.

Each takes what the engine sent (its manifest) and what the records say (a :class:`Snapshot`
the probe reads from the scratch project's catalog, runs table, registry and Delta tables)
and returns the violations it finds, each naming what is wrong. Nothing here talks to a
process or a database, so every check is unit-tested on hand-made bad states.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Sent",
    "Snapshot",
    "Violation",
    "check_all",
    "check_champion",
    "check_delta",
    "check_files",
    "check_models",
    "check_poison",
    "check_predict",
    "check_runs",
    "check_stream",
    "check_versions_decided",
]


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"invariant": self.invariant, "detail": self.detail}


@dataclass
class Sent:
    """What the engine handed the service and was told it took (its manifest)."""

    # file name -> (dataset, rows, sha256, bad): every file dropped or acknowledged (202)
    files: dict[str, tuple[str, int, str, bool]] = field(default_factory=dict)
    stream_dataset: str = "chaos_stream"
    stream_acked: list[int] = field(default_factory=list)  # record ids of 202-acknowledged pushes
    poison_runs: list[int] = field(default_factory=list)
    predict_failures: list[str] = field(default_factory=list)  # while a worker was killed
    predict_answers: int = 0


@dataclass
class Snapshot:
    """What the records say, as the probe read them (JSON-ready)."""

    now: float  # epoch seconds, the probe's clock
    lease_seconds: float
    # versions: dataset, number, sha256, rows, total_rows, status, source_name, delta_version
    versions: list[dict[str, Any]] = field(default_factory=list)
    # quarantine entries: id, dataset, source_name, code, reason, sha256, resolved_version
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    # per dataset: latest Delta version, rows at it, unreadable versions with their error
    delta: dict[str, dict[str, Any]] = field(default_factory=dict)
    stream_ids: list[int] = field(default_factory=list)
    # runs: id, kind, status, attempts, max_attempts, and times in epoch seconds
    runs: list[dict[str, Any]] = field(default_factory=list)
    # model versions: model, number, run_id
    model_versions: list[dict[str, Any]] = field(default_factory=list)
    # model -> {"version": int, "loadable": bool, "error": str}
    champions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        return cls(**data)


def check_files(sent: Sent, snap: Snapshot) -> list[Violation]:
    """Each file ingested exactly once or quarantined with a reason; rows in = lake + quarantined."""
    found: list[Violation] = []
    by_hash = Counter((v["dataset"], v["sha256"]) for v in snap.versions)
    for (dataset, sha), n in by_hash.items():
        if n > 1:
            found.append(Violation("no duplicate content hashes", f"{dataset}: {n} versions hold {sha[:12]}"))
    rows_in = rows_lake = rows_quarantined = 0
    for name, (dataset, rows, sha, bad) in sorted(sent.files.items()):
        versions = [v for v in snap.versions if v["dataset"] == dataset and v["sha256"] == sha]
        kept = [q for q in snap.quarantine if q["dataset"] == dataset and q["sha256"] == sha]
        open_entries = [q for q in kept if q.get("resolved_version") is None]
        rows_in += rows
        if versions and open_entries:
            found.append(
                Violation(
                    "ingested exactly once or quarantined",
                    f"{name}: in the lake as version {versions[0]['number']} and still quarantined "
                    f"({open_entries[0]['id']})",
                )
            )
        elif versions:
            if versions[0]["rows"] != rows:
                found.append(
                    Violation(
                        "rows in = rows in lake + quarantined",
                        f"{name}: {rows} rows sent, {versions[0]['rows']} in the lake",
                    )
                )
            rows_lake += versions[0]["rows"]
        elif open_entries:
            if len(open_entries) > 1:
                found.append(
                    Violation(
                        "ingested exactly once or quarantined",
                        f"{name}: quarantined {len(open_entries)} times",
                    )
                )
            if not all(str(q.get("reason") or "").strip() for q in open_entries):
                found.append(
                    Violation("quarantined with a reason", f"{name}: quarantine entry without a reason")
                )
            rows_quarantined += rows
        else:
            found.append(
                Violation(
                    "ingested exactly once or quarantined", f"{name}: neither in the lake nor quarantined"
                )
            )
        if bad and versions:
            found.append(
                Violation(
                    "ingested exactly once or quarantined", f"{name}: an unreadable file became a version"
                )
            )
    if rows_in != rows_lake + rows_quarantined and not found:
        found.append(
            Violation(
                "rows in = rows in lake + quarantined",
                f"{rows_in} rows sent, {rows_lake} in the lake + {rows_quarantined} quarantined",
            )
        )
    return found


def check_delta(snap: Snapshot) -> list[Violation]:
    """Every Delta version of every table reads; the table holds what the catalog says."""
    found: list[Violation] = []
    for dataset, info in sorted(snap.delta.items()):
        for version, error in sorted(info.get("unreadable", {}).items()):
            found.append(Violation("Delta table readable at every version", f"{dataset}@{version}: {error}"))
        catalog = [v for v in snap.versions if v["dataset"] == dataset]
        if catalog and info.get("rows") is not None:
            latest = max(catalog, key=lambda v: v["number"])
            if latest.get("total_rows") is not None and info["rows"] != latest["total_rows"]:
                found.append(
                    Violation(
                        "Delta table holds what the catalog says",
                        f"{dataset}: {info['rows']} rows in the table, catalog says {latest['total_rows']}",
                    )
                )
    return found


def check_versions_decided(snap: Snapshot) -> list[Violation]:
    """No version stays ``pending`` once the service is quiet: every commit reaches the gate."""
    return [
        Violation("every committed version is gated", f"{v['dataset']}@{v['number']} is still pending")
        for v in snap.versions
        if v["status"] == "pending"
    ]


def check_stream(sent: Sent, snap: Snapshot) -> list[Violation]:
    """Every acknowledged stream record is in the lake exactly once."""
    found: list[Violation] = []
    counts = Counter(snap.stream_ids)
    twice = sorted(i for i, n in counts.items() if n > 1)
    missing = sorted(set(sent.stream_acked) - set(counts))
    if twice:
        found.append(
            Violation("acknowledged records exactly once", f"{len(twice)} records twice, e.g. id {twice[0]}")
        )
    if missing:
        found.append(
            Violation(
                "acknowledged records exactly once",
                f"{len(missing)} acknowledged records missing, e.g. id {missing[0]}",
            )
        )
    return found


def check_runs(snap: Snapshot) -> list[Violation]:
    """No run running or queued past 3x the lease; attempts never beyond the limit."""
    found: list[Violation] = []
    limit = 3 * snap.lease_seconds
    for run in snap.runs:
        if run["attempts"] > run["max_attempts"]:
            found.append(
                Violation(
                    "attempts counted",
                    f"run {run['id']} ({run['kind']}): {run['attempts']} attempts > {run['max_attempts']}",
                )
            )
        if run["status"] == "running":
            since = run.get("lease_expires_at") or run.get("queued_at") or snap.now
            if snap.now - since > limit:
                found.append(
                    Violation(
                        "no run left running",
                        f"run {run['id']} ({run['kind']}) running, "
                        f"lease expired {snap.now - since:.0f} s ago",
                    )
                )
        elif run["status"] == "queued":
            since = run.get("queued_at") or snap.now
            if snap.now - since > limit:
                found.append(
                    Violation(
                        "no run left queued",
                        f"run {run['id']} ({run['kind']}) queued for {snap.now - since:.0f} s",
                    )
                )
    return found


def check_poison(sent: Sent, snap: Snapshot) -> list[Violation]:
    """A run that kills every worker that takes it fails after its retry limit instead of looping."""
    found: list[Violation] = []
    runs = {r["id"]: r for r in snap.runs}
    for run_id in sent.poison_runs:
        run = runs.get(run_id)
        if run is None:
            found.append(Violation("poison fails after the retry limit", f"run {run_id} is gone"))
        elif run["status"] != "failed":
            found.append(Violation("poison fails after the retry limit", f"run {run_id} is {run['status']}"))
        elif run["attempts"] != run["max_attempts"]:
            found.append(
                Violation(
                    "poison fails after the retry limit",
                    f"run {run_id} failed after {run['attempts']} of {run['max_attempts']} attempts",
                )
            )
    return found


def check_models(snap: Snapshot) -> list[Violation]:
    """One model version per successful training run: the one it registered, or (inputs and
    model unchanged, ``created`` false) the existing version it names; never two."""
    found: list[Violation] = []
    per_run = Counter(m["run_id"] for m in snap.model_versions if m.get("run_id") is not None)
    numbers = {m["number"] for m in snap.model_versions}
    rule = "one model version per successful training run"
    for run in snap.runs:
        if run["kind"] != "train":
            continue
        n = per_run.get(run["id"], 0)
        if n > 1:
            found.append(Violation(rule, f"run {run['id']} ({run['status']}): {n} model versions"))
        elif run["status"] == "succeeded" and run.get("created") and n != 1:
            found.append(Violation(rule, f"run {run['id']} created a version, {n} in the registry"))
        elif run["status"] == "succeeded" and run.get("model_version") not in numbers:
            found.append(
                Violation(
                    rule, f"run {run['id']} names version {run.get('model_version')}, not in the registry"
                )
            )
    return found


def check_champion(snap: Snapshot) -> list[Violation]:
    """The champion of every model loads."""
    return [
        Violation(
            "champion loadable", f"{name} v{info.get('version')}: {info.get('error') or 'did not load'}"
        )
        for name, info in sorted(snap.champions.items())
        if not info.get("loadable")
    ]


def check_predict(sent: Sent) -> list[Violation]:
    """The predict route answered throughout worker kills."""
    if not sent.predict_failures:
        return []
    return [
        Violation(
            "predict answers throughout a worker kill",
            f"{len(sent.predict_failures)} of {len(sent.predict_failures) + sent.predict_answers} "
            f"requests failed, e.g. {sent.predict_failures[0]}",
        )
    ]


def check_all(sent: Sent, snap: Snapshot) -> list[Violation]:
    return [
        *check_files(sent, snap),
        *check_delta(snap),
        *check_versions_decided(snap),
        *check_stream(sent, snap),
        *check_runs(snap),
        *check_poison(sent, snap),
        *check_models(snap),
        *check_champion(snap),
        *check_predict(sent),
    ]
