from django.contrib import admin

from lakegate_server.quality.models import CheckReport


@admin.register(CheckReport)
class CheckReportAdmin(admin.ModelAdmin):
    list_display = ("id", "version", "status", "created_at", "created_by")
    list_filter = ("status",)
    readonly_fields = ("report",)
