from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "lakegate_server.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the queue's tasks in every process (web, CLI, worker), so the
        # services can enqueue them by name without importing the tasks module.
        from lakegate_server.jobs import tasks  # noqa: F401
