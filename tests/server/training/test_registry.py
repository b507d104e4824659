"""Champion changes by hand: promote and rollback, each with an append-only audit trail."""

from __future__ import annotations

import pytest

from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate_server.conf import project
from lakegate_server.training.models import RegisteredModel, StageChange
from lakegate_server.training.promotion import model_promote, model_rollback
from lakegate_server.training.selectors import champion_generations, champion_ref, model_audit
from tests.server.training.data import CHURN

pytestmark = pytest.mark.django_db


def stages(name: str = "churn") -> dict[int, str]:
    model = RegisteredModel.objects.get(name=name)
    return dict(model.versions.values_list("number", "stage"))


def test_promote_archives_the_champion_and_records_why(registry, pipelines):
    pipelines(churn=CHURN)
    registry("churn", ["champion", "candidate"])
    model_promote(
        config=project(), name="churn", number=2, reason="better on last week's data", actor="user:ann"
    )
    assert stages() == {1: "archived", 2: "champion"}
    promoted, archived = model_audit(name="churn")[:2]
    assert (promoted.action, promoted.version.number, promoted.actor) == ("promoted", 2, "user:ann")
    assert promoted.reason == "better on last week's data"
    assert promoted.compared["candidate"]["version"] == 2
    assert promoted.compared["champion"]["version"] == 1
    assert "rule" in promoted.compared, "what the pipeline's rule would have said is kept"
    assert (archived.action, archived.version.number) == ("archived", 1)
    assert archived.reason == "replaced by v2: better on last week's data"
    assert champion_generations() == {"churn": 1}
    assert champion_ref(config=project(), name="churn").version == 2


def test_promote_needs_a_reason_and_a_non_champion(registry):
    registry("churn", ["champion", "candidate"])
    with pytest.raises(InputError, match="reason"):
        model_promote(config=project(), name="churn", number=2, reason="  ", actor="cli")
    with pytest.raises(ConflictError, match="already the champion"):
        model_promote(config=project(), name="churn", number=1, reason="again", actor="cli")
    with pytest.raises(NotFoundError):
        model_promote(config=project(), name="churn", number=9, reason="x", actor="cli")
    with pytest.raises(NotFoundError):
        model_promote(config=project(), name="nope", number=1, reason="x", actor="cli")
    assert stages() == {1: "champion", 2: "candidate"}


def test_rollback_restores_the_previous_champion(registry):
    registry("churn", ["champion", "candidate", "candidate"])
    model_promote(config=project(), name="churn", number=2, reason="try v2", actor="cli")
    model_promote(config=project(), name="churn", number=3, reason="try v3", actor="cli")
    restored = model_rollback(config=project(), name="churn", reason="v3 misbehaves", actor="cli")
    assert restored.number == 2
    assert stages() == {1: "archived", 2: "champion", 3: "archived"}
    latest = model_audit(name="churn")[0]
    assert (latest.action, latest.version.number, latest.reason) == ("rolled_back", 2, "v3 misbehaves")
    model_rollback(config=project(), name="churn", number=1, reason="back to the first", actor="cli")
    assert stages()[1] == "champion"


def test_rollback_only_to_a_former_champion(registry):
    registry("churn", ["champion", "candidate"])
    with pytest.raises(ConflictError, match="no former champion"):
        model_rollback(config=project(), name="churn", reason="x", actor="cli")
    with pytest.raises(ConflictError, match="never champion; promote it instead"):
        model_rollback(config=project(), name="churn", number=2, reason="x", actor="cli")


def test_the_audit_log_is_append_only(registry):
    registry("churn", ["champion"])
    change = StageChange.objects.get()
    change.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        change.save()
    with pytest.raises(TypeError, match="append-only"):
        change.delete()
    with pytest.raises(TypeError, match="append-only"):
        StageChange.objects.update(reason="x")
    with pytest.raises(TypeError, match="append-only"):
        StageChange.objects.all().delete()
    assert StageChange.objects.get().reason == "made by the fixture"
