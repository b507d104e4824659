"""Model folders: native model files + ``steps.json`` + ``model.json``, hashed as one artifact.

The artifact hash is a sha256 over every file's relative path and sha256, so adding,
removing or changing any file (the manifest included) changes it. Loading verifies the
hash before reading anything, then loads only the format the manifest names: LightGBM
text, XGBoost UBJSON or skops with the explicit trust list. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lakegate._atomic import atomic_dir
from lakegate.errors import ConflictError, ModelError, NotFoundError
from lakegate.features import FeaturePipeline
from lakegate.models._manifest import MANIFEST_FILE, STEPS_FILE, ModelManifest
from lakegate.models.trainers import FittedModel, model_class

__all__ = ["TrainedModel", "artifact_sha256", "file_sha256", "read_artifact", "save_model"]

_CHUNK = 1 << 20


@dataclass
class TrainedModel:
    """A fitted model, its fitted feature steps and its manifest: what a folder holds."""

    model: FittedModel
    steps: FeaturePipeline
    manifest: ModelManifest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_sha256(folder: Path) -> str:
    """The hash of a model folder: every file's relative path and content."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        digest.update(f"{relative}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def save_model(trained: TrainedModel, folder: Path) -> str:
    """Write ``trained`` into ``folder`` atomically and return the artifact sha256.

    Saving the same model again into the same folder is a no-op returning the same
    hash (a retried run); a different model there is a ``ConflictError``.
    """
    with atomic_dir(folder) as scratch:
        names = trained.model.save(scratch)
        (scratch / STEPS_FILE).write_bytes(_json_bytes(trained.steps.to_json()))
        files = {name: file_sha256(scratch / name) for name in [*names, STEPS_FILE]}
        manifest = trained.manifest.model_copy(update={"files": files, "format": trained.model.format})
        (scratch / MANIFEST_FILE).write_bytes(_json_bytes(manifest.model_dump(mode="json")))
        digest = artifact_sha256(scratch)
        if folder.exists():
            existing = artifact_sha256(folder)
            if existing != digest:
                raise ConflictError(
                    f"{folder} already holds a different model (sha256 {existing[:12]}...)",
                    detail={"path": str(folder), "sha256": existing},
                )
    trained.manifest = manifest
    return digest


def read_artifact(folder: Path, expected_sha256: str) -> TrainedModel:
    """Verify ``folder`` against ``expected_sha256``, then load it (``ModelError`` otherwise)."""
    if not (folder / MANIFEST_FILE).is_file():
        raise NotFoundError(f"{folder}: no {MANIFEST_FILE}; not a model folder")
    actual = artifact_sha256(folder)
    if actual != expected_sha256.lower():
        raise ModelError(
            f"{folder}: sha256 mismatch (expected {expected_sha256[:12]}..., found {actual[:12]}...); "
            "refusing to load a model that changed after it was registered",
            detail={"expected": expected_sha256, "actual": actual},
        )
    try:
        manifest = ModelManifest.model_validate_json((folder / MANIFEST_FILE).read_bytes())
    except ValidationError as exc:
        raise ModelError(f"{folder}/{MANIFEST_FILE} is invalid: {exc.error_count()} errors") from exc
    expected_files = {*manifest.files, MANIFEST_FILE}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    if present != expected_files:
        raise ModelError(
            f"{folder}: files differ from the manifest",
            detail={
                "unexpected": sorted(present - expected_files),
                "missing": sorted(expected_files - present),
            },
        )
    from lakegate.models.trainers import resolve_algorithm

    try:
        algorithm = resolve_algorithm(manifest.algorithm, manifest.task)
    except Exception as exc:
        raise ModelError(f"{folder}: algorithm {manifest.algorithm!r} is not allowed") from exc
    model = model_class(manifest.format).load(folder, task=manifest.task, algorithm=algorithm)
    steps = FeaturePipeline.from_json(json.loads((folder / STEPS_FILE).read_bytes()))
    return TrainedModel(model=model, steps=steps, manifest=manifest)
