from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "lakegate_server.ledger"
    label = "ledger"
    verbose_name = "Decision ledger"
    default_auto_field = "django.db.models.BigAutoField"
