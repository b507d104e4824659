from django.contrib import admin

from lakegate_server.jobs.models import Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "attempts", "created_at", "finished_at", "worker")
    list_filter = ("status", "kind")
    search_fields = ("kind", "created_by", "last_error")
