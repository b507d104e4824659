from django.contrib import admin

from lakegate_server.datasets.models import Dataset, DatasetVersion, QuarantinedFile


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = (
        "dataset",
        "number",
        "rows",
        "total_rows",
        "bytes_in",
        "bytes_out",
        "source_name",
        "created_at",
    )
    list_filter = ("dataset",)
    readonly_fields = ("sha256", "schema", "table_schema", "stats")


@admin.register(QuarantinedFile)
class QuarantinedFileAdmin(admin.ModelAdmin):
    list_display = ("id", "dataset", "source_name", "code", "created_at", "resolved_at")
    list_filter = ("dataset", "code")
