"""Every JSON field of the server's models has a declared shape (``<app>/shapes.py``), the
model names it in its annotation (so mypy checks what is written and read), and the field's
default fits it. Stored rows are checked against the shapes in
``tests/server/training/test_json_shapes_stored.py``."""

from __future__ import annotations

import pytest

from tests.support.shapes import declared_shapes, json_fields, misfits, shape_adapter


def test_every_json_field_has_a_declared_shape():
    fields, shapes = set(json_fields()), set(declared_shapes())
    assert fields - shapes == set(), (
        "JSON fields without a shape: declare them in <app>/shapes.py JSON_FIELDS"
    )
    assert shapes - fields == set(), "shapes declared for fields that no longer exist"
    assert len(fields) >= 20  # the catalog, runs, ledger, gate, sources and registry fields


@pytest.mark.parametrize("key", sorted(json_fields()))
def test_the_model_annotates_the_field_with_its_shape(key):
    model, field = json_fields()[key]
    annotation = model.__annotations__.get(field.name, "")
    assert annotation.startswith("models.JSONField["), f"{key}: annotate it `models.JSONField[Shape, Shape]`"


@pytest.mark.parametrize("key", sorted(json_fields()))
def test_the_default_fits_the_shape(key):
    _, field = json_fields()[key]
    shape = declared_shapes()[key]
    shape_adapter(shape)  # a shape pydantic cannot read fails here
    if field.has_default():
        assert misfits(field.get_default(), shape) is None
    if field.null:
        assert misfits(None, shape) is None, f"{key} is nullable: its shape must admit None"


def test_a_value_of_the_wrong_shape_is_refused():
    shapes = declared_shapes()
    assert misfits({"age": {"kind": "numeric", "rows": "many"}}, shapes["datasets.DatasetVersion.stats"])
    assert misfits({"unknown_key": 1}, shapes["ledger.Decision.detail"])
    assert misfits([{"dataset": "d", "version": 1}], shapes["training.StageChange.gate"])
    assert misfits({"status": "pass"}, shapes["quality.CheckReport.report"])
