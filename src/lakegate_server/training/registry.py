"""Registry writes: register a trained model as a version, change the champion, audit it all.

A version's files live in ``.lakegate/artifacts/models/<name>/<number>/``: ``model/`` is the
verified artifact (its sha256 is recorded and checked on every load) and ``card.html`` the
model card. The folder is copied next to its final name and renamed into place inside the
transaction that numbers the version, while the model's row is locked.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max

import lakegate
from lakegate.errors import ConflictError, InputError, ModelError
from lakegate.models import Decision, artifact_sha256, decide_promotion, render_model_card
from lakegate.pipelines import PipelineResult, PipelineSpec
from lakegate_server.training.inputs import InputLineage
from lakegate_server.training.models import (
    ModelVersion,
    RegisteredModel,
    Stage,
    StageAction,
    StageChange,
)

__all__ = [
    "Registration",
    "champion_set",
    "code_version",
    "compared_metrics",
    "gate_verdicts",
    "model_version_register",
    "models_root",
]

log = logging.getLogger("lakegate.training")


@functools.cache
def _git_sha() -> str | None:
    """The commit of the lakegate checkout, when lakegate runs from one (not from a wheel)."""
    folder = Path(lakegate.__file__).resolve().parent
    if not (folder.parent.parent / "pyproject.toml").is_file():  # src/lakegate in a checkout
        return None  # installed: a repository around site-packages is not lakegate's
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, our own folder
            ["git", "-C", str(folder), "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and len(sha) == 40 else None


def code_version(libraries: dict[str, str]) -> dict[str, str]:
    """lakegate's version (and git commit when known) with the library versions a model records."""
    versions = {**libraries, "lakegate": lakegate.__version__}
    if sha := _git_sha():
        versions["git"] = sha
    return versions


def models_root(name: str) -> Path:
    return settings.LAKEGATE.paths.artifacts / "models" / name


def gate_verdicts(version: ModelVersion) -> list[dict[str, Any]]:
    """The quality gate's current word on the data ``version`` was trained on."""
    return [
        {"dataset": dv.dataset.name, "version": dv.number, "status": dv.status, "verdict": dv.verdict}
        for dv in version.dataset_versions.select_related("dataset").order_by("dataset__name", "number")
    ]


@dataclass(frozen=True)
class Registration:
    version: ModelVersion
    created: bool
    decision: Decision | None
    archived: ModelVersion | None = None

    @property
    def promoted(self) -> bool:
        return self.created and self.decision is not None and self.decision.promote


def _existing(model: RegisteredModel, run_id: int | None, sha256: str) -> ModelVersion | None:
    if run_id is not None and (found := model.versions.filter(run_id=run_id).first()):
        return found
    return model.versions.filter(sha256=sha256).first()


def _stage_files(result: PipelineResult, root: Path) -> Path:
    """Copy the model folder and write its card beside the final place; verify the copy."""
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".tmp-{uuid.uuid4().hex}"
    shutil.copytree(result.model_dir, staging / "model")
    copied = artifact_sha256(staging / "model")
    if copied != result.model_sha256:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(
            f"{result.model_dir}: the copy hashes to {copied[:12]}..., not {result.model_sha256[:12]}...; "
            "the model changed while it was being registered",
            detail={"expected": result.model_sha256, "actual": copied},
        )
    card = render_model_card(result.manifest, sha256=result.model_sha256)
    (staging / "card.html").write_text(card, encoding="utf-8")
    return staging


def model_version_register(
    *,
    spec: PipelineSpec,
    result: PipelineResult,
    lineage: list[InputLineage],
    run_id: int | None,
    created_by: str,
) -> Registration:
    """Register ``result`` as the next version of ``spec.name`` and apply the promotion rule.

    Idempotent: a version already registered by this run, or holding the same artifact,
    is returned as it is (``created`` False) and nothing is decided again.
    """
    model, _ = RegisteredModel.objects.get_or_create(name=spec.name)
    if found := _existing(model, run_id, result.model_sha256):
        return Registration(version=found, created=False, decision=None)
    root = models_root(spec.name)
    staging = _stage_files(result, root)
    try:
        return _register(spec, result, lineage, run_id, created_by, model, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when it was renamed into place


@transaction.atomic
def _register(
    spec: PipelineSpec,
    result: PipelineResult,
    lineage: list[InputLineage],
    run_id: int | None,
    created_by: str,
    model: RegisteredModel,
    staging: Path,
) -> Registration:
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if found := _existing(model, run_id, result.model_sha256):  # registered meanwhile
        return Registration(version=found, created=False, decision=None)
    number = (model.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    target = staging.parent / str(number)
    if target.exists():
        # Left by an attempt whose transaction rolled back: no row names this number.
        shutil.rmtree(target)
    staging.rename(target)
    project = settings.LAKEGATE.project_dir
    manifest = result.manifest
    version = ModelVersion.objects.create(
        model=model,
        number=number,
        stage=Stage.CANDIDATE,
        task=manifest.task,
        algorithm=manifest.algorithm,
        params=manifest.params,
        metrics=manifest.metrics,
        promotion_metrics=manifest.promotion_metrics(),
        robustness=manifest.robustness.model_dump(mode="json"),
        input_schema=[c.model_dump(mode="json") for c in manifest.input_schema],
        lineage=[item.to_dict() for item in lineage],
        config_hash=result.config_hash,
        inputs_fingerprint=_fingerprint(result),
        code_version=code_version(manifest.code_version),
        artifact_path=str((target / "model").relative_to(project)),
        sha256=result.model_sha256,
        card_path=str((target / "card.html").relative_to(project)),
        run_id=run_id,
        created_by=created_by,
    )
    version.dataset_versions.set([v for item in lineage for v in item.versions])
    gate = gate_verdicts(version)
    champion = model.versions.filter(stage=Stage.CHAMPION).exclude(pk=version.pk).first()
    decision = decide_promotion(
        spec.promotion, version.promotion_metrics, champion.promotion_metrics if champion else None
    )
    compared = compared_metrics(version, champion, decision)
    version.decision = {"promote": decision.promote, "reason": decision.reason, "compared": decision.compared}
    version.save(update_fields=["decision"])
    actor = f"run:{run_id}" if run_id is not None else created_by or "lakegate"
    StageChange.objects.create(
        model=model,
        version=version,
        action=StageAction.REGISTERED,
        from_stage="",
        to_stage=Stage.CANDIDATE,
        actor=actor,
        reason=decision.reason if not decision.promote else f"trained; {decision.reason}",
        compared=compared,
        gate=gate,
        run_id=run_id,
    )
    archived = None
    if decision.promote:
        archived = champion_set(
            model=model,
            version=version,
            action=StageAction.PROMOTED,
            actor=actor,
            reason=f"promotion rule: {decision.reason}",
            compared=compared,
            run_id=run_id,
        )
    log.info(
        "model version registered",
        extra={"model": model.name, "version": number, "promoted": decision.promote, "run": run_id},
    )
    return Registration(version=version, created=True, decision=decision, archived=archived)


def _fingerprint(result: PipelineResult) -> str:
    import hashlib

    text = "\n".join(f"{k}:{v}" for k, v in sorted(result.input_fingerprints.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def compared_metrics(
    version: ModelVersion, champion: ModelVersion | None, decision: Decision | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "candidate": {"version": version.number, "metrics": version.promotion_metrics},
        "champion": {"version": champion.number, "metrics": champion.promotion_metrics} if champion else None,
    }
    if decision is not None:
        data["rule"] = {"promote": decision.promote, "reason": decision.reason, "values": decision.compared}
    return data


def champion_set(
    *,
    model: RegisteredModel,
    version: ModelVersion,
    action: StageAction,
    actor: str,
    reason: str,
    compared: dict[str, Any],
    run_id: int | None = None,
) -> ModelVersion | None:
    """Make ``version`` the champion (the model row must be locked); archive the old one.

    Writes a stage change for each version that moves and bumps the model's generation,
    which tells the online route to load the new champion. Returns the archived version.
    """
    if version.stage == Stage.CHAMPION:
        raise ConflictError(f"{model.name} v{version.number} is already the champion")
    if not reason.strip():
        raise InputError("a stage change needs a reason", detail={"field": "reason"})
    gate = gate_verdicts(version)
    old = model.versions.filter(stage=Stage.CHAMPION).first()
    if old is not None:
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
    version.stage = Stage.CHAMPION
    version.save(update_fields=["stage"])
    RegisteredModel.objects.filter(pk=model.pk).update(generation=F("generation") + 1)
    return old
