"""The shapes of the quality app's JSON fields (``models.JSONField[Shape, Shape]`` in models.py).

Plain types only (models import this module). ``JSON_FIELDS`` lists every JSON field of the
app with the type a stored value must validate as, or its ``"module:attr"`` path
(``tests/server/test_json_shapes.py``).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["JSON_FIELDS", "CheckReportJson"]

# ``CheckReport.report``: a core ``lakegate.checks.CheckReport`` dumped as JSON (its JSON
# Schema is ``lakegate/checks/report.schema.json``); read back by key or with
# ``StoredReport.from_dict``. Stored rows validate as the core model, named by dotted path
# (importing lakegate.checks here would load polars with every model).
CheckReportJson = dict[str, Any]

JSON_FIELDS: Final[dict[str, object]] = {
    "quality.CheckReport.reference_versions": list[int],
    "quality.CheckReport.report": "lakegate.checks:CheckReport",
}
