from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "lakegate_server.exports"
    label = "exports"
    verbose_name = "Exports to warehouses"
    default_auto_field = "django.db.models.BigAutoField"
