"""Registry writes: register a trained model as a version and apply the pipeline's promotion rule.

A version's files live in the project's storage under ``artifacts/models/<name>/<attempt>/``
(``.lakegate/`` unless ``storage:`` names an object store every host reads): ``model/`` is
the verified artifact (its sha256 is recorded and checked on every load) and ``card.html``
the model card. The folder is uploaded under a fresh key with its manifest last, and becomes
a version only when the row naming it commits (the model's row is locked while numbering),
so a worker that dies half-way leaves at most an unreferenced folder, never a half model.
Stage changes (the rule's promotion included) go through :mod:`lakegate_server.training.promotion`.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, cast

from django.db import transaction
from django.db.models import Max

import lakegate
from lakegate.config import Settings
from lakegate.errors import ModelError
from lakegate.models import Decision, ModelManifest, artifact_sha256, render_model_card
from lakegate.models._mlflow import MlflowImport
from lakegate.pipelines import PipelineResult, PipelineSpec
from lakegate.storage import Area, join_key, open_storage, unique_key, upload_folder
from lakegate_server.training.inputs import InputLineage
from lakegate_server.training.models import ModelVersion, RegisteredModel, Stage, StageAction, StageChange
from lakegate_server.training.promotion import promotion_rule_apply
from lakegate_server.training.shapes import RegistrationDecision, Robustness

__all__ = [
    "ABANDONED_AFTER_SECONDS",
    "Registration",
    "code_version",
    "model_attempts_sweep",
    "model_version_import",
    "model_version_register",
]

log = logging.getLogger("lakegate.training")

# An attempt folder no version row names is deleted once its newest file is this old: the
# manifest is its last file and the row commits right after it, so an hour is far beyond
# any registration still in progress.
ABANDONED_AFTER_SECONDS: Final = 3600.0


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
    """Copy the model folder and write its card into a scratch folder; verify the copy."""
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
    config: Settings,
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
    staging = _stage_files(result, config.paths.state / "tmp")
    try:
        prefix = unique_key(Area.MODELS, spec.name)
        upload_folder(open_storage(config), staging, prefix)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _register(spec, result, lineage, run_id, created_by, model, prefix)


@transaction.atomic
def _register(
    spec: PipelineSpec,
    result: PipelineResult,
    lineage: list[InputLineage],
    run_id: int | None,
    created_by: str,
    model: RegisteredModel,
    prefix: str,
) -> Registration:
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if found := _existing(model, run_id, result.model_sha256):  # registered meanwhile
        return Registration(version=found, created=False, decision=None)
    version = _candidate_row(
        model,
        result.manifest,
        sha256=result.model_sha256,
        prefix=prefix,
        lineage=[item.to_dict() for item in lineage],
        config_hash=result.config_hash,
        inputs_fingerprint=_fingerprint(result),
        code_version=code_version(result.manifest.code_version),
        run_id=run_id,
        created_by=created_by,
    )
    number = version.number
    version.dataset_versions.set([v for item in lineage for v in item.versions])
    actor = f"run:{run_id}" if run_id is not None else created_by or "lakegate"
    decision, archived = promotion_rule_apply(
        spec=spec, model=model, version=version, actor=actor, run_id=run_id
    )
    log.info(
        "model version registered",
        extra={"model": model.name, "version": number, "promoted": decision.promote, "run": run_id},
    )
    return Registration(version=version, created=True, decision=decision, archived=archived)


def _candidate_row(
    model: RegisteredModel, manifest: ModelManifest, *, sha256: str, prefix: str, **fields: Any
) -> ModelVersion:
    """The next version of ``model`` as a candidate: what the artifact's manifest says, its
    folder under ``prefix``, and ``fields`` (lineage, hashes, run, author) from the caller.
    Call it with the model row locked (``select_for_update``): the number is the next one."""
    return ModelVersion.objects.create(
        model=model,
        number=(model.versions.aggregate(top=Max("number"))["top"] or 0) + 1,
        stage=Stage.CANDIDATE,
        task=manifest.task,
        algorithm=manifest.algorithm,
        params=manifest.params,
        metrics=manifest.metrics,
        promotion_metrics=manifest.promotion_metrics(),
        # A RobustnessReport dumped as JSON is the Robustness shape (the shapes test checks rows).
        robustness=cast("Robustness", manifest.robustness.model_dump(mode="json")),
        input_schema=[c.model_dump(mode="json") for c in manifest.input_schema],
        artifact_path=join_key(prefix, "model"),
        sha256=sha256,
        card_path=join_key(prefix, "card.html"),
        **fields,
    )


def _fingerprint(result: PipelineResult) -> str:
    import hashlib

    text = "\n".join(f"{k}:{v}" for k, v in sorted(result.input_fingerprints.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def model_attempts_sweep(*, config: Settings, older_than: float = ABANDONED_AFTER_SECONDS) -> list[str]:
    """Delete model folders no version row names (a worker died between upload and commit).

    Such a folder was never a version: nothing reads it (readers follow rows), and without
    its manifest it is not even a committed folder. Deleted once its newest file is
    ``older_than`` seconds old, so an upload in progress is left alone. Returns the prefixes.
    """
    storage = open_storage(config)
    named = _named_folders(config)
    now = datetime.now(UTC)
    swept = []
    for model in storage.list_dirs(Area.MODELS):
        for attempt in storage.list_dirs(model):
            if attempt in named:
                continue
            objects = storage.list_objects(attempt)
            newest = max((info.last_modified for info in objects), default=None)
            if newest is None or (now - newest).total_seconds() < older_than:
                continue
            if attempt in _named_folders(config):
                continue  # committed meanwhile
            storage.delete_prefix(attempt)
            swept.append(attempt)
            log.warning("abandoned model upload deleted", extra={"prefix": attempt, "files": len(objects)})
    return swept


def _named_folders(config: Settings) -> set[str]:
    """The storage keys of the folders version rows name (rows written before the storage
    existed hold a path in the project's state folder: the same key on a local storage)."""
    state = config.paths.state
    named = set()
    for stored in ModelVersion.objects.values_list("artifact_path", flat=True):
        path = Path(stored)
        if path.is_absolute():
            if not path.is_relative_to(state):
                continue
            path = path.relative_to(state)
        elif path.parts[:1] == (state.name,):
            path = Path(*path.parts[1:])
        named.add(path.parent.as_posix())
    return named


def model_version_import(
    *, config: Settings, name: str, imported: MlflowImport, source: str, created_by: str
) -> Registration:
    """Register a verified model brought from elsewhere (MLflow) as a candidate of ``name``.

    No promotion rule runs (the version was not trained here against a champion): it stays a
    candidate until ``models promote``. The same artifact already registered is returned.
    """
    model, _ = RegisteredModel.objects.get_or_create(name=name)
    if found := _existing(model, None, imported.sha256):
        return Registration(version=found, created=False, decision=None)
    root = config.paths.state / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".tmp-{uuid.uuid4().hex}"
    try:
        shutil.copytree(imported.folder, staging / "model")
        if artifact_sha256(staging / "model") != imported.sha256:
            raise ModelError(f"{imported.folder}: the model changed while it was being imported")
        card = render_model_card(imported.manifest, sha256=imported.sha256)
        (staging / "card.html").write_text(card, encoding="utf-8")
        prefix = unique_key(Area.MODELS, name)
        upload_folder(open_storage(config), staging, prefix)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _record_import(name, imported, source, created_by, prefix)


@transaction.atomic
def _record_import(
    name: str, imported: MlflowImport, source: str, created_by: str, prefix: str
) -> Registration:
    model = RegisteredModel.objects.select_for_update().get(name=name)
    if found := _existing(model, None, imported.sha256):
        return Registration(version=found, created=False, decision=None)
    manifest = imported.manifest
    reason = f"imported from {source}"
    version = _candidate_row(
        model,
        manifest,
        sha256=imported.sha256,
        prefix=prefix,
        lineage=[],  # the dataset versions it was trained on are another registry's
        config_hash=manifest.config_hash,
        inputs_fingerprint="",
        code_version=dict(manifest.code_version),
        decision=RegistrationDecision(promote=False, reason=reason),
        created_by=created_by,
    )
    number = version.number
    StageChange.objects.create(
        model=model,
        version=version,
        action=StageAction.REGISTERED,
        from_stage="",
        to_stage=Stage.CANDIDATE,
        actor=created_by or "lakegate",
        reason=reason,
    )
    log.info("model version imported", extra={"model": name, "version": number, "source": source})
    return Registration(version=version, created=True, decision=None)
