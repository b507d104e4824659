"""The one predict implementation: request body -> champion -> predictions -> response dict.

Both HTTP routes call :func:`predict_json`: the lean Starlette route of ``serving.app``
(champions from its in-memory cache) and the Ninja route of ``training.api`` that documents it
in OpenAPI (the champion loaded per request). No side effects on import and no Django URL
stack or Ninja: ``serving.app`` pins model threads, so the Django side imports this module,
never that one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from lakegate.errors import InputError, LakegateError, ModelError, NotFoundError, PayloadTooLargeError
from lakegate.models import Predictor, load_model
from lakegate_server.conf import project
from lakegate_server.metrics import prediction_failed, prediction_served
from lakegate_server.training.selectors import champion_ref

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_RECORDS",
    "Champion",
    "InvalidJsonError",
    "ModelUnavailableError",
    "load_champion",
    "predict_json",
    "predict_records",
]

MAX_BODY_BYTES: Final = 10 * 1024**2
MAX_RECORDS: Final = 10_000
MODEL_NAME: Final = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")  # pipeline names


class ModelUnavailableError(ModelError):
    """The champion exists but could not be loaded (a tampered or missing artifact)."""

    code = "model_unavailable"
    http_status = 503


class InvalidJsonError(InputError):
    code = "invalid_json"


@dataclass(frozen=True)
class Champion:
    name: str
    version: int
    generation: int
    sha256: str
    predictor: Predictor


def load_champion(name: str) -> Champion | None:
    """The champion of ``name``, verified (sha256) and loaded; None when it has none."""
    ref = champion_ref(config=project(), name=name)
    if ref is None:
        return None
    predictor = load_model(ref.path, ref.sha256)
    return Champion(
        name=name, version=ref.version, generation=ref.generation, sha256=ref.sha256, predictor=predictor
    )


def predict_records(payload: Any) -> dict[str, Any] | list[Any]:
    """One record (an object), or a list: ``[...]`` or ``{"records": [...]}``.

    Raises ``InputError`` (422) for anything else and ``PayloadTooLargeError`` (413) over
    ``MAX_RECORDS`` records.
    """
    if isinstance(payload, dict):
        if len(payload) == 1 and isinstance(payload.get("records"), list):
            records: list[Any] = payload["records"]
            payload = records
        else:
            return payload
    if not isinstance(payload, list):
        raise InputError('send a JSON object, a list of objects or {"records": [...]}', detail=[])
    if len(payload) > MAX_RECORDS:
        raise PayloadTooLargeError(f"at most {MAX_RECORDS} records per request")
    return payload


def predict_json(
    *,
    name: str,
    body: bytes,
    load: Callable[[str], Champion | None],
    record: Callable[[str, int, Any, dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """Predict the records in ``body`` with the champion of ``name`` that ``load`` returns.

    Returns ``{"model", "version", "predictions", ["probabilities"]}``. Raises
    ``NotFoundError`` (404: no such model or no champion), ``ModelUnavailableError`` (503:
    the champion did not load), ``PayloadTooLargeError`` (413), ``InvalidJsonError`` and
    ``InputError`` (422, naming each bad field in ``detail``). Counted in ``/metrics``.
    ``record`` (the online route's :class:`~lakegate_server.serving.record.PredictionRecorder`)
    is offered each answered request.
    """
    began = time.perf_counter()
    try:
        answer = _predict_json(name=name, body=body, load=load, record=record)
    except LakegateError as exc:
        prediction_failed(exc.code)
        raise
    prediction_served(name, len(answer["predictions"]), time.perf_counter() - began)
    return answer


def _predict_json(
    *,
    name: str,
    body: bytes,
    load: Callable[[str], Champion | None],
    record: Callable[[str, int, Any, dict[str, Any]], Any] | None,
) -> dict[str, Any]:
    if not MODEL_NAME.match(name):
        raise NotFoundError(f"no model named {name!r}", detail={"model": name})
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"request body over {MAX_BODY_BYTES} bytes")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJsonError(f"request body is not valid JSON: {exc}") from exc
    records = predict_records(payload)
    try:
        champion = load(name)
    except LakegateError as exc:
        raise ModelUnavailableError(
            f"model {name!r} could not be loaded: {exc.message}", detail={"model": name}
        ) from exc
    if champion is None:
        raise NotFoundError(f"model {name!r} has no champion to serve", detail={"model": name})
    answer = {"model": name, "version": champion.version, **champion.predictor.predict(records).to_dict()}
    if record is not None:
        record(name, champion.version, records, answer)
    return answer
