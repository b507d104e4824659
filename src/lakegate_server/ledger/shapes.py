"""The shape of ``Decision.detail`` (``models.JSONField[Shape, Shape]`` in models.py).

Plain types only (models import this module). ``JSON_FIELDS`` lists every JSON field of the
app with the type a stored value must validate as (``tests/server/test_json_shapes.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from pydantic import ConfigDict, with_config

# typing_extensions' TypedDict: pydantic validates these on Python 3.11 (the shapes test).
from typing_extensions import TypedDict

__all__ = ["JSON_FIELDS", "BlockedInput", "DecisionDetail", "DecisionDict", "DecisionSubject"]

# Stored values may hold only the keys declared here (the shapes test refuses others).
_CLOSED = ConfigDict(extra="forbid")


@with_config(_CLOSED)
class BlockedInput(TypedDict):
    dataset: str
    version: int


@with_config(_CLOSED)
class DecisionDetail(TypedDict, total=False):
    """What a decision points at or carried; each key is written by one kind of decision."""

    report_id: int  # a verdict: the CheckReport it came from
    dataset: str  # an approval or rejection by hand: the subject as named
    version: int
    status: str  # ... and the status it had before
    revoked: int  # a revoke: the decision it withdrew
    model: str  # a stage change by hand: the subject as named
    stage: str  # ... and the stage it had before
    # A refused promotion: the inputs no longer accepted; a forced one (override): them as text.
    blocked: list[BlockedInput] | str
    override: bool
    quarantine_id: int  # a verdict on a file that was quarantined
    reason_code: str
    stage_change: int  # a model decision backfilled from the stage audit log


class DecisionSubject(TypedDict):
    kind: str  # dataset or model
    name: str
    version: int


class DecisionDict(TypedDict):
    """A decision as the API, the CLI and the dashboard show it (``Decision.to_dict``)."""

    id: int
    action: str
    subject: DecisionSubject
    outcome: str
    verdict: str
    actor: str
    reason: str
    replaces: int | None
    detail: DecisionDetail
    created_at: datetime


JSON_FIELDS: Final[dict[str, object]] = {
    "ledger.Decision.detail": DecisionDetail,
}
