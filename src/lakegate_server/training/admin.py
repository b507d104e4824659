from django.contrib import admin
from django.http import HttpRequest

from lakegate_server.training.models import (
    ModelVersion,
    PredictionBatch,
    RegisteredModel,
    StageChange,
    TriggerFire,
)


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ("name", "generation", "created_at")
    search_fields = ("name",)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("model", "number", "stage", "algorithm", "created_at", "run")
    list_filter = ("model", "stage")
    # Stage changes go through promote/rollback (audited), artifacts are verified by sha256.
    readonly_fields = ("stage", "sha256", "artifact_path", "metrics", "lineage", "decision")


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ("model", "version", "action", "from_stage", "to_stage", "actor", "created_at")
    list_filter = ("model", "action")

    # Written only by the services that change stages: no adding, editing or deleting here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StageChange | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StageChange | None = None) -> bool:
        return False


@admin.register(PredictionBatch)
class PredictionBatchAdmin(admin.ModelAdmin):
    list_display = ("version", "source", "output", "rows", "created_at")


@admin.register(TriggerFire)
class TriggerFireAdmin(admin.ModelAdmin):
    list_display = ("pipeline", "trigger", "key", "fired_at", "run")
    list_filter = ("pipeline", "trigger")
