from django.apps import AppConfig


class LineageConfig(AppConfig):
    name = "lakegate_server.lineage"
    label = "lineage"
    verbose_name = "Lineage: file -> version -> checks and decisions -> runs -> models -> predictions"
    default_auto_field = "django.db.models.BigAutoField"
