"""OpenLineage run events (START / COMPLETE / FAIL) for lakegate's runs, as the spec's JSON.

Each run becomes one OpenLineage run (a ``runId`` derived from the project and the run id, so
START and COMPLETE match), its job is ``<kind>.<subject>`` (``train.churn``,
``ingest.customers``) in ``openlineage.namespace``, and its inputs and outputs are datasets
named like lakegate's (a dataset, ``<model>_predictions``, ``models/<model>``). No client
library: the events are plain dicts (the spec's ``RunEvent``), posted with the notifiers'
SSRF guards (:func:`lakegate.notify.safe_post`, the project's ``outbound:`` policy).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

__all__ = ["PRODUCER", "SCHEMA_URL", "post_event", "run_datasets", "run_event"]

PRODUCER: Final = "https://github.com/lakegate/lakegate"
SCHEMA_URL: Final = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_ERROR_FACET: Final = (
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
)
_NAMESPACE_RUNS: Final = uuid.UUID("6f1c1d1e-4b7a-4c55-9e59-4c0c6b1b7a10")

EventType = Literal["START", "COMPLETE", "FAIL"]


def run_datasets(
    kind: str, params: Mapping[str, Any], result: Mapping[str, Any] | None = None
) -> tuple[list[str], list[str]]:
    """(input dataset names, output dataset names) of a run, from its kind, params and result."""
    result = result or {}
    model = params.get("model") or params.get("pipeline") or result.get("model")
    inputs: list[str] = []
    outputs: list[str] = []
    if kind == "ingest":
        outputs = [params["dataset"]]
    elif kind in {"check", "export"}:
        inputs = [params["dataset"]]
    elif kind == "train":
        inputs = [str(i.get("dataset")) for i in result.get("inputs") or [] if isinstance(i, Mapping)]
        outputs = [f"models/{model}"]
    elif kind == "predict":
        inputs = [params["dataset"], f"models/{model}"]
        outputs = [f"{str(model).lower()}_predictions"]
    elif kind == "scoring_drift":
        inputs = [f"{str(model).lower()}_online_predictions", f"models/{model}"]
    elif kind == "performance":
        inputs = [
            f"{str(model).lower()}_online_predictions",
            *([result["labels"]] if result.get("labels") else []),
        ]
    elif kind == "source":
        outputs = [str(result.get("dataset") or params.get("name"))]
    return inputs, outputs


def _subject(kind: str, params: Mapping[str, Any]) -> str:
    for key in ("pipeline", "model", "dataset", "name"):
        if params.get(key):
            return f"{kind}.{params[key]}"
    return kind


def run_event(
    event_type: EventType,
    *,
    namespace: str,
    project: str,
    run_id: int,
    kind: str,
    params: Mapping[str, Any],
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One OpenLineage ``RunEvent`` for lakegate run ``run_id`` of ``kind``."""
    inputs, outputs = run_datasets(kind, params, result)
    facets: dict[str, Any] = {}
    if event_type == "FAIL" and error:
        facets["errorMessage"] = {
            "_producer": PRODUCER,
            "_schemaURL": _ERROR_FACET,
            "message": error[:4000],
            "programmingLanguage": "python",
        }
    return {
        "eventType": event_type,
        "eventTime": (at or datetime.now(UTC)).isoformat(),
        "run": {"runId": str(uuid.uuid5(_NAMESPACE_RUNS, f"{project}:{run_id}")), "facets": facets},
        "job": {"namespace": namespace, "name": _subject(kind, params), "facets": {}},
        "inputs": [{"namespace": namespace, "name": name, "facets": {}} for name in inputs],
        "outputs": [{"namespace": namespace, "name": name, "facets": {}} for name in outputs],
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
    }


def post_event(
    url: str, event: Mapping[str, Any], *, outbound: Mapping[str, Any], api_key: str | None
) -> int:
    """POST ``event`` to an OpenLineage endpoint (``/api/v1/lineage``); the HTTP status.

    The URL goes through the notifiers' SSRF checks with the project's ``outbound:`` policy
    (public addresses only unless it allows more); ``NotificationError`` when refused or down.
    """
    import json

    from lakegate._outbound import OutboundPolicy
    from lakegate.notify import safe_post

    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    policy = OutboundPolicy.model_validate(dict(outbound))
    response = safe_post(url, content=json.dumps(event).encode(), headers=headers, policy=policy)
    return response.status_code
