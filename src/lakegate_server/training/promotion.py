"""Who is champion: the promotion rule's decision applied, and promotions and rollbacks by hand.

Every change of stage goes through :func:`champion_set`, with the model row locked: it
archives the old champion, writes a stage change (who, why, the metrics compared and the
gate's word on the training data) for each version that moves, and bumps the model's
generation, which tells the online route to load the new champion.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction
from django.db.models import F

from lakegate.config import Settings
from lakegate.errors import ConflictError, InputError, LakegateError, NotFoundError
from lakegate.models import Decision, decide_promotion
from lakegate.pipelines import PipelineSpec
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.ledger.models import Action
from lakegate_server.ledger.services import decision_record
from lakegate_server.training.models import ModelVersion, RegisteredModel, Stage, StageAction, StageChange
from lakegate_server.training.selectors import pipeline_get
from lakegate_server.training.shapes import Compared, GateVerdict

__all__ = [
    "champion_set",
    "compared_metrics",
    "gate_verdicts",
    "model_promote",
    "model_rollback",
    "promotion_rule_apply",
]


def gate_verdicts(version: ModelVersion) -> list[GateVerdict]:
    """The quality gate's current word on the data ``version`` was trained on."""
    return [
        {"dataset": dv.dataset.name, "version": dv.number, "status": dv.status, "verdict": dv.verdict}
        for dv in version.dataset_versions.select_related("dataset").order_by("dataset__name", "number")
    ]


def compared_metrics(
    version: ModelVersion, champion: ModelVersion | None, decision: Decision | None
) -> Compared:
    data: Compared = {
        "candidate": {"version": version.number, "metrics": version.promotion_metrics},
        "champion": {"version": champion.number, "metrics": champion.promotion_metrics} if champion else None,
    }
    if decision is not None:
        data["rule"] = {"promote": decision.promote, "reason": decision.reason, "values": decision.compared}
    return data


def promotion_rule_apply(
    *, spec: PipelineSpec, model: RegisteredModel, version: ModelVersion, actor: str, run_id: int | None
) -> tuple[Decision, ModelVersion | None]:
    """Record a newly registered ``version`` and let the pipeline's promotion rule decide on it.

    The model row must be locked. Writes the ``registered`` stage change with the rule's
    reason, and promotes the version when the rule says so. Returns the decision and the
    champion it archived (if any).
    """
    champion = model.versions.filter(stage=Stage.CHAMPION).exclude(pk=version.pk).first()
    decision = decide_promotion(
        spec.promotion, version.promotion_metrics, champion.promotion_metrics if champion else None
    )
    if decision.promote and (blocked := blocked_inputs(version)):
        # The data was rejected or revoked while the model trained on it: the rule's say-so
        # is not enough; only an admin's override promotes such a version.
        decision = replace(
            decision,
            promote=False,
            reason=f"not promoted: trained on data no longer accepted: {_blocked_text(blocked)}",
        )
    compared = compared_metrics(version, champion, decision)
    version.decision = {"promote": decision.promote, "reason": decision.reason, "compared": decision.compared}
    version.save(update_fields=["decision"])
    StageChange.objects.create(
        model=model,
        version=version,
        action=StageAction.REGISTERED,
        from_stage="",
        to_stage=Stage.CANDIDATE,
        actor=actor,
        reason=decision.reason if not decision.promote else f"trained; {decision.reason}",
        compared=compared,
        gate=gate_verdicts(version),
        run_id=run_id,
    )
    if not decision.promote:
        return decision, None
    archived = champion_set(
        model=model,
        version=version,
        action=StageAction.PROMOTED,
        actor=actor,
        reason=f"promotion rule: {decision.reason}",
        compared=compared,
        run_id=run_id,
    )
    return decision, archived


def blocked_inputs(version: ModelVersion) -> list[DatasetVersion]:
    """The dataset versions ``version`` was trained on that the ledger no longer admits."""
    return [
        dv
        for dv in version.dataset_versions.select_related("dataset").order_by("dataset__name", "number")
        if dv.status != VersionStatus.ACCEPTED
    ]


def _blocked_text(blocked: list[DatasetVersion]) -> str:
    return ", ".join(f"{dv.dataset.name} v{dv.number} ({dv.status})" for dv in blocked)


def champion_set(
    *,
    model: RegisteredModel,
    version: ModelVersion,
    action: StageAction,
    actor: str,
    reason: str,
    compared: Compared,
    run_id: int | None = None,
    override: bool = False,
) -> ModelVersion | None:
    """Make ``version`` the champion (the model row must be locked); archive the old one.

    Refused when ``version`` was trained on data the ledger no longer admits (rejected or
    revoked since), unless ``override`` (an admin's call, with a reason; the ledger keeps
    both). Writes a decision and a stage change for each version that moves and bumps the
    model's generation, which tells the online route to load the new champion. Returns the
    archived version.
    """
    if version.stage == Stage.CHAMPION:
        raise ConflictError(f"{model.name} v{version.number} is already the champion")
    if not reason.strip():
        raise InputError("a stage change needs a reason", detail={"field": "reason"})
    blocked = blocked_inputs(version)
    if blocked and not override:
        raise ConflictError(
            f"{model.name} v{version.number} was trained on data no longer accepted: "
            f"{_blocked_text(blocked)}; an admin may override with a reason",
            detail={"blocked": [{"dataset": dv.dataset.name, "version": dv.number} for dv in blocked]},
        )
    gate = gate_verdicts(version)
    old = model.versions.filter(stage=Stage.CHAMPION).first()
    if old is not None:
        decision_record(
            action=Action.ARCHIVE,
            model_version=old,
            outcome=Stage.ARCHIVED,
            actor=actor,
            reason=f"replaced by v{version.number}: {reason}",
        )
        old.stage = Stage.ARCHIVED
        old.save(update_fields=["stage"])
        StageChange.objects.create(
            model=model,
            version=old,
            action=StageAction.ARCHIVED,
            from_stage=Stage.CHAMPION,
            to_stage=Stage.ARCHIVED,
            actor=actor,
            reason=f"replaced by v{version.number}: {reason}",
            compared=compared,
            gate=gate_verdicts(old),
            run_id=run_id,
        )
    StageChange.objects.create(
        model=model,
        version=version,
        action=action,
        from_stage=version.stage,
        to_stage=Stage.CHAMPION,
        actor=actor,
        reason=reason,
        compared=compared,
        gate=gate,
        run_id=run_id,
    )
    decision_record(
        action=Action.ROLLBACK if action == StageAction.ROLLED_BACK else Action.PROMOTE,
        model_version=version,
        outcome=Stage.CHAMPION,
        actor=actor,
        reason=reason,
        detail={"override": True, "blocked": _blocked_text(blocked)} if blocked else {},
    )
    version.stage = Stage.CHAMPION
    version.save(update_fields=["stage"])
    RegisteredModel.objects.filter(pk=model.pk).update(generation=F("generation") + 1)
    return old


def _locked(name: str) -> RegisteredModel:
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    if model is None:
        raise NotFoundError(f"no model named {name!r}", detail={"model": name})
    return model


def _version(model: RegisteredModel, number: int) -> ModelVersion:
    version = model.versions.filter(number=number).first()
    if version is None:
        raise NotFoundError(
            f"model {model.name!r} has no version {number}", detail={"model": model.name, "version": number}
        )
    return version


def _rule_opinion(
    config: Settings, name: str, version: ModelVersion, champion: ModelVersion | None
) -> Compared:
    """What the pipeline's promotion rule would say (recorded with a manual change)."""
    try:
        spec = pipeline_get(config=config, name=name)
    except LakegateError:
        return compared_metrics(version, champion, None)
    decision = decide_promotion(
        spec.promotion, version.promotion_metrics, champion.promotion_metrics if champion else None
    )
    return compared_metrics(version, champion, decision)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InputError("say why: a promotion or rollback needs a reason", detail={"field": "reason"})
    return reason


@transaction.atomic
def model_promote(
    *, config: Settings, name: str, number: int, reason: str, actor: str, override: bool = False
) -> ModelVersion:
    """Make version ``number`` the champion by hand (the old champion is archived).

    ``override`` promotes a version trained on data rejected or revoked since (an admin's call).
    """
    reason = _reason(reason)
    model = _locked(name)
    version = _version(model, number)
    champion = model.versions.filter(stage=Stage.CHAMPION).first()
    compared = _rule_opinion(config, name, version, champion)
    champion_set(
        model=model,
        version=version,
        action=StageAction.PROMOTED,
        actor=actor,
        reason=reason,
        compared=compared,
        override=override,
    )
    return version


def _former_champion(model: RegisteredModel, exclude: int | None) -> ModelVersion | None:
    """The version that was champion most recently before the current one."""
    changes = StageChange.objects.filter(model=model, action=StageAction.ARCHIVED).order_by(
        "-created_at", "-id"
    )
    for change in changes.select_related("version"):
        if change.version.stage == Stage.ARCHIVED and change.version_id != exclude:
            return change.version
    return None


@transaction.atomic
def model_rollback(
    *,
    config: Settings,
    name: str,
    number: int | None = None,
    reason: str,
    actor: str,
    override: bool = False,
) -> ModelVersion:
    """Restore a former champion (version ``number``, default: the one before the current)."""
    reason = _reason(reason)
    model = _locked(name)
    champion = model.versions.filter(stage=Stage.CHAMPION).first()
    if number is None:
        version = _former_champion(model, exclude=champion.pk if champion else None)
        if version is None:
            raise ConflictError(f"model {name!r} has no former champion to roll back to")
    else:
        version = _version(model, number)
        was_champion = StageChange.objects.filter(version=version, to_stage=Stage.CHAMPION).exists()
        if not was_champion:
            raise ConflictError(
                f"{name} v{number} was never champion; promote it instead",
                detail={"model": name, "version": number, "stage": version.stage},
            )
    compared = _rule_opinion(config, name, version, champion)
    champion_set(
        model=model,
        version=version,
        action=StageAction.ROLLED_BACK,
        actor=actor,
        reason=reason,
        compared=compared,
        override=override,
    )
    return version
