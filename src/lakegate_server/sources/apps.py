from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "lakegate_server.sources"
    label = "sources"
    verbose_name = "Sources, streams and exports"
    default_auto_field = "django.db.models.BigAutoField"
