"""What the predict route accepts: shared by the lean route (``serving.app``) and the Ninja
route that documents it (``training.api``). No side effects on import (``serving.app`` pins
model threads, so the Django side must not import it)."""

from __future__ import annotations

from typing import Any, Final

from lakegate.errors import InputError, PayloadTooLargeError

__all__ = ["MAX_BODY_BYTES", "MAX_RECORDS", "predict_records"]

MAX_BODY_BYTES: Final = 10 * 1024**2
MAX_RECORDS: Final = 10_000


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
