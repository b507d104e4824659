from django.contrib import admin

from lakegate_server.accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role",)
    readonly_fields = ("prefix", "secret_hash", "created_at", "last_used_at")
