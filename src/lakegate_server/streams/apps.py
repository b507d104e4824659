from django.apps import AppConfig


class StreamsConfig(AppConfig):
    name = "lakegate_server.streams"
    label = "streams"
    verbose_name = "Streams: pushed records, write-ahead logs, compactions"
    default_auto_field = "django.db.models.BigAutoField"
